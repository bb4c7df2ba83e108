//! Counters a service can read to see how its token client is doing. The warm path bumps only
//! a striped counter: each thread writes its own cache line, so counting hits does not make
//! threads contend (a single shared atomic would). Everything else counts on cold paths.

use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::SystemTime;

/// Live threads that get a stripe of their own; more share an overflow stripe.
const STRIPES: usize = 64;
const OVERFLOW: usize = usize::MAX;

#[repr(align(128))] // two cache lines: adjacent-line prefetch must not pair two stripes
#[derive(Default)]
struct Stripe(AtomicU64);

/// A counter many threads bump without sharing a cache line and without an atomic
/// read-modify-write: each live thread owns one stripe (in every counter) and bumps it with a
/// plain load and store, which costs what an ordinary increment does. Threads beyond 64 live
/// ones use a shared overflow stripe with `fetch_add`.
pub struct StripedCounter {
    stripes: [Stripe; STRIPES],
    overflow: Stripe,
}

static FREE_SLOTS: Mutex<Vec<usize>> = Mutex::new(Vec::new());
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);
const UNSET: usize = usize::MAX - 1;

thread_local! {
    /// This thread's stripe: a const-initialized cell, so reading it is a single load.
    static SLOT: Cell<usize> = const { Cell::new(UNSET) };
    /// Created on a thread's first count; when the thread exits it returns the stripe.
    static RELEASE: SlotRelease = const { SlotRelease };
}

struct SlotRelease;

impl Drop for SlotRelease {
    fn drop(&mut self) {
        let i = SLOT.with(|s| s.replace(OVERFLOW)); // later counts in this thread go to overflow
        if i < STRIPES {
            // The mutex orders this thread's last stores before the next owner's first load.
            FREE_SLOTS.lock().unwrap_or_else(|e| e.into_inner()).push(i);
        }
    }
}

#[cold]
fn acquire_slot() -> usize {
    let reused = FREE_SLOTS.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let i = reused.unwrap_or_else(|| {
        let n = NEXT_SLOT.fetch_add(1, Relaxed);
        if n < STRIPES {
            n
        } else {
            OVERFLOW
        }
    });
    // Registering the destructor can fail while the thread is already exiting: then share.
    let i = if RELEASE.try_with(|_| ()).is_ok() { i } else { OVERFLOW };
    SLOT.with(|s| s.set(i));
    i
}

impl Default for StripedCounter {
    fn default() -> Self {
        StripedCounter { stripes: std::array::from_fn(|_| Stripe::default()), overflow: Stripe::default() }
    }
}

impl StripedCounter {
    #[inline]
    pub fn add(&self) {
        let mut i = SLOT.with(Cell::get);
        if i == UNSET {
            i = acquire_slot();
        }
        match i {
            OVERFLOW => {
                self.overflow.0.fetch_add(1, Relaxed);
            }
            i => {
                // Only this thread writes this stripe, so load + store loses nothing.
                let c = &self.stripes[i].0;
                c.store(c.load(Relaxed) + 1, Relaxed);
            }
        }
    }

    pub fn sum(&self) -> u64 {
        self.stripes.iter().map(|s| s.0.load(Relaxed)).sum::<u64>() + self.overflow.0.load(Relaxed)
    }
}

