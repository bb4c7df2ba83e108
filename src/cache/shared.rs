//! The levels shared between processes: one orchestration, several stores. The host level keeps
//! its entries in files (files.rs), the fleet level in Redis/Valkey (redis.rs); both run the same
//! steps here, so they behave alike:
//!
//! 1. read the entry: a token the in-memory cache would serve is taken as it is;
//! 2. a failure another process recorded, still inside its back-off window, fails fast with
//!    that process's error ("a failed fetch is not repeated by everyone at once");
//! 3. otherwise elect one fetcher with the store's lock; the others poll the entry until the
//!    holder writes it, and fetch themselves if it does not within `lock_wait`;
//! 4. the fetcher fetches, then writes the token (clearing any failure) or the failure.
//!
//! The in-memory cache stays the first level: this only runs when it has no usable token. A
//! store that fails (a directory that cannot be used, Redis down, slow, refusing, full, or
//! answering garbage) never fails a caller: the level steps aside and the token is fetched
//! directly. Entries that cannot be trusted are ignored and replaced. Each kind of problem is
//! logged once per client, not once per call.

use std::borrow::Cow;
use std::fmt;
use std::sync::RwLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::seal;
use crate::token::{Fetched, MAX_LIFETIME};
use crate::util::backoff;
use crate::util::error::{Error, ErrorKind, Result};
use crate::util::log::{LogLevel, Logger};
use crate::util::secret::Secret;

/// The entry format. A new format also changes the key's prefix (`-v1`), so library versions
/// with different formats use different entries instead of replacing each other's.
const FORMAT: u32 = 1;
/// Longest pause between two polls of another process's lock.
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
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// Diagnostics go to the client's logger and to a process-wide hook a program (the CLI, the
// tests) may install. They name files, hosts and reasons, never tokens, secrets or passwords.
static LOG_HOOK: RwLock<Option<fn(&str)>> = RwLock::new(None);

/// Installs (or with `None` removes) the function that receives the shared caches'
/// diagnostics: entries ignored and why, stores not used, lock waits given up. Process-wide.
pub fn set_log_hook(hook: Option<fn(&str)>) {
    *LOG_HOOK.write().unwrap_or_else(|p| p.into_inner()) = hook;
}

pub(crate) fn log(args: fmt::Arguments) {
    let hook = *LOG_HOOK.read().unwrap_or_else(|p| p.into_inner());
    if let Some(hook) = hook {
        hook(&format!("raptoken: {args}"));
    }
}

/// A store failed as a whole (not one entry): the level steps aside for this fetch.
#[derive(Debug)]
pub(crate) struct Fault {
    /// Groups faults for "logged once": a new class is logged, a repeat is not.
    pub class: &'static str,
    /// The whole log line (names the store, says what happens instead).
    pub line: String,
    /// Already logged by the store (e.g. Redis logs an outage when it starts).
    pub quiet: bool,
}

impl Fault {
    pub(crate) fn new(class: &'static str, line: String) -> Fault {
        Fault { class, line, quiet: false }
    }
}

/// One slot of a store as read: absent, bytes, or present but unusable (the reason).
pub(crate) type Slot = Option<std::result::Result<Zeroizing<Vec<u8>>, String>>;

/// What a store read for one key: its token entry and its failure record.
pub(crate) struct Read {
    pub entry: Slot,
    pub failure: Slot,
}

/// Where a level keeps its entries, its lock and its failure records.
pub(crate) trait Store: Send + Sync {
    /// Held while fetching; released when dropped (or, should the process die, by the kernel
    /// for a file lock and by expiry for a Redis lock).
    type Lock;
    /// Where, for log lines: a path, or a Redis address without its password.
    fn describe_entry(&self) -> String;
    fn describe_lock(&self) -> String;
    /// Checks the store can be used now.
    fn open(&self) -> std::result::Result<(), Fault>;
    fn read(&self) -> std::result::Result<Read, Fault>;
    /// Takes the lock without waiting: `None` if another process holds it.
    fn try_lock(&self) -> std::result::Result<Option<Self::Lock>, Fault>;
    fn unlock(&self, lock: Self::Lock);
    /// Replaces the token entry; `ttl` is how long the token lives (a store may drop it then).
    fn write_entry(&self, bytes: &[u8], ttl: Duration) -> std::result::Result<(), Fault>;
    /// Replaces the failure record; kept for `ttl` (past its window, to count repeats).
    fn write_failure(&self, bytes: &[u8], ttl: Duration) -> std::result::Result<(), Fault>;
    fn clear_failure(&self) -> std::result::Result<(), Fault>;
    /// How far in the future an entry's issue time may lie (clocks of other writers).
    fn clock_tolerance(&self) -> Duration {
        Duration::from_secs(5)
    }
}

