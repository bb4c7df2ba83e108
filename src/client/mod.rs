//! `Client`: orchestration only. It resolves the options, builds each subsystem from its plain
//! options (the fetcher or a token-file source, the in-memory cache, the host shared cache) and
//! wires them together. The C ABI and the CLI are thin layers over it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) mod login;

use crate::cache::{CachedToken, FleetCache, SharedCache, SystemClock, TokenCache};
use crate::fetch::{Diagnostics, Fetcher};
use crate::options::{ClientOptions, Config, CredentialSource};
use crate::sources::token_file;
use crate::token::{AccessToken, Fetched};
use crate::util::counters::{Counters, Stats};
use crate::util::error::Result;

impl Inner {
    /// The cache's fetch: with a shared cache, a token another process stored is taken if the
    /// in-memory cache would serve it to this caller; otherwise one request for the host (and,
    /// with a fleet cache below it, one request for the fleet).
    fn fetch_shared(&self, min_valid: Duration) -> Result<Fetched> {
        match &self.shared {
            Some(shared) => shared.get_or_fetch(|f| self.cache.would_serve(f, min_valid), || self.fetch_fleet(min_valid)),
            None => self.fetch_fleet(min_valid),
        }
    }

    fn fetch_fleet(&self, min_valid: Duration) -> Result<Fetched> {
        match &self.fleet {
            Some(fleet) => fleet.get_or_fetch(|f| self.cache.would_serve(f, min_valid), || self.fetch_for(min_valid)),
            None => self.fetch_for(min_valid),
        }
    }

    fn fetch_for(&self, min_valid: Duration) -> Result<Fetched> {
        // Is this a renewal while the current token still serves this caller?
        let keep_until = self.cache.peek().filter(|t| t.satisfies(Instant::now(), min_valid)).map(|t| t.usable_until);
        match &self.source {
            // invalid_client for credentials from the SDK's file: the error says they are stale.
            Source::Server(f) => f.fetch(keep_until, &self.counters).map_err(|e| self.config.credentials.explain(e)),
            Source::TokenFile(path) => token_file::read(path),
        }
    }
}

/// Where a client's tokens come from.
enum Source {
    /// The authorization server (client credentials).
    Server(Fetcher),
    /// A token file another process keeps fresh.
    TokenFile(PathBuf),
}

/// Gets and keeps a bearer token. Cheap to share: all methods take `&self` and are safe from
/// any number of threads.
pub struct Client {
    /// Shared with a renewal running in the background, which may outlive the `Client` by the
    /// length of its request (bounded by the deadline); the last one out wipes the secrets.
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    source: Source,
    cache: TokenCache<SystemClock>,
    /// The second cache level, shared with other processes on this host (opt-in).
    shared: Option<SharedCache>,
    /// The third level, shared with a fleet through Redis/Valkey (opt-in).
    fleet: Option<FleetCache>,
    counters: Counters,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.inner.config;
        f.debug_struct("Client")
            .field("issuer", &c.issuer)
            .field("client_id", &c.credentials.client_id)
            .field("credential_source", &c.credentials.source)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Resolves options, environment and credentials. Reads files, never the network.
    pub fn new(options: &ClientOptions) -> Result<Client> {
        Self::from_config(Config::resolve(options)?)
    }

    /// A client from the environment and the credentials chain alone.
    pub fn from_env() -> Result<Client> {
        Self::new(&ClientOptions::default())
    }

    pub fn from_config(config: Config) -> Result<Client> {
        let source = match &config.credentials.source {
            CredentialSource::TokenFile { path } => Source::TokenFile(path.clone()),
            _ => Source::Server(Fetcher::new(config.fetch_config(), &config.transport_options(), config.logger.clone())?),
        };
        let shared = config.shared_cache().map(SharedCache::new);
        let fleet = config.fleet_cache()?.map(FleetCache::new).transpose()?;
        // Waiters give up a little after the fetch they wait for must have ended: the deadline
        // bounds it, discovery, attempts and backoff sleeps included; plus, with shared
        // caches, the waits for another process's request.
        let wait_limit = config.retry.deadline
            + Duration::from_secs(1)
            + shared.as_ref().map_or(Duration::ZERO, SharedCache::lock_wait)
            + fleet.as_ref().map_or(Duration::ZERO, FleetCache::lock_wait);
        let mut cache = TokenCache::new(SystemClock, config.margins(), wait_limit);
        let (first, max) = config.failure_backoff();
        cache.set_failure_backoff(first, max);
        Ok(Client { inner: Arc::new(Inner { config, source, cache, shared, fleet, counters: Counters::default() }) })
    }

