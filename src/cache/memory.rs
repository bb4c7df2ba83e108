//! The token cache: one token per client, read without locks, renewed by exactly one caller.
//!
//! Reads go through an `ArcSwapOption`, so the warm path is an atomic load, a clock read and a
//! copy: no lock a renewal could hold, no allocation. The `flight` mutex only coordinates who
//! renews; nobody holds it across network I/O.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwapOption;
use parking_lot::{Condvar, Mutex};

use super::clock::{self, Clock, SystemClock};
use crate::token::{AccessToken, Fetched};
use crate::util::backoff;
use crate::util::counters::StripedCounter;
use crate::util::error::{Error, ErrorKind, Result};
use crate::util::secret::Secret;

/// When a token stops being served, and when renewal starts. `None` means the defaults:
/// hard margin min(30 s, 10 % of lifetime), refresh-ahead window min(5 min, 50 % of lifetime).
#[derive(Debug, Clone, Copy, Default)]
pub struct Margins {
    pub hard: Option<Duration>,
    pub refresh_ahead: Option<Duration>,
}

impl Margins {
    /// (hard margin, refresh-ahead window) for a token of this lifetime.
    fn for_lifetime(&self, lifetime: Duration) -> (Duration, Duration) {
        let hard = self.hard.unwrap_or_else(|| (lifetime / 10).min(Duration::from_secs(30)));
        // A margin as long as the token would make every token unusable on arrival.
        let hard = hard.min(lifetime / 2);
        let window = self.refresh_ahead.unwrap_or_else(|| (lifetime / 2).min(Duration::from_secs(300)));
        (hard, window.min(lifetime - hard))
    }
}

/// A token in the cache, with the instants that govern it.
pub struct CachedToken {
    pub(crate) access_token: Secret,
    pub(crate) token_type: String,
    pub(crate) scope: Option<String>,
    /// When the request that got it was sent: expiry counts from here, not from the answer.
    pub(crate) obtained_at: Instant,
    pub(crate) usable_until: Instant,
    pub(crate) refresh_at: Instant,
    pub(crate) expires_at_system: SystemTime,
    pub(crate) refresh_at_system: SystemTime,
    pub(crate) lifetime: Duration,
    /// On the clock's coarse scale: before these the token is certainly before `refresh_at`,
    /// `usable_until` (0 when the clock has no coarse reading).
    coarse_fresh_until: u64,
    coarse_usable_until: u64,
}

impl CachedToken {
    fn new(f: Fetched, sent_at: Instant, sent_at_system: SystemTime, margins: &Margins) -> Self {
        let (hard, window) = margins.for_lifetime(f.valid_for);
        let usable_until = sent_at + (f.valid_for - hard);
        let refresh_at = usable_until - window;
        CachedToken {
            access_token: f.access_token,
            token_type: f.token_type,
            scope: f.scope,
            obtained_at: sent_at,
            usable_until,
            refresh_at,
            expires_at_system: sent_at_system + f.valid_for,
            refresh_at_system: sent_at_system + (refresh_at - sent_at),
            lifetime: f.lifetime,
            coarse_fresh_until: 0,
            coarse_usable_until: 0,
        }
    }

    /// Sets the coarse deadlines: `refresh_at` and `usable_until`, less the slack, on the coarse
    /// scale. Reading the coarse clock first keeps it at or behind `now`, so they err early.
    fn with_coarse_deadline(mut self, clock: &impl Clock) -> Self {
        if let Some(coarse) = clock.coarse_ns() {
            let now = clock.now();
            let on_coarse = |at: Instant| {
                let ahead = at.saturating_duration_since(now).saturating_sub(clock::SLACK);
                coarse.saturating_add(ahead.as_nanos().min(u64::MAX as u128) as u64)
            };
            self.coarse_fresh_until = on_coarse(self.refresh_at);
            self.coarse_usable_until = on_coarse(self.usable_until);
        }
        self
    }

