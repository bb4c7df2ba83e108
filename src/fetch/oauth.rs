//! The token request (RFC 6749 §4.4): the form and the client authentication it carries, and
//! the answer (§5.1 success, §5.2 error). Strict about what makes a token usable, lenient where
//! real servers differ (`expires_in` as a string). Takes plain values, never the configuration.

use std::time::{Duration, SystemTime};

use serde_json::Value;
use zeroize::Zeroizing;

use super::assertion::{AssertionSigner, ASSERTION_TYPE};
use crate::token::{Fetched, DEFAULT_LIFETIME_WHEN_MISSING, MAX_LIFETIME};
use crate::util::encoding::{base64, base64_into, form_body, form_urlencode, form_urlencode_into};
use crate::util::error::{scrub, Error, ErrorKind, Result};
use crate::util::secret::Secret;

/// How the client proves its identity to the token endpoint (RFC 6749 §2.3.1).
/// The numbers are the C ABI's `RAPIDATA_AUTH_METHOD_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u32)]
pub enum AuthMethod {
    /// HTTP Basic with the id and secret form-urlencoded first. What Rapidata's SDK uses.
    #[default]
    ClientSecretBasic = 0,
    /// `client_id` and `client_secret` in the form body. What Rapidata's curl example shows.
    ClientSecretPost = 1,
    /// A JWT signed with the client's private key (RFC 7523 §2.2): no shared secret at all.
    PrivateKeyJwt = 2,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "client_secret_basic" | "basic" => Some(AuthMethod::ClientSecretBasic),
            "client_secret_post" | "post" => Some(AuthMethod::ClientSecretPost),
            "private_key_jwt" | "jwt" => Some(AuthMethod::PrivateKeyJwt),
            _ => None,
        }
    }
}


/// The client's identity as the token request carries it.
#[derive(Debug, Clone)]
pub(crate) struct ClientAuth {
    pub client_id: String,
    /// Empty with private_key_jwt.
    pub secret: Secret,
    pub method: AuthMethod,
    /// Set with private_key_jwt (and only then).
    pub assertion: Option<AssertionSigner>,
}

impl ClientAuth {
    /// The secret in every form a request carries it (raw, form-encoded, inside the Basic
    /// header): removed from any error or log line that echoes it.
    pub fn redactions(&self) -> Vec<Secret> {
        let secret = self.secret.expose();
        vec![
            self.secret.clone(),
            Secret::new(form_urlencode(secret)),
            Secret::new(base64(format!("{}:{}", form_urlencode(&self.client_id), form_urlencode(secret)).as_bytes())),
        ]
    }
}

