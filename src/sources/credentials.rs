//! The credentials file Rapidata's Python SDK writes (`~/.config/rapidata/credentials.json`): a
//! JSON object keyed by auth server URL, each a list of client entries. Reading it, and writing
//! it as the SDK does after a workstation login (adding an entry, removing entries on logout),
//! keeping every other entry. The chain that decides when it is read is options/chain.rs.
//!
//! Writes: under an advisory lock (`.credentials.json.lock` next to it), so concurrent logins
//! of raptoken processes lose no entry; read, change, then a new file of mode 0600 in the same
//! directory (`.credentials.json.tmp`), fsync'd and renamed over the old one, so readers (and
//! the SDK) see the old file or the new one, never a part. A temporary file that a killed writer
//! left is removed by the next one: only the lock holder writes it, so one found is stale.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};
use zeroize::{Zeroize, Zeroizing};

use crate::util::error::{Error, Result};
use crate::util::files::{create_private, create_private_dirs, lock_within, sync_dir, temp_path, write_atomic_via};
use crate::util::secret::Secret;
use crate::util::timefmt::iso8601_micros;

/// Another writer holds the lock for milliseconds; one that holds it this long is stuck.
const LOCK_WAIT: Duration = Duration::from_secs(10);

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
    let Some(bytes) = read_bytes(path)? else { return Ok(None) };
    let found = parse_file(&bytes, issuer).map_err(|m| Error::config(format!("credentials file {} {m}", path.display())))?;
    Ok(found.map(|(id, secret, name)| StoredClient { path: path.to_path_buf(), client_id: id, client_secret: secret, display_name: name }))
}

/// A credentials file is a few kilobytes; a bigger one is not one.
const MAX_SIZE: u64 = 1024 * 1024;

/// The file's bytes (wiped when dropped: they hold secrets), for reading and for rewriting it.
fn read_bytes(path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>> {
    crate::util::files::read_owner_written(path, MAX_SIZE).map_err(|why| Error::config(format!("credentials file {}: {why}", path.display())))
}

/// Parses the file's JSON; returns the entry with the newest `last_used` for `issuer`.
/// Errors are phrased to follow "credentials file <path> ".
pub(crate) fn parse_file(bytes: &[u8], issuer: &str) -> std::result::Result<Option<(String, Secret, Option<String>)>, String> {
    let map = parse_document(bytes)?;
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

/// A client a workstation login created, to be stored as the SDK stores it.
pub(crate) struct NewClient {
    pub client_id: String,
    pub client_secret: Secret,
    pub display_name: String,
}

/// Fails early, before a person is sent to the browser, if the login's result could not be
/// stored: the directory cannot be created or written, or the file exists but is not one this
/// library may rewrite (not the SDK's JSON object: login never overwrites what it cannot keep).
#[inline(never)]
pub(crate) fn check_writable(path: &Path) -> Result<()> {
    let dir = parent(path);
    create_private_dirs(dir).map_err(|e| unwritable(path, &format!("cannot create the directory {}: {e}", dir.display())))?;
    // Creating a file is the only sure test (permissions, read-only or immutable, root or not).
    // A name unique per process and call: logins may run in several threads at once.
    let probe = temp_path(path);
    match create_private(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(e) => return Err(unwritable(path, &format!("cannot create files in {}: {e}", dir.display()))),
    }
    read_document(path).map(drop)
}

/// Appends `client` under `issuer` (key without trailing slash, as the SDK writes it) with
/// `created_at` and `last_used` = now, so it is the entry both the SDK and raptoken use next.
#[inline(never)]
pub(crate) fn add(path: &Path, issuer: &str, client: &NewClient) -> Result<()> {
    let key = issuer.trim_end_matches('/');
    let now = iso8601_micros(SystemTime::now());
    update(path, |root| {
        let list = root.entry(key.to_string()).or_insert_with(|| Value::Array(Vec::new()));
        if list.is_null() {
            *list = Value::Array(Vec::new());
        }
        let Value::Array(list) = list else {
            return Err(format!("has a non-list value under \"{key}\"; login does not overwrite it"));
        };
        let mut entry = Map::new();
        entry.insert("display_name".into(), client.display_name.clone().into());
        entry.insert("client_id".into(), client.client_id.clone().into());
        entry.insert("client_secret".into(), client.client_secret.expose().into());
        entry.insert("endpoint".into(), key.into());
        entry.insert("created_at".into(), now.clone().into());
        entry.insert("last_used".into(), now.clone().into());
        list.push(Value::Object(entry));
        Ok(true)
    })
    .map(drop)
}

/// A stored client that `remove` took out of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedClient {
    pub client_id: String,
    pub display_name: Option<String>,
}

/// Removes `issuer`'s entries (both key spellings), or only those of `client_id`; an
/// environment left without entries is removed. Returns what was removed; writes nothing when
/// that is nothing (a missing file included).
pub(crate) fn remove(path: &Path, issuer: &str, client_id: Option<&str>) -> Result<Vec<RemovedClient>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let key = issuer.trim_end_matches('/');
    let mut removed = Vec::new();
    update(path, |root| {
        for k in [key.to_string(), format!("{key}/")] {
            let Some(Value::Array(list)) = root.get_mut(&k) else { continue };
            list.retain(|e| {
                let id = e.get("client_id").and_then(Value::as_str).unwrap_or("");
                let hit = client_id.map_or(true, |want| want == id);
                if hit {
                    let display_name = e.get("display_name").and_then(Value::as_str).map(str::to_string);
                    removed.push(RemovedClient { client_id: id.to_string(), display_name });
                }
                !hit
            });
            if list.is_empty() {
                root.remove(&k);
            }
        }
        Ok(!removed.is_empty())
    })?;
    Ok(removed)
}

