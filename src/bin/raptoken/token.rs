//! `raptoken token`: the access token alone on stdout (for `$(raptoken token)`), or with
//! `--json` its type, scope and expiry. Failures go to stderr with a hint.

use std::io::Write;
use std::time::{Duration, SystemTime};

use raptoken::Client;
use zeroize::Zeroizing;

use crate::args::Cli;
use crate::exit::{self, Failure};
use crate::{progress, time};

pub fn run(cli: &Cli) -> i32 {
    let result = cli.client_options().and_then(|o| {
        let client = Client::new(&o)?;
        let target = fetch_target(&client);
        Ok(progress::run(cli.progress, &target, || client.access_token(Duration::ZERO))?)
    });
    let token = match result {
        Ok(t) => t,
        Err(f) => return report_failure(&f),
    };
    let out = if cli.json {
        let left = token.expires_at.duration_since(SystemTime::now()).unwrap_or_default();
        let doc = serde_json::json!({
            "access_token": token.secret(),
            "token_type": token.token_type,
            "scope": token.scope,
            "expires_in": left.as_secs(),
            "expires_at": time::iso8601(token.expires_at),
            "expires_at_unix": time::unix(token.expires_at),
            "refresh_at": time::iso8601(token.refresh_at),
            "refresh_at_unix": time::unix(token.refresh_at),
        });
        Zeroizing::new(format!("{doc}\n"))
    } else {
        Zeroizing::new(format!("{}\n", token.secret()))
    };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("raptoken: cannot write the token to standard output: {e}");
            exit::IO
        }
    }
}

/// What a slow fetch is waiting for, named in the progress line.
pub fn fetch_target(client: &Client) -> String {
    let c = client.config();
    c.token_endpoint.clone().unwrap_or_else(|| c.issuer.clone())
}

pub fn report_failure(f: &Failure) -> i32 {
    eprintln!("raptoken: {}", f.message());
    eprintln!("hint: {}", f.hint());
    f.exit_code()
}
