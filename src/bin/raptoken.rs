//! `raptoken`: get a Rapidata API token from a shell, or find out why you can't. A thin layer
//! over `raptoken::Client`; the token logic lives in the library only.

// A crate root looks for modules next to itself; these live in src/bin/raptoken/.
#[path = "raptoken/args.rs"]
mod args;
#[path = "raptoken/check.rs"]
mod check;
#[path = "raptoken/exit.rs"]
mod exit;
#[path = "raptoken/keygen.rs"]
mod keygen;
#[path = "raptoken/login.rs"]
mod login;
#[path = "raptoken/maintain.rs"]
mod maintain;
#[path = "raptoken/progress.rs"]
mod progress;
#[path = "raptoken/time.rs"]
mod time;
#[path = "raptoken/token.rs"]
mod token;

use args::Command;

const HELP: &str = "\
raptoken VERSION: OAuth 2.0 client-credentials tokens for the Rapidata API

Usage:
  raptoken token [--json] [OPTIONS]   print an access token: the token alone, one line
  raptoken check [OPTIONS]            explain the configuration, fetch a token, diagnose failures
  raptoken maintain --token-file PATH [--once] [OPTIONS]
                                      keep a fresh token in PATH for programs that read
                                      RAPIDATA_TOKEN_FILE (--once: write it once and exit)
  raptoken maintain --shared-cache-url URL [--once] [OPTIONS]
                                      keep the fleet's token in Redis/Valkey fresh, renewing
                                      before the fleet's processes would (RAPIDATA_SHARED_CACHE_URL)
  raptoken keygen --out PATH [--client-key-id KID] [--jwks]
                                      write a new EC P-256 private key to PATH (mode 0600) and
                                      print its public JWK (--jwks: as a JWK set) to register
                                      with the authorization server (private_key_jwt)
  raptoken login [--environment DOMAIN | --issuer URL] [--ca-file PATH] [--no-browser]
                 [--timeout DURATION]
                                      log in once on a workstation (a browser approval): stores a
                                      new API client in ~/.config/rapidata/credentials.json, as
                                      Rapidata's Python SDK does, for every later run to use
  raptoken logout [--client-id ID] [--environment DOMAIN | --issuer URL]
                                      remove this environment's stored clients (or one) from it
  raptoken help | --help | --version

Examples:
  raptoken login                                   # once per workstation: approve in the browser
  curl -H \"Authorization: Bearer $(raptoken token)\" https://api.rapidata.ai/...
  raptoken check                                   # what is configured, and does it work?
  raptoken token --json | jq -r .expires_at
  raptoken token --client-id my-id --client-secret-file ~/.config/rapidata/secret
  pass show rapidata | raptoken token --client-id my-id --client-secret-stdin
  raptoken maintain --token-file /run/job/token.json &   # workers: RAPIDATA_TOKEN_FILE=/run/job/token.json
  RAPIDATA_SHARED_CACHE_URL=redis://:PASSWORD@redis:6379/0 raptoken check   # is the fleet cache there?
  raptoken keygen --out ~/.config/rapidata/key.pem   # then register the JWK it prints, and:
  raptoken token --client-id my-id --client-key-file ~/.config/rapidata/key.pem
  testing/oidc-server/start &                      # a local server: see its ready line, then
  raptoken check --issuer https://localhost:PORT --ca-file DIR/ca.pem \\
                 --client-id demo-client --client-secret-file <(echo demo-secret)