/// How one level behaves, whatever its store (built by the options layer).
#[derive(Debug, Clone)]
pub(crate) struct LevelConfig {
    /// The cache key (`key()`): also stored inside entries, which must match it.
    pub key: String,
    /// How long to wait for another process's token request before sending our own.
    pub lock_wait: Duration,
    /// After a failed fetch, other processes fail fast for this long, doubling up to the max.
    pub failure_backoff: (Duration, Duration),
    /// The retry policy's cap on `Retry-After`: with the back-off max, the longest window a
    /// failure record may set (a longer one is not ours and is ignored).
    pub max_retry_after: Duration,
    /// The client secret (or private key): failure records name the credential they failed
    /// with (a one-way tag), so a process with other credentials does not take them.
    pub key_material: Secret,
    /// The client's logger, if any (lines also go to the process-wide hook).
    pub logger: Option<Logger>,
}

/// One shared level: a store and the orchestration above it.
pub(crate) struct SharedLevel<S: Store> {
    store: S,
    cfg: LevelConfig,
    /// Derived from the key material: written into failure records and checked on reading.
    credential_tag: String,
    /// SHA-256 of the last token an API rejected: never taken from the store again.
    rejected: Mutex<Option<[u8; 32]>>,
    /// Classes of problems already logged by this client.
    logged: Mutex<Vec<&'static str>>,
}

/// What a look into the store found.
enum Look {
    Token(Fetched),
    /// Another process's fetch failed and its window is still open.
    Failing(Error),
    /// Nothing usable; the number of failures recorded so far (for the next window).
    Nothing(u32),
}

impl<S: Store> SharedLevel<S> {
    pub(crate) fn with_store(store: S, cfg: LevelConfig) -> SharedLevel<S> {
        let credential_tag = hex(&seal::credential_tag(cfg.key_material.expose().as_bytes(), &cfg.key));
        SharedLevel { store, cfg, credential_tag, rejected: Mutex::new(None), logged: Mutex::new(Vec::new()) }
    }

    pub(crate) fn store(&self) -> &S {
        &self.store
    }

    pub(crate) fn lock_wait(&self) -> Duration {
        self.cfg.lock_wait
    }

    /// A token from the store if `usable` accepts it, else one from `fetch` (run while holding
    /// the key's lock, so concurrent processes wait for it and then read its result).
    pub(crate) fn get_or_fetch(&self, usable: impl Fn(&Fetched) -> bool, fetch: impl FnOnce() -> Result<Fetched>) -> Result<Fetched> {
        if let Err(f) = self.store.open() {
            self.fault(f);
            return fetch();
        }
        let usable = |f: &Fetched| usable(f) && !self.is_rejected(f);
        let mut failures = match self.look(&usable) {
            Ok(Look::Token(f)) => return Ok(f),
            Ok(Look::Failing(e)) => return Err(e),
            Ok(Look::Nothing(n)) => n,
            Err(f) => {
                self.fault(f);
                return fetch();
            }
        };
        let lock = match self.elect(&usable, &mut failures) {
            Elected::Done(r) => return r,
            Elected::Lock(l) => Some(Held(&self.store, Some(l))),
            Elected::Alone => None,
        };
        let sent = SystemTime::now();
        let result = fetch();
        match &result {
            Ok(f) => self.store_token(f, sent, failures > 0),
            Err(e) => self.store_failure(e, failures),
        }
        drop(lock);
        result
    }

