//! `Client`: orchestration only. It resolves the options, builds each subsystem from its plain
//! options (the fetcher or a token-file source, the in-memory cache, the host shared cache) and
//! wires them together. The C ABI and the CLI are thin layers over it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub(crate) mod login;

use crate::cache::{CachedToken, SharedCache, SystemClock, TokenCache};
use crate::fetch::{Diagnostics, Fetcher};
use crate::options::{ClientOptions, Config, CredentialSource};
use crate::sources::token_file;
use crate::token::{AccessToken, Fetched};
use crate::util::counters::{Counters, Stats};
use crate::util::error::Result;

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
    config: Config,
    source: Source,
    cache: TokenCache<SystemClock>,
    /// The second cache level, shared with other processes on this host (opt-in).
    shared: Option<SharedCache>,
    counters: Counters,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("issuer", &self.config.issuer)
            .field("client_id", &self.config.credentials.client_id)
            .field("credential_source", &self.config.credentials.source)
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
        // Waiters give up a little after the fetch they wait for must have ended: the deadline
        // bounds it, discovery, attempts and backoff sleeps included; plus, with a shared
        // cache, the wait for another process's request.
        let wait_limit = config.retry.deadline + Duration::from_secs(1) + shared.as_ref().map_or(Duration::ZERO, SharedCache::lock_wait);
        let mut cache = TokenCache::new(SystemClock, config.margins(), wait_limit);
        cache.set_failure_backoff(config.retry.backoff_base * 2, config.retry.backoff_max);
        Ok(Client { config, source, cache, shared, counters: Counters::default() })
    }

    /// The configuration this client resolved (no secret is shown by its `Debug`).
    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn credential_source(&self) -> &CredentialSource {
        &self.config.credentials.source
    }

    /// How the token endpoint was found and how the last token request went (no secrets).
    pub fn diagnostics(&self) -> Diagnostics {
        match &self.source {
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

    /// Calls `f` with the cached token (no copy, no allocation on the warm path).
    #[inline]
    pub fn with_token<R>(&self, min_valid: Duration, f: impl FnOnce(&CachedToken) -> R) -> Result<R> {
        self.cache.get(min_valid, || self.fetch_shared(min_valid), f)
    }

    /// The cache's fetch: with a shared cache, a token another process stored is taken if the
    /// in-memory cache would serve it to this caller; otherwise one request for the host.
    fn fetch_shared(&self, min_valid: Duration) -> Result<Fetched> {
        match &self.shared {
            Some(shared) => shared.get_or_fetch(|f| self.cache.would_serve(f, min_valid), || self.fetch_for(min_valid)),
            None => self.fetch_for(min_valid),
        }
    }

    fn fetch_for(&self, min_valid: Duration) -> Result<Fetched> {
        // Is this a renewal while the current token still serves this caller?
        let keep_until = self.cache.peek().filter(|t| t.satisfies(Instant::now(), min_valid)).map(|t| t.usable_until);
        match &self.source {
            Source::Server(f) => f.fetch(keep_until, &self.counters).map_err(|e| self.config.credentials.explain(e)),
            Source::TokenFile(path) => token_file::read(path),
        }
    }

    /// The file this client shares its token through, if the shared cache is on. Its lock file
    /// is the same path with the extension `.lock`.
    pub fn shared_cache_file(&self) -> Option<&Path> {
        self.shared.as_ref().map(SharedCache::entry_path)
    }

    /// "This token got a 401": drops it unless it was already replaced. Returns whether it did.
    pub fn invalidate(&self, token: &str) -> bool {
        if let Some(shared) = &self.shared {
            shared.reject(token);
        }
        self.cache.invalidate(token)
    }

    /// What this client has done so far (cheap; safe from any thread).
    pub fn stats(&self) -> Stats {
        let throttled_until = match &self.source {
            Source::Server(f) => f.throttled_until(),
            Source::TokenFile(_) => None,
        };
        self.counters.snapshot(self.cache.hits(), throttled_until)
    }

    /// The token endpoint in use (discovering it if needed).
    pub fn token_endpoint(&self) -> Result<String> {
        match &self.source {
            Source::Server(f) => f.token_endpoint(&self.counters),
            Source::TokenFile(path) => Err(crate::Error::config(format!(
                "this client reads its token from {} and has no token endpoint",
                path.display()
            ))),
        }
    }
}
