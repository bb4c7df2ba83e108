//! One token per host: an opt-in second cache level in files, so short-lived processes (a CLI
//! in a shell loop, cron jobs, worker pools) reuse a token instead of each paying a request,
//! and N processes that start together send one request.
//!
//! Layout, per user: a directory of mode 0700 holding, per cache key, `KEY.json` (the token,
//! mode 0600) and `KEY.lock` (an advisory `flock` held around the token request, so other
//! processes wait for its result; the kernel drops it if the holder dies). `KEY` is the
//! SHA-256 of what determines the token (issuer, token endpoint, client id, scopes, auth
//! method), never of the secret.
//!
//! The in-memory cache stays the first level: this module only runs when it has no usable
//! token. Nothing here fails a caller: a file that cannot be trusted (corrupt, truncated,
//! someone else's, readable by others, a symlink) is ignored and replaced, a directory that
//! cannot be used (read-only, full, unsafe) means in-memory caching only; each case is logged.

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::token::{Fetched, MAX_LIFETIME};
use crate::util::error::Result;
use crate::util::files::{check_private, create_private_dirs, lock_within, read_private, write_atomic};
use crate::util::secret::Secret;

/// The file format. A new format also changes the key's prefix (`-v1`), so library versions
/// with different formats use different files instead of replacing each other's.
const FORMAT: u32 = 1;
/// An entry is a few hundred bytes; anything bigger is not ours.
const MAX_ENTRY: u64 = 64 * 1024;
/// Longest pause between two attempts to take another process's lock.
const MAX_POLL: Duration = Duration::from_millis(20);

/// The cache key: a hash of everything that changes the token (the caller lists it: issuer,
/// token endpoint, client id, scopes, auth method, ...), and nothing secret.
pub(crate) fn key(parts: &[&str]) -> String {
    let mut material = String::from("raptoken-shared-cache-v1");
    for p in parts {
        material.push('\0');
        material.push_str(p);
    }
    hex(&sha256(material.as_bytes()))
}

/// SHA-256 from ring, which rustls already links in: no extra code in the library.
fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// Diagnostics. The library has no logging yet; until it does, messages go to a hook a program
// (the CLI, the tests) may install. They name files and reasons, never tokens or secrets.
static LOG_HOOK: RwLock<Option<fn(&str)>> = RwLock::new(None);

/// Installs (or with `None` removes) the function that receives the shared cache's
/// diagnostics: files ignored and why, directories not used, lock waits given up. Process-wide.
pub fn set_log_hook(hook: Option<fn(&str)>) {
    *LOG_HOOK.write().unwrap_or_else(|p| p.into_inner()) = hook;
}

pub(crate) fn log(args: fmt::Arguments) {
    let hook = *LOG_HOOK.read().unwrap_or_else(|p| p.into_inner());
    if let Some(hook) = hook {
        hook(&format!("raptoken: {args}"));
    }
}

/// The files of one cache key.
pub(crate) struct SharedCache {
    dir: PathBuf,
    entry: PathBuf,
    lock: PathBuf,
    key: String,
    /// How long to wait for another process's token request before sending our own.
    lock_wait: Duration,
    /// SHA-256 of the last token an API rejected: never taken from the file again.
    rejected: Mutex<Option<[u8; 32]>>,
}

/// Where and under which key a client shares its token, and how long it waits for another
/// process's request (built by the options layer).
#[derive(Debug, Clone)]
pub(crate) struct SharedConfig {
    pub dir: PathBuf,
    pub key: String,
    pub lock_wait: Duration,
}

impl SharedCache {
    pub(crate) fn new(cfg: SharedConfig) -> SharedCache {
        let SharedConfig { dir, key, lock_wait } = cfg;
        SharedCache {
            entry: dir.join(format!("{key}.json")),
            lock: dir.join(format!("{key}.lock")),
            dir,
            key,
            lock_wait,
            rejected: Mutex::new(None),
        }
    }

    pub(crate) fn entry_path(&self) -> &Path {
        &self.entry
    }

    pub(crate) fn lock_wait(&self) -> Duration {
        self.lock_wait
    }

    /// A token from the file if `usable` accepts it, else one from `fetch` (run while holding
    /// the key's lock, so concurrent processes wait for it and then read its result).
    pub(crate) fn get_or_fetch(&self, usable: impl Fn(&Fetched) -> bool, fetch: impl FnOnce() -> Result<Fetched>) -> Result<Fetched> {
        if let Err(why) = self.prepare_dir() {
            log(format_args!("shared cache {} not used: {why}; caching in memory only", self.dir.display()));
            return fetch();
        }
        let usable = |f: &Fetched| usable(f) && !self.is_rejected(f);
        if let Some(f) = self.read_entry().filter(&usable) {
            return Ok(f);
        }
        let _lock = match self.lock_entry() {
            Ok(Some(lock)) => {
                // The holder we waited for has written its token.
                if let Some(f) = self.read_entry().filter(&usable) {
                    return Ok(f);
                }
                Some(lock)
            }
            Ok(None) => {
                log(format_args!(
                    "gave up after {:?} waiting for another process's token request (lock {}); requesting a token itself",
                    self.lock_wait,
                    self.lock.display()
                ));
                None
            }
            Err(e) => {
                log(format_args!("cannot lock {}: {e}; requesting a token without waiting for other processes", self.lock.display()));
                None
            }
        };
        let sent = SystemTime::now();
        let f = fetch()?;
        if let Err(e) = self.write_entry(&f, sent) {
            log(format_args!("cannot write {}: {e}; the token is cached in memory only", self.entry.display()));
        }
        Ok(f)
    }

