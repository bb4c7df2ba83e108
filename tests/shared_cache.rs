//! The shared (per-host) token cache and the token-file source against the real OpenID
//! provider. Separate `Client`s stand in for separate processes: each has its own in-memory
//! cache and its own open lock file, and `flock` locks conflict between open files even within
//! one process. The multi-process cases (20 processes, a killed lock holder, a full disk, a
//! read-only directory) are in scripts/test.d/70-shared-cache.sh.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, SystemTime};

use common::{api_accepts, basic, options, server, token_requests};
use raptoken::{Client, ClientOptions, CredentialSource, ErrorKind};

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn capture(line: &str) {
    LOG.lock().unwrap().push(line.to_string());
}

/// Log lines that mention `needle` (each test's files live in its own directory).
fn logged(needle: &str) -> Vec<String> {
    raptoken::set_shared_cache_log_hook(Some(capture));
    LOG.lock().unwrap().iter().filter(|l| l.contains(needle)).cloned().collect()
}

/// A fresh directory for one test, and the log hook installed.
fn scratch(name: &str) -> PathBuf {
    raptoken::set_shared_cache_log_hook(Some(capture));
    let dir = std::env::temp_dir().join(format!("raptoken-sc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

fn shared(o: ClientOptions, dir: &Path) -> Client {
    Client::new(&o.shared_cache_dir(dir.to_str().unwrap()).unwrap()).unwrap()
}

fn uid() -> u32 {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() }
}

/// Every directory 0700 and every file 0600, all owned by this user; no temporary files left.
fn assert_private_tree(dir: &Path) {
    let meta = std::fs::metadata(dir).unwrap();
    assert_eq!((meta.mode() & 0o777, meta.uid()), (0o700, uid()), "{}", dir.display());
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            assert_private_tree(&path);
            continue;
        }
        assert!(meta.is_file(), "{}", path.display());
        assert_eq!((meta.mode() & 0o777, meta.uid()), (0o600, uid()), "{}", path.display());
        assert!(!path.to_string_lossy().contains(".tmp."), "temporary file left behind: {}", path.display());
    }
}

#[test]
fn a_second_process_takes_the_token_from_the_file() {
    let dir = scratch("reuse").join("nested/cache");
    let a = shared(basic(20), &dir);
    let token = a.token().unwrap();
    assert_eq!(token_requests("basic-20"), 1);
    let file = a.shared_cache_file().unwrap().to_path_buf();
    assert!(file.starts_with(&dir) && file.exists());
    assert!(file.with_extension("lock").exists());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("secret-basic-20"), "the secret is never written");
    assert!(!file.to_string_lossy().contains("basic-20"), "the file name is a hash");

    let b = shared(basic(20), &dir);
    assert_eq!(b.token().unwrap(), token);
    assert_eq!(token_requests("basic-20"), 1, "no request: the token came from the file");
    // Expiry is wall-clock in the file; the second process sees the same instant.
    let (ia, ib) = (a.access_token(Duration::ZERO).unwrap(), b.access_token(Duration::ZERO).unwrap());
    let skew = ia.expires_at.duration_since(ib.expires_at).or_else(|e| Ok::<_, ()>(e.duration())).unwrap();
    assert!(skew < Duration::from_millis(50), "{skew:?}");
    assert!(api_accepts(&token));
    assert_private_tree(&dir);
    assert_private_tree(dir.parent().unwrap());

    // Another scope or auth method is another key: no stale sharing across them.
    let c = shared(basic(20).scope("openid").unwrap(), &dir);
    assert_ne!(c.token().unwrap(), token);
    assert_eq!(token_requests("basic-20"), 2);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 4, "two keys, each a .json and a .lock");
}

