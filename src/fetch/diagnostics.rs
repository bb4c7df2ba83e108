//! What the client's last exchanges with the authorization server looked like, for
//! `raptoken check` and other troubleshooting: how the token endpoint was found, how the token
//! request went, and the server's clock (its `Date` header) against ours. Recorded only on the
//! fetch path, never on the cache's warm path. Holds no secret and no token.

use std::time::{Duration, SystemTime};

use parking_lot::Mutex;

/// How the client found its token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointSource {
    /// Configured explicitly (option or `RAPIDATA_TOKEN_ENDPOINT`): discovery is skipped.
    Configured { token_endpoint: String },
    /// Found by OpenID discovery.
    Discovered { discovery_url: String, token_endpoint: String },
    /// Discovery was tried and failed; the error of the call says why.
    DiscoveryFailed { discovery_url: String },
}

/// The last token request: where it went and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenExchange {
    pub token_endpoint: String,
    /// The HTTP status; `None` when no response arrived (DNS, connect, TLS, timeout).
    pub http_status: Option<u16>,
    /// Local clock when the request was sent and when the answer (or the failure) arrived.
    pub sent_at: SystemTime,
    pub received_at: SystemTime,
    /// The server's `Date` header, if it sent a valid one (one-second resolution).
    pub server_date: Option<SystemTime>,
}

/// The server's clock minus this machine's: positive means the server is ahead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockSkew {
    pub seconds: f64,
    /// Half the width of the interval the true skew lies in (the `Date` header is truncated to
    /// whole seconds, and we don't know when during the round trip the server wrote it).
    pub uncertainty: f64,
}

impl TokenExchange {
    pub fn round_trip(&self) -> Duration {
        self.received_at.duration_since(self.sent_at).unwrap_or_default()
    }

    /// The skew read from the `Date` header, if the server sent one. The server wrote `D` at
    /// some local instant in [sent, received], and its clock then read somewhere in [D, D+1).
    pub fn clock_skew(&self) -> Option<ClockSkew> {
        let date = secs(self.server_date?);
        let (sent, received) = (secs(self.sent_at), secs(self.received_at));
        let (low, high) = (date - received, date + 1.0 - sent);
        Some(ClockSkew { seconds: (low + high) / 2.0, uncertainty: (high - low) / 2.0 })
    }
}

fn secs(t: SystemTime) -> f64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// A snapshot of what the client has recorded so far (`Client::diagnostics`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagnostics {
    /// `None` until the first fetch needed the endpoint.
    pub endpoint: Option<EndpointSource>,
    /// `None` until the first token request was sent.
    pub last_token_exchange: Option<TokenExchange>,
}

/// The client's recorder. Written by the one caller that is fetching; read by diagnostics.
#[derive(Default)]
pub(crate) struct Recorder(Mutex<Diagnostics>);

impl Recorder {
    pub fn snapshot(&self) -> Diagnostics {
        self.0.lock().clone()
    }

    pub fn configured(&self, token_endpoint: &str) {
        self.0.lock().endpoint = Some(EndpointSource::Configured { token_endpoint: token_endpoint.to_string() });
    }

    pub fn discovery(&self, issuer: &str, found: Option<&str>) {
        let discovery_url = super::discovery::discovery_url(issuer);
        self.0.lock().endpoint = Some(match found {
            Some(ep) => EndpointSource::Discovered { discovery_url, token_endpoint: ep.to_string() },
            None => EndpointSource::DiscoveryFailed { discovery_url },
        });
    }

    pub fn token_exchange(&self, token_endpoint: &str, sent_at: SystemTime, response: Option<&super::transport::Response>) {
        let exchange = TokenExchange {
            token_endpoint: token_endpoint.to_string(),
            http_status: response.map(|r| r.status),
            sent_at,
            received_at: SystemTime::now(),
            server_date: response.and_then(|r| r.date.as_deref()).and_then(crate::util::timefmt::parse_http_date),
        };
        self.0.lock().last_token_exchange = Some(exchange);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn exchange(sent_ms: u64, received_ms: u64, date_s: Option<u64>) -> TokenExchange {
        TokenExchange {
            token_endpoint: "https://x/t".into(),
            http_status: Some(200),
            sent_at: UNIX_EPOCH + Duration::from_millis(sent_ms),
            received_at: UNIX_EPOCH + Duration::from_millis(received_ms),
            server_date: date_s.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
        }
    }

    #[test]
    fn skew_brackets_the_truth() {
        // Clocks agree: the server wrote "1000" somewhere in [1000.2, 1000.3] local time.
        let s = exchange(1_000_200, 1_000_300, Some(1000)).clock_skew().unwrap();
        assert!(s.seconds - s.uncertainty <= 0.0 && 0.0 <= s.seconds + s.uncertainty, "{s:?}");
        assert!((s.uncertainty - 0.55).abs() < 1e-6, "{s:?}");
        // The server is two minutes behind.
        let s = exchange(1_000_000, 1_000_100, Some(880)).clock_skew().unwrap();
        assert!((s.seconds + 119.55).abs() < 1e-6, "{s:?}");
        assert_eq!(exchange(0, 1, None).clock_skew(), None);
        assert_eq!(exchange(1_000, 1_250, None).round_trip(), Duration::from_millis(250));
    }
}