    /// "An API rejected this token": it is not taken from the file again (the next fetch
    /// replaces it there for every process).
    pub(crate) fn reject(&self, token: &str) {
        *self.rejected.lock() = Some(sha256(token.as_bytes()));
    }

    fn is_rejected(&self, f: &Fetched) -> bool {
        self.rejected.lock().is_some_and(|h| h == sha256(f.access_token.expose().as_bytes()))
    }

    fn prepare_dir(&self) -> std::result::Result<(), String> {
        create_private_dirs(&self.dir).map_err(|e| format!("cannot create it: {e}"))?;
        let meta = std::fs::metadata(&self.dir).map_err(|e| format!("cannot inspect it: {e}"))?;
        if !meta.is_dir() {
            return Err("it is not a directory".into());
        }
        // Others who can write here could plant tokens or symlinks; others who can list it
        // learn which clients run. Never loosen or tighten a user's directory silently.
        check_private(&meta).map_err(|why| format!("{why}; run: chmod 700 {}", self.dir.display()))
    }

    fn read_entry(&self) -> Option<Fetched> {
        match read_private(&self.entry, MAX_ENTRY) {
            Ok(None) => None,
            Ok(Some(bytes)) => match parse_entry(&bytes, &self.key, SystemTime::now()) {
                Ok(f) => Some(f),
                Err(why) => {
                    log(format_args!("ignoring {}: {why}; it will be replaced", self.entry.display()));
                    None
                }
            },
            Err(why) => {
                log(format_args!("ignoring {}: {why}; it will be replaced", self.entry.display()));
                None
            }
        }
    }

    /// Atomically replaces the entry: readers see the old file or the new one, never a part.
    /// Not fsynced: this is a cache, and an entry lost in a crash costs one request.
    fn write_entry(&self, f: &Fetched, sent: SystemTime) -> std::io::Result<()> {
        let ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        let stored = Stored {
            version: FORMAT,
            key: Cow::Borrowed(&self.key),
            access_token: Cow::Borrowed(f.access_token.expose()),
            token_type: Cow::Borrowed(&f.token_type),
            scope: f.scope.as_deref().map(Cow::Borrowed),
            issued_at_ms: ms(sent),
            expires_at_ms: ms(sent + f.valid_for),
        };
        let mut body = Zeroizing::new(Vec::with_capacity(512 + f.access_token.expose().len()));
        serde_json::to_writer(&mut *body, &stored)?;
        write_atomic(&self.entry, &body, false)
    }

    /// Takes the key's lock, waiting at most `lock_wait` for another process to release it.
    /// `Ok(None)`: gave up waiting. The lock is released when the returned file is dropped, or
    /// by the kernel when this process dies.
    fn lock_entry(&self) -> std::io::Result<Option<File>> {
        // flock cannot time out: polled, starting fast because the holder's request is short.
        lock_within(&self.lock, self.lock_wait, MAX_POLL, &|why| log(format_args!("replacing {}: {why}", self.lock.display())))
    }
}

/// What a `KEY.json` holds. `Cow` borrows from the read buffer, which is zeroized.
#[derive(Serialize, Deserialize)]
struct Stored<'a> {
    version: u32,
    #[serde(borrow)]
    key: Cow<'a, str>,
    #[serde(borrow)]
    access_token: Cow<'a, str>,
    #[serde(borrow)]
    token_type: Cow<'a, str>,
    #[serde(borrow, default)]
    scope: Option<Cow<'a, str>>,
    issued_at_ms: u64,
    expires_at_ms: u64,
}

