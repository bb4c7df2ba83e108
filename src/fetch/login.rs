//! Rapidata's workstation login bridge, on the wire as its Python SDK uses it (`auth` = the
//! issuer without a trailing slash):
//!
//! 1. `POST {auth}/identity/bridge-token?clientId=rapidata-cli` → `{"readKey", "writeKey"}`;
//! 2. the person opens `{auth}/connect/authorize/external?clientId=rapidata-cli&scope=…&writeKey=…`
//!    in a browser and logs in;
//! 3. `GET {auth}/identity/bridge-token?readKey=…` every second: `202` not yet, `200`
//!    `{"accessToken"}` once approved;
//! 4. `POST {auth}/Client` with that token and `{"displayName"}` → `{"clientId", "clientSecret"}`.
//!
//! Only the client credentials leave this module; the read key and the access token are used
//! once and wiped. Takes plain values; storing the result is the caller's business. Written
//! for size (one error path per kind, few formatted strings): it runs once per workstation.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::transport::{Response, Transport, TransportOptions};
use crate::util::cancel::Cancellation;
use crate::util::encoding::percent_encode;
use crate::util::error::{scrub, Error, ErrorKind, Result};
use crate::util::log::{LogLevel, Logger};
use crate::util::secret::Secret;

/// The bridge's public client and the scope the SDK asks for (spaces as %20).
const BRIDGE_CLIENT_ID: &str = "rapidata-cli";
const LOGIN_SCOPE: &str = "openid%20profile%20email%20api";
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// What a login needs, as plain values.
pub(crate) struct BridgeSettings {
    /// The issuer without a trailing slash.
    pub issuer: String,
    pub transport: TransportOptions,
    /// How long to wait for the person to approve the login in the browser.
    pub timeout: Duration,
    /// Bounds each HTTP request.
    pub request_timeout: Duration,
    /// The name the new client gets in Rapidata's settings.
    pub display_name: String,
    pub logger: Option<Logger>,
}

/// The API client the login created.
pub(crate) struct CreatedClient {
    pub client_id: String,
    pub client_secret: Secret,
}

/// Runs the login: `on_url` receives the URL the person must open (once, before the wait).
pub(crate) fn run(s: &BridgeSettings, on_url: &mut dyn FnMut(&str), cancel: &Cancellation) -> Result<CreatedClient> {
    let auth = s.issuer.trim_end_matches('/');
    let transport = Transport::new(&s.transport)?;
    check_cancel(cancel)?;

    // 1. A login request: the write key goes to the browser, the read key stays here.
    log(s, LogLevel::Info, "login: starting a browser login");
    let step = "starting the login (POST /identity/bridge-token)";
    let resp = transport
        .post_json(&format!("{auth}/identity/bridge-token?clientId={BRIDGE_CLIENT_ID}"), None, None, s.request_timeout)
        .map_err(|e| e.with_context(step))?;
    if matches!(resp.status, 404 | 405 | 501) {
        return Err(no_bridge(auth, resp.status));
    }
    let mut keys = fields(&resp, step, &["readKey", "writeKey"], "readKey and writeKey")?;
    let write_key = keys.pop().unwrap_or_default();
    let read_key = Secret::new(keys.pop().unwrap_or_default());

    // 2. The page the person opens.
    on_url(&format!(
        "{auth}/connect/authorize/external?clientId={BRIDGE_CLIENT_ID}&scope={LOGIN_SCOPE}&writeKey={}",
        percent_encode(&write_key)
    ));

    // 3. Wait for the approval.
    let url = Secret::new(format!("{auth}/identity/bridge-token?readKey={}", percent_encode(read_key.expose())));
    let access_token = poll(s, &transport, &url, cancel).map_err(|e| e.redact(&[read_key.clone(), url.clone()]))?;

    // 4. The API client, created with the login's token; its id and secret are what is stored.
    log(s, LogLevel::Info, "login: approved; creating an API client");
    let mut body = String::from("{\"displayName\":");
    body.push_str(&serde_json::to_string(&s.display_name).unwrap_or_default());
    body.push('}');
    let step = "creating the API client (POST /Client) after the login was approved; run the login again";
    let created = transport
        .post_json(&format!("{auth}/Client"), Some(access_token.expose()), Some(body.as_bytes()), s.request_timeout)
        .map_err(|e| e.with_context(step))
        .and_then(|resp| fields(&resp, step, &["clientId", "clientSecret"], "clientId and clientSecret"))
        .map_err(|e| e.redact(&[access_token]))?;
    let mut created = created.into_iter();
    let client_id = created.next().unwrap_or_default();
    let client_secret = Secret::new(created.next().unwrap_or_default());
    Ok(CreatedClient { client_id, client_secret })
}