    pub fn access_token(&self) -> &str {
        self.access_token.expose()
    }
    pub fn token_type(&self) -> &str {
        &self.token_type
    }
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }
    /// When the server said the token expires (counted from when the request was sent).
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at_system
    }
    /// From this instant on, the next caller renews the token (others keep using it).
    pub fn refresh_at(&self) -> SystemTime {
        self.refresh_at_system
    }
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// An owned copy for Rust callers (the token is zeroized when it is dropped).
    pub fn to_access_token(&self) -> AccessToken {
        AccessToken {
            token: self.access_token.clone(),
            token_type: self.token_type.clone(),
            scope: self.scope.clone(),
            expires_at: self.expires_at(),
            refresh_at: self.refresh_at(),
        }
    }

    /// `satisfies`, without its Duration arithmetic in the common `min_valid == 0` case.
    #[inline]
    fn usable_for(&self, now: Instant, min_valid: Duration) -> bool {
        if min_valid.is_zero() {
            now < self.usable_until
        } else {
            self.satisfies(now, min_valid)
        }
    }

    /// Usable now for a caller that needs `min_valid` more. The request is capped at 90 % of
    /// the token's usable lifetime: a fresh token always satisfies it, so a request no token
    /// could meet does not cause a fetch on every call.
    #[inline]
    pub(crate) fn satisfies(&self, now: Instant, min_valid: Duration) -> bool {
        if now >= self.usable_until {
            return false;
        }
        let cap = (self.usable_until - self.obtained_at) * 9 / 10;
        self.usable_until - now >= min_valid.min(cap)
    }
}

#[derive(Default)]
struct Flight {
    in_flight: bool,
    /// Bumped each time a fetch ends; waiters watch it.
    generation: u64,
    last_error: Option<Error>,
    /// After a failed fetch, no new one starts before this (a jittered window that grows with
    /// each failure): callers with a usable token keep it, callers without one get the last
    /// error at once. Reset by a success or `retry_now`.
    retry_not_before: Option<(Instant, SystemTime)>,
    /// When the last fetch failed, for the message of those refused in its window.
    failed_at: Option<Instant>,
    consecutive_failures: u32,
    waiters: u32,
}

pub struct TokenCache<C: Clock = SystemClock> {
    clock: C,
    margins: Margins,
    current: ArcSwapOption<CachedToken>,
    flight: Mutex<Flight>,
    /// Mirrors a refresh-ahead in flight, for the lock-free path; only a hint (set and cleared
    /// under `flight`), so Relaxed is enough: a stale value just takes the slow path.
    renewing: AtomicBool,
    landed: Condvar,
    /// The longest a caller waits for another caller's fetch before giving up.
    wait_limit: Duration,
    /// After a failed renewal: first backoff, doubling up to the second.
    failure_backoff: (Duration, Duration),
    /// Calls served from the cache; striped so the warm path shares no written cache line.
    hits: StripedCounter,
    /// Calls refused inside the window after a failed fetch, without a request.
    refused: std::sync::atomic::AtomicU64,
}

impl<C: Clock> TokenCache<C> {
    pub fn new(clock: C, margins: Margins, wait_limit: Duration) -> Self {
        TokenCache {
            clock,
            margins,
            current: ArcSwapOption::empty(),
            flight: Mutex::new(Flight::default()),
            renewing: AtomicBool::new(false),
            landed: Condvar::new(),
            wait_limit,
            failure_backoff: (Duration::from_secs(1), Duration::from_secs(30)),
            hits: Default::default(),
            refused: Default::default(),
        }
    }

    /// Sets the backoff after a failed renewal (default 1 s doubling to 30 s). A server's
    /// `Retry-After` on the error, if later, wins.
    pub fn set_failure_backoff(&mut self, first: Duration, max: Duration) {
        self.failure_backoff = (first, max.max(first));
    }

    /// Calls answered from the cache without fetching or waiting.
    pub fn hits(&self) -> u64 {
        self.hits.sum()
    }

    /// Calls refused without a request inside the back-off window after a failed fetch.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// `get_renewing_elsewhere` where the caller that finds the token due renews it itself.
    #[inline]
    pub fn get<R>(&self, min_valid: Duration, fetch: impl FnOnce() -> Result<Fetched>, use_token: impl FnOnce(&CachedToken) -> R) -> Result<R> {
        self.get_renewing_elsewhere(min_valid, fetch, || false, use_token)
    }