Credentials, first found wins: --client-id with --client-secret-file, --client-secret-stdin or
--client-key-file; RAPIDATA_CLIENT_ID with RAPIDATA_CLIENT_SECRET or RAPIDATA_CLIENT_KEY_FILE;
the credentials file that raptoken login (or Rapidata's Python SDK) writes. A key
(private_key_jwt) replaces the secret: each token request carries a JWT signed with it, and the
key itself never leaves the machine.
There is no --client-secret VALUE on purpose: a command line is visible to every user of the
machine (ps, /proc/PID/cmdline) and is kept in shell history.

Options:
  --client-id ID                 RAPIDATA_CLIENT_ID
  --client-secret-file PATH      read the secret from the first line of PATH
  --client-secret-stdin          read the secret from the first line of standard input
                                 (with neither: RAPIDATA_CLIENT_SECRET)
  --client-key-file PATH         authenticate with the private key (PEM) in PATH instead of a
                                 secret: private_key_jwt (RAPIDATA_CLIENT_KEY_FILE). PATH must
                                 be readable by its owner only (chmod 600)
  --out PATH, --jwks             keygen: where to write the key; print a JWK set, not one JWK
  --token-file PATH              RAPIDATA_TOKEN_FILE: use the ready token in PATH (written by
                                 raptoken maintain or Rapidata's SDK) instead of credentials
  --no-token-file                ignore RAPIDATA_TOKEN_FILE and exchange credentials
  --shared-cache                 RAPIDATA_SHARED_CACHE=1: share the token with this user's other
                                 processes (~/.cache/raptoken), so repeated runs reuse it
  --no-shared-cache              RAPIDATA_SHARED_CACHE=0
  --log error|warn|info|debug    print the library's log lines (fetches, retries) on stderr
  --json                         token: print token, type, scope, expiry and refresh time as JSON
  --no-browser                   login: only print the URL to open (e.g. over SSH)
  --timeout DURATION             login: how long to wait for the approval (default 300 s)
  --progress auto|always|never   say on stderr what a fetch waits for once it takes over 1 s;
                                 auto (default): only when stderr is a terminal
  -q, --quiet                    same as --progress never
OPTIONS_TABLE(DURATION: 10, 10s, 500ms, 2m; --shared-cache=DIR is --shared-cache-dir DIR.)

Exit status (10 + the library's RAPIDATA_STATUS_*):
   0  ok (check: a token was obtained)
   1  the output could not be written
   2  usage: unknown command or option, missing or malformed value
  11  INVALID_ARGUMENT  the library refused a value (e.g. an http:// issuer)
  12  NO_CREDENTIALS    no client id and secret (or key) anywhere
  14  CONFIG            unusable CA, credentials, secret or key file, environment variable, issuer
                        mismatch, a key file that exists already (keygen)
  15  TRANSPORT         DNS, connection or TLS failure (e.g. an untrusted certificate)
  16  TIMEOUT           no answer in time
  17  HTTP              an HTTP error without an OAuth error (404, 429, 503, ...)
  18  OAUTH             the server refused: invalid_client, invalid_scope, ...
  19  PROTOCOL          the answer is not a token response
  21  CANCELLED         the operation was cancelled
Every failure prints the message and a hint (stderr for token, maintain, login and logout,
stdout for check).
maintain exits on a failure at start; later failures are logged and retried with backoff;
SIGTERM or SIGINT stops it with status 0, leaving the last token in the file.
";

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    // Files the shared cache ignores and lock waits it gives up on: to stderr, never stdout.
    raptoken::set_shared_cache_log_hook(Some(|line| eprintln!("{line}")));
    let cli = match args::parse(std::env::args_os().skip(1).collect()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("raptoken: {e}");
            eprintln!("Try 'raptoken --help'.");
            return exit::USAGE;
        }
    };
    match cli.command {
        Command::Help => {
            print!("{}", HELP.replacen("VERSION", raptoken::VERSION, 1).replacen("OPTIONS_TABLE", &args::options_help(), 1));
            0
        }
        Command::Version => {
            println!("raptoken {}", raptoken::VERSION);
            0
        }
        Command::Token => token::run(&cli),
        Command::Check => check::run(&cli),
        Command::Maintain => maintain::run(&cli),
        Command::Keygen => keygen::run(&cli),
        Command::Login => login::login(&cli),
        Command::Logout => login::logout(&cli),
    }
}
