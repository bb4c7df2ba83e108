//! Parsing a token endpoint's answer (RFC 6749 §5.1 success, §5.2 error). Strict about what
//! makes a token usable, lenient where real servers differ (`expires_in` as a string).

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::error::{scrub, Error, ErrorKind, Result};
use crate::secret::Secret;

/// Used when a server omits `expires_in`: short enough that a stale token is never kept long.
pub const DEFAULT_LIFETIME_WHEN_MISSING: Duration = Duration::from_secs(300);
/// Longer lifetimes are clamped, so a bogus huge value cannot pin a token forever.
pub const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A token as the server granted it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub access_token: Secret,
    pub token_type: String,
    pub scope: Option<String>,
    /// The lifetime the server granted (`expires_in`), as reported to callers.
    pub lifetime: Duration,
    /// How long the token may be used from its request: `lifetime`, shortened for a JWT's
    /// `exp` and whole-second server clocks (see `usable_lifetime`). Expiry and margins use this.
    pub valid_for: Duration,
    /// When the token was issued, if that was before this request: a token another process
    /// fetched (shared cache). Its expiry then counts from there. `None` for a fresh answer.
    pub issued_at: Option<SystemTime>,
}

/// Turns a response into a token or a typed error. `status` is the HTTP status.
pub(crate) fn parse_response(status: u16, body: &[u8]) -> Result<Fetched> {
    let mut json: Option<Value> = std::str::from_utf8(body).ok().and_then(|t| serde_json::from_str(t).ok());
    let result = parse_json(status, body, json.as_ref());
    // The parsed tree holds a copy of the token: wipe it (serde_json's scratch buffers are
    // outside our reach).
    if let Some(Value::Object(map)) = json.as_mut() {
        if let Some(Value::String(t)) = map.get_mut("access_token") {
            zeroize::Zeroize::zeroize(t);
        }
    }
    result
}

fn parse_json(status: u16, body: &[u8], json: Option<&Value>) -> Result<Fetched> {
    // An RFC 6749 §5.2 error document wins whatever the status (some servers send it with 200).
    if let Some(Value::Object(map)) = json {
        if let Some(code) = map.get("error") {
            let code = code.as_str().map(|c| scrub(c, 64)).unwrap_or_else(|| "invalid_error_field".into());
            let description = map.get("error_description").and_then(Value::as_str).map(|d| scrub(d, 300));
            let mut msg = format!("the token endpoint refused the request (HTTP {status}): {code}");
            if let Some(d) = &description {
                msg.push_str(&format!(" - {d}"));
            }
            if let Some(hint) = oauth_hint(&code) {
                msg.push_str(&format!(". {hint}"));
            }
            return Err(Error::new(ErrorKind::OAuth, msg).with_oauth(code, description).with_http_status(status));
        }
    }
    if !(200..300).contains(&status) {
        let snippet = match std::str::from_utf8(body) {
            // A body carrying a token is never quoted, whatever its status.
            Ok(t) if t.contains("access_token") => "<a body with an access_token, not quoted>".to_string(),
            Ok(t) => scrub(t, 160),
            Err(_) => "<binary>".into(),
        };
        let redirect = if (300..400).contains(&status) {
            " (redirects are not followed on the token request; configure the final token endpoint URL)"
        } else {
            ""
        };
        return Err(Error::new(ErrorKind::Http, format!("the token endpoint answered HTTP {status}{redirect}: {snippet}"))
            .with_http_status(status));
    }
    let map = match json {
        Some(Value::Object(map)) => map,
        _ if std::str::from_utf8(body).is_err() => return Err(bad(status, "the body is not valid UTF-8")),
        _ => return Err(bad(status, "the body is not a JSON object")),
    };
    let access_token = match map.get("access_token") {
        Some(Value::String(t)) if !t.is_empty() => t.as_str(),
        Some(_) => return Err(bad(status, "access_token is empty or not a string")),
        None => return Err(bad(status, "it has no access_token")),
    };
    if access_token.chars().any(|c| !c.is_ascii_graphic()) {
        return Err(bad(status, "access_token contains characters not allowed in an HTTP header"));
    }
    let token_type = match map.get("token_type") {
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => "Bearer".to_string(),
        Some(Value::String(t)) => return Err(bad(status, &format!("token_type is '{}', not Bearer", scrub(t, 32)))),
        _ => return Err(bad(status, "it has no token_type")),
    };
    let lifetime = match map.get("expires_in") {
        None | Some(Value::Null) => DEFAULT_LIFETIME_WHEN_MISSING,
        Some(v) => parse_expires_in(v).map_err(|m| bad(status, &m))?,
    };
    let scope = map.get("scope").and_then(Value::as_str).map(str::to_string);
    Ok(Fetched { access_token: Secret::new(access_token), token_type, scope, lifetime, valid_for: lifetime, issued_at: None })
}