/// Checks an entry's content; the reason is for a log line and never quotes the token.
fn parse_entry(bytes: &[u8], key: &str, now: SystemTime) -> std::result::Result<Fetched, String> {
    let s: Stored = serde_json::from_slice(bytes).map_err(|e| format!("not a raptoken cache entry (corrupt or truncated: {})", e.classify_name()))?;
    if s.version != FORMAT {
        return Err(format!("format version {} (this library writes {FORMAT})", s.version));
    }
    if s.key != key {
        return Err("it belongs to another cache key".into());
    }
    if s.access_token.is_empty() || !s.access_token.chars().all(|c| c.is_ascii_graphic()) || !s.token_type.eq_ignore_ascii_case("bearer") {
        return Err("it holds no usable bearer token".into());
    }
    let issued = UNIX_EPOCH + Duration::from_millis(s.issued_at_ms);
    let lifetime = s.expires_at_ms.checked_sub(s.issued_at_ms).map(Duration::from_millis).unwrap_or_default();
    if lifetime < Duration::from_secs(1) || lifetime > MAX_LIFETIME {
        return Err("its lifetime is out of range".into());
    }
    // Same host, same clock: a token issued in the future means the clock stepped back or the
    // file was forged; either way its expiry cannot be trusted.
    if issued > now + Duration::from_secs(5) {
        return Err("it was issued in the future (did the clock change?)".into());
    }
    Ok(Fetched {
        access_token: Secret::new(s.access_token.as_ref()),
        token_type: "Bearer".into(),
        scope: s.scope.map(Cow::into_owned),
        // The stored expiry is already the usable one (written from `valid_for`).
        lifetime,
        valid_for: lifetime,
        issued_at: Some(issued),
    })
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "fields",
            serde_json::error::Category::Eof => "ends early",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_pinned_and_hash_every_part() {
        // Pinned: another version of the library must find the same files.
        assert_eq!(hex(&sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let k = key(&["https://auth.rapidata.ai", "", "a", "openid", "client_secret_basic"]);
        assert_eq!(k, "8f657593bcaca689548f379f0d0f644d9fb4cb63bf7e01b8c6441cb3f48ddac8");
        assert_ne!(k, key(&["https://auth.rapidata.ai", "", "a", "openid client_secret_basic"]), "parts are separated");
    }

    fn stored(key: &str, token: &str, issued_ms: u64, expires_ms: u64) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"version": 1, "key": key, "access_token": token, "token_type": "Bearer",
            "scope": "openid", "issued_at_ms": issued_ms, "expires_at_ms": expires_ms}))
        .unwrap()
    }

    #[test]
    fn entries_are_checked_before_use() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let ok = stored("k", "tok", 999_000_000, 1_002_600_000);
        let f = parse_entry(&ok, "k", now).unwrap();
        assert_eq!((f.access_token.expose(), f.lifetime.as_secs()), ("tok", 3600));
        assert_eq!(f.issued_at, Some(UNIX_EPOCH + Duration::from_secs(999_000)));
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (ok[..ok.len() / 2].to_vec(), "truncated"),
            (b"\x00\xffgarbage".to_vec(), "corrupt"),
            (b"{}".to_vec(), "not a raptoken cache entry"),
            (stored("other", "tok", 999_000_000, 1_002_600_000), "another cache key"),
            (stored("k", "", 999_000_000, 1_002_600_000), "no usable bearer token"),
            (stored("k", "tok", 999_000_000, 999_000_500), "lifetime"),
            (stored("k", "tok", 999_000_000, 999_000_000 + 25 * 3600 * 1000), "lifetime"),
            (stored("k", "tok", 1_000_600_000, 1_004_200_000), "future"),
            (String::from_utf8(ok.clone()).unwrap().replace("\"version\":1", "\"version\":2").into_bytes(), "format version 2"),
        ];
        for (bytes, want) in cases {
            let e = parse_entry(&bytes, "k", now).unwrap_err();
            assert!(e.contains(want), "{want}: {e}");
            assert!(!e.contains("tok\""), "never quotes the token: {e}");
        }
    }

    #[test]
    fn a_shared_token_is_held_to_the_in_memory_margins() {
        use crate::cache::{Margins, SystemClock, TokenCache};
        let cache = TokenCache::new(SystemClock, Margins::default(), Duration::from_secs(1));
        let issued_ago = |secs: u64| Fetched {
            access_token: Secret::new("t"),
            token_type: "Bearer".into(),
            scope: None,
            lifetime: Duration::from_secs(3600),
            valid_for: Duration::from_secs(3600),
            issued_at: Some(SystemTime::now() - Duration::from_secs(secs)),
        };
        let min = Duration::from_secs;
        // 3600 s token: hard margin 30 s, refresh-ahead window 300 s, so renewal is due at 3270 s.
        assert!(cache.would_serve(&issued_ago(100), min(0)));
        assert!(!cache.would_serve(&issued_ago(3300), min(0)), "due for renewal: this process renews");
        assert!(!cache.would_serve(&issued_ago(3590), min(0)), "inside the hard margin");
        assert!(cache.would_serve(&issued_ago(100), min(3000)), "3470 s usable left");
        assert!(!cache.would_serve(&issued_ago(1000), min(3000)), "2570 s usable left");
        let strict = TokenCache::new(SystemClock, Margins { hard: Some(min(1000)), refresh_ahead: Some(min(0)) }, min(1));
        assert!(!strict.would_serve(&issued_ago(2700), min(0)), "this client's own margins apply");
    }
}