/// Polls until the login is approved (its access token), refused, expired, timed out or
/// cancelled. A failure worth repeating (the network, a 5xx) is tried again until the timeout:
/// a hiccup while a person takes minutes to log in is no reason to give up.
fn poll(s: &BridgeSettings, transport: &Transport, url: &Secret, cancel: &Cancellation) -> Result<Secret> {
    let end = Instant::now() + s.timeout;
    let mut last: Option<Error> = None;
    loop {
        check_cancel(cancel)?;
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out(s.timeout, last));
        }
        let step = "waiting for the login (GET /identity/bridge-token)";
        let failure = match transport.get(url.expose(), left.min(s.request_timeout)) {
            Ok(r) if r.status == 202 => None,
            Ok(r) if r.status == 200 => return fields(&r, step, &["accessToken"], "accessToken").map(|mut v| Secret::new(v.pop().unwrap_or_default())),
            Ok(r) if r.status == 403 => return Err(refused(&r)),
            Ok(r) if r.status == 410 => {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    "the login request expired on the server before it was approved: run the login again and approve it sooner",
                )
                .with_http_status(410))
            }
            Ok(r) => Some(http_error(&r, step)),
            Err(e) => Some(e.with_context(step)),
        };
        if let Some(e) = failure {
            if !e.is_retryable() {
                return Err(e);
            }
            log(s, LogLevel::Warn, e.message());
            last = Some(e);
        }
        if cancel.sleep(POLL_INTERVAL.min(end.saturating_duration_since(Instant::now()))) {
            return Err(cancelled());
        }
    }
}

fn log(s: &BridgeSettings, level: LogLevel, line: &str) {
    if let Some(l) = &s.logger {
        l.emit(level, line);
    }
}

fn check_cancel(cancel: &Cancellation) -> Result<()> {
    if cancel.is_cancelled() {
        Err(cancelled())
    } else {
        Ok(())
    }
}

#[cold]
fn cancelled() -> Error {
    Error::new(ErrorKind::Cancelled, "the login was cancelled; nothing was stored")
}

#[cold]
fn no_bridge(auth: &str, status: u16) -> Error {
    Error::config(format!(
        "{auth} has no Rapidata login bridge (POST /identity/bridge-token answered HTTP {status}): it is not Rapidata's \
         authorization server. Log in against Rapidata's (the environment option, e.g. rapidata.ai), or use client \
         credentials instead (RAPIDATA_CLIENT_ID and RAPIDATA_CLIENT_SECRET)"
    ))
    .with_http_status(status)
}

#[cold]
fn timed_out(timeout: Duration, last: Option<Error>) -> Error {
    let mut msg = format!(
        "the login was not approved within {} s (the login timeout): open the URL shown when the login started, log in \
         and approve, then run the login again (or give it more time with the login timeout option)",
        timeout.as_secs_f64().round()
    );
    if let Some(e) = last {
        msg.push_str("; the last poll failed: ");
        msg.push_str(e.message());
    }
    Error::new(ErrorKind::Timeout, msg)
}

