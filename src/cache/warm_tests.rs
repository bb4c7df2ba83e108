//! Tests of the warm path's two shortcuts: the coarse clock, and serving the current token
//! without the flight lock while another caller renews it.

use super::*;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc;

/// A clock that moves when told to, with a coarse reading that lags by a settable amount and a
/// count of precise reads (to see which path a call took).
struct LaggingClock {
    base: Instant,
    offset_ns: AtomicU64,
    coarse_lag_ns: AtomicU64,
    precise_reads: AtomicU32,
}

impl Clock for Arc<LaggingClock> {
    fn now(&self) -> Instant {
        self.precise_reads.fetch_add(1, Ordering::SeqCst);
        self.base + Duration::from_nanos(self.offset_ns.load(Ordering::SeqCst))
    }
    fn system_now(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_nanos(self.offset_ns.load(Ordering::SeqCst))
    }
    fn coarse_ns(&self) -> Option<u64> {
        // +1 s keeps the subtraction from underflowing at offset 0.
        Some(1_000_000_000 + self.offset_ns.load(Ordering::SeqCst) - self.coarse_lag_ns.load(Ordering::SeqCst))
    }
}

fn lagging() -> (Arc<LaggingClock>, TokenCache<Arc<LaggingClock>>) {
    let clock = Arc::new(LaggingClock {
        base: Instant::now(),
        offset_ns: AtomicU64::new(0),
        coarse_lag_ns: AtomicU64::new(0),
        precise_reads: AtomicU32::new(0),
    });
    (clock.clone(), TokenCache::new(clock, Margins::default(), Duration::from_secs(5)))
}

fn fetched(name: &str) -> Result<Fetched> {
    Ok(Fetched { access_token: Secret::new(name), token_type: "Bearer".into(), scope: None, lifetime: Duration::from_secs(3600), valid_for: Duration::from_secs(3600), issued_at: None })
}

fn get_counting<C: Clock>(cache: &TokenCache<C>, calls: &AtomicU32, name: &str) -> String {
    cache
        .get(Duration::ZERO, || {
            calls.fetch_add(1, Ordering::SeqCst);
            fetched(name)
        }, |t| t.access_token().to_string())
        .unwrap()
}

#[test]
fn coarse_reading_serves_fresh_tokens_and_never_past_refresh_at() {
    let (clock, cache) = lagging();
    let calls = AtomicU32::new(0);
    assert_eq!(get_counting(&cache, &calls, "t1"), "t1");
    // A lag of 10 ms, a whole kernel tick at HZ=100, from here on.
    clock.coarse_lag_ns.store(10_000_000, Ordering::SeqCst);
    clock.offset_ns.store(3000 * 1_000_000_000, Ordering::SeqCst);
    let reads = clock.precise_reads.load(Ordering::SeqCst);
    assert_eq!(get_counting(&cache, &calls, "t2"), "t1");
    assert_eq!(clock.precise_reads.load(Ordering::SeqCst), reads, "fresh token: served on the coarse reading alone");
    // refresh_at is 3270 s (3600 - 30 hard - 300 window). 1 ms past it, the lagging coarse clock
    // still reads before it; the slack must send the call to the precise clock, which renews.
    clock.offset_ns.store(3270 * 1_000_000_000 + 1_000_000, Ordering::SeqCst);
    assert_eq!(get_counting(&cache, &calls, "t2"), "t2");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn min_valid_requests_use_the_precise_clock() {
    let (clock, cache) = lagging();
    let calls = AtomicU32::new(0);
    get_counting(&cache, &calls, "t1");
    let reads = clock.precise_reads.load(Ordering::SeqCst);
    cache.get(Duration::from_secs(60), || fetched("t2"), |_| ()).unwrap();
    assert!(clock.precise_reads.load(Ordering::SeqCst) > reads);
}

#[test]
fn readers_do_not_queue_on_the_flight_lock_during_a_renewal() {
    let (clock, cache) = lagging();
    let cache = Arc::new(cache);
    let calls = AtomicU32::new(0);
    get_counting(&*cache, &calls, "t1");
    clock.offset_ns.store(3300 * 1_000_000_000, Ordering::SeqCst); // in the refresh window

    let (started_tx, started_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let renewer = {
        let cache = cache.clone();
        std::thread::spawn(move || {
            cache
                .get(Duration::ZERO, || {
                    started_tx.send(()).unwrap();
                    go_rx.recv().unwrap();
                    fetched("t2")
                }, |t| t.access_token().to_string())
                .unwrap()
        })
    };
    started_rx.recv().unwrap();
    // With the renewal in flight, hold the flight lock: a reader must still get t1 at once.
    let held = cache.flight.lock();
    let reads = clock.precise_reads.load(Ordering::SeqCst);
    let (done_tx, done_rx) = mpsc::channel();
    let reader = {
        let cache = cache.clone();
        std::thread::spawn(move || {
            let t = cache.get(Duration::ZERO, || fetched("never"), |t| t.access_token().to_string()).unwrap();
            done_tx.send(t).unwrap();
        })
    };
    let got = done_rx.recv_timeout(Duration::from_secs(30));
    // Read the count before releasing the renewer: landing its token reads the precise clock.
    let reads_after = clock.precise_reads.load(Ordering::SeqCst);
    drop(held);
    go_tx.send(()).unwrap();
    assert_eq!(got.expect("the reader waited on the flight lock"), "t1");
    assert_eq!(reads_after, reads, "served on the coarse reading during the renewal");
    assert_eq!(renewer.join().unwrap(), "t2");
    reader.join().unwrap();
    assert!(!cache.renewing.load(Ordering::Relaxed), "cleared when the renewal landed");
}