    /// Steps 2-3: the lock, or the result another process left while we waited for it.
    fn elect(&self, usable: &impl Fn(&Fetched) -> bool, failures: &mut u32) -> Elected<S::Lock> {
        let deadline = Instant::now() + self.cfg.lock_wait;
        let mut pause = Duration::from_millis(1);
        loop {
            match self.store.try_lock() {
                Ok(Some(lock)) => {
                    // A holder may have finished between our read and our lock: read again.
                    return match self.look(usable) {
                        Ok(Look::Token(f)) => {
                            self.store.unlock(lock);
                            Elected::Done(Ok(f))
                        }
                        Ok(Look::Failing(e)) => {
                            self.store.unlock(lock);
                            Elected::Done(Err(e))
                        }
                        Ok(Look::Nothing(n)) => {
                            *failures = n;
                            Elected::Lock(lock)
                        }
                        Err(f) => {
                            self.fault(f);
                            Elected::Lock(lock)
                        }
                    };
                }
                Ok(None) => {}
                Err(f) => {
                    self.fault(f);
                    return Elected::Alone;
                }
            }
            // Another process holds the lock: its result may already be there.
            match self.look(usable) {
                Ok(Look::Token(f)) => return Elected::Done(Ok(f)),
                Ok(Look::Failing(e)) => return Elected::Done(Err(e)),
                Ok(Look::Nothing(n)) => *failures = n,
                Err(f) => {
                    self.fault(f);
                    return Elected::Alone;
                }
            }
            let now = Instant::now();
            if now >= deadline {
                self.note(
                    "lock-wait",
                    LogLevel::Warn,
                    format!(
                        "gave up after {:?} waiting for another process's token request (lock {}); requesting a token itself",
                        self.cfg.lock_wait,
                        self.store.describe_lock()
                    ),
                );
                return Elected::Alone;
            }
            // Polling, starting fast because the holder's request is short.
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(MAX_POLL);
        }
    }

    fn look(&self, usable: &impl Fn(&Fetched) -> bool) -> std::result::Result<Look, Fault> {
        let read = self.store.read()?;
        let now = SystemTime::now();
        match read.entry {
            None => {}
            Some(Ok(bytes)) => match parse_entry(&bytes, &self.cfg.key, now, self.store.clock_tolerance()) {
                Ok(f) if usable(&f) => return Ok(Look::Token(f)),
                Ok(_) => {}
                Err(why) => self.ignoring(&why),
            },
            Some(Err(why)) => self.ignoring(&why),
        }
        Ok(match read.failure {
            None => Look::Nothing(0),
            Some(slot) => self.failure(slot, now),
        })
    }

    /// A failure record found next to the entry: still blocking, or only counting. Out of line
    /// and cold: rare, and kept out of the size-budgeted common path.
    #[cold]
    #[inline(never)]
    fn failure(&self, slot: std::result::Result<Zeroizing<Vec<u8>>, String>, now: SystemTime) -> Look {
        let record = match slot {
            Ok(bytes) => match FailureRecord::parse(&bytes) {
                Some(r) if r.key == self.cfg.key => r,
                _ => {
                    self.note("failure-record", LogLevel::Warn, format!("ignoring the failure record of {}: not one of ours", self.store.describe_entry()));
                    return Look::Nothing(0);
                }
            },
            Err(why) => {
                self.note("failure-record", LogLevel::Warn, format!("ignoring the failure record of {}: {why}", self.store.describe_entry()));
                return Look::Nothing(0);
            }
        };
        // Another credential's failure (a process with a wrong or rotated secret) is not ours.
        if record.credential != self.credential_tag {
            return Look::Nothing(0);
        }
        let not_before = UNIX_EPOCH + Duration::from_millis(record.not_before_ms);
        // A window longer than the longest back-off is not one we wrote: ignore it.
        let open = now < not_before && not_before.duration_since(now).unwrap_or_default() <= self.cfg.failure_backoff.1.max(self.cfg.max_retry_after);
        if open {
            Look::Failing(record.to_error(not_before, now))
        } else {
            Look::Nothing(record.failures)
        }
    }

