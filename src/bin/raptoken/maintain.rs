//! `raptoken maintain --token-file PATH`: keeps a fresh token in a file (Rapidata's token-file
//! format) for programs that read `RAPIDATA_TOKEN_FILE` instead of holding credentials, e.g.
//! the workers of a distributed job. With a fleet cache (`--shared-cache-url`), it keeps the
//! fleet's entry in Redis fresh too (or only that, without `--token-file`), renewing a little
//! before the fleet's processes would, so that they find a fresh token instead of fetching. Writes go through `raptoken::write_token_file` (atomic,
//! mode 0600); renewals follow the library's refresh-ahead schedule. Logs one line per write
//! on stderr, never the token. SIGTERM or SIGINT ends it cleanly with status 0, never in the
//! middle of a write, leaving the last token in the file for its readers.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, SystemTime};

use raptoken::{AccessToken, Client};

use crate::args::{Cli, Progress};
use crate::exit::{self, Failure};
use crate::{time, token};

const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Never rewrite the file more often than this, whatever the margins say.
const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// With a fleet cache, renewal comes this much before the fleet's own (at most half the time
/// between the renewal point and expiry).
const FLEET_LEAD: Duration = Duration::from_secs(60);
/// "A token as fresh as a new one": the library caps it at 90 % of a token's usable lifetime,
/// so a renewal is forced once the current token is older than that.
const FRESH: Duration = Duration::from_secs(365 * 24 * 3600);

pub fn run(cli: &Cli) -> i32 {
    let path = cli.token_file.as_deref().map(Path::new);
    // First, while this is the only thread: the threads started later inherit the signal mask.
    let stop = match stop_signals() {
        Ok(rx) => rx,
        Err(e) => {
            eprintln!("raptoken: cannot wait for SIGTERM/SIGINT: {e}");
            return exit::IO;
        }
    };
    let log = |line: String| {
        if cli.progress != Progress::Never {
            eprintln!("raptoken: {line}");
        }
    };
    let client = match cli.client_options().and_then(|o| Client::new(&o).map_err(Failure::from)) {
        Ok(c) => c,
        Err(f) => return token::report_failure(&f),
    };
    let fleet = client.fleet_cache_url().map(str::to_string);
    let target = match (path, &fleet) {
        (Some(p), _) => p.display().to_string(),
        (None, Some(url)) => format!("the fleet cache {url}"),
        (None, None) => {
            eprintln!("raptoken: maintain needs --token-file PATH or a fleet cache (--shared-cache-url URL)");
            return exit::USAGE;
        }
    };
    let mut written: Option<SystemTime> = None; // expiry of the token in the file
    let mut backoff = Duration::from_secs(1);
    let mut min_valid = Duration::ZERO;
    loop {
        let pause = match client.access_token(min_valid) {
            Ok(t) if written != Some(t.expires_at) => match path.map_or(Ok(()), |p| write(p, &t)) {
                Ok(()) => {
                    written = Some(t.expires_at);
                    backoff = Duration::from_secs(1);
                    log(format!(
                        "{} a token {}: expires {}, renewal from {}",
                        if path.is_some() { "wrote" } else { "keeping" },
                        if path.is_some() { format!("to {target}") } else { format!("in {target}") },
                        time::iso8601(t.expires_at),
                        time::iso8601(t.refresh_at)
                    ));
                    if cli.once {
                        return 0;
                    }
                    let mut renew_at = t.refresh_at;
                    if fleet.is_some() {
                        // Before the fleet's processes: they then find a fresh token in Redis.
                        let lead = FLEET_LEAD.min(t.expires_at.duration_since(t.refresh_at).unwrap_or_default() / 2);
                        renew_at = renew_at.checked_sub(lead).unwrap_or(renew_at);
                    }
                    // The library renews in the background and hands back the current token at
                    // its refresh instant; asking for a fresh one makes this call wait for the
                    // renewal, so the file (or the fleet entry) gets the new token.
                    min_valid = FRESH;
                    renew_at.duration_since(SystemTime::now()).unwrap_or_default().max(MIN_INTERVAL)
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
                    "could not renew yet; the current token stays valid until {}; next try in {} s",
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
        match stop.recv_timeout(pause) {
            Ok(signal) => {
                log(format!("{signal}: stopping; {target} keeps its last token until that expires"));
                return 0;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return 0,
        }
    }
}

/// Blocks SIGTERM and SIGINT in this thread, and so in every thread started after it, and
/// returns a channel that gets the name of the first one to arrive. The loop waits on it instead
/// of sleeping: a signal ends the wait at once, and no signal handler is needed. A signal during
/// a fetch or a write is acted on after it, so the file is never left half-replaced.
fn stop_signals() -> std::io::Result<mpsc::Receiver<&'static str>> {
    // SAFETY: libc calls on a sigset_t owned here; pthread_sigmask changes this thread only.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
        set
    };
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        let mut sig = 0;
        // SAFETY: `set` is a valid signal set; sigwait writes one int.
        if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
            let _ = tx.send(if sig == libc::SIGTERM { "SIGTERM" } else { "SIGINT" });
        }
    })?;
    Ok(rx)
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
    raptoken::write_token_file(path, t).map_err(Failure::Lib)
}

/// The current backoff, doubling the next one up to `MAX_BACKOFF`.
fn next_backoff(backoff: &mut Duration) -> Duration {
    let now = *backoff;
    *backoff = (now * 2).min(MAX_BACKOFF);
    now
}