#[test]
fn concurrent_cold_processes_send_one_request() {
    let dir = scratch("stampede");
    let barrier = Arc::new(Barrier::new(8));
    let tokens: Vec<String> = (0..8)
        .map(|_| {
            let (b, dir) = (barrier.clone(), dir.clone());
            std::thread::spawn(move || {
                let c = shared(basic(21), &dir);
                b.wait();
                c.token().unwrap()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert!(tokens.iter().all(|t| t == &tokens[0]));
    assert_eq!(token_requests("basic-21"), 1, "eight clients, one request");
}

/// Writes `bytes` over the entry (as a new file, mode 0600 unless changed after).
fn clobber(file: &Path, bytes: &[u8]) {
    std::fs::remove_file(file).unwrap();
    std::fs::write(file, bytes).unwrap();
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn entries_that_cannot_be_trusted_are_ignored_and_replaced() {
    let dir = scratch("untrusted");
    let first = shared(basic(22), &dir);
    let good = first.token().unwrap();
    let file = first.shared_cache_file().unwrap().to_path_buf();
    let valid = std::fs::read(&file).unwrap();
    let other = dir.join("elsewhere.json");
    std::fs::write(&other, &valid).unwrap();

    type Spoil = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Spoil, &str)> = vec![
        ("corrupt", Box::new(|f| clobber(f, b"\x00\x01 not json at all")), "corrupt"),
        ("truncated", Box::new(move |f| clobber(f, &valid[..valid.len() / 2])), "truncated"),
        ("empty", Box::new(|f| clobber(f, b"")), "corrupt or truncated"),
        ("group-readable", Box::new(|f| std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o640)).unwrap()), "mode 640"),
        ("world-writable", Box::new(|f| std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o606)).unwrap()), "mode 606"),
        (
            "a symlink",
            Box::new({
                let other = other.clone();
                move |f| {
                    std::fs::remove_file(f).unwrap();
                    std::os::unix::fs::symlink(&other, f).unwrap();
                }
            }),
            "symbolic link",
        ),
    ];
    let mut expected_requests = 1;
    let mut previous = good;
    for (what, spoil, reason) in cases {
        spoil(&file);
        let c = shared(basic(22), &dir);
        let token = c.token().unwrap_or_else(|e| panic!("{what}: the caller never sees a cache problem: {e}"));
        expected_requests += 1;
        assert_ne!(token, previous, "{what}: not taken from the file");
        assert_eq!(token_requests("basic-22"), expected_requests, "{what}");
        let lines = logged(&file.display().to_string());
        assert!(lines.iter().any(|l| l.contains("ignoring") && l.contains(reason)), "{what}: {lines:?}");
        assert!(lines.iter().all(|l| !l.contains(&token) && !l.contains("secret-basic-22")), "no secrets in logs");
        // Replaced atomically by a good, private entry that the next process uses.
        let meta = std::fs::symlink_metadata(&file).unwrap();
        assert!(meta.is_file() && meta.mode() & 0o777 == 0o600, "{what}: replaced by a private regular file");
        assert_eq!(shared(basic(22), &dir).token().unwrap(), token, "{what}");
        assert_eq!(token_requests("basic-22"), expected_requests, "{what}: the replacement is shared");
        LOG.lock().unwrap().retain(|l| !l.contains(&file.display().to_string()));
        previous = token;
    }
    std::fs::remove_file(&other).unwrap();
    assert_private_tree(&dir);
}

#[test]
fn directories_that_cannot_be_used_degrade_to_memory() {
    let base = scratch("unusable");
    // Under a regular file: the directory cannot be created.
    let blocker = base.join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let bad = blocker.join("cache");
    let c = shared(basic(23), &bad);
    let t = c.token().unwrap();
    assert_eq!(c.token().unwrap(), t, "cached in memory");
    assert_eq!(token_requests("basic-23"), 1);
    assert!(logged(&bad.display().to_string()).iter().any(|l| l.contains("not used") && l.contains("cannot create")));

    // A directory others can enter is not used, and not silently chmod-ed either.
    let open = base.join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let c = shared(basic(24), &open);
    c.token().unwrap();
    assert_eq!(token_requests("basic-24"), 1);
    assert_eq!(std::fs::read_dir(&open).unwrap().count(), 0, "nothing written there");
    assert_eq!(std::fs::metadata(&open).unwrap().mode() & 0o777, 0o755, "left as it was");
    let lines = logged(&open.display().to_string());
    assert!(lines.iter().any(|l| l.contains("mode 755") && l.contains("chmod 700")), "{lines:?}");
}

