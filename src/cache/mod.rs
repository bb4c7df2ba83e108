//! The cache layer, a decorator around any token source (as golang/oauth2's ReuseTokenSource
//! is): the in-process cache with its lock-free warm path and single flight (memory.rs), the
//! clock it reads (clock.rs), and the levels shared between processes: one orchestration
//! (shared.rs) over two stores, files for the host (files.rs) and Redis for a fleet (fleet.rs,
//! fleet_config.rs, redis.rs), whose entries are sealed (seal.rs). It never fetches by itself: callers hand it
//! the fetch to run.

pub(crate) mod clock;
pub(crate) mod files;
pub(crate) mod fleet;
pub(crate) mod fleet_config;
pub(crate) mod memory;
#[cfg(feature = "fleet")]
mod redis;
mod seal;
pub(crate) mod shared;

pub(crate) use clock::SystemClock;
pub(crate) use files::SharedCache;
pub(crate) use fleet::FleetCache;
pub use memory::CachedToken;
pub(crate) use memory::{Margins, TokenCache};
