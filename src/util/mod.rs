//! Leaf helpers every layer may use. Nothing here knows about options, caches or clients, and
//! no module here imports a layer above it.

pub(crate) mod backoff;
pub(crate) mod cancel;
pub(crate) mod counters;
pub(crate) mod encoding;
pub(crate) mod error;
pub(crate) mod files;
pub(crate) mod log;
pub(crate) mod secret;
pub(crate) mod timefmt;
pub(crate) mod url;
