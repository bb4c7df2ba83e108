//! Cancelling a long wait (a workstation login waits minutes for a person) from another thread.
//! A flag, so that cancelling is one atomic store: safe from any thread and from a signal
//! handler. The waiting side sleeps in short slices and looks at the flag between them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How late a cancellation may be noticed by a sleeping wait.
const SLICE: Duration = Duration::from_millis(20);

/// A cancellation flag shared by whoever may cancel and the operation that honours it.
/// Cloning shares the flag. Cancelling is permanent.
#[derive(Clone, Default, Debug)]
pub struct Cancellation(Arc<AtomicBool>);

impl Cancellation {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the operation to stop. Idempotent, lock-free, async-signal-safe.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps for `d` or until cancelled (noticed within 20 ms). Returns whether it was cancelled.
    pub(crate) fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        loop {
            if self.is_cancelled() {
                return true;
            }
            let now = Instant::now();
            if now >= end {
                return false;
            }
            std::thread::sleep(SLICE.min(end - now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancel_from_another_thread_ends_the_sleep() {
        let c = Cancellation::new();
        assert!(!c.sleep(Duration::from_millis(1)));
        let other = c.clone();
        let t = std::thread::spawn(move || other.cancel());
        let start = Instant::now();
        assert!(c.sleep(Duration::from_secs(30)));
        assert!(start.elapsed() < Duration::from_secs(10));
        t.join().unwrap();
        assert!(c.is_cancelled() && c.sleep(Duration::from_secs(30)), "cancelling is permanent");
    }
}
