//! The cache layer, a decorator around any token source (as golang/oauth2's ReuseTokenSource
//! is): the in-process cache with its lock-free warm path and single flight (memory.rs), the
//! clock it reads (clock.rs), and the host-wide second level shared through files (shared.rs).
//! It never fetches by itself: callers hand it the fetch to run.

pub(crate) mod clock;
pub(crate) mod memory;
pub(crate) mod shared;

pub(crate) use clock::SystemClock;
pub use memory::CachedToken;
pub(crate) use memory::{Margins, TokenCache};
pub(crate) use shared::SharedCache;
