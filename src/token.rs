//! The token itself, as every layer sees it: `Fetched` (what a source returned), `AccessToken`
//! (what the Rust API hands out), and how long a token may be used.

use std::time::{Duration, SystemTime};

use crate::util::secret::Secret;

/// Used when a server omits `expires_in`: short enough that a stale token is never kept long.
pub const DEFAULT_LIFETIME_WHEN_MISSING: Duration = Duration::from_secs(300);
/// Longer lifetimes are clamped, so a bogus huge value cannot pin a token forever.
pub const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A token handed to Rust callers. The access token is zeroized when this is dropped.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: Secret,
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
    let json = crate::util::encoding::base64url_decode(payload)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jwt_exp_in_whole_seconds_bounds_the_lifetime() {
        use std::time::UNIX_EPOCH;
        let b64 = |s: &str| crate::util::encoding::base64url(s.as_bytes());
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
}
