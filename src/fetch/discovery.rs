//! OpenID Connect discovery: find the token endpoint from the issuer, and check that the
//! document really belongs to that issuer (a mismatch means a misconfiguration or a spoof).

use serde_json::Value;

use super::transport::Transport;
use crate::util::error::{scrub, Error, ErrorKind, Result};
use crate::util::url;

pub(crate) fn discovery_url(issuer: &str) -> String {
    format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
}

/// Fetches the document and returns its checked `token_endpoint`.
pub(crate) fn token_endpoint(transport: &Transport, issuer: &str, timeout: std::time::Duration) -> Result<String> {
    let url = discovery_url(issuer);
    let ctx = |e: Error| e.with_context(&format!("OpenID discovery at {url} failed (set the token endpoint explicitly to skip discovery)"));
    let resp = transport.get(&url, timeout).map_err(ctx)?;
    if !(200..300).contains(&resp.status) {
        return Err(ctx(Error::new(ErrorKind::Http, format!("HTTP {}", resp.status)).with_http_status(resp.status)));
    }
    parse_document(&resp.body, issuer).map_err(ctx)
}

pub(crate) fn parse_document(body: &[u8], issuer: &str) -> Result<String> {
    let doc: Value = std::str::from_utf8(body)
        .ok()
        .and_then(|t| serde_json::from_str(t).ok())
        .ok_or_else(|| Error::protocol("the discovery document is not JSON"))?;
    let found = doc.get("issuer").and_then(Value::as_str).ok_or_else(|| Error::protocol("the discovery document has no issuer"))?;
    // Rapidata's document says "https://auth.rapidata.ai/": a trailing slash is not a mismatch.
    if found.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(Error::config(format!(
            "the discovery document names issuer '{}', but the configured issuer is '{issuer}'",
            scrub(found, 120)
        )));
    }
    let endpoint = doc
        .get("token_endpoint")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::protocol("the discovery document has no token_endpoint"))?;
    url::check_secure(endpoint, "the discovered token endpoint").map_err(Error::config)?;
    // The loopback exception is for URLs the user configured. A document fetched over TLS that
    // names a plain-http endpoint would send the credentials in clear to whoever holds that
    // port: from an https issuer, only https endpoints are taken.
    let issuer_https = url::parse_http_url(issuer).map(|u| u.https).unwrap_or(true);
    if issuer_https && !url::parse_http_url(endpoint).map(|u| u.https).unwrap_or(false) {
        return Err(Error::config(format!(
            "the discovery document of the https issuer '{issuer}' names a plain-http token endpoint '{}'; \
             refusing to send credentials without TLS (fix the server, or set the token endpoint explicitly)",
            url::preview(endpoint)
        )));
    }
    Ok(endpoint.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://auth.rapidata.ai";

    #[test]
    fn accepts_trailing_slash_and_checks_everything_else() {
        let doc = br#"{"issuer":"https://auth.rapidata.ai/","token_endpoint":"https://auth.rapidata.ai/connect/token"}"#;
        assert_eq!(parse_document(doc, ISS).unwrap(), "https://auth.rapidata.ai/connect/token");
        let foreign = br#"{"issuer":"https://evil.example/","token_endpoint":"https://evil.example/t"}"#;
        assert_eq!(parse_document(foreign, ISS).unwrap_err().kind(), ErrorKind::Config);
        let no_ep = br#"{"issuer":"https://auth.rapidata.ai"}"#;
        assert_eq!(parse_document(no_ep, ISS).unwrap_err().kind(), ErrorKind::Protocol);
        let http_ep = br#"{"issuer":"https://auth.rapidata.ai","token_endpoint":"http://auth.rapidata.ai/t"}"#;
        assert_eq!(parse_document(http_ep, ISS).unwrap_err().kind(), ErrorKind::Config);
        // Issue 13, defect 2: loopback is no exception for a discovered endpoint of an https issuer.
        let local = "https://127.0.0.1:8443";
        let http_loopback = br#"{"issuer":"https://127.0.0.1:8443","token_endpoint":"http://127.0.0.1:8443/token"}"#;
        let e = parse_document(http_loopback, local).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains("plain-http token endpoint"), "{}", e.message());
        // A plain-http loopback issuer the user configured may name a loopback http endpoint.
        let plain = br#"{"issuer":"http://127.0.0.1:9","token_endpoint":"http://127.0.0.1:9/token"}"#;
        assert_eq!(parse_document(plain, "http://127.0.0.1:9").unwrap(), "http://127.0.0.1:9/token");
        assert_eq!(parse_document(b"<html>", ISS).unwrap_err().kind(), ErrorKind::Protocol);
    }
}