#[test]
fn a_lock_holder_that_hangs_is_given_up_on() {
    use std::os::unix::io::AsRawFd;
    let dir = scratch("hung");
    let o = basic(25);
    let mut o2 = o.clone();
    o2.set_request_timeout(Duration::from_millis(1500)).unwrap();
    let c = shared(o2, &dir);
    // Another "process" holds the key's lock and never finishes.
    let lock_path = c.shared_cache_file().unwrap().with_extension("lock");
    std::fs::create_dir_all(&dir).unwrap();
    let holder = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(&lock_path).unwrap();
    std::fs::set_permissions(&lock_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    // SAFETY: a valid descriptor.
    assert_eq!(unsafe { libc::flock(holder.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0);
    let t = c.token().expect("the waiter gives up and fetches itself");
    assert!(api_accepts(&t));
    assert_eq!(token_requests("basic-25"), 1);
    let lines = logged(&lock_path.display().to_string());
    assert!(lines.iter().any(|l| l.contains("gave up after 1.5s")), "{lines:?}");
    // It still shared its token.
    drop(holder);
    assert_eq!(shared(basic(25), &dir).token().unwrap(), t);
    assert_eq!(token_requests("basic-25"), 1);
}

#[test]
fn a_rejected_token_is_not_taken_from_the_file_again() {
    let dir = scratch("revoked");
    let a = shared(basic(26), &dir);
    let b = shared(basic(26), &dir);
    let t1 = a.token().unwrap();
    assert_eq!(b.token().unwrap(), t1);
    let revoke = format!("{}/revoke?client_id=basic-26", server().admin);
    ureq::post(&revoke).send_empty().unwrap();
    assert!(!api_accepts(&t1));
    // The file still holds t1 and it is not expired, but the API said 401.
    assert!(a.invalidate(&t1));
    let t2 = a.token().unwrap();
    assert_ne!(t2, t1, "not reloaded from the file");
    assert!(api_accepts(&t2));
    assert_eq!(token_requests("basic-26"), 2);
    // Other processes that get the same 401 pick up the replacement without a request.
    assert!(b.invalidate(&t1));
    assert_eq!(b.token().unwrap(), t2);
    assert_eq!(shared(basic(26), &dir).token().unwrap(), t2);
    assert_eq!(token_requests("basic-26"), 2);
}

#[test]
fn a_shared_token_is_served_under_the_same_margins() {
    // short-20 tokens live 3 s: hard margin 0.3 s, renewal due 1.35 s after the request.
    let dir = scratch("margins");
    let a = shared(options("short-20", "secret-short-20"), &dir);
    let first = a.access_token(Duration::ZERO).unwrap();
    let b = shared(options("short-20", "secret-short-20"), &dir);
    assert_eq!(b.token().unwrap(), first.secret(), "fresh: shared");
    assert_eq!(token_requests("short-20"), 1);
    // Once renewal is due, a new process does not take the file's token: it renews (for all).
    let wait = first.refresh_at.duration_since(SystemTime::now()).unwrap_or_default();
    assert!(wait < Duration::from_secs(3));
    std::thread::sleep(wait + Duration::from_millis(20));
    let c = shared(options("short-20", "secret-short-20"), &dir);
    let second = c.token().unwrap();
    assert_ne!(second, first.secret());
    assert_eq!(token_requests("short-20"), 2);
    // The first process's own renewal (in the background, issue 13) finds that token in the file.
    assert_eq!(renewed(&a, first.secret()), second);
    assert_eq!(token_requests("short-20"), 2);
}

#[test]
fn the_shared_cache_is_off_unless_asked_for() {
    let c = Client::new(&basic(27)).unwrap();
    assert!(c.shared_cache_file().is_none());
    let mut o = basic(27);
    o.set_shared_cache(false);
    assert!(Client::new(&o).unwrap().shared_cache_file().is_none());
}

/// Writes a token file the way Rapidata's Python SDK does (`json.dump` of an authlib token).
fn sdk_token_file(path: &Path, token: &str, expires_at: u64) {
    let json = format!(
        r#"{{"access_token": "{token}", "expires_in": 3600, "token_type": "Bearer", "scope": "openid roles email", "expires_at": {expires_at}}}"#
    );
    std::fs::write(path, json).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
}

/// A client with nothing but a token file (and the test server's CA).
fn reader(path: &Path) -> Client {
    let o = ClientOptions::new().issuer(&server().issuer).unwrap().ca_file(&server().ca_file).unwrap().token_file(path.to_str().unwrap()).unwrap();
    Client::new(&o).unwrap()
}

#[test]
fn a_token_file_is_a_credential_source_that_needs_no_secret() {
    let dir = scratch("tokenfile");
    let path = dir.join("rapidata_token.json");
    let issued = Client::new(&basic(28)).unwrap().access_token(Duration::ZERO).unwrap();
    sdk_token_file(&path, issued.secret(), unix_now() + 3000);
    let c = reader(&path);
    assert_eq!(c.credential_source(), &CredentialSource::TokenFile { path: path.clone() });
    assert_eq!(c.token().unwrap(), issued.secret());
    assert_eq!(token_requests("basic-28"), 1, "reading the file sends no request");
    // It wins over explicit credentials, as in the SDK.
    let both = basic(29).token_file(path.to_str().unwrap()).unwrap();
    assert_eq!(Client::new(&both).unwrap().token().unwrap(), issued.secret());
    assert_eq!(token_requests("basic-29"), 0);
    // ... unless told to ignore it (what a maintainer does).
    let mut maintainer = basic(29).token_file(path.to_str().unwrap()).unwrap();
    maintainer.ignore_token_file();
    assert_ne!(Client::new(&maintainer).unwrap().token().unwrap(), issued.secret());
    assert_eq!(token_requests("basic-29"), 1);

    // A stale file is a CONFIG error that says what keeps it fresh; so is a missing one.
    sdk_token_file(&path, issued.secret(), unix_now() - 10);
    let e = reader(&path).token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.message().contains(path.to_str().unwrap()) && e.message().contains("raptoken maintain"), "{}", e.message());
    assert!(!e.message().contains(issued.secret()));
    let e = reader(&dir.join("missing.json")).token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    std::fs::write(&path, "{\"access_token\": \"x\"").unwrap();
    assert!(reader(&path).token().unwrap_err().message().contains("not valid JSON"));
    // Writable by others: someone could plant a token.
    sdk_token_file(&path, issued.secret(), unix_now() + 3000);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert!(reader(&path).token().unwrap_err().message().contains("chmod 600"));
}

#[test]
fn a_token_file_is_re_read_when_its_token_nears_expiry() {
    let dir = scratch("reread");
    let path = dir.join("token.json");
    let source = Client::new(&options("short-21", "secret-short-21")).unwrap();
    let t1 = source.access_token(Duration::ZERO).unwrap();
    raptoken::write_token_file(&path, &t1).unwrap();
    let c = reader(&path);
    let seen = c.access_token(Duration::ZERO).unwrap();
    assert_eq!(seen.secret(), t1.secret());
    // The maintainer replaces the file; the reader keeps its token until renewal is due.
    assert!(source.invalidate(t1.secret()));
    let t2 = source.access_token(Duration::ZERO).unwrap();
    assert_ne!(t2.secret(), t1.secret());
    raptoken::write_token_file(&path, &t2).unwrap();
    assert_eq!(c.token().unwrap(), t1.secret(), "not re-read while fresh");
    let wait = seen.refresh_at.duration_since(SystemTime::now()).unwrap_or_default();
    assert!(wait < Duration::from_secs(3));
    std::thread::sleep(wait + Duration::from_millis(20));
    assert_eq!(renewed(&c, t1.secret()), t2.secret(), "re-read once near expiry");
    assert!(api_accepts(t2.secret()));
}

#[test]
fn written_token_files_are_private_atomic_and_in_the_sdk_format() {
    let dir = scratch("write");
    let path = dir.join("sub/dir/token.json");
    let t = Client::new(&basic(30)).unwrap().access_token(Duration::ZERO).unwrap();
    raptoken::write_token_file(&path, &t).unwrap();
    raptoken::write_token_file(&path, &t).unwrap();
    assert_private_tree(&dir.join("sub"));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(v["access_token"], t.secret());
    assert_eq!(v["token_type"], "Bearer");
    let expires_at = v["expires_at"].as_u64().expect("integer Unix seconds, as the SDK reads it");
    let want = t.expires_at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(expires_at, want, "rounded down: readers err early");
}

/// The client's token once it differs from `old`: a renewal runs in the background, so the call
/// that finds the token due still gets the old one (bounded wait).
fn renewed(client: &Client, old: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let t = client.token().unwrap();
        if t != old || std::time::Instant::now() > deadline {
            return t;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_failed_fetch_is_shared_through_the_files_for_its_window() {
    let dir = scratch("failing");
    let (id, secret) = common::new_client("shared-failing");
    ureq::delete(&format!("{}/clients?client_id={id}", server().admin)).call().unwrap();
    let a = shared(options(&id, &secret), &dir);
    assert_eq!(a.token().unwrap_err().oauth_code(), Some("invalid_client"));
    assert_eq!(token_requests(&id), 1);
    let failed = a.shared_cache_file().unwrap().with_extension("failed.json");
    assert!(failed.exists());
    let text = std::fs::read_to_string(&failed).unwrap();
    assert!(!text.contains(&secret), "never the secret");
    for _ in 0..3 {
        let e = shared(options(&id, &secret), &dir).token().unwrap_err();
        assert_eq!((e.kind(), e.oauth_code()), (ErrorKind::OAuth, Some("invalid_client")));
        assert!(e.message().contains("another process's token request failed"), "{}", e.message());
    }
    assert_eq!(token_requests(&id), 1, "other processes failed fast");
    // Another secret is another credential: not bound by this one's failure.
    shared(options(&id, "another-secret-0123"), &dir).token().unwrap_err();
    assert_eq!(token_requests(&id), 2);
    assert_private_tree(&dir);
}