/// 403: refused in the browser, with the server's RFC 6749-style `error` and description.
#[cold]
fn refused(resp: &Response) -> Error {
    let v: Option<Value> = std::str::from_utf8(&resp.body).ok().and_then(|t| serde_json::from_str(t).ok());
    let field = |name: &str| v.as_ref().and_then(|v| v.get(name)).and_then(Value::as_str).map(|s| scrub(s, 200));
    let description = field("error_description");
    let msg = format!(
        "the server refused the login ({}): run the login again and approve it in the browser, with an account that may use the API",
        description.as_deref().unwrap_or("HTTP 403")
    );
    Error::new(ErrorKind::OAuth, msg).with_oauth(field("error").unwrap_or_else(|| "access_denied".into()), description).with_http_status(403)
}

/// The string fields `names` of a 2xx JSON answer, each non-empty and printable; anything else
/// is an error naming `step`. Every string of the parsed answer is wiped before it is dropped:
/// the answers carry keys, tokens and secrets.
fn fields(resp: &Response, step: &str, names: &[&str], what: &str) -> Result<Vec<String>> {
    if !(200..300).contains(&resp.status) {
        return Err(http_error(resp, step));
    }
    let mut v: Value = std::str::from_utf8(&resp.body).ok().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null);
    let mut found = Vec::with_capacity(names.len());
    for name in names {
        match v.get_mut(*name) {
            Some(Value::String(s)) if !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic()) => found.push(std::mem::take(s)),
            _ => break,
        }
    }
    if let Value::Object(map) = &mut v {
        for value in map.values_mut() {
            if let Value::String(s) = value {
                zeroize::Zeroize::zeroize(s);
            }
        }
    }
    if found.len() < names.len() {
        // A 2xx body may hold keys or secrets: never quoted.
        return Err(Error::protocol(format!("{step}: the server's answer (HTTP {}) has no usable {what}", resp.status))
            .with_http_status(resp.status));
    }
    Ok(found)
}

/// An unexpected status, with a scrubbed excerpt of the body (never a 2xx body).
#[cold]
fn http_error(resp: &Response, step: &str) -> Error {
    let excerpt = match std::str::from_utf8(&resp.body) {
        Ok(t) if t.trim().is_empty() => "(empty body)".to_string(),
        Ok(t) => scrub(t, 200),
        Err(_) => "<binary>".into(),
    };
    Error::new(ErrorKind::Http, format!("{step}: the server answered HTTP {}: {excerpt}", resp.status)).with_http_status(resp.status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> Response {
        Response { status, body: zeroize::Zeroizing::new(body.as_bytes().to_vec()), retry_after: None, date: None }
    }

    #[test]
    fn answers_are_checked_and_secrets_never_quoted() {
        let secret_body = r#"{"clientId":"c","clientSecret":"s3cr3t-value-0123456789"}"#;
        assert_eq!(fields(&resp(200, secret_body), "x", &["clientId", "clientSecret"], "both").unwrap(), ["c", "s3cr3t-value-0123456789"]);
        let e = fields(&resp(500, "database down"), "creating", &["clientId"], "clientId").unwrap_err();
        assert_eq!((e.kind(), e.http_status()), (ErrorKind::Http, 500));
        assert!(e.message().contains("HTTP 500") && e.message().contains("database down"), "{}", e.message());
        for body in ["<html>", r#"{"clientId":"c"}"#, r#"{"clientId":"","clientSecret":"a b"}"#] {
            let e = fields(&resp(200, body), "creating", &["clientId", "clientSecret"], "clientId and clientSecret").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Protocol);
            assert!(!e.message().contains("html") && e.message().contains("clientId and clientSecret"), "{}", e.message());
        }
        let e = refused(&resp(403, r#"{"error":"access_denied","error_description":"refused"}"#));
        assert_eq!((e.kind(), e.oauth_code(), e.oauth_description()), (ErrorKind::OAuth, Some("access_denied"), Some("refused")));
        assert_eq!(refused(&resp(403, "")).oauth_code(), Some("access_denied"));
        assert!(timed_out(Duration::from_secs(300), Some(cancelled())).message().contains("within 300 s"));
    }
}
