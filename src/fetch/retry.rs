//! Retries inside one fetch, and throttling across fetches.
//!
//! One fetch makes up to `max_attempts` attempts (discovery + token request each), sleeping a
//! full-jitter exponential backoff between them, longer if the server sent `Retry-After`. An
//! overall deadline bounds the whole fetch, sleeps included: a retry that could only start
//! after the deadline is not made. After a 429/503 with `Retry-After`, no caller of the client
//! sends a token request until that instant (capped) has passed.

use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;

use crate::util::backoff;
use crate::util::counters::Counters;
use crate::util::error::{Error, Result};
use crate::util::log::LogLevel;

pub(crate) const DEFAULT_MAX_ATTEMPTS: u32 = 3;
pub(crate) const DEFAULT_BACKOFF_BASE: Duration = Duration::from_millis(500);
pub(crate) const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(30);
pub(crate) const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);
/// More attempts than this only add load to a server that is already failing.
pub(crate) const MAX_ATTEMPTS_LIMIT: u32 = 10;

/// The policy a client runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub max_retry_after: Duration,
    pub deadline: Duration,
}

impl RetryPolicy {
    /// Full jitter (AWS architecture blog): uniform in [0, min(max, base * 2^(attempt-1))].
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        backoff::doubling(self.backoff_base, self.backoff_max, attempt).mul_f64(backoff::random_unit())
    }
}

/// The client-wide "do not call before" state a 429/503 with `Retry-After` sets.
#[derive(Default)]
pub(crate) struct Throttle {
    state: Mutex<Option<(Instant, SystemTime, Error)>>,
}

impl Throttle {
    fn set(&self, until: Instant, until_system: SystemTime, cause: &Error) {
        let mut s = self.state.lock();
        if s.as_ref().map_or(true, |(u, ..)| *u < until) {
            *s = Some((until, until_system, cause.clone()));
        }
    }

    /// The error a caller gets instead of a request while the throttle holds.
    fn refusal(&self, now: Instant) -> Option<Error> {
        let mut s = self.state.lock();
        match s.as_ref() {
            Some((until, until_system, cause)) if now < *until => {
                let left = *until - now;
                Some(cause.clone().with_retry_after(Some(*until_system)).reworded(format!(
                    "the token endpoint asked this client to wait: retry after {} (in {:.1} s); no request was sent. Its last answer: {}",
                    fmt_utc(*until_system),
                    left.as_secs_f64(),
                    cause.message()
                )))
            }
            Some(_) => {
                *s = None;
                None
            }
            None => None,
        }
    }

    pub fn until(&self) -> Option<SystemTime> {
        match self.state.lock().as_ref() {
            Some((until, at, _)) if Instant::now() < *until => Some(*at),
            _ => None,
        }
    }
}

/// Runs `attempt` until it succeeds, fails for good, runs out of attempts, or the
/// next try would start after `deadline` (normally now + the policy's deadline; earlier for a
/// renewal that must not outlive the token it replaces). Returns the outcome and the attempts made.
pub(crate) fn run<T>(
    policy: &RetryPolicy,
    deadline: Instant,
    max_attempts: u32,
    throttle: &Throttle,
    counters: &Counters,
    log: &dyn Fn(LogLevel, &dyn Fn() -> String),
    mut attempt: impl FnMut() -> Result<T>,
) -> (Result<T>, u32) {
    let start = Instant::now();
    if let Some(e) = throttle.refusal(start) {
        Counters::bump(&counters.throttled);
        log(LogLevel::Warn, &|| format!("throttled: {}", e.message()));
        return (Err(e), 0);
    }
    let mut n = 0;
    loop {
        n += 1;
        if n > 1 {
            Counters::bump(&counters.retries);
        }
        let e = match attempt() {
            Ok(v) => return (Ok(v), n),
            Err(e) => e,
        };
        // The server's Retry-After, capped: we will not wait (or block others) longer than that.
        let now = Instant::now();
        let now_system = SystemTime::now();
        let retry_after = e.retry_after().map(|t| t.duration_since(now_system).unwrap_or_default().min(policy.max_retry_after));
        let e = match retry_after {
            Some(ra) => {
                let at = now_system + ra;
                let msg = format!("{}; the server asked to wait until {} (Retry-After)", e.message(), fmt_utc(at));
                e.with_retry_after(Some(at)).reworded(msg)
            }
            None => e,
        };
        if let (Some(ra), 429 | 503) = (retry_after, e.http_status()) {
            throttle.set(now + ra, now_system + ra, &e);
            log(LogLevel::Warn, &|| format!("HTTP {}: throttled until {} (Retry-After, capped at {} s)", e.http_status(), fmt_utc(now_system + ra), policy.max_retry_after.as_secs()));
        }
        if !e.is_retryable() {
            return (Err(e), n);
        }
        if n >= max_attempts {
            return (Err(e), n);
        }
        let wait = policy.backoff(n).max(retry_after.unwrap_or_default());
        if now + wait >= deadline {
            log(LogLevel::Warn, &|| {
                format!("attempt {n}/{max_attempts} failed ({}); not retrying: waiting {} ms would pass the deadline ({} ms left)", e.message(), wait.as_millis(), deadline.saturating_duration_since(now).as_millis())
            });
            return (Err(e), n);
        }
        log(LogLevel::Warn, &|| format!("attempt {n}/{max_attempts} failed ({}); retrying in {} ms", e.message(), wait.as_millis()));
        std::thread::sleep(wait);
    }
}