    /// Returns `use_token(token)` for a token valid at least `min_valid` more, fetching with
    /// `fetch` when needed. Concurrent callers without a usable token share one fetch. A renewal
    /// ahead of expiry is handed to `renew_elsewhere`, which starts `renew` off the caller's path
    /// and returns whether it could (if not, this caller renews, as a last resort).
    #[inline]
    pub fn get_renewing_elsewhere<R>(
        &self,
        min_valid: Duration,
        fetch: impl FnOnce() -> Result<Fetched>,
        renew_elsewhere: impl FnOnce() -> bool,
        use_token: impl FnOnce(&CachedToken) -> R,
    ) -> Result<R> {
        {
            let guard = self.current.load();
            if let Some(tok) = guard.as_deref() {
                // Away from its deadlines a coarse clock read decides (see clock.rs), also
                // while another caller renews the token.
                if min_valid.is_zero() {
                    if let Some(c) = self.clock.coarse_ns() {
                        let renewing = || c < tok.coarse_usable_until && self.renewing.load(Ordering::Relaxed);
                        if c < tok.coarse_fresh_until || renewing() {
                            self.hits.add();
                            return Ok(use_token(tok));
                        }
                    }
                }
                let now = self.clock.now();
                // While another caller renews, the current token is still served from here:
                // readers must not queue on the flight lock for the length of a request.
                let fresh = now < tok.refresh_at || self.renewing.load(Ordering::Relaxed);
                if fresh && tok.usable_for(now, min_valid) {
                    self.hits.add();
                    return Ok(use_token(tok));
                }
            }
        }
        self.get_slow(min_valid, fetch, renew_elsewhere, use_token)
    }