/// Read, change (`change` returns whether it changed anything), write: under the lock.
#[inline(never)]
fn update(path: &Path, change: impl FnOnce(&mut Map<String, Value>) -> std::result::Result<bool, String>) -> Result<bool> {
    let dir = parent(path);
    create_private_dirs(dir).map_err(|e| unwritable(path, &format!("cannot create the directory {}: {e}", dir.display())))?;
    let name = file_name(path);
    let lock_path = dir.join(format!(".{name}.lock"));
    let _lock = match lock_within(&lock_path, LOCK_WAIT, Duration::from_millis(50), &|_| {}) {
        Ok(Some(lock)) => lock,
        Ok(None) => return Err(unwritable(path, &format!("another process has held its lock {} for over 10 s", lock_path.display()))),
        Err(e) => return Err(unwritable(path, &format!("cannot lock {}: {e}", lock_path.display()))),
    };
    let tmp = dir.join(format!(".{name}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let mut root = Value::Object(read_document(path)?);
    let Value::Object(map) = &mut root else { unreachable!() };
    let result = match change(map) {
        Ok(true) => {
            let mut bytes = Zeroizing::new(Vec::with_capacity(8192));
            write_json(&mut bytes, &root, 0);
            bytes.push(b'\n');
            // Durable before it replaces the old file: losing credentials to a crash is not
            // a cache miss, it is a new login.
            match write_atomic_via(path, &tmp, &bytes, true) {
                Ok(()) => {
                    sync_dir(dir);
                    Ok(true)
                }
                Err(e) => Err(unwritable(path, &e.to_string())),
            }
        }
        Ok(false) => Ok(false),
        Err(m) => Err(Error::config(format!("credentials file {} {m}", path.display()))),
    };
    wipe(&mut root);
    result
}

/// The fields of an entry, in the order the SDK writes them.
const SDK_FIELDS: [&str; 6] = ["display_name", "client_id", "client_secret", "endpoint", "created_at", "last_used"];

/// JSON with two-space indentation, as the SDK's `json.dump(indent=2)` writes it. Written out
/// rather than serde_json's pretty printer: a few lines instead of kilobytes of library.
fn write_json(out: &mut Vec<u8>, v: &Value, indent: usize) {
    let newline = |out: &mut Vec<u8>, n: usize| {
        out.push(b'\n');
        out.resize(out.len() + n, b' ');
    };
    match v {
        Value::Array(items) if !items.is_empty() => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                out.extend_from_slice(if i == 0 { b"" } else { b"," });
                newline(out, indent + 2);
                write_json(out, item, indent + 2);
            }
            newline(out, indent);
            out.push(b']');
        }
        Value::Object(map) if !map.is_empty() => {
            out.push(b'{');
            // An entry's fields in the SDK's order, then any others: a file the SDK wrote keeps
            // its look. (The map itself is sorted.)
            let known = SDK_FIELDS.iter().filter_map(|k| map.get_key_value(*k));
            let others = map.iter().filter(|(k, _)| !SDK_FIELDS.contains(&k.as_str()));
            for (i, (k, item)) in known.chain(others).enumerate() {
                out.extend_from_slice(if i == 0 { b"" } else { b"," });
                newline(out, indent + 2);
                let _ = serde_json::to_writer(&mut *out, k);
                out.extend_from_slice(b": ");
                write_json(out, item, indent + 2);
            }
            newline(out, indent);
            out.push(b'}');
        }
        Value::Array(_) => out.extend_from_slice(b"[]"),
        Value::Object(_) => out.extend_from_slice(b"{}"),
        Value::String(s) => {
            let _ = serde_json::to_writer(&mut *out, s);
        }
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        // Integers as they were; a float keeps a point (1.0 stays a float for Python).
        Value::Number(n) => {
            let text = match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => i.to_string(),
                (_, Some(u)) => u.to_string(),
                _ => {
                    let f = n.as_f64().unwrap_or(0.0).to_string();
                    if f.contains('.') { f } else { f + ".0" }
                }
            };
            out.extend_from_slice(text.as_bytes());
        }
    }
}