/// `2026-11-28T07:30:01Z`, for messages (never before the epoch).
pub(crate) fn fmt_utc(t: SystemTime) -> String {
    crate::util::timefmt::iso8601(t.max(std::time::UNIX_EPOCH))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::error::ErrorKind;
    use std::cell::Cell;
    use std::time::UNIX_EPOCH;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(4),
            max_retry_after: Duration::from_millis(200),
            deadline: Duration::from_secs(5),
        }
    }
    fn http(status: u16) -> Error {
        Error::new(ErrorKind::Http, format!("HTTP {status}")).with_http_status(status)
    }
    fn oauth(code: &str, status: u16) -> Error {
        Error::new(ErrorKind::OAuth, code).with_oauth(code.into(), None).with_http_status(status)
    }
    fn run_seq(p: &RetryPolicy, throttle: &Throttle, errors: Vec<Error>) -> (Result<u32>, u32) {
        let calls = Cell::new(0usize);
        let r = run(p, Instant::now() + p.deadline, p.max_attempts, throttle, &Counters::default(), &|_, _| {}, || {
            let i = calls.get();
            calls.set(i + 1);
            match errors.get(i) {
                Some(e) => Err(e.clone()),
                None => Ok(i as u32),
            }
        });
        r
    }

    #[test]
    fn classification() {
        for e in [http(408), http(429), http(500), http(502), http(503), oauth("server_error", 500), oauth("temporarily_unavailable", 400)] {
            assert!(e.is_retryable(), "{e:?}");
        }
        for e in [
            http(400),
            http(401),
            http(404),
            http(302),
            oauth("invalid_client", 401),
            oauth("invalid_scope", 400),
            oauth("invalid_grant", 400),
            oauth("unauthorized_client", 400),
            oauth("invalid_client", 503),
            Error::protocol("x"),
            Error::config("x"),
            Error::new(ErrorKind::Transport, "TLS failed"),
        ] {
            assert!(!e.is_retryable(), "{e:?}");
        }
        assert!(Error::new(ErrorKind::Transport, "reset").transient().is_retryable());
        assert!(Error::new(ErrorKind::Timeout, "slow").is_retryable());
    }

    #[test]
    fn retries_transient_then_succeeds_and_stops_on_permanent() {
        let p = policy();
        assert!(matches!(run_seq(&p, &Throttle::default(), vec![http(500), http(502)]), (Ok(2), 3)));
        let (r, n) = run_seq(&p, &Throttle::default(), vec![http(500), oauth("invalid_client", 401), http(500)]);
        assert_eq!((r.unwrap_err().oauth_code(), n), (Some("invalid_client"), 2));
        let (r, n) = run_seq(&p, &Throttle::default(), vec![http(503); 5]);
        assert_eq!((r.unwrap_err().http_status(), n), (503, 3), "max attempts");
    }

    #[test]
    fn retry_after_sets_throttle_and_next_fetch_is_refused_at_once() {
        let p = policy();
        let throttle = Throttle::default();
        let ra = SystemTime::now() + Duration::from_secs(3600);
        // Asked for an hour: capped at 200 ms, which fits the deadline, so the fetch retries after it.
        let start = Instant::now();
        let (r, n) = run_seq(&p, &throttle, vec![http(429).with_retry_after(Some(ra))]);
        assert!(r.is_ok() && n == 2);
        assert!(start.elapsed() >= Duration::from_millis(190), "waited for the (capped) Retry-After");
        // A Retry-After past the deadline: no retry, and the next fetch is refused without calling.
        let short = RetryPolicy { deadline: Duration::from_millis(100), ..p };
        let (r, n) = run_seq(&short, &throttle, vec![http(503).with_retry_after(Some(ra)); 3]);
        let e = r.unwrap_err();
        assert_eq!(n, 1);
        let at = e.retry_after().unwrap();
        assert!(at > SystemTime::now() + Duration::from_millis(100) && at < SystemTime::now() + Duration::from_millis(250));
        let (r, n) = run_seq(&short, &throttle, vec![]);
        let e = r.unwrap_err();
        assert_eq!((n, e.kind(), e.http_status()), (0, ErrorKind::Http, 503));
        assert!(e.message().contains("retry after"), "{}", e.message());
        assert!(e.retry_after().is_some());
    }

    #[test]
    fn deadline_stops_retries_that_would_start_too_late() {
        let p = RetryPolicy { backoff_base: Duration::from_secs(10), backoff_max: Duration::from_secs(10), deadline: Duration::from_millis(50), ..policy() };
        // Backoff up to 10 s; ~1 in 200 draws is below 50 ms, so this takes one attempt almost surely.
        // Force it: a Retry-After of 150 ms (> deadline) makes the wait certain.
        let e = http(500).with_retry_after(Some(SystemTime::now() + Duration::from_millis(150)));
        let start = Instant::now();
        let (r, n) = run_seq(&p, &Throttle::default(), vec![e]);
        assert!(r.is_err() && n == 1);
        assert!(start.elapsed() < Duration::from_millis(50));
    }

    #[test]
    fn backoff_is_bounded_full_jitter() {
        let p = RetryPolicy { backoff_base: Duration::from_millis(100), backoff_max: Duration::from_millis(300), ..policy() };
        let draws: Vec<Duration> = (0..200).map(|_| p.backoff(3)).collect();
        assert!(draws.iter().all(|d| *d <= Duration::from_millis(300)));
        assert!(draws.iter().any(|d| *d < Duration::from_millis(100)) && draws.iter().any(|d| *d > Duration::from_millis(200)), "spread out");
        assert!((0..50).all(|_| p.backoff(1) <= Duration::from_millis(100)));
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(fmt_utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(fmt_utc(UNIX_EPOCH + Duration::from_secs(784_111_777)), "1994-11-06T08:49:37Z");
        assert_eq!(fmt_utc(UNIX_EPOCH + Duration::from_secs(951_868_800)), "2000-03-01T00:00:00Z");
    }
}