    #[cold]
    fn get_slow<R>(
        &self,
        min_valid: Duration,
        fetch: impl FnOnce() -> Result<Fetched>,
        renew_elsewhere: impl FnOnce() -> bool,
        use_token: impl FnOnce(&CachedToken) -> R,
    ) -> Result<R> {
        let wait_deadline = Instant::now() + self.wait_limit;
        let mut waited_for: Option<u64> = None;
        let mut flight = self.flight.lock();
        loop {
            let now = self.clock.now();
            let current = self.current.load_full();
            if let Some(tok) = current.as_deref() {
                if tok.satisfies(now, min_valid) {
                    let due = now >= tok.refresh_at;
                    let backing_off = flight.retry_not_before.is_some_and(|(t, _)| now < t);
                    if !due || flight.in_flight || backing_off {
                        drop(flight);
                        self.hits.add();
                        return Ok(use_token(tok));
                    }
                    // Refresh-ahead: the renewal runs elsewhere; this caller and everyone else
                    // keep the current token while it is usable: nobody waits on the network.
                    flight.in_flight = true;
                    self.renewing.store(true, Ordering::Relaxed);
                    drop(flight);
                    if renew_elsewhere() {
                        self.hits.add();
                        return Ok(use_token(tok));
                    }
                    // No thread could be started: this caller renews, as before.
                    return match self.run_fetch(fetch) {
                        Ok(new) => Ok(use_token(&new)),
                        // Whether the current token still serves is decided now, when the call
                        // returns: the renewal may have outlived it. Callers that joined this
                        // fetch got the same error, so one fetch gives one answer.
                        Err(e) if !tok.satisfies(self.clock.now(), min_valid) => Err(e),
                        Err(_) => Ok(use_token(tok)),
                    };
                }
            }
            if let Some(gen) = waited_for {
                if flight.generation != gen {
                    // The fetch we waited for has landed and left nothing usable: share its error.
                    if let Some(e) = &flight.last_error {
                        return Err(e.clone());
                    }
                    waited_for = None;
                }
            }
            if !flight.in_flight {
                // Inside the window after a failed fetch, no new request: the last error, at once.
                if let (Some((until, until_system)), Some(e)) = (flight.retry_not_before, &flight.last_error) {
                    if now < until {
                        self.refused.fetch_add(1, Ordering::Relaxed);
                        let ago = flight.failed_at.map(|t| now.saturating_duration_since(t)).unwrap_or_default();
                        return Err(backing_off(e, ago, until - now, until_system));
                    }
                }
                flight.in_flight = true;
                drop(flight);
                let tok = self.run_fetch(fetch)?;
                return Ok(use_token(&tok));
            }
            waited_for.get_or_insert(flight.generation);
            flight.waiters += 1;
            let timed_out = self.landed.wait_until(&mut flight, wait_deadline).timed_out();
            flight.waiters -= 1;
            if timed_out && Some(flight.generation) == waited_for {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("gave up after {:?} waiting for another thread's token request", self.wait_limit),
                ));
            }
        }
    }

    /// Runs the renewal `get` handed to `renew_elsewhere` (the flight is already marked).
    pub fn renew(&self, fetch: impl FnOnce() -> Result<Fetched>) {
        let _ = self.run_fetch(fetch);
    }

    /// Ends the failure window: the next caller without a usable token fetches at once. A
    /// server's `Retry-After` still holds (the fetch layer keeps that).
    pub fn retry_now(&self) {
        self.flight.lock().retry_not_before = None;
    }

    /// Runs one fetch (the caller has set `in_flight`), publishes the outcome, wakes waiters.
    fn run_fetch(&self, fetch: impl FnOnce() -> Result<Fetched>) -> Result<Arc<CachedToken>> {
        // If `fetch` panics, this guard still ends the flight, so waiters are not stranded.
        struct PanicGuard<'a, C: Clock>(&'a TokenCache<C>, bool);
        impl<C: Clock> Drop for PanicGuard<'_, C> {
            fn drop(&mut self) {
                if self.1 {
                    // Our bug, not the server's failure: no back-off window.
                    self.0.land(&Err(Error::new(ErrorKind::Protocol, "internal error: the token fetch panicked")));
                    self.0.flight.lock().retry_not_before = None;
                }
            }
        }
        let mut guard = PanicGuard(self, true);
        let sent_at = self.clock.now();
        let sent_at_system = self.clock.system_now();
        let result = fetch()
            .and_then(|f| self.entry(f, sent_at, sent_at_system))
            .map(|t| Arc::new(t.with_coarse_deadline(&self.clock)));
        guard.1 = false;
        self.land(&result);
        result
    }

    /// The cache entry for `f`, requested at `sent_at`; a token another process fetched earlier
    /// (`f.issued_at`) is back-dated to then, so its margins are those of its whole lifetime.
    fn entry(&self, f: Fetched, sent_at: Instant, sent_at_system: SystemTime) -> Result<CachedToken> {
        let Some(issued) = f.issued_at else {
            return Ok(CachedToken::new(f, sent_at, sent_at_system, &self.margins));
        };
        // A stamp from the future (the wall clock stepped back) counts as now.
        let issued = issued.min(sent_at_system);
        let age = sent_at_system.duration_since(issued).unwrap_or_default();
        let at = sent_at
            .checked_sub(age)
            .ok_or_else(|| Error::new(ErrorKind::Protocol, "internal error: a shared token is older than this clock can represent"))?;
        Ok(CachedToken::new(f, at, issued, &self.margins))
    }

    /// Whether `f`, a token another process stored, would be served now without renewal to a
    /// caller needing `min_valid`: the warm path's own test, so a shared token gets no slack.
    pub(crate) fn would_serve(&self, f: &Fetched, min_valid: Duration) -> bool {
        let (now, now_system) = (self.clock.now(), self.clock.system_now());
        match self.entry(f.clone(), now, now_system) {
            Ok(tok) => now < tok.refresh_at && tok.satisfies(now, min_valid),
            Err(_) => false,
        }
    }

    fn land(&self, outcome: &Result<Arc<CachedToken>>) {
        let mut f = self.flight.lock();
        match outcome {
            Ok(tok) => {
                self.current.store(Some(tok.clone()));
                f.last_error = None;
                f.retry_not_before = None;
                f.failed_at = None;
                f.consecutive_failures = 0;
            }
            Err(e) => {
                let (now, now_system) = (self.clock.now(), self.clock.system_now());
                f.last_error = Some(e.clone());
                f.failed_at = Some(now);
                f.consecutive_failures = f.consecutive_failures.saturating_add(1);
                // 1 s doubling to 30 s (by default), jittered so a fleet of clients that failed
                // together does not come back together. A usable token is kept meanwhile.
                let (first, max) = self.failure_backoff;
                let ceiling = backoff::doubling(first, max, f.consecutive_failures);
                let mut backoff = ceiling / 2 + ceiling.mul_f64(backoff::random_unit() / 2.0);
                // While a token is still usable the renewals back off, but its end is a natural
                // moment to try again: the window does not outlast it.
                if let Some(tok) = self.current.load().as_deref() {
                    if tok.usable_until > now {
                        backoff = backoff.min(tok.usable_until - now);
                    }
                }
                // A server's Retry-After (already capped by the retry policy) wins if it is later.
                let asked = e.retry_after().and_then(|t| t.duration_since(now_system).ok().map(|d| (d, t)));
                f.retry_not_before = Some(match asked {
                    Some((d, at)) if d >= backoff => (now + d, at),
                    _ => (now + backoff, now_system + backoff),
                });
            }
        }
        f.in_flight = false;
        self.renewing.store(false, Ordering::Relaxed);
        f.generation = f.generation.wrapping_add(1);
        drop(f);
        self.landed.notify_all();
    }

    /// How many callers are parked waiting for another caller's fetch (for tests and stats).
    pub fn waiters(&self) -> u32 {
        self.flight.lock().waiters
    }

    /// Drops `token` if it is still the cached one ("it got a 401"). Returns whether it did.
    /// N callers reporting the same stale token cause one renewal, not N.
    pub fn invalidate(&self, token: &str) -> bool {
        let current = self.current.load();
        match current.as_deref() {
            Some(t) if t.access_token.expose() == token => {
                let prev = self.current.compare_and_swap(&*current, None);
                match (prev.as_deref(), current.as_deref()) {
                    (Some(a), Some(b)) => std::ptr::eq(a, b),
                    _ => false,
                }
            }
            _ => false,
        }
    }

    /// The cached token, if any, without fetching (for diagnostics).
    pub fn peek(&self) -> Option<Arc<CachedToken>> {
        self.current.load_full()
    }
}

