//! Rapidata's token-file pattern: one process keeps a JSON file with a ready token fresh
//! (`raptoken maintain --token-file PATH`, or the Python SDK's `maintain_token_file`) and any
//! number of processes only read it (`RAPIDATA_TOKEN_FILE`), so they need no credentials and
//! send no token requests. The format is the SDK's:
//! `{"access_token": "...", "token_type": "Bearer", "expires_at": <integer Unix seconds>}`;
//! other fields (the SDK also writes `expires_in` and `scope`) are ignored.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::token::{AccessToken, Fetched, MAX_LIFETIME};
use crate::util::error::{Error, Result};
use crate::util::files::{create_private_dirs, write_atomic};
use crate::util::secret::Secret;

/// Token files are a few hundred bytes; a bigger one is not a token file.
const MAX_SIZE: u64 = 64 * 1024;

/// The token file to read, if any: the option, else `RAPIDATA_TOKEN_FILE` (an empty value
/// counts as unset), unless the caller maintains the file itself.
pub(crate) fn source(explicit: Option<&Path>, ignore: bool, var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if ignore {
        return None;
    }
    let path = explicit.map(Path::to_path_buf).or_else(|| var("RAPIDATA_TOKEN_FILE").map(|v| PathBuf::from(v.trim())))?;
    // Made absolute now, so a later chdir of the program does not change which file is read.
    Some(if path.is_absolute() { path } else { std::env::current_dir().map(|d| d.join(&path)).unwrap_or(path) })
}

/// Reads the file's token. A missing, unsafe, malformed or expired file is a `CONFIG` error
/// that names the file and says what keeps it fresh.
pub(crate) fn read(path: &Path) -> Result<Fetched> {
    let bytes = crate::util::files::read_owner_written(path, MAX_SIZE)
        .map_err(|why| Error::config(format!("token file {}: {why}", path.display())))?
        .ok_or_else(|| Error::config(format!("token file {} does not exist", path.display())))?;
    parse(&bytes, SystemTime::now()).map_err(|m| Error::config(format!("token file {} {m}", path.display())))
}

/// Parses the SDK's format. Errors are phrased to follow "token file <path> ".
pub(crate) fn parse(bytes: &[u8], now: SystemTime) -> std::result::Result<Fetched, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "is not valid UTF-8".to_string())?;
    let root: Value = serde_json::from_str(text).map_err(|e| format!("is not valid JSON (line {}, column {})", e.line(), e.column()))?;
    let map = root.as_object().ok_or("is not a JSON object")?;
    let token = match map.get("access_token") {
        Some(Value::String(t)) if !t.is_empty() && t.chars().all(|c| c.is_ascii_graphic()) => Secret::new(t.as_str()),
        Some(_) => return Err("has an access_token that is empty or not usable in an HTTP header".into()),
        None => return Err("has no access_token".into()),
    };
    match map.get("token_type") {
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
        Some(_) => return Err("has a token_type other than Bearer".into()),
        None => return Err("has no token_type".into()),
    }
    // The SDK writes integer seconds; accept a float or a numeric string as Python's int() would.
    let expires_at = match map.get("expires_at") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => return Err("has no expires_at (Unix seconds)".into()),
    }
    .filter(|s| s.is_finite() && *s > 0.0)
    .ok_or("has an expires_at that is not Unix seconds")?;
    let expires_at = UNIX_EPOCH + Duration::from_secs_f64(expires_at.min(4e11));
    let left = expires_at.duration_since(now).unwrap_or_default();
    if left.is_zero() {
        let ago = now.duration_since(expires_at).unwrap_or_default().as_secs();
        return Err(format!(
            "holds a token that expired {ago} s ago; is the process that keeps it fresh (e.g. `raptoken maintain --token-file PATH`) running?"
        ));
    }
    let scope = map.get("scope").and_then(Value::as_str).map(str::to_string);
    let lifetime = left.min(MAX_LIFETIME);
    let valid_for = crate::token::bounded_by_exp(lifetime, token.expose(), now);
    Ok(Fetched { access_token: token, token_type: "Bearer".into(), scope, lifetime, valid_for, issued_at: None })
}

