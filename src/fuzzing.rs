//! Entry points for the fuzz targets (fuzz/) and the corpus replay test: the crate-private
//! parsers, with the invariants every input must keep. Not part of the supported API.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Token response parser: never panics; a success is a usable token; an error message is
/// bounded, printable and never quotes a long access_token value from the body.
pub fn token_response(status: u16, body: &[u8]) {
    match crate::fetch::fuzz_parse_response(status, body) {
        Ok(f) => {
            assert!(!f.access_token.is_empty() && f.access_token.expose().bytes().all(|b| b.is_ascii_graphic()));
            assert!(f.lifetime >= Duration::from_secs(1) && f.lifetime <= crate::token::MAX_LIFETIME);
            assert_eq!(f.token_type, "Bearer");
        }
        Err(e) => check_message(e.message(), body),
    }
}

/// Discovery document parser: never panics; an accepted endpoint is an http(s) URL that is
/// https unless loopback.
pub fn discovery_document(body: &[u8], issuer: &str) {
    match crate::fetch::fuzz_parse_document(body, issuer) {
        Ok(endpoint) => assert!(crate::util::url::check_secure(&endpoint, "endpoint").is_ok()),
        Err(e) => assert!(e.message().len() < 1024 && !e.message().chars().any(char::is_control)),
    }
}

/// Credentials file parser: never panics, and no error message quotes a client_secret.
pub fn credentials_file(bytes: &[u8], issuer: &str) {
    match crate::sources::credentials::parse_file(bytes, issuer) {
        Ok(Some((id, secret, _))) => assert!(!id.is_empty() && !secret.is_empty()),
        Ok(None) => {}
        Err(m) => {
            if let Some(secrets) = secrets_in(bytes, "client_secret") {
                for s in secrets.iter().filter(|s| s.len() >= 8) {
                    assert!(!m.contains(s.as_str()), "error quotes a secret: {m}");
                }
            }
        }
    }
}

/// Client key reader (PEM, then PKCS#8, PKCS#1 or SEC1 DER): never panics; a key it accepts
/// has a 43-character thumbprint, a public JWK that is JSON without private members, and signs;
/// a refusal is a short printable reason that quotes nothing of the input's base64.
pub fn client_key(bytes: &[u8]) {
    match crate::fetch::ClientKey::parse(bytes) {
        Ok(key) => {
            assert_eq!(key.thumbprint().len(), 43);
            let alg = key.default_algorithm();
            let jwk: serde_json::Value = serde_json::from_str(&key.public_jwk(alg, Some("k\"1"))).expect("the JWK is JSON");
            assert!(jwk.get("d").is_none() && jwk.get("p").is_none(), "a public JWK");
            assert!(key.sign(alg, b"message").is_ok());
        }
        Err(why) => {
            assert!(why.len() < 300 && !why.chars().any(char::is_control), "{why:?}");
            let text = String::from_utf8_lossy(bytes);
            for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/')).filter(|w| w.len() >= 16) {
                assert!(!why.contains(word), "the reason quotes the input: {why}");
            }
        }
    }
}

/// `Retry-After` parser: never panics, and a date is never read as a wait longer than it says.
pub fn retry_after(value: &[u8]) {
    if let Ok(v) = std::str::from_utf8(value) {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let _ = crate::fetch::transport::parse_retry_after(v, now);
        if let Some(t) = crate::util::timefmt::parse_http_date(v) {
            let _ = crate::fetch::retry::fmt_utc(t.max(SystemTime::UNIX_EPOCH));
        }
    }
}

fn check_message(m: &str, body: &[u8]) {
    assert!(m.len() < 2048, "unbounded message");
    assert!(!m.chars().any(char::is_control), "control characters in {m:?}");
    if let Some(tokens) = secrets_in(body, "access_token") {
        // Real tokens are printable ASCII (the parser refuses others); scrub drops 40+ char words.
        for t in tokens.iter().filter(|t| t.len() >= 40 && t.bytes().all(|b| b.is_ascii_graphic())) {
            assert!(!m.contains(t.as_str()), "message quotes the access token: {m}");
        }
    }
}

/// Every string value under `key` anywhere in a JSON body.
fn secrets_in(body: &[u8], key: &str) -> Option<Vec<String>> {
    fn walk(v: &serde_json::Value, key: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    if k == key {
                        if let Some(s) = v.as_str() {
                            out.push(s.to_string());
                        }
                    }
                    walk(v, key, out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, key, out)),
            _ => {}
        }
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut out = Vec::new();
    walk(&v, key, &mut out);
    Some(out)
}