/// The file's JSON object; an empty one if the file does not exist.
fn read_document(path: &Path) -> Result<Map<String, Value>> {
    let Some(bytes) = read_bytes(path)? else { return Ok(Map::new()) };
    parse_document(&bytes).map_err(|what| {
        Error::config(format!(
            "credentials file {} {what}; fix it or move it away (login does not overwrite a file it cannot keep)",
            path.display()
        ))
    })
}

/// The file's JSON object. Errors are phrased to follow "credentials file <path> ".
fn parse_document(bytes: &[u8]) -> std::result::Result<Map<String, Value>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "is not valid UTF-8".to_string())?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(mut other) => {
            wipe(&mut other);
            Err("is not a JSON object keyed by auth server URL".into())
        }
        Err(e) => Err(format!("is not valid JSON (line {}, column {})", e.line(), e.column())),
    }
}

/// Every string of a parsed file holds or may hold a secret: wiped before the memory is freed.
fn wipe(v: &mut Value) {
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(a) => a.iter_mut().for_each(wipe),
        Value::Object(m) => m.values_mut().for_each(wipe),
        _ => {}
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn unwritable(path: &Path, why: &str) -> Error {
    Error::config(format!(
        "cannot write credentials file {}: {why}; make its directory writable for this user, or choose another file with \
         the credentials file option (RAPIDATA_CREDENTIALS_FILE)",
        path.display()
    ))
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

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("raptoken-cred-write-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d.join("sub").join("credentials.json")
    }

    fn client(id: &str) -> NewClient {
        NewClient { client_id: id.into(), client_secret: Secret::new(format!("secret-of-{id}")), display_name: format!("host - {id}") }
    }

    #[test]
    fn add_keeps_other_entries_and_becomes_the_one_used() {
        let path = temp("add");
        let other = r#"{"https://auth.rabbitdata.ch": [{"display_name":"r","client_id":"r","client_secret":"sr","endpoint":"https://auth.rabbitdata.ch","created_at":"2025-01-01T00:00:00Z","last_used":"2025-01-01T00:00:00Z","extra":[1,2.5,1.0,-3,1e300,true,null,{},[],{"a\"\u00e9\n":[{}]}]}],
                        "https://auth.rapidata.ai": [{"display_name":"old","client_id":"old","client_secret":"so","endpoint":"https://auth.rapidata.ai","created_at":"2025-01-01T00:00:00Z","last_used":"2099-01-01T00:00:00+00:00"}]}"#;
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, other).unwrap();
        add(&path, "https://auth.rapidata.dev/", &client("new")).unwrap();
        let before: Value = serde_json::from_str(other).unwrap();
        let after: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(after["https://auth.rabbitdata.ch"], before["https://auth.rabbitdata.ch"]);
        assert_eq!(after["https://auth.rapidata.ai"], before["https://auth.rapidata.ai"]);
        let new = &after["https://auth.rapidata.dev"][0];
        for field in ["display_name", "client_id", "client_secret", "endpoint", "created_at", "last_used"] {
            assert!(new[field].is_string(), "{field} missing: {new}");
        }
        assert_eq!(new["endpoint"], "https://auth.rapidata.dev");
        let (id, ..) = parse_file(&std::fs::read(&path).unwrap(), "https://auth.rapidata.dev").unwrap().unwrap();
        assert_eq!(id, "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // A second login for the same environment is the newest, so it is used.
        add(&path, "https://auth.rapidata.dev", &client("newer")).unwrap();
        let (id, ..) = parse_file(&std::fs::read(&path).unwrap(), "https://auth.rapidata.dev").unwrap().unwrap();
        assert_eq!(id, "newer");
        std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap()).unwrap();
    }

    #[test]
    fn remove_takes_out_one_client_or_an_environment() {
        let path = temp("remove");
        for id in ["a", "b"] {
            add(&path, "https://auth.rapidata.ai", &client(id)).unwrap();
        }
        add(&path, "https://auth.rabbitdata.ch", &client("r")).unwrap();
        let gone = remove(&path, "https://auth.rapidata.ai", Some("a")).unwrap();
        assert_eq!(gone, vec![RemovedClient { client_id: "a".into(), display_name: Some("host - a".into()) }]);
        assert!(remove(&path, "https://auth.rapidata.ai", Some("zzz")).unwrap().is_empty());
        assert_eq!(remove(&path, "https://auth.rapidata.ai/", None).unwrap().len(), 1);
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert!(doc.get("https://auth.rapidata.ai").is_none(), "an empty environment is removed: {doc}");
        assert_eq!(doc["https://auth.rabbitdata.ch"][0]["client_id"], "r");
        std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap()).unwrap();
    }

    #[test]
    fn a_file_that_cannot_be_kept_is_never_overwritten_and_stale_temps_go() {
        let path = temp("keep");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{ half a file").unwrap();
        let e = check_writable(&path).unwrap_err();
        assert!(e.message().contains("not valid JSON") && e.message().contains("does not overwrite"), "{}", e.message());
        assert!(add(&path, "https://auth.rapidata.ai", &client("x")).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ half a file");
        std::fs::write(&path, r#"{"https://auth.rapidata.ai": "not a list"}"#).unwrap();
        let e = add(&path, "https://auth.rapidata.ai", &client("x")).unwrap_err();
        assert!(e.message().contains("non-list"), "{}", e.message());
        // What a writer killed between creating and renaming its temporary file leaves behind.
        std::fs::write(&path, "{}").unwrap();
        let stale = path.with_file_name(".credentials.json.tmp");
        std::fs::write(&stale, "{\"https://auth.rapidata.ai\": [{\"client_id\"").unwrap();
        add(&path, "https://auth.rapidata.ai", &client("x")).unwrap();
        assert!(!stale.exists());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\n  \"https://auth.rapidata.ai\": [\n    {\n      \"display_name\": \"host - x\",\n      \"client_id\": \"x\","), "{text}");
        std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap()).unwrap();
    }
}
