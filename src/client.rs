//! `Client`: configuration + transport + cache. The C ABI and the CLI are thin layers over it.

use std::time::{Duration, SystemTime};

use parking_lot::Mutex;

use crate::cache::{CachedToken, Margins, SystemClock, TokenCache};
use crate::config::{AuthMethod, ClientOptions, Config};
use crate::credentials::CredentialSource;
use crate::shared_cache::SharedCache;
use crate::diagnostics::{Diagnostics, Recorder};
use crate::discovery;
use crate::encoding::{base64, form_body, form_urlencode};
use crate::error::Result;
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
        // Waiters give up a little after the fetch they wait for must have ended
        // (discovery + token request, each bounded by the request timeout).
        let shared = SharedCache::new(&config);
        // ...plus, with a shared cache, the wait for another process's request.
        let wait_limit = config.request_timeout * 2 + Duration::from_secs(1) + shared.as_ref().map_or(Duration::ZERO, SharedCache::lock_wait);
        Ok(Client {
            endpoint: Mutex::new(config.token_endpoint.clone()),
            cache: TokenCache::new(SystemClock, margins, wait_limit),
            shared,
            diagnostics: Recorder::default(),
            config,
            transport,
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
            Some(shared) => shared.get_or_fetch(|f| self.cache.would_serve(f, min_valid), || self.fetch()),
            None => self.fetch(),
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

    /// The token endpoint in use (discovering it if needed).
    pub fn token_endpoint(&self) -> Result<String> {
        let mut ep = self.endpoint.lock();
        if let Some(e) = ep.as_ref() {
            if self.config.token_endpoint.is_some() {
                self.diagnostics.configured(e);
            }
            return Ok(e.clone());
        }
        let found = discovery::token_endpoint(&self.transport, &self.config.issuer);
        self.diagnostics.discovery(&self.config.issuer, found.as_deref().ok());
        let found = found?;
        *ep = Some(found.clone());
        Ok(found)
    }

    /// One token request, no cache. Used by the cache when it needs a token.
    pub fn fetch(&self) -> Result<Fetched> {
        if let CredentialSource::TokenFile { path } = &self.config.credentials.source {
            return crate::token_file::read(path);
        }
        let endpoint = self.token_endpoint()?;
        let creds = &self.config.credentials;
        let mut pairs: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if !self.config.scope.is_empty() {
            pairs.push(("scope", &self.config.scope));
        }
        let authorization = match self.config.auth_method {
            AuthMethod::ClientSecretBasic => {
                // RFC 6749 §2.3.1: form-urlencode id and secret, then base64 "id:secret".
                let raw = zeroize::Zeroizing::new(format!(
                    "{}:{}",
                    form_urlencode(&creds.client_id),
                    form_urlencode(creds.client_secret.expose())
                ));
                Some(zeroize::Zeroizing::new(format!("Basic {}", base64(raw.as_bytes()))))
            }
            AuthMethod::ClientSecretPost => {
                pairs.push(("client_id", &creds.client_id));
                pairs.push(("client_secret", creds.client_secret.expose()));
                None
            }
        };
        let body = zeroize::Zeroizing::new(form_body(&pairs));
        let sent_at = SystemTime::now();
        let resp = self.transport.post_form(&endpoint, authorization.as_deref().map(String::as_str), &body);
        self.diagnostics.token_exchange(&endpoint, sent_at, resp.as_ref().ok());
        let resp = resp?;
        token::parse_response(resp.status, &resp.body).map_err(|e| {
            let at = resp
                .retry_after
                .as_deref()
                .and_then(|v| crate::transport::parse_retry_after(v, SystemTime::now()))
                .map(|d| SystemTime::now() + d);
            e.with_retry_after(at)
        })
    }
}
