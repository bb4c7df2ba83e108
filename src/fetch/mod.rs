//! The fetch layer: getting one token from the authorization server, with no caching. A
//! `Fetcher` finds the token endpoint (configured, or by OpenID discovery), sends the token
//! request, retries what is worth retrying within a deadline, and honours `Retry-After` across
//! calls. It takes plain values (`FetchConfig`, `TransportOptions`), never the options or the
//! configuration; the cache above decides when to call it.

use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;

mod assertion;
pub(crate) mod diagnostics;
mod discovery;
mod key;
pub(crate) mod login;
pub(crate) mod network;
mod oauth;
mod resolver;
pub(crate) mod retry;
pub(crate) mod transport;

pub(crate) use assertion::AssertionSigner;
pub use diagnostics::{ClockSkew, Diagnostics, EndpointSource, TokenExchange};
pub use key::{ClientKey, SigningAlgorithm};
pub(crate) use key::MAX_PEM_BYTES;
pub use network::{ProxySetting, Trust};
pub use oauth::AuthMethod;
pub(crate) use oauth::ClientAuth;
pub use retry::RetryPolicy;
pub(crate) use retry::{DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX, DEFAULT_DEADLINE, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_RETRY_AFTER, MAX_ATTEMPTS_LIMIT};
pub(crate) use transport::TransportOptions;

use crate::token::{self, Fetched};
use crate::util::counters::Counters;
use crate::util::error::{Error, ErrorKind, Result};
use crate::util::log::{LogLevel, Logger};
use crate::util::secret::Secret;
use diagnostics::Recorder;
use retry::Throttle;
use transport::Transport;

/// The parsers the fuzz targets drive (src/fuzzing.rs).
pub(crate) fn fuzz_parse_response(status: u16, body: &[u8]) -> Result<Fetched> {
    oauth::parse_response(status, body)
}

pub(crate) fn fuzz_parse_document(body: &[u8], issuer: &str) -> Result<String> {
    discovery::parse_document(body, issuer)
}

/// What a fetch needs to know, as plain values.
pub(crate) struct FetchConfig {
    pub issuer: String,
    /// Explicit token endpoint; `None` means discovery.
    pub token_endpoint: Option<String>,
    pub scope: String,
    pub auth: ClientAuth,
    /// Parameters sent after the standard ones: audience, resources, extra parameters.
    pub params: Vec<(String, String)>,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

/// Gets tokens from the token endpoint. One per client; safe from any thread, though the cache
/// above calls it from one fetching caller at a time.
pub(crate) struct Fetcher {
    cfg: FetchConfig,
    transport: Transport,
    /// Discovered token endpoint; only touched by the one caller that is fetching.
    endpoint: Mutex<Option<String>>,
    /// What the fetch path saw (endpoint source, last token exchange), for troubleshooting.
    diagnostics: Recorder,
    throttle: Throttle,
    logger: Option<Logger>,
    /// The secret in every form it is sent in: removed from any error or log line that echoes it.
    redact: Vec<Secret>,
}

impl Fetcher {
    pub fn new(cfg: FetchConfig, transport: &TransportOptions, logger: Option<Logger>) -> Result<Fetcher> {
        Ok(Fetcher {
            transport: Transport::new(transport)?,
            endpoint: Mutex::new(cfg.token_endpoint.clone()),
            diagnostics: Recorder::default(),
            throttle: Throttle::default(),
            logger,
            redact: cfg.auth.redactions(),
            cfg,
        })
    }

    pub fn diagnostics(&self) -> Diagnostics {
        self.diagnostics.snapshot()
    }

    pub fn throttled_until(&self) -> Option<SystemTime> {
        self.throttle.until()
    }

    /// The token endpoint in use (discovering it if needed).
    pub fn token_endpoint(&self, counters: &Counters) -> Result<String> {
        let limit = Limit { at: Instant::now() + self.cfg.retry.deadline, what: Bound::Deadline(self.cfg.retry.deadline) };
        self.token_endpoint_by(&limit, counters).map_err(|e| e.redact(&self.redact))
    }

    fn token_endpoint_by(&self, limit: &Limit, counters: &Counters) -> Result<String> {
        let mut ep = self.endpoint.lock();
        if let Some(e) = ep.as_ref() {
            if self.cfg.token_endpoint.is_some() {
                self.diagnostics.configured(e);
            }
            return Ok(e.clone());
        }
        let timeout = self.budget(limit)?;
        let url = discovery::discovery_url(&self.cfg.issuer);
        self.log(LogLevel::Debug, || format!("discovery: GET {url}"));
        Counters::bump(&counters.discovery_requests);
        let start = Instant::now();
        let found = discovery::token_endpoint(&self.transport, &self.cfg.issuer, timeout).map_err(|e| self.timed_out(e, None, timeout, limit));
        self.diagnostics.discovery(&self.cfg.issuer, found.as_deref().ok());
        let found = found?;
        self.log(LogLevel::Info, || format!("discovery: token endpoint is {found} ({} ms)", start.elapsed().as_millis()));
        *ep = Some(found.clone());
        Ok(found)
    }

