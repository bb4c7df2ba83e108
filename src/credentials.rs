//! The credentials chain: explicit arguments, then `RAPIDATA_CLIENT_ID`/`RAPIDATA_CLIENT_SECRET`,
//! then the file Rapidata's Python SDK writes (`~/.config/rapidata/credentials.json`).

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;

/// Where the client id and secret came from (shown by diagnostics; the secret never is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    Explicit,
    Environment,
    File { path: PathBuf, display_name: Option<String> },
    /// A ready token read from a file another process keeps fresh (`RAPIDATA_TOKEN_FILE`).
    TokenFile { path: PathBuf },
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Explicit => f.write_str("explicit arguments"),
            CredentialSource::Environment => f.write_str("RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_SECRET"),
            CredentialSource::File { path, display_name: Some(n) } => write!(f, "{} (entry '{n}')", path.display()),
            CredentialSource::File { path, display_name: None } => write!(f, "{}", path.display()),
            CredentialSource::TokenFile { path } => write!(f, "token file {}", path.display()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: Secret,
    pub source: CredentialSource,
}

impl Credentials {
    /// A client that reads its token from a file has no id or secret of its own.
    pub(crate) fn from_token_file(path: PathBuf) -> Self {
        Credentials { client_id: String::new(), client_secret: Secret::new(""), source: CredentialSource::TokenFile { path } }
    }
}

pub(crate) fn resolve(
    explicit_id: Option<&str>,
    explicit_secret: Option<&Secret>,
    var: &dyn Fn(&str) -> Option<String>,
    file: Option<&Path>,
    issuer: &str,
) -> Result<Credentials> {
    match (explicit_id, explicit_secret) {
        (Some(id), Some(secret)) => {
            return Ok(Credentials { client_id: id.to_string(), client_secret: secret.clone(), source: CredentialSource::Explicit })
        }
        (Some(_), None) => return Err(Error::invalid_argument("a client id was given without a client secret; give both or neither")),
        (None, Some(_)) => return Err(Error::invalid_argument("a client secret was given without a client id; give both or neither")),
        (None, None) => {}
    }
    // A lone half of the pair is not used: the pair comes from the next source instead.
    if let (Some(id), Some(secret)) = (var("RAPIDATA_CLIENT_ID"), var("RAPIDATA_CLIENT_SECRET")) {
        return Ok(Credentials { client_id: id, client_secret: Secret::new(secret), source: CredentialSource::Environment });
    }
    let mut file_note = String::from("no credentials file (HOME is not set)");
    if let Some(path) = file {
        match read_file(path, issuer)? {
            Some(c) => return Ok(c),
            None if path.exists() => file_note = format!("{} has no entry for {issuer}", path.display()),
            None => file_note = format!("{} does not exist", path.display()),
        }
    }
    Err(Error::new(
        ErrorKind::NoCredentials,
        format!(
            "no Rapidata client credentials found: pass a client id and secret, or set RAPIDATA_CLIENT_ID and \
             RAPIDATA_CLIENT_SECRET, or log in once with Rapidata's Python SDK to create \
             ~/.config/rapidata/credentials.json ({file_note})"
        ),
    ))
}

/// Reads the SDK's file. Missing → `Ok(None)`; unreadable, unsafe or malformed → `CONFIG` naming it.
fn read_file(path: &Path, issuer: &str) -> Result<Option<Credentials>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::config(format!("cannot read credentials file {}: {e}", path.display()))),
    };
    check_permissions(path)?;
    let found = parse_file(&bytes, issuer).map_err(|m| Error::config(format!("credentials file {} {m}", path.display())))?;
    Ok(found.map(|(id, secret, name)| Credentials {
        client_id: id,
        client_secret: secret,
        source: CredentialSource::File { path: path.to_path_buf(), display_name: name },
    }))
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
            Some(t) => Some(parse_timestamp(t).ok_or_else(|| format!("entry {i} under \"{key}\": last_used '{}' is not an ISO 8601 time", t.chars().take(40).collect::<String>()))?),
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

/// ISO 8601 / RFC 3339 as Python writes it: `2026-08-21T10:00:00.123456Z`, `...+00:00`, or
/// naive (taken as UTC). Returns nanoseconds since the Unix epoch.
pub(crate) fn parse_timestamp(s: &str) -> Option<i128> {
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let digits = &s.trim()[start..i.min(start + 9)];
        nanos = digits.parse::<i128>().ok()? * 10i128.pow(9 - digits.len() as u32);
    }
    let offset_secs: i64 = match b.get(i) {
        None => 0,
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let v = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if sign == b'+' { v } else { -v }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let (y, m) = if mo <= 2 { (y - 1, mo + 9) } else { (y, mo - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + h * 3600 + mi * 60 + se - offset_secs;
    Some(secs as i128 * 1_000_000_000 + nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://auth.rapidata.ai";

    #[test]
    fn timestamps_in_both_spellings() {
        let z = parse_timestamp("2026-08-21T10:00:00.123456Z").unwrap();
        let p = parse_timestamp("2026-08-21T10:00:00.123456+00:00").unwrap();
        assert_eq!(z, p);
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_timestamp("2000-03-01T00:00:00"), Some(951_868_800 * 1_000_000_000));
        assert!(parse_timestamp("2026-13-01T00:00:00Z").is_none());
        assert!(parse_timestamp("yesterday").is_none());
        assert!(parse_timestamp("2026-08-21T10:00:00.Z").is_none());
    }

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

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn chain_order_and_lone_halves() {
        let s = Secret::new("x");
        let c = resolve(Some("id"), Some(&s), &env(&[("RAPIDATA_CLIENT_ID", "e")]), None, ISSUER).unwrap();
        assert_eq!(c.source, CredentialSource::Explicit);
        assert_eq!(resolve(Some("id"), None, &env(&[]), None, ISSUER).unwrap_err().kind(), ErrorKind::InvalidArgument);
        let c = resolve(None, None, &env(&[("RAPIDATA_CLIENT_ID", "e"), ("RAPIDATA_CLIENT_SECRET", "es")]), None, ISSUER).unwrap();
        assert_eq!((c.client_id.as_str(), c.source), ("e", CredentialSource::Environment));

        let dir = std::env::temp_dir().join(format!("raptoken-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("credentials.json");
        std::fs::write(&file, r#"{"https://auth.rapidata.ai":[{"client_id":"f","client_secret":"fs"}]}"#).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        // Only one half in the environment: the pair comes from the file.
        let c = resolve(None, None, &env(&[("RAPIDATA_CLIENT_ID", "e")]), Some(&file), ISSUER).unwrap();
        assert_eq!(c.client_id, "f");
        assert!(matches!(c.source, CredentialSource::File { .. }));

        let e = resolve(None, None, &env(&[]), Some(&dir.join("missing.json")), ISSUER).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoCredentials);
        for place in ["RAPIDATA_CLIENT_ID", "credentials.json", "client id and secret", "missing.json does not exist"] {
            assert!(e.message().contains(place), "{}", e.message());
        }

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
            let e = resolve(None, None, &env(&[]), Some(&file), ISSUER).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config);
            assert!(e.message().contains("chmod 600"));
        }
        std::fs::write(&file, "{not json").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let e = resolve(None, None, &env(&[]), Some(&file), ISSUER).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains(&file.display().to_string()));
        std::fs::remove_dir_all(&dir).ok();
    }
}