    /// Step 4 after a success: the token for every other process; a failure record this
    /// process saw is over (only then is it removed: one store round trip less per fetch).
    fn store_token(&self, f: &Fetched, sent: SystemTime, failure_seen: bool) {
        let (issued, expires) = match f.issued_at {
            // A token this level took from a lower store (fleet → host): keep its times.
            Some(at) => (at, at + f.valid_for),
            None => (sent, sent + f.valid_for),
        };
        let stored = Stored {
            version: FORMAT,
            key: Cow::Borrowed(&self.cfg.key),
            access_token: Cow::Borrowed(f.access_token.expose()),
            token_type: Cow::Borrowed(&f.token_type),
            scope: f.scope.as_deref().map(Cow::Borrowed),
            issued_at_ms: unix_ms(issued),
            expires_at_ms: unix_ms(expires),
        };
        let mut body = Zeroizing::new(Vec::with_capacity(512 + f.access_token.expose().len()));
        if serde_json::to_writer(&mut *body, &stored).is_err() {
            return;
        }
        let ttl = expires.duration_since(SystemTime::now()).unwrap_or_default();
        let cleared = |()| if failure_seen { self.store.clear_failure() } else { Ok(()) };
        if let Err(fault) = self.store.write_entry(&body, ttl).and_then(cleared) {
            self.fault(fault);
        }
    }

    /// Step 4 after a failure: other processes fail fast with it until the window closes.
    #[cold]
    #[inline(never)]
    fn store_failure(&self, e: &Error, previous: u32) {
        if !shared_kind(e.kind()) {
            return;
        }
        let failures = previous.saturating_add(1);
        let (first, max) = self.cfg.failure_backoff;
        let mut window = backoff::doubling(first, max, failures);
        // A server's Retry-After (already capped by the retry policy) wins if it is later.
        if let Some(asked) = e.retry_after().and_then(|t| t.duration_since(SystemTime::now()).ok()) {
            window = window.max(asked);
        }
        let now = SystemTime::now();
        let record = FailureRecord {
            key: self.cfg.key.clone(),
            credential: self.credential_tag.clone(),
            failures,
            at_ms: unix_ms(now),
            not_before_ms: unix_ms(now + window),
            kind: kind_name(e.kind()).to_string(),
            message: e.message().to_string(),
            http_status: e.http_status(),
            oauth_code: e.oauth_code().map(str::to_string),
            oauth_description: e.oauth_description().map(str::to_string),
        };
        // Kept past the window so the next failure doubles it.
        if let Err(fault) = self.store.write_failure(&record.to_bytes(), window + max) {
            self.fault(fault);
        }
    }

    /// "An API rejected this token": it is not taken from the store again (the next fetch
    /// replaces it there for every process).
    pub(crate) fn reject(&self, token: &str) {
        *self.rejected.lock() = Some(sha256(token.as_bytes()));
    }

    fn is_rejected(&self, f: &Fetched) -> bool {
        self.rejected.lock().is_some_and(|h| h == sha256(f.access_token.expose().as_bytes()))
    }

    #[cold]
    #[inline(never)]
    fn ignoring(&self, why: &str) {
        self.note("entry", LogLevel::Warn, format!("ignoring {}: {why}; it will be replaced", self.store.describe_entry()));
    }

    #[cold]
    #[inline(never)]
    fn fault(&self, f: Fault) {
        if !f.quiet {
            self.note(f.class, LogLevel::Warn, f.line);
        }
    }

    /// Logs `line` unless a line of this class was logged before by this client.
    fn note(&self, class: &'static str, level: LogLevel, line: String) {
        {
            let mut logged = self.logged.lock();
            if logged.contains(&class) {
                return;
            }
            logged.push(class);
        }
        self.say(level, &line);
    }

    fn say(&self, level: LogLevel, line: &str) {
        log(format_args!("{line}"));
        if let Some(l) = &self.cfg.logger {
            l.emit(level, line);
        }
    }
}

enum Elected<L> {
    Done(Result<Fetched>),
    Lock(L),
    /// No lock (the wait was given up, or the store failed): fetch without one.
    Alone,
}

/// A lock that is released however the fetch ends, a panic included.
struct Held<'a, S: Store>(&'a S, Option<S::Lock>);

impl<S: Store> Drop for Held<'_, S> {
    fn drop(&mut self) {
        if let Some(l) = self.1.take() {
            self.0.unlock(l);
        }
    }
}