/// The client-credentials request: its form body and, for HTTP Basic, the Authorization
/// header. Both may hold the secret, so both are wiped when dropped. `params` (audience,
/// resources, extra parameters) follow the standard ones; `endpoint` is the default audience of
/// a client assertion.
pub(crate) fn token_request(
    auth: &ClientAuth,
    scope: &str,
    params: &[(String, String)],
    endpoint: &str,
) -> Result<(Zeroizing<String>, Option<Zeroizing<String>>)> {
    let secret = auth.secret.expose();
    let mut pairs: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
    if !scope.is_empty() {
        pairs.push(("scope", scope));
    }
    let assertion;
    let authorization = match auth.method {
        AuthMethod::ClientSecretBasic => {
            // RFC 6749 §2.3.1: form-urlencode id and secret, then base64 "id:secret". Both
            // buffers are sized up front so no reallocation leaves a copy behind.
            let mut raw = Zeroizing::new(String::with_capacity(3 * (auth.client_id.len() + secret.len()) + 1));
            form_urlencode_into(&mut raw, &auth.client_id);
            raw.push(':');
            form_urlencode_into(&mut raw, secret);
            let mut header = Zeroizing::new(String::with_capacity(6 + raw.len().div_ceil(3) * 4));
            header.push_str("Basic ");
            base64_into(&mut header, raw.as_bytes());
            Some(header)
        }
        AuthMethod::ClientSecretPost => {
            pairs.push(("client_id", &auth.client_id));
            pairs.push(("client_secret", secret));
            None
        }
        AuthMethod::PrivateKeyJwt => {
            let signer = auth.assertion.as_ref().ok_or_else(|| Error::config("private_key_jwt needs a client key"))?;
            assertion = signer.sign(&auth.client_id, endpoint, SystemTime::now())?;
            // client_id is optional next to an assertion (RFC 7521 §4.2) but some servers
            // (Microsoft Entra) require it.
            pairs.push(("client_id", &auth.client_id));
            pairs.push(("client_assertion_type", ASSERTION_TYPE));
            pairs.push(("client_assertion", assertion.expose()));
            None
        }
    };
    pairs.extend(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Ok((Zeroizing::new(form_body(&pairs)), authorization))
}

/// Turns a response into a token or a typed error, with hints for how `method` authenticates.
pub(crate) fn parse_token_response(method: AuthMethod, status: u16, body: &[u8]) -> Result<Fetched> {
    let mut json: Option<Value> = std::str::from_utf8(body).ok().and_then(|t| serde_json::from_str(t).ok());
    let result = parse_json(status, body, json.as_ref(), method);
    // The parsed tree holds a copy of the token: wipe it (serde_json's scratch buffers are
    // outside our reach).
    if let Some(Value::Object(map)) = json.as_mut() {
        if let Some(Value::String(t)) = map.get_mut("access_token") {
            zeroize::Zeroize::zeroize(t);
        }
    }
    result
}

/// Turns a response into a token or a typed error. `status` is the HTTP status.
pub(crate) fn parse_response(status: u16, body: &[u8]) -> Result<Fetched> {
    parse_token_response(AuthMethod::ClientSecretBasic, status, body)
}

fn parse_json(status: u16, body: &[u8], json: Option<&Value>, method: AuthMethod) -> Result<Fetched> {
    // An RFC 6749 §5.2 error document wins whatever the status (some servers send it with 200).
    if let Some(Value::Object(map)) = json {
        if let Some(code) = map.get("error") {
            let code = code.as_str().map(|c| scrub(c, 64)).unwrap_or_else(|| "invalid_error_field".into());
            let description = map.get("error_description").and_then(Value::as_str).map(|d| scrub(d, 300));
            let mut msg = format!("the token endpoint refused the request (HTTP {status}): {code}");
            if let Some(d) = &description {
                msg.push_str(&format!(" - {d}"));
            }
            if let Some(hint) = oauth_hint(&code, status, method) {
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

fn oauth_hint(code: &str, status: u16, method: AuthMethod) -> Option<&'static str> {
    Some(match code {
        // Keycloak answers a wrong secret with this too, as 401; other servers use 400.
        "unauthorized_client" if status == 401 => {
            "Check the client id and secret (some servers, e.g. Keycloak, answer a wrong secret this way), or this client may not \
             use the client credentials grant (enable its service account)"
        }
        "invalid_client" if method == AuthMethod::PrivateKeyJwt => {
            "Check that the server has this client's public key (compare the JWK thumbprint `raptoken check` shows), \
             the key id (kid) if the server holds several keys, the assertion audience (some servers want their issuer, \
             with its trailing slash), and this machine's clock (assertions live 60 s)"
        }
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
    fn private_key_jwt_requests_carry_a_fresh_assertion_and_the_parameters() {
        let (key, _) = crate::fetch::ClientKey::generate().unwrap();
        let signer = AssertionSigner { key, algorithm: crate::fetch::SigningAlgorithm::Es256, key_id: None, audience: None };
        let auth = ClientAuth { client_id: "c 1".into(), secret: Secret::new(""), method: AuthMethod::PrivateKeyJwt, assertion: Some(signer) };
        let params = [("resource".to_string(), "https://api/".to_string()), ("org".to_string(), "a&b".to_string())];
        let (body, authorization) = token_request(&auth, "openid", &params, "https://t/token").unwrap();
        assert!(authorization.is_none());
        let names: Vec<&str> = body.split('&').map(|p| p.split('=').next().unwrap()).collect();
        assert_eq!(names, ["grant_type", "scope", "client_id", "client_assertion_type", "client_assertion", "resource", "org"]);
        assert!(body.contains("client_id=c+1&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&"));
        assert!(body.ends_with("&resource=https%3A%2F%2Fapi%2F&org=a%26b"));
        let (again, _) = token_request(&auth, "openid", &params, "https://t/token").unwrap();
        assert_ne!(*body, *again, "every request signs a new assertion");
        let no_key = ClientAuth { assertion: None, ..auth };
        assert_eq!(token_request(&no_key, "", &[], "https://t").unwrap_err().kind(), ErrorKind::Config);
        // A refused key gets a hint about keys, not secrets.
        let e = parse_token_response(AuthMethod::PrivateKeyJwt, 401, br#"{"error":"invalid_client"}"#).unwrap_err();
        assert!(e.message().contains("thumbprint") && !e.message().contains("secret"), "{}", e.message());
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