/// How long a token may be used, counted from `sent_at` (when its request was sent).
///
/// Servers stamp a JWT's `exp` in whole seconds (issue second, rounded down, + lifetime) and
/// answer `expires_in` = the lifetime, so `sent_at + expires_in` can be up to a second later
/// than `exp`. When the token is a JWT with a numeric `exp` (decoded, not verified: this only
/// shortens a lifetime), the earlier of the two wins; otherwise a second (at most half the
/// lifetime) is taken off for that resolution. An `exp` that would leave less than half of
/// `expires_in` means this machine's clock is ahead of the server's: it is not trusted then,
/// or every token would look expired on arrival. Returns the lifetime and whether `exp` was
/// ignored for that reason.
pub(crate) fn usable_lifetime(granted: Duration, access_token: &str, sent_at: SystemTime) -> (Duration, bool) {
    let rounded = granted - Duration::from_secs(1).min(granted / 2);
    match bound_by_exp(granted, access_token, sent_at) {
        Bound::Exp(by_exp) => (by_exp, false),
        Bound::None => (rounded, false),
        Bound::Skewed => (rounded, true),
    }
}

/// `lifetime` from `now`, shortened to the token's JWT `exp` when that is earlier (and
/// plausible, as above). For lifetimes that already err early, such as a token file's
/// `expires_at` in whole seconds rounded down.
pub(crate) fn bounded_by_exp(lifetime: Duration, access_token: &str, now: SystemTime) -> Duration {
    match bound_by_exp(lifetime, access_token, now) {
        Bound::Exp(by_exp) => by_exp,
        Bound::None | Bound::Skewed => lifetime,
    }
}

enum Bound {
    Exp(Duration),
    None,
    Skewed,
}

fn bound_by_exp(lifetime: Duration, access_token: &str, from: SystemTime) -> Bound {
    match jwt_exp(access_token).map(|exp| exp.duration_since(from).unwrap_or_default()) {
        Some(by_exp) if by_exp < lifetime / 2 => Bound::Skewed,
        Some(by_exp) if by_exp < lifetime => Bound::Exp(by_exp),
        _ => Bound::None,
    }
}

/// The `exp` claim of a JWS compact token (`header.payload.signature`), if it has a numeric one.
pub(crate) fn jwt_exp(token: &str) -> Option<SystemTime> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.len() > 64 * 1024 {
        return None;
    }
    // The claims may name the client or user: wiped after reading the one number needed.
    let json = zeroize::Zeroizing::new(crate::encoding::base64url_decode(payload)?);
    if json.first() != Some(&b'{') {
        return None; // serde would read a struct from an array too
    }
    #[derive(serde::Deserialize)]
    struct Claims {
        exp: Option<f64>,
    }
    let exp = serde_json::from_slice::<Claims>(&json).ok()?.exp?;
    (exp.is_finite() && exp > 0.0 && exp < 1e11).then(|| std::time::UNIX_EPOCH + Duration::from_secs_f64(exp))
}

fn parse_expires_in(v: &Value) -> std::result::Result<Duration, String> {
    let secs: f64 = match v {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => s.trim().parse::<f64>().map_err(|_| format!("expires_in '{}' is not a number", scrub(s, 32)))?,
        _ => return Err("expires_in is not a number".into()),
    };
    if !secs.is_finite() || secs < 1.0 {
        return Err(format!("expires_in is {secs}; a token must live at least one second"));
    }
    Ok(Duration::from_secs_f64(secs.min(MAX_LIFETIME.as_secs_f64())))
}

fn bad(status: u16, what: &str) -> Error {
    Error::protocol(format!("the token endpoint's answer is not a valid token response: {what}")).with_http_status(status)
}