/// Failures of the server or the network, which every process would meet again: shared.
/// A local problem (configuration, an invalid argument) is this process's alone.
fn shared_kind(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Http | ErrorKind::OAuth | ErrorKind::Protocol)
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Transport => "transport",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Http => "http",
        ErrorKind::OAuth => "oauth",
        _ => "protocol",
    }
}

fn kind_from_name(name: &str) -> ErrorKind {
    match name {
        "transport" => ErrorKind::Transport,
        "timeout" => ErrorKind::Timeout,
        "http" => ErrorKind::Http,
        "oauth" => ErrorKind::OAuth,
        _ => ErrorKind::Protocol,
    }
}

fn unix_ms(t: SystemTime) -> u64 {
    crate::util::timefmt::unix_ms(t).max(0) as u64
}

/// A failed fetch, as other processes see it. Holds the error as the caller would have seen
/// it (messages never contain a secret or token), never a credential. Stored as one line of
/// tab-separated fields (`FORMAT`, key, credential tag, failures, at, not before, kind, HTTP
/// status, OAuth code, OAuth description, message): a serde struct cost the library 20 KB.
#[derive(Debug, PartialEq)]
struct FailureRecord {
    key: String,
    /// `seal::credential_tag` of the credential that failed, hex.
    credential: String,
    /// Consecutive failures so far: the window doubles with each.
    failures: u32,
    at_ms: u64,
    not_before_ms: u64,
    kind: String,
    message: String,
    http_status: u16,
    oauth_code: Option<String>,
    oauth_description: Option<String>,
}

impl FailureRecord {
    fn to_bytes(&self) -> Vec<u8> {
        let clean = |t: &str| t.replace(['\t', '\n', '\r'], " ");
        let opt = |o: &Option<String>| o.as_deref().map(clean).unwrap_or_default();
        format!(
            "{FORMAT}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            clean(&self.key),
            clean(&self.credential),
            self.failures,
            self.at_ms,
            self.not_before_ms,
            clean(&self.kind),
            self.http_status,
            opt(&self.oauth_code),
            opt(&self.oauth_description),
            clean(&self.message)
        )
        .into_bytes()
    }

    fn parse(bytes: &[u8]) -> Option<FailureRecord> {
        let text = std::str::from_utf8(bytes).ok()?;
        let f: Vec<&str> = text.splitn(11, '\t').collect();
        if f.len() != 11 || f[0] != FORMAT.to_string() {
            return None;
        }
        let some = |t: &str| (!t.is_empty()).then(|| t.to_string());
        Some(FailureRecord {
            key: f[1].to_string(),
            credential: f[2].to_string(),
            failures: f[3].parse().ok()?,
            at_ms: f[4].parse().ok()?,
            not_before_ms: f[5].parse().ok()?,
            kind: f[6].to_string(),
            http_status: f[7].parse().ok()?,
            oauth_code: some(f[8]),
            oauth_description: some(f[9]),
            message: f[10].to_string(),
        })
    }

    /// The error, saying it is another process's and when the next attempt is allowed.
    fn to_error(&self, not_before: SystemTime, now: SystemTime) -> Error {
        let left = not_before.duration_since(now).unwrap_or_default();
        let ago = now.duration_since(UNIX_EPOCH + Duration::from_millis(self.at_ms)).unwrap_or_default();
        let mut e = Error::new(
            kind_from_name(&self.kind),
            format!(
                "{} (another process's token request failed {:.1} s ago; not repeated before {:.1} s from now)",
                crate::util::error::scrub(&self.message, 600),
                ago.as_secs_f64(),
                left.as_secs_f64()
            ),
        )
        .with_http_status(self.http_status)
        .with_retry_after(Some(not_before));
        if let Some(code) = &self.oauth_code {
            e = e.with_oauth(crate::util::error::scrub(code, 80), self.oauth_description.as_deref().map(|d| crate::util::error::scrub(d, 300)));
        }
        e
    }
}