#[derive(Serialize)]
struct FileToken<'a> {
    access_token: &'a str,
    token_type: &'a str,
    expires_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

/// Writes `token` to `path` in the SDK's format, atomically (a temporary file in the same
/// directory, then rename) so readers never see half a file, with mode 0600. Missing parent
/// directories are created with mode 0700. `expires_at` is rounded down, so readers err early.
pub fn write(path: &Path, token: &AccessToken) -> Result<()> {
    let fail = |e: std::io::Error| Error::config(format!("cannot write token file {}: {e}", path.display()));
    let expires_at = token.expires_at.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut body = Zeroizing::new(Vec::with_capacity(256 + token.secret().len()));
    let entry = FileToken { access_token: token.secret(), token_type: &token.token_type, expires_at, scope: token.scope.as_deref() };
    serde_json::to_writer(&mut *body, &entry).map_err(|e| fail(e.into()))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    create_private_dirs(dir).map_err(fail)?;
    // Durable before it replaces the old file: once per token lifetime, so the fsync is cheap.
    write_atomic(path, &body, true).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn reads_what_the_python_sdk_writes() {
        // json.dump of an authlib token: extra fields, integer expires_at.
        let sdk = br#"{"access_token": "abc.def", "expires_in": 3600, "token_type": "Bearer", "scope": "openid roles email", "expires_at": 1000003600}"#;
        let f = parse(sdk, at(1_000_000_000)).unwrap();
        assert_eq!((f.access_token.expose(), f.token_type.as_str(), f.lifetime.as_secs()), ("abc.def", "Bearer", 3600));
        assert_eq!(f.scope.as_deref(), Some("openid roles email"));
        assert!(f.issued_at.is_none());
        let float = br#"{"access_token":"a","token_type":"bearer","expires_at":1000000060.5}"#;
        assert_eq!(parse(float, at(1_000_000_000)).unwrap().lifetime.as_secs(), 60);
        let string = br#"{"access_token":"a","token_type":"Bearer","expires_at":"1000000060"}"#;
        assert_eq!(parse(string, at(1_000_000_000)).unwrap().lifetime.as_secs(), 60);
    }

    #[test]
    fn says_what_is_wrong() {
        let now = at(1_000_000_000);
        let cases: [(&[u8], &str); 9] = [
            (b"{", "not valid JSON"),
            (b"[]", "not a JSON object"),
            (br#"{"token_type":"Bearer","expires_at":1000003600}"#, "no access_token"),
            (br#"{"access_token":"a b","token_type":"Bearer","expires_at":1000003600}"#, "HTTP header"),
            (br#"{"access_token":"a","expires_at":1000003600}"#, "no token_type"),
            (br#"{"access_token":"a","token_type":"mac","expires_at":1000003600}"#, "other than Bearer"),
            (br#"{"access_token":"a","token_type":"Bearer"}"#, "no expires_at"),
            (br#"{"access_token":"a","token_type":"Bearer","expires_at":"2026-01-01T00:00:00Z"}"#, "not Unix seconds"),
            (br#"{"access_token":"a","token_type":"Bearer","expires_at":999999000}"#, "expired 1000 s ago"),
        ];
        for (body, want) in cases {
            let e = parse(body, now).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
        let e = parse(br#"{"access_token":"tok_0123456789abcdefghij0123456789abcdefghij","token_type":"x"}"#, now).unwrap_err();
        assert!(!e.contains("tok_0123"), "never quotes the token: {e}");
    }

    #[test]
    fn source_order() {
        let env = |k: &str| (k == "RAPIDATA_TOKEN_FILE").then(|| "/run/env.json".to_string());
        assert_eq!(source(Some(Path::new("/x.json")), false, &env), Some(PathBuf::from("/x.json")));
        assert_eq!(source(None, false, &env), Some(PathBuf::from("/run/env.json")));
        assert_eq!(source(Some(Path::new("/x.json")), true, &env), None, "a maintainer never reads its own output");
        assert_eq!(source(None, false, &|_| None), None);
        assert!(source(Some(Path::new("rel.json")), false, &env).unwrap().is_absolute());
    }
}