fn oauth_hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_client" => "Check the client id and secret (they may be revoked or stale; create new ones under Rapidata Settings > Tokens), and the auth method",
        "invalid_scope" => "Request only scopes this client is allowed (the default is 'openid roles email')",
        "unauthorized_client" => "This client may not use the client credentials grant",
        "invalid_grant" => "The server refused the grant; the credentials may be stale",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> Result<Fetched> {
        parse_response(200, body.as_bytes())
    }

    #[test]
    fn good_response() {
        let f = ok(r#"{"access_token":"abc","token_type":"bearer","expires_in":3600,"scope":"openid"}"#).unwrap();
        assert_eq!((f.access_token.expose(), f.token_type.as_str(), f.lifetime.as_secs()), ("abc", "Bearer", 3600));
        assert_eq!(ok(r#"{"access_token":"a","token_type":"Bearer","expires_in":"60"}"#).unwrap().lifetime.as_secs(), 60);
        assert_eq!(ok(r#"{"access_token":"a","token_type":"Bearer"}"#).unwrap().lifetime, DEFAULT_LIFETIME_WHEN_MISSING);
        assert_eq!(ok(r#"{"access_token":"a","token_type":"Bearer","expires_in":1e30}"#).unwrap().lifetime, MAX_LIFETIME);
    }

    #[test]
    fn oauth_errors_win_even_with_200() {
        for status in [200, 400, 401] {
            let e = parse_response(status, br#"{"error":"invalid_client","error_description":"bad secret"}"#).unwrap_err();
            assert_eq!((e.kind(), e.oauth_code(), e.http_status()), (ErrorKind::OAuth, Some("invalid_client"), status));
            assert!(e.message().contains("bad secret") && e.message().contains("client id and secret"));
        }
    }

    #[test]
    fn malformed_responses_are_protocol_errors() {
        for body in [
            r#"{"token_type":"Bearer","expires_in":1}"#,
            r#"{"access_token":"","token_type":"Bearer"}"#,
            r#"{"access_token":"a","token_type":"mac"}"#,
            r#"{"access_token":"a"}"#,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":0}"#,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":-5}"#,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":"soon"}"#,
            r#"{"access_token":"a b","token_type":"Bearer"}"#,
            "[1,2]",
            "<html>oops</html>",
        ] {
            assert_eq!(ok(body).unwrap_err().kind(), ErrorKind::Protocol, "{body}");
        }
        assert!(parse_response(200, b"\xff\xfe").unwrap_err().message().contains("UTF-8"));
    }

    #[test]
    fn http_errors_quote_a_scrubbed_snippet() {
        let e = parse_response(503, b"<html><body>Service Unavailable</body></html>").unwrap_err();
        assert_eq!((e.kind(), e.http_status()), (ErrorKind::Http, 503));
        assert!(e.message().contains("Service"));
        let e = parse_response(302, b"").unwrap_err();
        assert!(e.message().contains("redirects are not followed"));
    }

    #[test]
    fn a_jwt_exp_in_whole_seconds_bounds_the_lifetime() {
        use std::time::UNIX_EPOCH;
        let b64 = |s: &str| crate::encoding::base64(s.as_bytes()).trim_end_matches('=').replace('+', "-").replace('/', "_");
        let jwt = |claims: &str| format!("{}.{}.c2ln", b64(r#"{"alg":"RS256"}"#), b64(claims));
        // Keycloak: issued at 1000.6 s, exp = 1000 + 3, expires_in 3: usable 2.4 s from sending.
        let sent = UNIX_EPOCH + Duration::from_millis(1_000_600);
        let three = Duration::from_secs(3);
        assert_eq!(usable_lifetime(three, &jwt(r#"{"exp":1003,"sub":"x"}"#), sent), (Duration::from_millis(2400), false));
        assert_eq!(usable_lifetime(three, &jwt(r#"{"exp":1003.5}"#), sent), (Duration::from_millis(2900), false));
        // exp later than expires_in says (server clock ahead): expires_in, less the second.
        assert_eq!(usable_lifetime(three, &jwt(r#"{"exp":1010}"#), sent), (Duration::from_secs(2), false));
        // exp already past or almost (this clock ahead of the server's): not trusted, flagged.
        assert_eq!(usable_lifetime(Duration::from_secs(3600), &jwt(r#"{"exp":900}"#), sent), (Duration::from_secs(3599), true));
        // Opaque tokens, and JWTs without a usable exp: one second off, at most half the lifetime.
        for t in ["opaque-token", &jwt(r#"{"exp":"soon"}"#), &jwt("[1]"), "a.b.c.d", "a.%%%.c"] {
            assert_eq!(usable_lifetime(Duration::from_secs(60), t, sent), (Duration::from_secs(59), false), "{t}");
        }
        assert_eq!(usable_lifetime(Duration::from_secs(1), "opaque", sent).0, Duration::from_millis(500));
    }

    #[test]
    fn tokens_never_reach_messages() {
        let secret_token = "tok_0123456789abcdefghijklmnopqrstuvwxyz0123456789";
        let body = format!(r#"{{"access_token":"{secret_token}","token_type":"MAC"}}"#);
        let e = ok(&body).unwrap_err();
        assert!(!e.message().contains(secret_token));
        let e = parse_response(500, format!("echo {secret_token}").as_bytes()).unwrap_err();
        assert!(!e.message().contains(secret_token));
    }
}