/// A snapshot of a client's counters (`Client::stats`, `rapidata_client_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Calls answered from the cache without waiting for a fetch.
    pub cache_hits: u64,
    /// HTTP requests sent to the token endpoint (every attempt, retries included).
    pub token_requests: u64,
    /// HTTP requests sent for OpenID discovery.
    pub discovery_requests: u64,
    /// Fetches that ended with a new token.
    pub fetches_ok: u64,
    /// Fetches that ended with an error (after their retries).
    pub fetches_failed: u64,
    /// Attempts that were retries of a failed attempt.
    pub retries: u64,
    /// Calls refused without a request: the server's `Retry-After` had not passed, or the
    /// back-off window after a failed fetch had not ended.
    pub throttled: u64,
    /// Failed refreshes after which the still-usable current token kept being served.
    pub kept_serving: u64,
    /// The kind of the last failed fetch's error; `None` if none failed yet.
    pub last_error: Option<crate::ErrorKind>,
    /// The HTTP status behind the last failed fetch; 0 if none.
    pub last_error_http_status: u32,
    /// When the last fetch failed / succeeded, Unix ms; 0 if never.
    pub last_error_unix_ms: i64,
    pub last_success_unix_ms: i64,
    /// Until when the server asked not to be called (Retry-After), Unix ms; 0 if not throttled.
    pub throttled_until_unix_ms: i64,
}

/// The cold-path counters a client keeps (hits live in the cache's striped counter).
#[derive(Default)]
pub(crate) struct Counters {
    pub token_requests: AtomicU64,
    pub discovery_requests: AtomicU64,
    pub fetches_ok: AtomicU64,
    pub fetches_failed: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    pub kept_serving: AtomicU64,
    /// `ErrorKind as u32 + 1` of the last failure; 0 if none.
    pub last_error_kind: AtomicU32,
    pub last_error_http_status: AtomicU32,
    pub last_error_unix_ms: AtomicI64,
    pub last_success_unix_ms: AtomicI64,
}

use crate::util::timefmt::unix_ms;

impl Counters {
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Relaxed);
    }

    pub fn failed(&self, e: &crate::Error) {
        Self::bump(&self.fetches_failed);
        self.last_error_kind.store(e.kind() as u32 + 1, Relaxed);
        self.last_error_http_status.store(e.http_status().into(), Relaxed);
        self.last_error_unix_ms.store(unix_ms(SystemTime::now()), Relaxed);
    }

    pub fn succeeded(&self) {
        Self::bump(&self.fetches_ok);
        self.last_success_unix_ms.store(unix_ms(SystemTime::now()), Relaxed);
    }

    pub fn snapshot(&self, cache_hits: u64, throttled_until: Option<SystemTime>) -> Stats {
        Stats {
            cache_hits,
            token_requests: self.token_requests.load(Relaxed),
            discovery_requests: self.discovery_requests.load(Relaxed),
            fetches_ok: self.fetches_ok.load(Relaxed),
            fetches_failed: self.fetches_failed.load(Relaxed),
            retries: self.retries.load(Relaxed),
            throttled: self.throttled.load(Relaxed),
            kept_serving: self.kept_serving.load(Relaxed),
            last_error: match self.last_error_kind.load(Relaxed) {
                0 => None,
                k => crate::ErrorKind::from_index(k - 1),
            },
            last_error_http_status: self.last_error_http_status.load(Relaxed),
            last_error_unix_ms: self.last_error_unix_ms.load(Relaxed),
            last_success_unix_ms: self.last_success_unix_ms.load(Relaxed),
            throttled_until_unix_ms: throttled_until.map_or(0, unix_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn striped_counter_sums_across_threads() {
        let c = std::sync::Arc::new(StripedCounter::default());
        // 100 threads at once: 64 own a stripe, the rest share the overflow; none loses a count.
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(100));
        let hs: Vec<_> = (0..100)
            .map(|_| {
                let (c, b) = (c.clone(), barrier.clone());
                std::thread::spawn(move || {
                    b.wait();
                    (0..1000).for_each(|_| c.add());
                    b.wait(); // keep all 100 alive (and their slots taken) until all counted
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(c.sum(), 100_000);
        // Slots of finished threads are reused, and their counts stay.
        let c2 = c.clone();
        std::thread::spawn(move || (0..10).for_each(|_| c2.add())).join().unwrap();
        assert_eq!(c.sum(), 100_010);
        assert_eq!(std::mem::align_of::<Stripe>(), 128);
    }
}
