//! Warm-path cost of counting cache hits: `cargo bench --bench hit_counter`.
//! Compares, in the same run and at 1 and 2 threads (the CI machine has 2 cores):
//!   cache      TokenCache::get on a fresh token (which now bumps a striped hit counter),
//!   +shared    the same plus one shared AtomicU64 per call (what striping avoids),
//!   striped    StripedCounter::add alone,  shared  a shared AtomicU64::fetch_add alone.
//! Prints ns per call and the ratios; it asserts nothing (speed goals are read, not tested).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use raptoken::internals::{Fetched, Margins, StripedCounter, SystemClock, TokenCache};

const CALLS: u64 = 5_000_000;

fn per_call(threads: usize, op: Arc<dyn Fn() + Send + Sync>) -> f64 {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            let (op, b) = (op.clone(), barrier.clone());
            std::thread::spawn(move || {
                b.wait();
                for _ in 0..CALLS {
                    op();
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    hs.into_iter().for_each(|h| h.join().unwrap());
    // Wall time per call per thread: flat across thread counts means no contention.
    start.elapsed().as_nanos() as f64 / CALLS as f64
}

fn best_of(n: usize, f: impl Fn() -> f64) -> f64 {
    (0..n).map(|_| f()).fold(f64::MAX, f64::min)
}

fn main() {
    let cache = Arc::new(TokenCache::new(SystemClock, Margins::default(), Duration::from_secs(5)));
    let fetched = || {
        Ok(Fetched { access_token: raptoken::Secret::new("t".repeat(900)), token_type: "Bearer".into(), scope: None, lifetime: Duration::from_secs(3600), valid_for: Duration::from_secs(3600), issued_at: None })
    };
    cache.get(Duration::ZERO, fetched, |_| ()).unwrap();
    let shared = Arc::new(AtomicU64::new(0));
    let striped = Arc::new(StripedCounter::default());

    println!("{:>8} {:>10} {:>10} {:>10} {:>10}   ns/call/thread", "threads", "cache", "+shared", "striped", "shared");
    for threads in [1, 2] {
        let c = cache.clone();
        let warm = best_of(3, || {
            let c = c.clone();
            per_call(threads, Arc::new(move || {
                std::hint::black_box(c.get(Duration::ZERO, || unreachable!(), |t| t.access_token().len()).unwrap());
            }))
        });
        let (c, s) = (cache.clone(), shared.clone());
        let warm_shared = best_of(3, || {
            let (c, s) = (c.clone(), s.clone());
            per_call(threads, Arc::new(move || {
                s.fetch_add(1, Ordering::Relaxed);
                std::hint::black_box(c.get(Duration::ZERO, || unreachable!(), |t| t.access_token().len()).unwrap());
            }))
        });
        let st = striped.clone();
        let stripe = best_of(3, || {
            let st = st.clone();
            per_call(threads, Arc::new(move || st.add()))
        });
        let sh = shared.clone();
        let shared_only = best_of(3, || {
            let sh = sh.clone();
            per_call(threads, Arc::new(move || {
                sh.fetch_add(1, Ordering::Relaxed);
            }))
        });
        println!("{threads:>8} {warm:>10.1} {warm_shared:>10.1} {stripe:>10.1} {shared_only:>10.1}");
        println!(
            "         ratios: cache+shared / cache = {:.2}; striped counter = {:.0} % of the warm path",
            warm_shared / warm,
            stripe / warm * 100.0
        );
    }
    println!("hits counted: {}", cache.hits());
}
