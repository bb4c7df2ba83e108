//! The fleet level: one token for every process of every host that shares a Redis (or Valkey)
//! server, named by `shared_cache_url`. Same orchestration as the host level (shared.rs); the
//! store is redis.rs, built only with the cargo feature `fleet`. Without it a client asked to
//! use one fails with CONFIG rather than silently sending a request per process.
//!
//! What is in Redis, per cache key: `raptoken:{HASH}:token` (the entry, sealed: seal.rs),
//! `raptoken:{HASH}:lock` (`SET NX PX`, a random value, released only by its holder) and
//! `raptoken:{HASH}:failed` (a failed fetch, sealed). HASH covers what the host key covers plus
//! a one-way tag of the credential, so a rotated secret gets its own entry instead of fighting
//! over one; the client id never appears in clear.

use std::time::Duration;

pub(crate) use super::fleet_config::FleetConfig;
#[cfg(feature = "fleet")]
use super::shared::SharedLevel;
use crate::token::Fetched;
use crate::util::error::Result;

/// The fleet level of a client.
pub(crate) struct FleetCache {
    #[cfg(feature = "fleet")]
    level: SharedLevel<super::redis::RedisStore>,
    #[cfg(not(feature = "fleet"))]
    never: std::convert::Infallible,
    display: String,
}

impl FleetCache {
    /// Fails with CONFIG if this build has no fleet cache or the TLS roots are unusable.
    pub(crate) fn new(cfg: FleetConfig) -> Result<FleetCache> {
        #[cfg(feature = "fleet")]
        {
            let display = cfg.url.display();
            let store = super::redis::RedisStore::new(&cfg)?;
            Ok(FleetCache { level: SharedLevel::with_store(store, cfg.level), display })
        }
        #[cfg(not(feature = "fleet"))]
        {
            Err(crate::util::error::Error::config(format!(
                "shared cache URL {}: this build of libraptoken has no fleet cache (it was built without the cargo feature `fleet`); \
                 use a release build or build with --features fleet",
                cfg.url.display()
            )))
        }
    }

    /// The server, without its password.
    pub(crate) fn describe(&self) -> &str {
        &self.display
    }

    pub(crate) fn lock_wait(&self) -> Duration {
        #[cfg(feature = "fleet")]
        return self.level.lock_wait();
        #[cfg(not(feature = "fleet"))]
        match self.never {}
    }

    pub(crate) fn get_or_fetch(&self, usable: impl Fn(&Fetched) -> bool, fetch: impl FnOnce() -> Result<Fetched>) -> Result<Fetched> {
        #[cfg(feature = "fleet")]
        return self.level.get_or_fetch(usable, fetch);
        #[cfg(not(feature = "fleet"))]
        {
            let _ = (usable, fetch);
            match self.never {}
        }
    }

    pub(crate) fn reject(&self, token: &str) {
        #[cfg(feature = "fleet")]
        self.level.reject(token);
        #[cfg(not(feature = "fleet"))]
        {
            let _ = token;
            match self.never {}
        }
    }

    /// Whether the server answers now (a PING), and how fast; the reason if not.
    pub(crate) fn ping(&self) -> std::result::Result<Duration, String> {
        #[cfg(feature = "fleet")]
        return self.level.store().ping();
        #[cfg(not(feature = "fleet"))]
        match self.never {}
    }
}

// With the feature, tests/fleet.rs runs the fleet cache against a real redis-server.
#[cfg(all(test, not(feature = "fleet")))]
mod tests {
    use super::*;
    use crate::cache::fleet_config::RedisUrl;
    use crate::cache::shared::LevelConfig;
    use crate::util::secret::Secret;

    #[test]
    fn without_the_feature_a_fleet_cache_is_a_configuration_error() {
        let level = LevelConfig {
            key: "k".into(),
            lock_wait: Duration::from_secs(1),
            failure_backoff: (Duration::from_secs(1), Duration::from_secs(2)),
            max_retry_after: Duration::from_secs(60),
            key_material: Secret::new("s"),
            logger: None,
        };
        let url = RedisUrl::parse("redis://:hunter2@cache:6379").unwrap();
        let cfg = FleetConfig { url, tls_roots_pem: None, io_timeout: Duration::from_secs(1), lease: Duration::from_secs(1), level };
        let e = FleetCache::new(cfg).err().unwrap();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(e.message().contains("--features fleet") && !e.message().contains("hunter2"), "{}", e.message());
    }
}
