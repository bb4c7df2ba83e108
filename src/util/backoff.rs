//! Back-off arithmetic shared by the retry loop (fetch/retry.rs) and the failure windows after
//! a failed fetch (cache/memory.rs in a process, cache/shared.rs between processes).

use std::time::Duration;

/// The ceiling after `n` failures in a row (n >= 1): `first`, doubled for each earlier one, at
/// most `max`.
pub(crate) fn doubling(first: Duration, max: Duration, n: u32) -> Duration {
    first.saturating_mul(1u32 << n.saturating_sub(1).min(20)).min(max)
}

/// Uniform in [0, 1), from the process's random hasher keys (no RNG crate needed for jitter).
pub(crate) fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let r = std::collections::hash_map::RandomState::new().build_hasher().finish();
    (r >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubling_starts_at_first_and_stops_at_max() {
        let s = Duration::from_secs;
        assert_eq!(doubling(s(1), s(30), 1), s(1));
        assert_eq!(doubling(s(1), s(30), 3), s(4));
        assert_eq!(doubling(s(1), s(30), 6), s(30));
        assert_eq!(doubling(s(1), s(30), u32::MAX), s(30));
        assert!((0..1000).map(|_| random_unit()).all(|r| (0.0..1.0).contains(&r)));
    }
}
