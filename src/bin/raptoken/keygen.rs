//! `raptoken keygen`: writes a new private key for private_key_jwt and prints its public JWK,
//! which is what gets registered with the authorization server. The private key only ever goes
//! to the file (mode 0600, never over an existing one); stdout gets the public half alone.

use raptoken::SigningAlgorithm;

use crate::args::Cli;
use crate::exit::Failure;

pub fn run(cli: &Cli) -> i32 {
    let Some(path) = &cli.out else { return crate::exit::USAGE };
    let kid = cli.option("client_key_id");
    let key = match raptoken::write_client_key(path) {
        Ok(k) => k,
        Err(e) => return crate::token::report_failure(&Failure::Lib(e)),
    };
    let jwk = key.public_jwk(SigningAlgorithm::Es256, kid);
    if cli.jwks {
        println!("{{\"keys\":[{jwk}]}}");
    } else {
        println!("{jwk}");
    }
    let kid_flag = kid.map(|k| format!(" --client-key-id {k}")).unwrap_or_default();
    eprintln!(
        "raptoken: wrote a new {} private key to {} (mode 0600; JWK thumbprint {}).\n\
         Register the public {} above with the authorization server for your client, then:\n  \
         raptoken check --client-id CLIENT_ID --client-key-file {}{kid_flag}",
        key.kind(),
        path.display(),
        key.thumbprint(),
        if cli.jwks { "JWKS" } else { "JWK" },
        path.display(),
    );
    0
}