    /// One fetch with retries. `keep_until`: the current token is usable until then, so this is
    /// a renewal ahead of time: one attempt, and not past that instant (its caller would have
    /// nothing left to fall back on).
    pub fn fetch(&self, keep_until: Option<Instant>, counters: &Counters) -> Result<Fetched> {
        let start = Instant::now();
        let keeping = keep_until.is_some();
        let full = Limit { at: start + self.cfg.retry.deadline, what: Bound::Deadline(self.cfg.retry.deadline) };
        let limit = match keep_until {
            Some(until) if until < full.at => Limit { at: until, what: Bound::CurrentToken },
            _ => full,
        };
        // A refresh while a usable token exists makes one attempt: its caller is the only one
        // waiting, and the cache's backoff schedules the next try. Cold fetches retry.
        let attempts = if keeping { 1 } else { self.cfg.retry.max_attempts };
        self.log(LogLevel::Info, || {
            format!("token fetch started for client {} ({})", self.cfg.auth.client_id, if keeping { "refresh ahead" } else { "no usable token" })
        });
        let log = |level: LogLevel, msg: &dyn Fn() -> String| self.log(level, msg);
        let (result, n) = retry::run(&self.cfg.retry, limit.at, attempts, &self.throttle, counters, &log, || self.attempt(&limit, counters));
        let ms = start.elapsed().as_millis();
        match result {
            Ok(f) => {
                counters.succeeded();
                self.log(LogLevel::Info, || format!("token fetch succeeded in {ms} ms after {n} attempt(s); lifetime {} s", f.lifetime.as_secs()));
                Ok(f)
            }
            // Refused by the throttle before any request: counted and logged as throttled.
            Err(e) if n == 0 => Err(e.redact(&self.redact)),
            Err(e) => {
                let e = e.redact(&self.redact);
                counters.failed(&e);
                let left = keep_until.map(|u| u.saturating_duration_since(Instant::now())).unwrap_or_default();
                if keeping && !left.is_zero() {
                    Counters::bump(&counters.kept_serving);
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
        Ok(left.min(self.cfg.request_timeout))
    }

    /// One attempt: discovery if needed, then one token request.
    fn attempt(&self, limit: &Limit, counters: &Counters) -> Result<Fetched> {
        let endpoint = self.token_endpoint_by(limit, counters)?;
        let timeout = self.budget(limit)?;
        let (body, authorization) = oauth::token_request(&self.cfg.auth, &self.cfg.scope, &self.cfg.params, &endpoint)?;
        self.log(LogLevel::Debug, || format!("token request to {endpoint} (timeout {} ms)", timeout.as_millis()));
        Counters::bump(&counters.token_requests);
        let sent_at = SystemTime::now();
        let resp = self.transport.post_form(&endpoint, authorization.as_deref().map(String::as_str), &body, timeout);
        self.diagnostics.token_exchange(&endpoint, sent_at, resp.as_ref().ok());
        let resp = resp.map_err(|e| self.timed_out(e, Some(&endpoint), timeout, limit))?;
        let mut fetched = oauth::parse_token_response(self.cfg.auth.method, resp.status, &resp.body).map_err(|e| {
            let at = resp
                .retry_after
                .as_deref()
                .and_then(|v| transport::parse_retry_after(v, SystemTime::now()))
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

    /// A timeout error that says where and which limit fired: the request timeout, what was left
    /// of the fetch's deadline, or the current token's remaining life.
    /// `url`: the token endpoint (discovery errors already name their URL).
    fn timed_out(&self, e: Error, url: Option<&str>, timeout: Duration, limit: &Limit) -> Error {
        if e.kind() != ErrorKind::Timeout {
            return e;
        }
        let which = if timeout >= self.cfg.request_timeout {
            format!("the request timeout of {} ms passed", self.cfg.request_timeout.as_millis())
        } else {
            match limit.what {
                Bound::Deadline(d) => format!("the fetch's {} ms deadline passed ({} ms were left for this request)", d.as_millis(), timeout.as_millis()),
                Bound::CurrentToken => format!("the current token stopped being usable ({} ms were left for this renewal)", timeout.as_millis()),
            }
        };
        let msg = match url {
            Some(url) => format!("the token request to {url} got no answer in time: {which}; raise it or check the network ({})", e.message()),
            None => format!("{}: {which}; raise it or check the network", e.message()),
        };
        e.reworded(msg)
    }

    /// Sends a line to the user's logger, if any, with the secret removed should it appear.
    pub fn log(&self, level: LogLevel, msg: impl Fn() -> String) {
        if let Some(l) = &self.logger {
            if l.enabled(level) {
                let mut line = msg();
                crate::util::error::redact_str(&mut line, &self.redact);
                l.emit(level, &line);
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
