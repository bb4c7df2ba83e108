//! `Client`: configuration + transport + cache. The C ABI and the CLI are thin layers over it.

use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;
use zeroize::Zeroizing;

use crate::cache::{CachedToken, Margins, SystemClock, TokenCache};
use crate::config::{AuthMethod, ClientOptions, Config};
use crate::credentials::CredentialSource;
use crate::shared_cache::SharedCache;
use crate::diagnostics::{Diagnostics, Recorder};
use crate::discovery;
use crate::encoding::{base64, base64_into, form_body, form_urlencode, form_urlencode_into};
use crate::error::{Error, ErrorKind, Result};
use crate::logging::LogLevel;
use crate::retry::{self, Throttle};
use crate::secret::Secret;
use crate::stats::{Counters, Stats};
use crate::token::{self, Fetched};
use crate::transport::Transport;

/// A token handed to Rust callers. The access token is zeroized when this is dropped.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: crate::Secret,
    pub token_type: String,
    pub scope: Option<String>,
    pub expires_at: SystemTime,
    pub refresh_at: SystemTime,
}

impl AccessToken {
    pub fn secret(&self) -> &str {
        self.token.expose()
    }
}

/// Gets and keeps a bearer token. Cheap to share: all methods take `&self` and are safe from
/// any number of threads.
pub struct Client {
    config: Config,
    transport: Transport,
    /// Discovered token endpoint; only touched by the one caller that is fetching.
    endpoint: Mutex<Option<String>>,
    cache: TokenCache<SystemClock>,
    /// The second cache level, shared with other processes on this host (opt-in).
    shared: Option<SharedCache>,
    /// What the fetch path saw (endpoint source, last token exchange), for troubleshooting.
    diagnostics: Recorder,
    throttle: Throttle,
    counters: Counters,
    /// The secret in every form it is sent in: removed from any error or log line that echoes it.
    redact: Vec<Secret>,
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
        let transport = Transport::new(&config)?;
        let margins = Margins { hard: config.expiry_margin, refresh_ahead: config.refresh_ahead };
        let shared = SharedCache::new(&config);
        // Waiters give up a little after the fetch they wait for must have ended: the deadline
        // bounds it, discovery, attempts and backoff sleeps included; plus, with a shared
        // cache, the wait for another process's request.
        let wait_limit = config.retry.deadline + Duration::from_secs(1) + shared.as_ref().map_or(Duration::ZERO, SharedCache::lock_wait);
        let mut cache = TokenCache::new(SystemClock, margins, wait_limit);
        cache.set_failure_backoff(config.retry.backoff_base * 2, config.retry.backoff_max);
        let creds = &config.credentials;
        let secret = creds.client_secret.expose();
        let redact = vec![
            creds.client_secret.clone(),
            Secret::new(form_urlencode(secret)),
            Secret::new(base64(format!("{}:{}", form_urlencode(&creds.client_id), form_urlencode(secret)).as_bytes())),
        ];
        Ok(Client {
            endpoint: Mutex::new(config.token_endpoint.clone()),
            cache,
            shared,
            diagnostics: Recorder::default(),
            config,
            transport,
            throttle: Throttle::default(),
            counters: Counters::default(),
            redact,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn credential_source(&self) -> &CredentialSource {
        &self.config.credentials.source
    }

    /// How the token endpoint was found and how the last token request went (no secrets).
    pub fn diagnostics(&self) -> Diagnostics {
        self.diagnostics.snapshot()
    }

    /// The access token, fetched if the cache has none usable.
    pub fn token(&self) -> Result<String> {
        self.with_token(Duration::ZERO, |t| t.access_token().to_string())
    }

    /// The token with its metadata, valid for at least `min_valid` more.
    pub fn access_token(&self, min_valid: Duration) -> Result<AccessToken> {
        self.with_token(min_valid, |t| AccessToken {
            token: crate::Secret::new(t.access_token()),
            token_type: t.token_type().to_string(),
            scope: t.scope().map(str::to_string),
            expires_at: t.expires_at(),
            refresh_at: t.refresh_at(),
        })
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

    /// The file this client shares its token through, if the shared cache is on. Its lock file
    /// is the same path with the extension `.lock`.
    pub fn shared_cache_file(&self) -> Option<&std::path::Path> {
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
        self.counters.snapshot(self.cache.hits(), self.throttle.until())
    }

    /// The token endpoint in use (discovering it if needed).
    pub fn token_endpoint(&self) -> Result<String> {
        let limit = Limit { at: Instant::now() + self.config.retry.deadline, what: Bound::Deadline(self.config.retry.deadline) };
        self.token_endpoint_by(&limit).map_err(|e| e.redact(&self.redact))
    }

    fn token_endpoint_by(&self, limit: &Limit) -> Result<String> {
        let mut ep = self.endpoint.lock();
        if let Some(e) = ep.as_ref() {
            if self.config.token_endpoint.is_some() {
                self.diagnostics.configured(e);
            }
            return Ok(e.clone());
        }
        let timeout = self.budget(limit)?;
        let url = discovery::discovery_url(&self.config.issuer);
        self.log(LogLevel::Debug, || format!("discovery: GET {url}"));
        Counters::bump(&self.counters.discovery_requests);
        let start = Instant::now();
        let found = discovery::token_endpoint(&self.transport, &self.config.issuer, timeout);
        self.diagnostics.discovery(&self.config.issuer, found.as_deref().ok());
        let found = found?;
        self.log(LogLevel::Info, || format!("discovery: token endpoint is {found} ({} ms)", start.elapsed().as_millis()));
        *ep = Some(found.clone());
        Ok(found)
    }

    /// One fetch with retries, no cache (the cache calls this when it needs a token).
    pub fn fetch(&self) -> Result<Fetched> {
        self.fetch_with(None)
    }

    fn fetch_for(&self, min_valid: Duration) -> Result<Fetched> {
        // Is this a refresh while the current token still serves this caller? Then it must not
        // outlive that token: past its usable end the caller would have nothing to fall back on.
        let keep_until = self.cache.peek().filter(|t| t.satisfies(Instant::now(), min_valid)).map(|t| t.usable_until);
        self.fetch_with(keep_until)
    }

    fn fetch_with(&self, keep_until: Option<Instant>) -> Result<Fetched> {
        if let CredentialSource::TokenFile { path } = &self.config.credentials.source {
            return crate::token_file::read(path);
        }
        let start = Instant::now();
        let keeping = keep_until.is_some();
        let full = Limit { at: start + self.config.retry.deadline, what: Bound::Deadline(self.config.retry.deadline) };
        let limit = match keep_until {
            Some(until) if until < full.at => Limit { at: until, what: Bound::CurrentToken },
            _ => full,
        };
        // A refresh while a usable token exists makes one attempt: its caller is the only one
        // waiting, and the cache's backoff schedules the next try. Cold fetches retry.
        let attempts = if keeping { 1 } else { self.config.retry.max_attempts };
        self.log(LogLevel::Info, || {
            format!("token fetch started for client {} ({})", self.config.credentials.client_id, if keeping { "refresh ahead" } else { "no usable token" })
        });
        let log = |level: LogLevel, msg: &dyn Fn() -> String| self.log(level, msg);
        let (result, n) = retry::run(&self.config.retry, limit.at, attempts, &self.throttle, &self.counters, &log, |_| self.attempt(&limit));
        let ms = start.elapsed().as_millis();
        match result {
            Ok(f) => {
                self.counters.succeeded();
                self.log(LogLevel::Info, || format!("token fetch succeeded in {ms} ms after {n} attempt(s); lifetime {} s", f.lifetime.as_secs()));
                Ok(f)
            }
            // Refused by the throttle before any request: counted and logged as throttled.
            Err(e) if n == 0 => Err(e.redact(&self.redact)),
            Err(e) => {
                let e = e.redact(&self.redact);
                self.counters.failed(&e);
                let left = keep_until.map(|u| u.saturating_duration_since(Instant::now())).unwrap_or_default();
                if keeping && !left.is_zero() {
                    Counters::bump(&self.counters.kept_serving);
                    self.log(LogLevel::Warn, || {
                        format!("token refresh failed after {ms} ms ({}); still serving the current token (usable {:.1} s more); trying again after a backoff", e.message(), left.as_secs_f64())
                    });
                } else {
                    self.log(LogLevel::Error, || format!("token fetch failed after {ms} ms and {n} attempt(s): {}", e.message()));
                }
                Err(e)
            }
        }
    }

    /// What is left of the fetch's limit for one request, at most the request timeout.
    fn budget(&self, limit: &Limit) -> Result<Duration> {
        let left = limit.at.saturating_duration_since(Instant::now());
        if left < Duration::from_millis(1) {
            return Err(Error::new(ErrorKind::Timeout, limit.passed()));
        }
        Ok(left.min(self.config.request_timeout))
    }

    /// One attempt: discovery if needed, then one token request.
    fn attempt(&self, limit: &Limit) -> Result<Fetched> {
        let endpoint = self.token_endpoint_by(limit)?;
        let timeout = self.budget(limit)?;
        let creds = &self.config.credentials;
        let secret = creds.client_secret.expose();
        let mut pairs: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if !self.config.scope.is_empty() {
            pairs.push(("scope", &self.config.scope));
        }
        let authorization = match self.config.auth_method {
            AuthMethod::ClientSecretBasic => {
                // RFC 6749 §2.3.1: form-urlencode id and secret, then base64 "id:secret". Both
                // buffers are sized up front so no reallocation leaves a copy behind.
                let mut raw = Zeroizing::new(String::with_capacity(3 * (creds.client_id.len() + secret.len()) + 1));
                form_urlencode_into(&mut raw, &creds.client_id);
                raw.push(':');
                form_urlencode_into(&mut raw, secret);
                let mut header = Zeroizing::new(String::with_capacity(6 + raw.len().div_ceil(3) * 4));
                header.push_str("Basic ");
                base64_into(&mut header, raw.as_bytes());
                Some(header)
            }
            AuthMethod::ClientSecretPost => {
                pairs.push(("client_id", &creds.client_id));
                pairs.push(("client_secret", secret));
                None
            }
        };
        let body = Zeroizing::new(form_body(&pairs));
        self.log(LogLevel::Debug, || format!("token request to {endpoint} (timeout {} ms)", timeout.as_millis()));
        Counters::bump(&self.counters.token_requests);
        let sent_at = SystemTime::now();
        let resp = self.transport.post_form(&endpoint, authorization.as_deref().map(String::as_str), &body, timeout);
        self.diagnostics.token_exchange(&endpoint, sent_at, resp.as_ref().ok());
        let resp = resp?;
        let mut fetched = token::parse_response(resp.status, &resp.body).map_err(|e| {
            let at = resp
                .retry_after
                .as_deref()
                .and_then(|v| crate::transport::parse_retry_after(v, SystemTime::now()))
                .map(|d| SystemTime::now() + d);
            e.with_retry_after(at)
        })?;
        let (valid_for, skewed) = token::usable_lifetime(fetched.lifetime, fetched.access_token.expose(), sent_at);
        if skewed {
            self.log(LogLevel::Warn, || {
                "the token's exp claim is far earlier than its expires_in: this machine's clock is probably ahead of the server's; using expires_in".to_string()
            });
        }
        fetched.valid_for = valid_for;
        Ok(fetched)
    }

    /// Sends a line to the user's logger, if any, with the secret removed should it appear.
    fn log(&self, level: LogLevel, msg: impl Fn() -> String) {
        if let Some(l) = &self.config.logger {
            if l.enabled(level) {
                let line = Error::new(ErrorKind::Protocol, msg()).redact(&self.redact);
                l.emit(level, line.message());
            }
        }
    }
}

/// When a fetch must end, and why (for the message when it does).
struct Limit {
    at: Instant,
    what: Bound,
}

enum Bound {
    /// The options' deadline for one whole fetch.
    Deadline(Duration),
    /// A renewal stops where the token it replaces stops being usable.
    CurrentToken,
}

impl Limit {
    fn passed(&self) -> String {
        match self.what {
            Bound::Deadline(d) => {
                format!("the fetch's deadline of {} ms passed; raise the deadline or check the network", d.as_millis())
            }
            Bound::CurrentToken => "the renewal was stopped when the current token stopped being usable; the next call fetches anew".into(),
        }
    }
}
