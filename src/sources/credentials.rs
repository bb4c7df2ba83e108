//! The credentials file Rapidata's Python SDK writes (`~/.config/rapidata/credentials.json`): a
//! JSON object keyed by auth server URL, each a list of client entries. Reading only here; the
//! chain that decides when it is used is options/chain.rs.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::error::{Error, Result};
use crate::util::secret::Secret;

/// The entry the SDK would use for an issuer (the newest `last_used`).
#[derive(Debug, Clone)]
pub(crate) struct StoredClient {
    pub path: PathBuf,
    pub client_id: String,
    pub client_secret: Secret,
    pub display_name: Option<String>,
}

/// Reads the SDK's file. Missing → `Ok(None)`; unreadable, unsafe or malformed → `CONFIG` naming it.
pub(crate) fn read_file(path: &Path, issuer: &str) -> Result<Option<StoredClient>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::config(format!("cannot read credentials file {}: {e}", path.display()))),
    };
    check_permissions(path)?;
    let found = parse_file(&bytes, issuer).map_err(|m| Error::config(format!("credentials file {} {m}", path.display())))?;
    Ok(found.map(|(id, secret, name)| StoredClient { path: path.to_path_buf(), client_id: id, client_secret: secret, display_name: name }))
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0);
    if mode & 0o022 != 0 {
        return Err(Error::config(format!(
            "credentials file {} is writable by group or others (mode {:o}); run: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_: &Path) -> Result<()> {
    Ok(())
}

/// Parses the file's JSON; returns the entry with the newest `last_used` for `issuer`.
/// Errors are phrased to follow "credentials file <path> ".
pub(crate) fn parse_file(bytes: &[u8], issuer: &str) -> std::result::Result<Option<(String, Secret, Option<String>)>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "is not valid UTF-8".to_string())?;
    let root: Value = serde_json::from_str(text).map_err(|e| format!("is not valid JSON (line {}, column {})", e.line(), e.column()))?;
    let map = root.as_object().ok_or("is not a JSON object keyed by auth server URL")?;
    let key = issuer.trim_end_matches('/');
    let entries = match map.get(key).or_else(|| map.get(&format!("{key}/"))) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(format!("has a non-list value under \"{key}\"")),
    };
    let mut best: Option<(Option<i128>, String, Secret, Option<String>)> = None;
    for (i, entry) in entries.iter().enumerate() {
        let obj = entry.as_object().ok_or_else(|| format!("entry {i} under \"{key}\" is not an object"))?;
        let field = |name: &str| -> std::result::Result<Option<&str>, String> {
            match obj.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(format!("entry {i} under \"{key}\": {name} is not a string")),
            }
        };
        let id = field("client_id")?.filter(|s| !s.is_empty()).ok_or_else(|| format!("entry {i} under \"{key}\" has no client_id"))?;
        let secret = field("client_secret")?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("entry {i} under \"{key}\" has no client_secret"))?;
        let last_used = match field("last_used")? {
            None => None,
            Some(t) => Some(crate::util::timefmt::parse_timestamp(t).ok_or_else(|| format!("entry {i} under \"{key}\": last_used '{}' is not an ISO 8601 time", t.chars().take(40).collect::<String>()))?),
        };
        let newer = match &best {
            None => true,
            Some((b, ..)) => last_used > *b,
        };
        if newer {
            best = Some((last_used, id.to_string(), Secret::new(secret), field("display_name")?.map(str::to_string)));
        }
    }
    Ok(best.map(|(_, id, secret, name)| (id, secret, name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://auth.rapidata.ai";

    #[test]
    fn newest_last_used_wins() {
        let json = r#"{"https://auth.rapidata.ai": [
            {"display_name":"old","client_id":"a","client_secret":"sa","endpoint":"x","created_at":"2025-01-01T00:00:00Z","last_used":"2026-01-01T00:00:00.000001+00:00"},
            {"display_name":"new","client_id":"b","client_secret":"sb","endpoint":"x","created_at":"2025-01-01T00:00:00Z","last_used":"2026-01-01T00:00:00.000002Z"},
            {"display_name":"never","client_id":"c","client_secret":"sc","last_used":null}
        ], "https://auth.rabbitdata.ch": [{"client_id":"r","client_secret":"sr"}]}"#;
        let (id, secret, name) = parse_file(json.as_bytes(), ISSUER).unwrap().unwrap();
        assert_eq!((id.as_str(), secret.expose(), name.as_deref()), ("b", "sb", Some("new")));
        let (id, ..) = parse_file(json.as_bytes(), "https://auth.rabbitdata.ch/").unwrap().unwrap();
        assert_eq!(id, "r");
        assert!(parse_file(json.as_bytes(), "https://auth.rapidata.dev").unwrap().is_none());
    }

    #[test]
    fn malformed_files_say_what_is_wrong() {
        assert!(parse_file(b"{", ISSUER).unwrap_err().contains("not valid JSON"));
        assert!(parse_file(b"[]", ISSUER).unwrap_err().contains("not a JSON object"));
        assert!(parse_file(br#"{"https://auth.rapidata.ai": 3}"#, ISSUER).unwrap_err().contains("non-list"));
        assert!(parse_file(br#"{"https://auth.rapidata.ai": [{"client_id":"a"}]}"#, ISSUER).unwrap_err().contains("no client_secret"));
        assert!(parse_file(br#"{"https://auth.rapidata.ai": [{"client_id":"a","client_secret":"s","last_used":"soon"}]}"#, ISSUER)
            .unwrap_err()
            .contains("ISO 8601"));
        assert!(parse_file(b"\xff", ISSUER).unwrap_err().contains("UTF-8"));
    }
}
