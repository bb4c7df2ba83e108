//! `raptoken maintain --token-file PATH`: keeps a fresh token in a file (Rapidata's token-file
//! format) for programs that read `RAPIDATA_TOKEN_FILE` instead of holding credentials, e.g.
//! the workers of a distributed job. Writes go through `raptoken::token_file::write` (atomic,
//! mode 0600); renewals follow the library's refresh-ahead schedule. Logs one line per write
//! on stderr, never the token.

use std::path::Path;
use std::time::{Duration, SystemTime};

use raptoken::{AccessToken, Client};

use crate::args::{Cli, Progress};
use crate::exit::Failure;
use crate::{time, token};

const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Never rewrite the file more often than this, whatever the margins say.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

pub fn run(cli: &Cli) -> i32 {
    let path = Path::new(cli.token_file.as_deref().expect("checked by the parser"));
    let log = |line: String| {
        if cli.progress != Progress::Never {
            eprintln!("raptoken: {line}");
        }
    };
    let client = match cli.client_options().and_then(|o| Client::new(&o).map_err(Failure::from)) {
        Ok(c) => c,
        Err(f) => return token::report_failure(&f),
    };
    let mut written: Option<SystemTime> = None; // expiry of the token in the file
    let mut backoff = Duration::from_secs(1);
    loop {
        let pause = match client.access_token(Duration::ZERO) {
            Ok(t) if written != Some(t.expires_at) => match write(path, &t) {
                Ok(()) => {
                    written = Some(t.expires_at);
                    backoff = Duration::from_secs(1);
                    log(format!(
                        "wrote a token to {}: expires {}, renewal from {}",
                        path.display(),
                        time::iso8601(t.expires_at),
                        time::iso8601(t.refresh_at)
                    ));
                    if cli.once {
                        return 0;
                    }
                    t.refresh_at.duration_since(SystemTime::now()).unwrap_or_default().max(MIN_INTERVAL)
                }
                Err(f) => match failed(f, written.is_none(), &mut backoff, &log) {
                    Ok(wait) => wait,
                    Err(code) => return code,
                },
            },
            // The renewal failed, but the library still serves the current token (and the file
            // still holds it): try again soon, without hammering the server.
            Ok(t) => {
                log(format!(
                    "could not renew yet; the file's token stays valid until {}; next try in {} s",
                    time::iso8601(t.expires_at),
                    backoff.as_secs()
                ));
                next_backoff(&mut backoff)
            }
            Err(e) => match failed(Failure::Lib(e), written.is_none(), &mut backoff, &log) {
                Ok(wait) => wait,
                Err(code) => return code,
            },
        };
        std::thread::sleep(pause);
    }
}

/// At start a failure is almost always configuration: fail fast (Err(exit code)) with the hint.
/// Later, log it and wait (Ok(pause)): the backoff, or longer if the server said Retry-After.
fn failed(f: Failure, at_start: bool, backoff: &mut Duration, log: &dyn Fn(String)) -> Result<Duration, i32> {
    if at_start {
        return Err(token::report_failure(&f));
    }
    log(format!("{} (hint: {}); next try in {} s", f.message(), f.hint(), backoff.as_secs()));
    let wait = next_backoff(backoff);
    let asked = match &f {
        Failure::Lib(e) => e.retry_after().and_then(|t| t.duration_since(SystemTime::now()).ok()),
        Failure::Config(_) => None,
    };
    Ok(asked.unwrap_or_default().max(wait))
}

fn write(path: &Path, t: &AccessToken) -> Result<(), Failure> {
    raptoken::token_file::write(path, t).map_err(Failure::Lib)
}

/// The current backoff, doubling the next one up to `MAX_BACKOFF`.
fn next_backoff(backoff: &mut Duration) -> Duration {
    let now = *backoff;
    *backoff = (now * 2).min(MAX_BACKOFF);
    now
}
