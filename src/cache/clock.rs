//! The cache's clock: a `Clock` trait (tests inject a fake one), and a cheap clock for the warm
//! path. On this project's reference machine a precise
//! `CLOCK_MONOTONIC` read is a third of a warm `rapidata_get_token` (~18 ns of ~50 ns);
//! `CLOCK_MONOTONIC_COARSE` reads the timekeeper's last tick (~3 ns) and lags the precise
//! clock by at most one tick (1-10 ms). Expiry decisions work with margins of seconds, so the
//! warm path only trusts it while the token is fresh by more than [`SLACK`]; closer to the
//! refresh instant the cache uses the precise clock.

use std::time::{Duration, Instant, SystemTime};

/// Time source; tests inject a fake one to walk a token through its life.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Instant;
    fn system_now(&self) -> SystemTime;
    /// A cheap monotonic reading in ns that never runs ahead of `now()` and lags it by less
    /// than `SLACK`; `None` (the default) keeps the warm path on `now()`.
    #[inline]
    fn coarse_ns(&self) -> Option<u64> {
        None
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn system_now(&self) -> SystemTime {
        SystemTime::now()
    }
    #[inline]
    fn coarse_ns(&self) -> Option<u64> {
        now_ns()
    }
}

/// Far more than a kernel tick (10 ms at HZ=100), far less than any refresh-ahead window.
pub(crate) const SLACK: Duration = Duration::from_millis(50);

/// Nanoseconds on `CLOCK_MONOTONIC_COARSE`, or `None` where that clock does not exist.
#[cfg(target_os = "linux")]
#[inline]
pub(crate) fn now_ns() -> Option<u64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes it.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) } != 0 {
        return None;
    }
    Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

#[cfg(not(target_os = "linux"))]
#[inline]
pub(crate) fn now_ns() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn coarse_clock_never_runs_ahead_and_lags_less_than_the_slack() {
        // Same epoch as CLOCK_MONOTONIC, which std's Instant reads: compare through libc.
        let precise = || {
            let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
            ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
        };
        // Precise reads on both sides, so a preemption between reads can only widen the window
        // the coarse reading must fall in, never fail the test.
        for _ in 0..1000 {
            let before = precise();
            let c = now_ns().unwrap();
            let after = precise();
            assert!(c <= after, "coarse {c} ahead of precise {after}");
            assert!(c + SLACK.as_nanos() as u64 > before, "coarse lags by {} ns", before - c);
        }
    }
}
