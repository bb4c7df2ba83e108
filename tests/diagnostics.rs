//! `Client::diagnostics()` against the real OpenID provider: how the endpoint was found, and
//! what the last token request saw (status, timing, the server's Date header).

mod common;

use std::time::{Duration, SystemTime};

use common::{basic, options, server};
use raptoken::EndpointSource;
use raptoken::Client;

#[test]
fn nothing_before_the_first_fetch_then_discovery_and_the_exchange() {
    let client = Client::new(&basic(54)).unwrap();
    assert_eq!(client.diagnostics(), Default::default(), "construction does no I/O");
    let before = SystemTime::now();
    client.token().unwrap();
    let d = client.diagnostics();
    let s = server();
    assert_eq!(
        d.endpoint,
        Some(EndpointSource::Discovered {
            discovery_url: format!("{}/.well-known/openid-configuration", s.issuer),
            token_endpoint: s.token_endpoint.clone(),
        })
    );
    let x = d.last_token_exchange.expect("a token request was sent");
    assert_eq!((x.token_endpoint.as_str(), x.http_status), (s.token_endpoint.as_str(), Some(200)));
    assert!(x.sent_at >= before && x.received_at >= x.sent_at);
    assert!(x.round_trip() < Duration::from_secs(10));
    let skew = x.clock_skew().expect("the provider sends a Date header");
    // Same machine, same clock: the true skew (0) is within the bound, give or take Node's
    // once-a-second Date cache.
    assert!(skew.seconds.abs() <= skew.uncertainty + 2.0, "{skew:?}");
    // Served from the cache: no new exchange is recorded.
    client.token().unwrap();
    assert_eq!(client.diagnostics().last_token_exchange.unwrap().sent_at, x.sent_at);
}

#[test]
fn configured_endpoint_and_failures() {
    let o = basic(55).token_endpoint(&server().token_endpoint).unwrap();
    let client = Client::new(&o).unwrap();
    client.token().unwrap();
    assert_eq!(client.diagnostics().endpoint, Some(EndpointSource::Configured { token_endpoint: server().token_endpoint.clone() }));

    // A refused request still records the answer's status.
    let client = Client::new(&options("basic-55", "wrong")).unwrap();
    assert!(client.token().is_err());
    assert_eq!(client.diagnostics().last_token_exchange.unwrap().http_status, Some(401));

    // Discovery that fails is recorded as such, and no token request is sent.
    let client = Client::new(&basic(55).ca_file(&server().wrong_ca_file).unwrap()).unwrap();
    assert!(client.token().is_err());
    let d = client.diagnostics();
    assert!(matches!(d.endpoint, Some(EndpointSource::DiscoveryFailed { .. })), "{d:?}");
    assert_eq!(d.last_token_exchange, None);

    // No answer at all: the exchange is recorded without a status.
    let o = basic(55).token_endpoint("https://127.0.0.1:9/connect/token").unwrap();
    let client = Client::new(&o).unwrap();
    assert!(client.token().is_err());
    let x = client.diagnostics().last_token_exchange.unwrap();
    assert_eq!((x.http_status, x.clock_skew()), (None, None));
}
