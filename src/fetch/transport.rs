//! HTTP over rustls, configured once per client: trust roots, timeouts, no redirects, a cap on
//! response bodies. Everything network-shaped is turned into `TRANSPORT`/`TIMEOUT` here.

use std::path::PathBuf;
use std::time::Duration;

use ureq::tls::TlsConfig;
use ureq::Agent;
use zeroize::Zeroizing;

use super::network::{ProxySetting, Trust};
use crate::util::error::{Error, ErrorKind, Result};

/// How a client talks HTTP: trust roots, proxy, timeouts.
#[derive(Debug, Clone)]
pub(crate) struct TransportOptions {
    pub trust: Option<Trust>,
    pub ca_file: Option<PathBuf>,
    pub proxy: ProxySetting,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

/// Token and discovery answers are small; anything bigger is garbage or an attack.
pub(crate) const MAX_BODY: u64 = 1024 * 1024;
/// Their headers are a few hundred bytes.
const MAX_HEADERS: usize = 16 * 1024;

pub(crate) struct Transport {
    agent: Agent,
    connect_timeout: Duration,
}

/// The parts of a response the library looks at.
pub(crate) struct Response {
    pub status: u16,
    pub body: Zeroizing<Vec<u8>>,
    pub retry_after: Option<String>,
    /// The server's clock, for skew diagnostics.
    #[allow(dead_code)]
    pub date: Option<String>,
}

impl Transport {
    pub fn new(cfg: &TransportOptions) -> Result<Self> {
        let mut tls = TlsConfig::builder();
        if let Some(roots) = super::network::root_certs(cfg.trust, cfg.ca_file.as_deref())? {
            tls = tls.root_certs(roots);
        }
        let config = Agent::config_builder()
            .tls_config(tls.build())
            .proxy(super::network::proxy(&cfg.proxy)?)
            .timeout_connect(Some(cfg.connect_timeout))
            .timeout_global(Some(cfg.request_timeout))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(concat!("raptoken/", env!("CARGO_PKG_VERSION")))
            .accept("application/json")
            // Token answers are a few KiB: ureq's 128 KiB default buffers were ~0.5 MB of the
            // resident memory a fetch adds (bench/c/footprint.c). 32 KiB still holds a whole TLS
            // record and any sane header block.
            .input_buffer_size(32 * 1024)
            .output_buffer_size(32 * 1024)
            // Below the input buffer, so endless headers are reported as such: with the two
            // equal, ureq saw a full buffer without progress and called it a disconnect.
            .max_response_header_size(MAX_HEADERS)
            .build();
        let connector = ureq::unversioned::transport::DefaultConnector::new();
        let agent = Agent::with_parts(config, connector, super::resolver::LiteralFirst::default());
        Ok(Transport { agent, connect_timeout: cfg.connect_timeout })
    }

    /// `timeout` bounds this request as a whole (the caller passes what is left of its deadline).
    pub fn post_form(&self, url: &str, authorization: Option<&str>, body: &str, timeout: Duration) -> Result<Response> {
        self.post(url, Some("application/x-www-form-urlencoded"), authorization, body.as_bytes(), timeout)
    }

    /// A POST with a JSON body (or none), and optionally a bearer token: the login bridge's calls.
    pub fn post_json(&self, url: &str, bearer: Option<&str>, json: Option<&[u8]>, timeout: Duration) -> Result<Response> {
        let authorization = bearer.map(|token| {
            let mut header = Zeroizing::new(String::with_capacity(7 + token.len()));
            header.push_str("Bearer ");
            header.push_str(token);
            header
        });
        self.post(url, json.map(|_| "application/json"), authorization.as_deref().map(String::as_str), json.unwrap_or_default(), timeout)
    }

    fn post(&self, url: &str, content_type: Option<&str>, authorization: Option<&str>, body: &[u8], timeout: Duration) -> Result<Response> {
        let mut req = self.agent.post(url);
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        if let Some(auth) = authorization {
            req = req.header("Authorization", auth);
        }
        let req = req.config().timeout_global(Some(timeout)).timeout_connect(Some(self.connect_timeout.min(timeout))).build();
        read(req.send(body))
    }

    pub fn get(&self, url: &str, timeout: Duration) -> Result<Response> {
        let req = self.agent.get(url).config().timeout_global(Some(timeout)).timeout_connect(Some(self.connect_timeout.min(timeout))).build();
        read(req.call())
    }
}

fn read(result: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Response> {
    let mut resp = result.map_err(map_error)?;
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let retry_after = header("retry-after");
    let date = header("date");
    let status = resp.status().as_u16();
    // The body may hold a token: wiped when dropped. (ureq's own read buffers are outside our reach.)
    let body = Zeroizing::new(resp.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(map_error)?);
    Ok(Response { status, body, retry_after, date })
}

/// ureq's error texts name hosts and causes, never request bodies or headers, so they are
/// safe to pass on; we add what the user should check.
fn map_error(e: ureq::Error) -> Error {
    match e {
        // The fetch layer adds which limit fired and where; this says which phase.
        ureq::Error::Timeout(t) => Error::new(ErrorKind::Timeout, format!("the request timed out ({t})")),
        ureq::Error::BodyExceedsLimit(_) => {
            Error::protocol(format!("the server's answer is larger than {} KiB; this is not a token endpoint", MAX_BODY / 1024))
        }
        // Too long or too many: ureq reports the two differently.
        ureq::Error::LargeResponseHeader(..) => too_many_headers(),
        ureq::Error::Protocol(p) if p.to_string().contains("too many headers") => too_many_headers(),
        ureq::Error::HostNotFound => Error::new(ErrorKind::Transport, "the host name did not resolve; check the issuer URL and DNS").transient(),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut || io.kind() == std::io::ErrorKind::WouldBlock => {
            Error::new(ErrorKind::Timeout, format!("the request timed out: {io}"))
        }
        // rustls reports handshake failures through io::ErrorKind::InvalidData.
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData || io.to_string().contains("certificate") => tls_error(&io),
        e @ (ureq::Error::Rustls(_) | ureq::Error::Tls(_) | ureq::Error::Pem(_)) => tls_error(&e),
        // Refused, reset, closed early, garbled: worth another try.
        other => Error::new(ErrorKind::Transport, format!("the connection failed: {other}")).transient(),
    }
}

fn too_many_headers() -> Error {
    Error::protocol(format!("the server's response headers are too large (over {} KiB); this is not a token endpoint", MAX_HEADERS / 1024))
}

fn tls_error(e: &dyn std::fmt::Display) -> Error {
    let text = e.to_string();
    // A peer answering in plain text (an http server on an https URL) gives a record of an
    // unknown content type: no CA file would help.
    if text.contains("InvalidContentType") || text.contains("corrupt message") {
        return Error::new(
            ErrorKind::Transport,
            format!("the server did not answer with TLS (is it plain http? then the URL should say http://, allowed only for loopback): {text}"),
        );
    }
    Error::new(ErrorKind::Transport, format!("TLS failed: {text}; if the server uses a private CA, set the CA file option (RAPIDATA_CA_FILE)"))
}

/// Converts `Retry-After` (delta-seconds or an HTTP date) into a wait from now.
pub(crate) fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = crate::util::timefmt::parse_http_date(v)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn retry_after_both_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::from_secs(0)));
        let later = UNIX_EPOCH + Duration::from_secs(784_111_777 - 30);
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", later), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