/// What an entry holds. `Cow` borrows from the read buffer, which is zeroized.
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
fn parse_entry(bytes: &[u8], key: &str, now: SystemTime, tolerance: Duration) -> std::result::Result<Fetched, String> {
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
    // A token issued in the future means a clock stepped back, clocks differ, or the entry was
    // forged; either way its expiry cannot be trusted.
    if issued > now + tolerance {
        return Err("it was issued in the future (did the clock change, or do the writers' clocks differ?)".into());
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
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU32, Ordering};

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
        let five = Duration::from_secs(5);
        let ok = stored("k", "tok", 999_000_000, 1_002_600_000);
        let f = parse_entry(&ok, "k", now, five).unwrap();
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
            let e = parse_entry(&bytes, "k", now, five).unwrap_err();
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

    /// A store in memory, shared by the "processes" of a test; `down` makes every call fail.
    #[derive(Default)]
    struct Memory {
        slots: Mutex<HashMap<&'static str, Vec<u8>>>,
        locked: Mutex<bool>,
        down: std::sync::atomic::AtomicBool,
    }

    impl Store for std::sync::Arc<Memory> {
        type Lock = ();
        fn describe_entry(&self) -> String {
            "memory entry".into()
        }
        fn describe_lock(&self) -> String {
            "memory lock".into()
        }
        fn open(&self) -> std::result::Result<(), Fault> {
            if self.down.load(Ordering::SeqCst) {
                return Err(Fault::new("down", "memory store down".into()));
            }
            Ok(())
        }
        fn read(&self) -> std::result::Result<Read, Fault> {
            self.open()?;
            let s = self.slots.lock();
            let slot = |k| s.get(k).map(|v: &Vec<u8>| Ok(Zeroizing::new(v.clone())));
            Ok(Read { entry: slot("entry"), failure: slot("failure") })
        }
        fn try_lock(&self) -> std::result::Result<Option<()>, Fault> {
            let mut l = self.locked.lock();
            Ok((!std::mem::replace(&mut *l, true)).then_some(()))
        }
        fn unlock(&self, _: ()) {
            *self.locked.lock() = false;
        }
        fn write_entry(&self, bytes: &[u8], _: Duration) -> std::result::Result<(), Fault> {
            self.slots.lock().insert("entry", bytes.to_vec());
            Ok(())
        }
        fn write_failure(&self, bytes: &[u8], _: Duration) -> std::result::Result<(), Fault> {
            self.slots.lock().insert("failure", bytes.to_vec());
            Ok(())
        }
        fn clear_failure(&self) -> std::result::Result<(), Fault> {
            self.slots.lock().remove("failure");
            Ok(())
        }
    }

    fn level(store: &std::sync::Arc<Memory>, secret: &str) -> SharedLevel<std::sync::Arc<Memory>> {
        let cfg = LevelConfig {
            key: "k".into(),
            lock_wait: Duration::from_millis(300),
            failure_backoff: (Duration::from_secs(2), Duration::from_secs(30)),
            max_retry_after: Duration::from_secs(60),
            key_material: Secret::new(secret),
            logger: None,
        };
        SharedLevel::with_store(store.clone(), cfg)
    }

    fn fresh(name: &str) -> Result<Fetched> {
        Ok(Fetched { access_token: Secret::new(name), token_type: "Bearer".into(), scope: None, lifetime: Duration::from_secs(60), valid_for: Duration::from_secs(60), issued_at: None })
    }

    #[test]
    fn a_failed_fetch_is_shared_for_its_window_and_only_with_the_same_credential() {
        let store = std::sync::Arc::new(Memory::default());
        let (a, b, other) = (level(&store, "s"), level(&store, "s"), level(&store, "another-secret"));
        let calls = AtomicU32::new(0);
        let down = || {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Error::new(ErrorKind::Http, "the token endpoint answered HTTP 503").with_http_status(503))
        };
        assert_eq!(a.get_or_fetch(|_| true, down).unwrap_err().kind(), ErrorKind::Http);
        // Another process fails fast with the same error, without a request.
        let e = b.get_or_fetch(|_| true, || panic!("must not fetch inside the window")).unwrap_err();
        assert_eq!((e.kind(), e.http_status()), (ErrorKind::Http, 503));
        assert!(e.message().contains("HTTP 503") && e.message().contains("another process"), "{}", e.message());
        let left = e.retry_after().unwrap().duration_since(SystemTime::now()).unwrap();
        assert!(left > Duration::from_millis(1500) && left <= Duration::from_secs(2), "{left:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // A process with other credentials is not bound by it.
        assert_eq!(other.get_or_fetch(|_| true, || fresh("t-other")).unwrap().access_token.expose(), "t-other");
        // A success clears it for everyone.
        store.slots.lock().clear();
        assert_eq!(a.get_or_fetch(|_| true, down).unwrap_err().kind(), ErrorKind::Http);
        let rec = FailureRecord::parse(&store.slots.lock()["failure"]).unwrap();
        assert_eq!(rec.failures, 1);
        // Past the window the next failure doubles it.
        let mut rec = rec;
        rec.not_before_ms = unix_ms(SystemTime::now()) - 1;
        store.slots.lock().insert("failure", rec.to_bytes());
        a.get_or_fetch(|_| true, down).unwrap_err();
        let rec = FailureRecord::parse(&store.slots.lock()["failure"]).unwrap();
        assert_eq!(rec.failures, 2);
        assert!(rec.not_before_ms - rec.at_ms >= 4000, "2 s doubled");
        let mut rec = rec;
        rec.not_before_ms = unix_ms(SystemTime::now()) - 1;
        store.slots.lock().insert("failure", rec.to_bytes());
        assert_eq!(b.get_or_fetch(|_| true, || fresh("t1")).unwrap().access_token.expose(), "t1");
        assert!(!store.slots.lock().contains_key("failure"), "a success clears the record");
        assert_eq!(a.get_or_fetch(|_| true, || panic!("taken from the store")).unwrap().access_token.expose(), "t1");
    }

    #[test]
    fn failure_records_round_trip_and_refuse_other_formats() {
        let r = FailureRecord {
            key: "k".into(),
            credential: "c".into(),
            failures: 3,
            at_ms: 1,
            not_before_ms: 2,
            kind: "oauth".into(),
            message: "refused\twith a tab: and colons".into(),
            http_status: 401,
            oauth_code: Some("invalid_client".into()),
            oauth_description: None,
        };
        let back = FailureRecord::parse(&r.to_bytes()).unwrap();
        assert_eq!(back, FailureRecord { message: "refused with a tab: and colons".into(), ..r });
        assert!(FailureRecord::parse(b"2\tk\tc\t1\t1\t2\toauth\t401\t\t\tm").is_none(), "another format");
        assert!(FailureRecord::parse(b"1\tk\tc\tx\t1\t2\toauth\t401\t\t\tm").is_none());
        assert!(FailureRecord::parse(b"garbage").is_none());
    }

    #[test]
    fn local_errors_are_not_shared_and_a_store_that_fails_steps_aside() {
        let store = std::sync::Arc::new(Memory::default());
        let a = level(&store, "s");
        let e = a.get_or_fetch(|_| true, || Err(Error::config("bad CA file"))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(store.slots.lock().is_empty(), "a configuration error is this process's alone");
        store.down.store(true, Ordering::SeqCst);
        assert_eq!(a.get_or_fetch(|_| true, || fresh("direct")).unwrap().access_token.expose(), "direct");
        assert!(store.slots.lock().is_empty());
    }

    #[test]
    fn waiters_take_the_holders_result_and_give_up_after_the_wait() {
        let store = std::sync::Arc::new(Memory::default());
        let a = level(&store, "s");
        // Someone else holds the lock and never writes: we give up after lock_wait and fetch.
        *store.locked.lock() = true;
        let start = Instant::now();
        assert_eq!(a.get_or_fetch(|_| true, || fresh("mine")).unwrap().access_token.expose(), "mine");
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(3), "{waited:?}");
        // The holder's token arrives while we wait: taken without a fetch, lock still held.
        store.slots.lock().clear();
        let writer = {
            let store = store.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                level(&store, "s").store_token(&fresh("theirs").unwrap(), SystemTime::now(), false);
            })
        };
        let b = level(&store, "s");
        assert_eq!(b.get_or_fetch(|_| true, || panic!("the holder's token is taken")).unwrap().access_token.expose(), "theirs");
        writer.join().unwrap();
    }
}
