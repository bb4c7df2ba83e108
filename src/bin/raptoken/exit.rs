//! Exit codes and the hint printed with each failure. A script can branch on the exit code
//! without parsing text: it is 10 + the C ABI's status (`RapidataStatus`), so the numbers mean
//! the same thing in every language, plus 2 for a command line the CLI cannot parse.

use raptoken::{Error, ErrorKind};

/// Output could not be written (e.g. stdout closed).
pub const IO: i32 = 1;
/// The command line is wrong: unknown command or option, a missing or malformed value.
pub const USAGE: i32 = 2;
/// Library statuses are offset by this, clear of the conventional 1 and 2.
pub const STATUS_BASE: i32 = 10;

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// The library refused or failed; carries its typed error.
    Lib(Error),
    /// A file the CLI itself reads (the client secret file, stdin) is unusable: CONFIG.
    Config(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Lib(e)
    }
}

/// The C status number of `kind` and its name without the `RAPIDATA_STATUS_` prefix.
pub fn status_of(kind: ErrorKind) -> (u32, &'static str) {
    let name = match kind {
        ErrorKind::InvalidArgument => "INVALID_ARGUMENT",
        ErrorKind::NoCredentials => "NO_CREDENTIALS",
        ErrorKind::Config => "CONFIG",
        ErrorKind::Transport => "TRANSPORT",
        ErrorKind::Timeout => "TIMEOUT",
        ErrorKind::Http => "HTTP",
        ErrorKind::OAuth => "OAUTH",
        ErrorKind::Protocol => "PROTOCOL",
        ErrorKind::Cancelled => "CANCELLED",
    };
    (raptoken::status_code(kind), name)
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        let status = match self {
            Failure::Lib(e) => status_of(e.kind()).0,
            Failure::Config(_) => raptoken::status_code(ErrorKind::Config),
        };
        STATUS_BASE + status as i32
    }

    pub fn message(&self) -> &str {
        match self {
            Failure::Lib(e) => e.message(),
            Failure::Config(m) => m,
        }
    }

    /// "OAUTH invalid_client", "TRANSPORT", ...: the status name, and the OAuth code if any.
    pub fn label(&self) -> String {
        match self {
            Failure::Lib(e) => {
                let name = status_of(e.kind()).1;
                match e.oauth_code() {
                    Some(code) => format!("{name} {code}"),
                    None if e.http_status() != 0 => format!("{name} {}", e.http_status()),
                    None => name.to_string(),
                }
            }
            Failure::Config(_) => "CONFIG".into(),
        }
    }

    /// The likely cause and the fix, in one or two sentences (the README's troubleshooting
    /// section says the same at more length).
    pub fn hint(&self) -> &'static str {
        match self {
            Failure::Config(_) => "--client-secret-file must name a readable file whose first line is the secret; \
                 with --client-secret-stdin, pipe the secret in",
            Failure::Lib(e) => hint(e),
        }
    }
}

const NOT_A_TOKEN_ENDPOINT: &str = "this URL is not a token endpoint: check --token-endpoint and --issuer (Rapidata's endpoint \
     is https://auth.rapidata.ai/connect/token; without --token-endpoint it is discovered from the issuer)";