    /// The configuration this client resolved (no secret is shown by its `Debug`).
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn credential_source(&self) -> &CredentialSource {
        &self.inner.config.credentials.source
    }

    /// How the token endpoint was found and how the last token request went (no secrets).
    pub fn diagnostics(&self) -> Diagnostics {
        match &self.inner.source {
            Source::Server(f) => f.diagnostics(),
            Source::TokenFile(_) => Diagnostics::default(),
        }
    }

    /// The access token, fetched if the cache has none usable.
    pub fn token(&self) -> Result<String> {
        self.with_token(Duration::ZERO, |t| t.access_token().to_string())
    }

    /// The token with its metadata, valid for at least `min_valid` more.
    pub fn access_token(&self, min_valid: Duration) -> Result<AccessToken> {
        self.with_token(min_valid, CachedToken::to_access_token)
    }

    /// Calls `f` with the cached token (no copy, no allocation on the warm path). A renewal ahead
    /// of expiry runs on a thread of its own, so no caller waits on the network while a usable
    /// token exists.
    #[inline]
    pub fn with_token<R>(&self, min_valid: Duration, f: impl FnOnce(&CachedToken) -> R) -> Result<R> {
        self.inner.cache.get_renewing_elsewhere(min_valid, || self.inner.fetch_shared(min_valid), || self.renew_in_background(), f)
    }

    /// Starts the renewal the cache asked for on a new thread; `false` if none could be started.
    #[cold]
    fn renew_in_background(&self) -> bool {
        let inner = Arc::clone(&self.inner);
        std::thread::Builder::new()
            .name("raptoken-renew".into())
            .spawn(move || inner.cache.renew(|| inner.fetch_shared(Duration::ZERO)))
            .is_ok()
    }

    /// Ends the back-off window after a failed fetch: the next call that needs a token sends a
    /// request at once (a server's `Retry-After` still holds).
    pub fn retry_now(&self) {
        self.inner.cache.retry_now();
    }

    /// The file this client shares its token through, if the shared cache is on. Its lock file
    /// is the same path with the extension `.lock`.
    pub fn shared_cache_file(&self) -> Option<&Path> {
        self.inner.shared.as_ref().map(SharedCache::entry_path)
    }

    /// The Redis/Valkey server this client shares its token through with a fleet, if the fleet
    /// cache is on (its URL without the password).
    pub fn fleet_cache_url(&self) -> Option<&str> {
        self.inner.fleet.as_ref().map(FleetCache::describe)
    }

    /// Whether the fleet cache's server answers now (a PING, connecting if needed) and how long
    /// that took; `None` if the fleet cache is off. For diagnostics (`raptoken check`).
    pub fn ping_fleet_cache(&self) -> Option<std::result::Result<Duration, String>> {
        self.inner.fleet.as_ref().map(FleetCache::ping)
    }

    /// "This token got a 401": drops it unless it was already replaced. Returns whether it did.
    pub fn invalidate(&self, token: &str) -> bool {
        if let Some(shared) = &self.inner.shared {
            shared.reject(token);
        }
        if let Some(fleet) = &self.inner.fleet {
            fleet.reject(token);
        }
        self.inner.cache.invalidate(token)
    }

    /// What this client has done so far (cheap; safe from any thread).
    pub fn stats(&self) -> Stats {
        let throttled_until = match &self.inner.source {
            Source::Server(f) => f.throttled_until(),
            Source::TokenFile(_) => None,
        };
        let mut stats = self.inner.counters.snapshot(self.inner.cache.hits(), throttled_until);
        stats.throttled += self.inner.cache.refused();
        stats
    }

    /// The token endpoint in use (discovering it if needed).
    pub fn token_endpoint(&self) -> Result<String> {
        match &self.inner.source {
            Source::Server(f) => f.token_endpoint(&self.inner.counters),
            Source::TokenFile(path) => Err(crate::Error::config(format!(
                "this client reads its token from {} and has no token endpoint",
                path.display()
            ))),
        }
    }
}