/// The error a caller without a usable token gets inside the failure window: the last fetch's,
/// saying when the next attempt is allowed (also as its retry-after instant).
fn backing_off(last: &Error, ago: Duration, left: Duration, until: SystemTime) -> Error {
    last.clone().with_retry_after(Some(until)).reworded(format!(
        "{}; no request was sent: the last token fetch failed {:.1} s ago; retry after {} (in {:.1} s), \
         or call retry_now once the cause is fixed",
        last.message(),
        ago.as_secs_f64(),
        crate::util::timefmt::iso8601(until),
        left.as_secs_f64()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

    /// A clock that only moves when told to.
    struct FakeClock {
        base: Instant,
        offset_ms: AtomicU64,
    }
    impl FakeClock {
        fn new() -> Self {
            FakeClock { base: Instant::now(), offset_ms: AtomicU64::new(0) }
        }
    }
    impl Clock for Arc<FakeClock> {
        fn now(&self) -> Instant {
            self.base + Duration::from_millis(self.offset_ms.load(Ordering::SeqCst))
        }
        fn system_now(&self) -> SystemTime {
            SystemTime::UNIX_EPOCH + Duration::from_millis(self.offset_ms.load(Ordering::SeqCst))
        }
    }

    fn setup() -> (Arc<FakeClock>, TokenCache<Arc<FakeClock>>) {
        let clock = Arc::new(FakeClock::new());
        (clock.clone(), TokenCache::new(clock, Margins::default(), Duration::from_secs(5)))
    }
    fn advance(c: &FakeClock, secs: u64) {
        c.offset_ms.fetch_add(secs * 1000, Ordering::SeqCst);
    }
    fn token(name: &str, secs: u64) -> Result<Fetched> {
        Ok(Fetched { access_token: Secret::new(name), token_type: "Bearer".into(), scope: None, lifetime: Duration::from_secs(secs), valid_for: Duration::from_secs(secs), issued_at: None })
    }
    fn get(cache: &TokenCache<Arc<FakeClock>>, calls: &AtomicU32, name: &str) -> Result<String> {
        cache.get(Duration::ZERO, || {
            calls.fetch_add(1, Ordering::SeqCst);
            token(name, 3600)
        }, |t| t.access_token().to_string())
    }

    #[test]
    fn margins_defaults() {
        let m = Margins::default();
        assert_eq!(m.for_lifetime(Duration::from_secs(3600)), (Duration::from_secs(30), Duration::from_secs(300)));
        assert_eq!(m.for_lifetime(Duration::from_secs(10)), (Duration::from_secs(1), Duration::from_secs(5)));
        let big = Margins { hard: Some(Duration::from_secs(100)), refresh_ahead: Some(Duration::from_secs(100)) };
        assert_eq!(big.for_lifetime(Duration::from_secs(10)), (Duration::from_secs(5), Duration::from_secs(5)));
    }

    #[test]
    fn lifecycle_reuse_refresh_ahead_and_hard_expiry() {
        let (clock, cache) = setup();
        let calls = AtomicU32::new(0);
        assert_eq!(get(&cache, &calls, "t1").unwrap(), "t1");
        advance(&clock, 3000);
        assert_eq!(get(&cache, &calls, "t2").unwrap(), "t1", "still fresh: reused");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // 3600 - 30 (hard) - 300 (window) = 3270: from then on the next caller renews.
        advance(&clock, 300);
        assert_eq!(get(&cache, &calls, "t2").unwrap(), "t2");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Expiry counts from when t2 was requested; past the hard margin it is never served.
        advance(&clock, 3571);
        assert_eq!(get(&cache, &calls, "t3").unwrap(), "t3");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn failed_refresh_keeps_serving_then_surfaces_when_unusable() {
        let (clock, cache) = setup();
        let calls = AtomicU32::new(0);
        get(&cache, &calls, "t1").unwrap();
        advance(&clock, 3300); // in the refresh window
        let failing = || -> Result<Fetched> { Err(Error::new(ErrorKind::Transport, "down")) };
        let r = cache.get(Duration::ZERO, failing, |t| t.access_token().to_string());
        assert_eq!(r.unwrap(), "t1");
        // During backoff nobody retries: the fetch closure must not run.
        let r = cache.get(Duration::ZERO, || panic!("must not fetch during backoff"), |t| t.access_token().to_string());
        assert_eq!(r.unwrap(), "t1");
        advance(&clock, 300); // past the hard margin: the window ended with the token
        let e = cache.get(Duration::ZERO, failing, |_| ()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Transport);
        // Issue 13: inside the window that follows, callers get that error at once, no request.
        let e = cache.get(Duration::ZERO, || panic!("must not fetch inside the window"), |_| ()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Transport);
        assert!(e.message().contains("no request was sent") && e.retry_after().is_some(), "{}", e.message());
        // After it (1 s doubling, jittered: at most 2 s after a second failure), one tries again.
        advance(&clock, 2);
        assert_eq!(get(&cache, &calls, "t2").unwrap(), "t2");
    }

    #[test]
    fn the_failure_window_grows_is_jittered_resets_on_success_and_yields_to_retry_now() {
        let (clock, cache) = setup();
        let failing = || -> Result<Fetched> { Err(Error::new(ErrorKind::Http, "503").with_http_status(503)) };
        let window = |cache: &TokenCache<Arc<FakeClock>>| {
            let f = cache.flight.lock();
            f.retry_not_before.map(|(t, _)| t - cache.clock.now()).unwrap()
        };
        let mut seen = Vec::new();
        for n in 1..=7u32 {
            assert!(cache.get(Duration::ZERO, failing, |_| ()).is_err());
            let w = window(&cache);
            // Equal jitter: between half and all of 1 s * 2^(n-1), capped at 30 s.
            let ceiling = Duration::from_secs(1u64 << (n - 1)).min(Duration::from_secs(30));
            assert!(w >= ceiling / 2 && w <= ceiling, "failure {n}: {w:?}");
            seen.push(w);
            clock.offset_ms.fetch_add(w.as_millis() as u64 + 1, Ordering::SeqCst);
        }
        assert!(seen.windows(2).any(|p| p[0] != p[1]), "jittered");
        // retry_now ends the window at once.
        assert!(cache.get(Duration::ZERO, failing, |_| ()).is_err());
        assert!(cache.get(Duration::ZERO, || panic!("inside the window"), |_| ()).is_err());
        cache.retry_now();
        let calls = AtomicU32::new(0);
        assert_eq!(get(&cache, &calls, "t1").unwrap(), "t1");
        // A success resets the growth: the next failure's window starts at 1 s again.
        cache.invalidate("t1");
        assert!(cache.get(Duration::ZERO, failing, |_| ()).is_err());
        assert!(window(&cache) <= Duration::from_secs(1));
    }

    #[test]
    fn min_valid_forces_renewal_but_impossible_requests_do_not_loop() {
        let (clock, cache) = setup();
        let calls = AtomicU32::new(0);
        get(&cache, &calls, "t1").unwrap();
        advance(&clock, 1000);
        let calls = &calls;
        let f = |n: &'static str| move || -> Result<Fetched> { calls.fetch_add(1, Ordering::SeqCst); token(n, 3600) };
        let r = cache.get(Duration::from_secs(2500), f("t2"), |t| t.access_token().to_string()).unwrap();
        assert_eq!(r, "t1", "2570 s left is enough");
        let r = cache.get(Duration::from_secs(3000), f("t2"), |t| t.access_token().to_string()).unwrap();
        assert_eq!(r, "t2");
        let r = cache.get(Duration::from_secs(99_999), f("t3"), |t| t.access_token().to_string()).unwrap();
        assert_eq!(r, "t2", "no token can live that long: capped at 90 % of the usable lifetime");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn conditional_invalidation() {
        let (_clock, cache) = setup();
        let calls = AtomicU32::new(0);
        get(&cache, &calls, "t1").unwrap();
        assert!(!cache.invalidate("other"));
        assert!(cache.invalidate("t1"));
        assert!(!cache.invalidate("t1"), "already dropped");
        assert_eq!(get(&cache, &calls, "t2").unwrap(), "t2");
        assert!(!cache.invalidate("t1"), "a late 401 for t1 must not drop t2");
        assert_eq!(get(&cache, &calls, "t3").unwrap(), "t2");
    }

    #[test]
    fn concurrent_cold_callers_share_one_fetch_and_its_error() {
        let cache = Arc::new(TokenCache::new(SystemClock, Margins::default(), Duration::from_secs(10)));
        let calls = Arc::new(AtomicU32::new(0));
        let barrier = Arc::new(std::sync::Barrier::new(16));
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (cache, calls, barrier, rx) = (cache.clone(), calls.clone(), barrier.clone(), release_rx.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    cache.get(Duration::ZERO, || {
                        calls.fetch_add(1, Ordering::SeqCst);
                        // Hold the fetch open until the test releases it, so all threads pile up.
                        rx.lock().recv_timeout(Duration::from_secs(5)).ok();
                        Err(Error::new(ErrorKind::OAuth, "nope"))
                    }, |_| ())
                })
            })
            .collect();
        // Wait (bounded) until the other 15 are parked behind the one fetch, then let it land.
        let start = Instant::now();
        while cache.waiters() < 15 && start.elapsed() < Duration::from_secs(5) {
            std::thread::yield_now();
        }
        assert_eq!(cache.waiters(), 15);
        release_tx.send(()).unwrap();
        for h in handles {
            assert_eq!(h.join().unwrap().unwrap_err().kind(), ErrorKind::OAuth, "every waiter shares the one error");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn panicking_fetch_does_not_strand_waiters() {
        let (_clock, cache) = setup();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cache.get(Duration::ZERO, || panic!("boom"), |_| ())));
        assert!(r.is_err());
        let calls = AtomicU32::new(0);
        assert_eq!(get(&cache, &calls, "t1").unwrap(), "t1", "the flight was ended by the guard");
    }
}

#[cfg(test)]
#[path = "warm_tests.rs"]
mod warm_tests;