fn hint(e: &Error) -> &'static str {
    let msg = e.message();
    if matches!(e.kind(), ErrorKind::Http | ErrorKind::Protocol) && msg.contains("OpenID discovery") {
        return "the issuer URL serves no usable OpenID discovery document: check --issuer (Rapidata's is \
                https://auth.rapidata.ai), or give --token-endpoint to skip discovery";
    }
    // A 404/405 means a wrong URL, whether or not the server wrapped it in an OAuth error.
    if matches!(e.kind(), ErrorKind::Http | ErrorKind::OAuth) && matches!(e.http_status(), 404 | 405) {
        return NOT_A_TOKEN_ENDPOINT;
    }
    // The workstation login's failures, before the general ones.
    if e.oauth_code() == Some("invalid_client") && msg.contains("raptoken login") {
        return "the stored client was deleted or revoked at Rapidata: run raptoken login to create new credentials \
                (raptoken logout --client-id ID removes the stale entry)";
    }
    if msg.contains("no Rapidata login bridge") {
        return "this issuer is not Rapidata's authorization server: log in with --environment (rapidata.ai by default) \
                or the --issuer of your Rapidata environment; other servers need client credentials";
    }
    if msg.contains("cannot write credentials file") || msg.contains("login does not overwrite") {
        return "the credentials file cannot be written: fix the file or its directory as the message says, or store \
                the login elsewhere with --credentials-file (RAPIDATA_CREDENTIALS_FILE)";
    }
    if msg.contains("the login") {
        match e.kind() {
            ErrorKind::OAuth => return "the login was refused in the browser: run raptoken login again and approve it",
            ErrorKind::Timeout => {
                return "approve the login in the browser before the timeout (open the URL printed above), or give it \
                        longer with --timeout"
            }
            ErrorKind::Cancelled => return "the login was cancelled: run raptoken login again",
            _ => {}
        }
    }
    match e.kind() {
        ErrorKind::NoCredentials => {
            "on a workstation run raptoken login once (a browser login; it stores credentials in \
             ~/.config/rapidata/credentials.json); elsewhere set RAPIDATA_CLIENT_ID and RAPIDATA_CLIENT_SECRET (or \
             RAPIDATA_CLIENT_KEY_FILE), or pass --client-id with --client-secret-file, --client-secret-stdin or \
             --client-key-file (create a client id and secret under Rapidata Settings > Tokens)"
        }
        ErrorKind::InvalidArgument => "a value on the command line is not usable: correct it as the message says (see raptoken --help)",
        ErrorKind::Config if msg.contains("CA file") => {
            "--ca-file (RAPIDATA_CA_FILE) must name a readable PEM file holding the CA certificate that signed the \
             server's certificate"
        }
        ErrorKind::Config if msg.contains("token file") => {
            "the token file (--token-file, RAPIDATA_TOKEN_FILE) is missing, unsafe or stale: check that the process \
             keeping it fresh (raptoken maintain --token-file PATH) runs, or use --no-token-file to exchange \
             credentials instead"
        }
        ErrorKind::Config if msg.contains("client key") && msg.contains("exists already") => {
            "keygen never replaces a key: pass another --out, or remove the old key once nothing uses it"
        }
        ErrorKind::Config if ["authenticates with private_key_jwt", "not a key", "cannot sign"].iter().any(|w| msg.contains(w)) => {
            "the authentication settings contradict each other: a key goes with private_key_jwt (leave --auth-method \
             unset) and its own algorithm (RS256/PS256 for RSA, ES256 for EC)"
        }
        ErrorKind::Config if msg.contains("client key") => {
            "the client key (--client-key-file, RAPIDATA_CLIENT_KEY_FILE) must be an unencrypted PEM private key (RSA of \
             2048+ bits or EC P-256) in a file only its owner can read (chmod 600); raptoken keygen writes one"
        }
        ErrorKind::Config if msg.contains("credentials file") => {
            "fix the credentials file named above (chmod 600 if others can write it; valid JSON as Rapidata's SDK \
             writes it), or point --credentials-file (RAPIDATA_CREDENTIALS_FILE) at another one"
        }
        ErrorKind::Config if msg.contains("discovery document names issuer") => {
            "the server calls itself by another issuer URL: set --issuer (RAPIDATA_ISSUER) to the issuer its \
             discovery document names, or check that you reach the right server"
        }
        ErrorKind::Config if msg.contains("RAPIDATA_") => {
            "an environment variable has an unusable value: correct or unset it (env | grep RAPIDATA_)"
        }
        ErrorKind::Config => "correct the setting the message names",
        ErrorKind::Transport if msg.contains("TLS") || msg.contains("certificate") => {
            "the server's certificate is not trusted: for a private CA (a local or test server, a TLS-inspecting \
             proxy) pass that CA with --ca-file (RAPIDATA_CA_FILE); also check this machine's clock, a wrong date \
             makes valid certificates look expired"
        }
        ErrorKind::Transport if msg.contains("did not resolve") => {
            "the host name does not resolve: check the spelling of --issuer, --token-endpoint or --environment, and DNS"
        }
        ErrorKind::Transport => {
            "nothing answered at that address: check the URL and port (--issuer, --token-endpoint), that the server is \
             running, and that no firewall or proxy (HTTPS_PROXY) is in the way"
        }
        ErrorKind::Timeout => {
            "the server did not answer in time: check the network and any proxy, or raise --connect-timeout \
             (default 5 s) and --request-timeout (default 10 s)"
        }
        ErrorKind::Http => match e.http_status() {
            300..=399 => "the URL redirects, and token requests do not follow redirects: configure the final URL with --token-endpoint",
            401 => "the server refused the client credentials: check the client id and secret (they may be revoked; create new ones under Rapidata Settings > Tokens)",
            403 => "the server or a proxy in front of it forbids the request: check IP allow lists and proxies, and that the URL is the token endpoint",
            408 | 429 => "the server is rate-limiting or overloaded: wait (it may say how long in Retry-After) and try again, with a pause",
            500..=599 => "the authorization server has a problem: try again later; if it persists, report it to Rapidata",
            _ => "the server answered an unexpected HTTP status: check that the URL is the token endpoint",
        },
        ErrorKind::OAuth => match e.oauth_code().unwrap_or("") {
            "invalid_client" if msg.contains("thumbprint") => {
                "the server refused the signed assertion: register this key's public JWK for the client (raptoken \
                 check shows its thumbprint), match --client-key-id to the JWK's kid, set --assertion-audience if \
                 the server wants its issuer, and check this machine's clock"
            }
            "invalid_target" => "the server does not accept this --resource (or more than one): check the resource URIs it knows",
            "invalid_client" => {
                "the client id or secret is wrong, revoked or stale, or the server expects the other authentication \
                 method: check the id and secret, try --auth-method post (or basic), or create new credentials under \
                 Rapidata Settings > Tokens"
            }
            "invalid_scope" => "ask only for scopes this client may have: the default --scope is \"openid roles email\"",
            "unauthorized_client" => "this client may not use the client credentials grant: use credentials created for API access (Rapidata Settings > Tokens)",
            "invalid_grant" => "the server refused the grant: create fresh credentials under Rapidata Settings > Tokens",
            "unsupported_grant_type" => "this endpoint does not offer the client credentials grant: check --token-endpoint",
            "invalid_request" => {
                "the server found the request malformed: a proxy may rewrite it, or the URL is not an OAuth token \
                 endpoint; check --token-endpoint, and report it with the output of raptoken check"
            }
            "temporarily_unavailable" | "server_error" => "the authorization server has a temporary problem: try again later",
            "access_denied" => "the server denied this client access: check its permissions with Rapidata",
            _ => "the server refused the request: its error description above says why",
        },
        ErrorKind::Cancelled => "the operation was cancelled",
        ErrorKind::Protocol => {
            "something answered, but not like an OAuth token endpoint (an HTML page, a login portal, a proxy?): check \
             --token-endpoint and --issuer, and any proxy in between"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_c_abi() {
        assert_eq!(STATUS_BASE + status_of(ErrorKind::NoCredentials).0 as i32, 12);
        assert_eq!(STATUS_BASE + status_of(ErrorKind::OAuth).0 as i32, 18);
        assert_eq!(Failure::Config("x".into()).exit_code(), 14);
        assert_eq!(STATUS_BASE + status_of(ErrorKind::Cancelled).0 as i32, 21);
    }
}
