//! The workstation login (`raptoken::login`, `raptoken login`) against the real test server's
//! login bridge (testing/oidc-server: POST /identity/bridge-token, the polling, POST /Client),
//! with its admin API playing the person at the browser; and, for faults the real server does
//! not produce (client creation failing, malformed answers), the in-process fault server.
//! Every login approves or refuses its own write key, so the tests run in parallel.

mod common;
mod fault_server;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{admin, api_accepts, server, spawn_server};
use fault_server::{json, Action, FaultServer};
use raptoken::{Cancellation, Client, ClientOptions, CredentialSource, ErrorKind};
use serde_json::Value;

fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!("raptoken.login.{}.{name}.{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The write key of a login URL.
fn write_key(url: &str) -> String {
    let query = url.split_once('?').expect("a query").1;
    let pair = query.split('&').find(|p| p.starts_with("writeKey=")).expect("a writeKey");
    pair["writeKey=".len()..].to_string()
}

/// Plays the person at the browser: approves (or refuses) the login behind `url`.
fn decide(url: &str, approve: bool) {
    let action = if approve { "approve" } else { "refuse" };
    let (status, body) = admin("POST", &format!("/login/{action}?writeKey={}", write_key(url)), None);
    assert_eq!(status, 200, "{action}: {body}");
}

fn login_state(url: &str) -> Value {
    admin("GET", &format!("/logins?writeKey={}", write_key(url)), None).1
}

/// Login options for the test server, storing into `file`.
fn options(file: &Path) -> ClientOptions {
    let mut o = ClientOptions::new().issuer(&server().issuer).unwrap().ca_file(&server().ca_file).unwrap();
    o.set_credentials_file(file.to_str().unwrap()).unwrap();
    o
}

fn entries(file: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_login_stores_credentials_that_a_client_without_arguments_uses() {
    let dir = temp_dir("flow");
    let file = dir.join("config/rapidata/credentials.json");
    let mut seen = Vec::new();
    let done = raptoken::login(
        &options(&file),
        Some(&mut |url: &str| {
            seen.push(url.to_string());
            decide(url, true);
        }),
        None,
    )
    .unwrap();
    assert_eq!(seen.len(), 1, "the URL is handed out once");
    let url = &seen[0];
    let page = format!("{}/connect/authorize/external?clientId=rapidata-cli&scope=openid%20profile%20email%20api&writeKey=", server().issuer);
    assert!(url.starts_with(&page), "{url}");
    assert_eq!((done.issuer.as_str(), done.credentials_file.as_path()), (server().issuer.as_str(), file.as_path()));
    assert!(done.display_name.ends_with(" - raptoken"), "{}", done.display_name);

    // The SDK's format, one entry, mode 0600 in a 0700 directory; the server made that client.
    let doc = entries(&file);
    let list = doc[&server().issuer].as_array().expect("a list under the issuer");
    assert_eq!(list.len(), 1);
    let e = &list[0];
    for field in ["display_name", "client_id", "client_secret", "endpoint", "created_at", "last_used"] {
        assert!(e[field].as_str().is_some_and(|v| !v.is_empty()), "{field}: {e}");
    }
    assert_eq!((e["client_id"].as_str(), e["endpoint"].as_str()), (Some(done.client_id.as_str()), Some(server().issuer.as_str())));
    assert_eq!(e.as_object().unwrap().len(), 6, "only the SDK's fields: the login's access token is never stored: {e}");
    #[cfg(unix)]
    {
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
        assert_eq!(mode(file.parent().unwrap().parent().unwrap()), 0o700);
    }
    let state = login_state(url);
    assert_eq!(state["state"], "collected");
    assert_eq!(state["created_client_id"].as_str(), Some(done.client_id.as_str()));
    assert_eq!(state["display_name"].as_str(), Some(done.display_name.as_str()));

    // A client with no credentials finds them, and its token works at the API.
    let client = Client::new(&options(&file)).unwrap();
    assert!(matches!(client.credential_source(), CredentialSource::File { .. }));
    assert_eq!(client.config().credentials.client_id, done.client_id);
    let token = client.token().unwrap();
    assert!(api_accepts(&token));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_login_polls_through_202_until_the_person_approves() {
    let dir = temp_dir("poll");
    let file = dir.join("credentials.json");
    let start = Instant::now();
    let mut approver = None;
    let mut url_seen = String::new();
    let mut o = options(&file);
    o.set_login_timeout(Duration::from_secs(30)).unwrap();
    raptoken::login(
        &o,
        Some(&mut |url: &str| {
            url_seen = url.to_string();
            let url = url.to_string();
            // The person takes a while: approve once the login has been polled twice.
            approver = Some(std::thread::spawn(move || {
                let until = Instant::now() + Duration::from_secs(20);
                while login_state(&url)["polls"].as_u64().unwrap_or(0) < 2 {
                    assert!(Instant::now() < until, "the login was not polled twice in 20 s");
                    std::thread::sleep(Duration::from_millis(50));
                }
                decide(&url, true);
            }));
        }),
        None,
    )
    .unwrap();
    approver.unwrap().join().unwrap();
    let polls = login_state(&url_seen)["polls"].as_u64().unwrap();
    assert!(polls >= 3, "two 202 answers, then the token: {polls} polls");
    // One poll a second, as the SDK: two 202s mean at least two pauses.
    assert!(start.elapsed() >= Duration::from_millis(1900), "{:?}", start.elapsed());
    assert!(polls <= 2 + start.elapsed().as_secs() + 1, "no faster than once a second: {polls} polls in {:?}", start.elapsed());
    assert_eq!(entries(&file)[&server().issuer].as_array().unwrap().len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_login_nobody_approves_times_out_and_stores_nothing() {
    let dir = temp_dir("timeout");
    let file = dir.join("credentials.json");
    let mut o = options(&file);
    o.set_login_timeout(Duration::from_millis(1500)).unwrap();
    let start = Instant::now();
    let e = raptoken::login(&o, Some(&mut |_: &str| {}), None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e:?}");
    assert!(e.message().contains("not approved within 2 s") && e.message().contains("login timeout"), "{}", e.message());
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
    assert!(!file.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_refused_login_is_an_oauth_error_and_stores_nothing() {
    let dir = temp_dir("refused");
    let file = dir.join("credentials.json");
    let e = raptoken::login(&options(&file), Some(&mut |url: &str| decide(url, false)), None).unwrap_err();
    assert_eq!((e.kind(), e.oauth_code(), e.http_status()), (ErrorKind::OAuth, Some("access_denied"), 403), "{e:?}");
    assert!(e.message().contains("refused the login") && e.message().contains("run the login again"), "{}", e.message());
    assert!(!file.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_server_without_the_login_bridge_is_a_config_error_before_any_url() {
    let (other, _child) = spawn_server(&["--no-bridge"]);
    let dir = temp_dir("nobridge");
    let file = dir.join("credentials.json");
    let mut o = ClientOptions::new().issuer(&other.issuer).unwrap().ca_file(&other.ca_file).unwrap();
    o.set_credentials_file(file.to_str().unwrap()).unwrap();
    let mut called = false;
    let e = raptoken::login(&o, Some(&mut |_: &str| called = true), None).unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Config, 404), "{e:?}");
    assert!(e.message().contains("no Rapidata login bridge") && e.message().contains("RAPIDATA_CLIENT_ID"), "{}", e.message());
    assert!(!called, "no URL for a login that cannot happen");
    assert!(!file.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cancelled_login_returns_at_once() {
    let dir = temp_dir("cancel");
    let file = dir.join("credentials.json");
    let cancel = Cancellation::new();
    let (tx, rx) = std::sync::mpsc::channel::<Instant>();
    let canceller = cancel.clone();
    let t = std::thread::spawn(move || {
        let at = Instant::now() + Duration::from_millis(300);
        std::thread::sleep(Duration::from_millis(300));
        canceller.cancel();
        tx.send(at).unwrap();
    });
    let e = raptoken::login(&options(&file), Some(&mut |_: &str| {}), Some(&cancel)).unwrap_err();
    let returned = Instant::now();
    t.join().unwrap();
    let cancelled_at = rx.recv().unwrap();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e:?}");
    // Noticed within 20 ms while waiting; 2 s leaves room for a busy machine and one poll.
    assert!(returned.saturating_duration_since(cancelled_at) < Duration::from_secs(2));
    assert!(!file.exists());
    // An already cancelled flag stops a login before it starts.
    let e = raptoken::login(&options(&file), Some(&mut |_: &str| panic!("no URL")), Some(&cancel)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn concurrent_logins_into_one_file_lose_no_entry_and_keep_other_environments() {
    let dir = temp_dir("concurrent");
    let file = dir.join("credentials.json");
    // What the SDK (or a person) left: other environments, an older entry for this issuer,
    // fields the SDK does not know, numbers and nesting.
    let before = format!(
        r#"{{"https://auth.rabbitdata.ch": [{{"display_name": "ci - Python API Client", "client_id": "r-1", "client_secret": "rabbit-secret", "endpoint": "https://auth.rabbitdata.ch", "created_at": "2025-01-02T03:04:05.000006Z", "last_used": "2025-01-02T03:04:05+00:00", "note": {{"n": [1, 2.5, -3, 1.0, true, null], "s": "é\n\"q\""}}}}],
            "{iss}": [{{"display_name": "old", "client_id": "old-1", "client_secret": "old-secret", "endpoint": "{iss}", "created_at": "2024-01-01T00:00:00Z", "last_used": "2024-01-01T00:00:00Z"}}],
            "https://auth.rapidata.dev/": []}}"#,
        iss = server().issuer
    );
    std::fs::write(&file, &before).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    const N: usize = 6;
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..N).map(|_| s.spawn(|| raptoken::login(&options(&file), Some(&mut |url: &str| decide(url, true)), None).unwrap().client_id)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let after = entries(&file);
    let before: Value = serde_json::from_str(&before).unwrap();
    for key in ["https://auth.rabbitdata.ch", "https://auth.rapidata.dev/"] {
        assert_eq!(after[key], before[key], "{key} is kept as it was");
    }
    let list = after[&server().issuer].as_array().unwrap();
    assert_eq!(list.len(), N + 1, "every login's entry and the old one: {list:?}");
    assert_eq!(list[0], before[&server().issuer][0], "the old entry is kept as it was");
    for id in &ids {
        assert_eq!(list.iter().filter(|e| e["client_id"] == id.as_str()).count(), 1, "{id}");
    }
    // The newest login is the one a client uses (newest last_used, as in the SDK).
    let client = Client::new(&options(&file)).unwrap();
    assert!(ids.contains(&client.config().credentials.client_id));
    assert_ne!(client.config().credentials.client_id, "old-1");
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(leftovers.iter().all(|n| n == "credentials.json" || n == ".credentials.json.lock"), "{leftovers:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A directory this process cannot create files in, even as root: `chattr +i` for root (on
/// file systems that support it), mode 0555 for other users. Undone when dropped.
struct ReadOnlyDir(PathBuf, bool);

impl ReadOnlyDir {
    fn new(dir: PathBuf) -> Option<ReadOnlyDir> {
        std::fs::create_dir_all(&dir).unwrap();
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        if root {
            let ok = Command::new("chattr").arg("+i").arg(&dir).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
            return ok.then(|| ReadOnlyDir(dir, true));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        }
        Some(ReadOnlyDir(dir, false))
    }
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        if self.1 {
            let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
        } else {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
            }
        }
    }
}

#[test]
fn an_unwritable_credentials_directory_fails_before_the_browser_opens() {
    let dir = temp_dir("readonly");
    let locked = dir.join("rapidata");
    let Some(guard) = ReadOnlyDir::new(locked.clone()) else {
        eprintln!("skipped: chattr +i is not supported here and this process runs as root");
        return;
    };
    let file = locked.join("credentials.json");
    let mut called = false;
    let e = raptoken::login(&options(&file), Some(&mut |_: &str| called = true), None).unwrap_err();
    drop(guard);
    assert_eq!(e.kind(), ErrorKind::Config, "{e:?}");
    for part in ["cannot write credentials file", file.to_str().unwrap(), "cannot create files in", "RAPIDATA_CREDENTIALS_FILE"] {
        assert!(e.message().contains(part), "{part}: {}", e.message());
    }
    assert!(!called, "the person is not sent to the browser for a login that cannot be stored");
    // A path under a regular file cannot even have its directory made.
    std::fs::write(dir.join("plain"), "x").unwrap();
    let e = raptoken::login(&options(&dir.join("plain/credentials.json")), Some(&mut |_: &str| panic!("no URL")), None).unwrap_err();
    assert!(e.message().contains("cannot create the directory"), "{}", e.message());
    // A file login cannot keep (not JSON) is never overwritten.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let e = raptoken::login(&options(&bad), Some(&mut |_: &str| panic!("no URL")), None).unwrap_err();
    assert!(e.message().contains("not valid JSON") && e.message().contains("does not overwrite"), "{}", e.message());
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), "{ not json");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stale_file_credentials_say_so_and_stay_in_the_file() {
    let dir = temp_dir("stale");
    let file = dir.join("credentials.json");
    let done = raptoken::login(&options(&file), Some(&mut |url: &str| decide(url, true)), None).unwrap();
    // The person deletes the client in Rapidata's settings.
    let (status, body) = admin("DELETE", &format!("/clients?client_id={}", done.client_id), None);
    assert_eq!(status, 200, "{body}");
    let e = Client::new(&options(&file)).unwrap().token().unwrap_err();
    assert_eq!((e.kind(), e.oauth_code()), (ErrorKind::OAuth, Some("invalid_client")), "{e:?}");
    for part in ["stale", done.client_id.as_str(), file.to_str().unwrap(), "raptoken login", "deleted in Rapidata's settings"] {
        assert!(e.message().contains(part), "{part}: {}", e.message());
    }
    // The library does not delete the entry on its own.
    assert_eq!(entries(&file)[&server().issuer][0]["client_id"].as_str(), Some(done.client_id.as_str()));
    // Credentials given explicitly are not called stored ones.
    let e = Client::new(&common::options(&done.client_id, "wrong")).unwrap().token().unwrap_err();
    assert!(!e.message().contains("stored credentials") && !e.message().contains("raptoken login"), "{}", e.message());
    std::fs::remove_dir_all(&dir).unwrap();
}

// Faults the real server does not produce, on the fault server's scripted bridge.

/// A bridge on the fault server: the login starts, the first poll fails (HTTP 503, worth
/// another try), the second is approved with `token`, and POST /Client answers `client`.
fn scripted_bridge(token: &'static str, client: impl Fn() -> Action + Send + 'static) -> FaultServer {
    let f = FaultServer::start(|_, _| Action::Token(3600));
    let mut polls = 0;
    f.on_other_paths(move |req, _| {
        let path = req.path.split('?').next().unwrap_or("");
        match (req.method.as_str(), path) {
            ("POST", "/identity/bridge-token") => json(200, r#"{"readKey":"rk-0123","writeKey":"wk+/="}"#),
            ("GET", "/identity/bridge-token") => {
                assert!(req.path.ends_with("readKey=rk-0123"), "{}", req.path);
                polls += 1;
                if polls == 1 {
                    Action::Respond(503, vec![], b"busy".to_vec())
                } else {
                    json(200, &format!(r#"{{"accessToken":"{token}"}}"#))
                }
            }
            ("POST", "/Client") => {
                let auth = req.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("authorization")).map(|(_, v)| v.clone());
                assert_eq!(auth.as_deref(), Some(format!("Bearer {token}").as_str()));
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                assert!(body["displayName"].as_str().unwrap().ends_with(" - raptoken"), "{body}");
                client()
            }
            _ => json(404, "{}"),
        }
    });
    f
}

fn fault_options(f: &FaultServer, file: &Path) -> ClientOptions {
    let mut o = ClientOptions::new().issuer(&f.base).unwrap();
    o.set_credentials_file(file.to_str().unwrap()).unwrap();
    o
}

#[test]
fn a_failed_client_creation_says_what_the_server_answered_and_never_quotes_the_token() {
    let dir = temp_dir("create");
    let file = dir.join("credentials.json");
    let f = scripted_bridge("at-short-secret-1", || Action::Respond(500, vec![], b"database down (token at-short-secret-1)".to_vec()));
    let mut url = String::new();
    let e = raptoken::login(&fault_options(&f, &file), Some(&mut |u: &str| url = u.to_string()), None).unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Http, 500), "{e:?}");
    for part in ["creating the API client", "HTTP 500", "database down", "[redacted]"] {
        assert!(e.message().contains(part), "{part}: {}", e.message());
    }
    assert!(!e.message().contains("at-short-secret-1") && !e.message().contains("rk-0123"), "{}", e.message());
    assert!(url.ends_with("&writeKey=wk%2B%2F%3D"), "the write key is percent-encoded: {url}");
    assert!(!file.exists());

    // A 2xx answer without a usable secret: PROTOCOL, and nothing stored.
    let f = scripted_bridge("at-short-secret-2", || json(200, r#"{"clientId":"c-1"}"#));
    let e = raptoken::login(&fault_options(&f, &file), Some(&mut |_: &str| {}), None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e:?}");
    assert!(e.message().contains("clientId and clientSecret"), "{}", e.message());
    assert!(!file.exists());

    // And when it works, the 503 during the wait was only a hiccup.
    let f = scripted_bridge("at-short-secret-3", || json(200, r#"{"clientId":"c-2","clientSecret":"-s3cret"}"#));
    let done = raptoken::login(&fault_options(&f, &file), Some(&mut |_: &str| {}), None).unwrap();
    assert_eq!(done.client_id, "c-2");
    assert_eq!(entries(&file)[&f.base][0]["client_secret"], "-s3cret");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bridge_answer_that_is_not_json_is_a_protocol_error() {
    let dir = temp_dir("garbage");
    let f = FaultServer::start(|_, _| Action::Token(3600));
    f.on_other_paths(|_, _| Action::Respond(200, vec![], b"<html>login portal</html>".to_vec()));
    let e = raptoken::login(&fault_options(&f, &dir.join("c.json")), Some(&mut |_: &str| panic!("no URL")), None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e:?}");
    assert!(e.message().contains("starting the login") && e.message().contains("readKey and writeKey"), "{}", e.message());
    std::fs::remove_dir_all(&dir).unwrap();
}

// The command line: `raptoken login`, `token` with no arguments afterwards, `check`, `logout`.

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Starts the CLI with `env` only (HOME = `home`, and PATH for `$BROWSER`'s script).
fn spawn_cli(args: &[&str], home: &Path, env: &[(&str, &str)]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_raptoken"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs the CLI as `spawn_cli` starts it, bounded to 60 s.
fn cli(args: &[&str], home: &Path, env: &[(&str, &str)]) -> Out {
    let out = wait_bounded(spawn_cli(args, home, env), Duration::from_secs(60), args);
    Out { code: out.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: String::from_utf8_lossy(&out.stderr).into() }
}

fn wait_bounded(child: std::process::Child, limit: Duration, what: &[&str]) -> std::process::Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("raptoken {what:?} did not finish in {limit:?}");
        }
    }
}

/// A `$BROWSER` that records the URL it is given in `dir` (one file per call).
fn recording_browser(dir: &Path) -> String {
    std::fs::create_dir_all(dir.join("urls")).unwrap();
    let script = dir.join("browser.sh");
    // Written aside, then moved in: the test never reads half a URL.
    let d = dir.display();
    std::fs::write(&script, format!("#!/bin/sh\nt=$(mktemp {d}/u.XXXXXX) && printf '%s' \"$1\" > \"$t\" && mv \"$t\" {d}/urls/\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script.display().to_string()
}

/// Decides every login whose URL the browser recorded, until `n` were decided (bounded).
fn decide_recorded(dir: &Path, n: usize, approve: bool) -> Vec<String> {
    let until = Instant::now() + Duration::from_secs(30);
    let mut done: Vec<String> = Vec::new();
    while done.len() < n {
        assert!(Instant::now() < until, "the browser got {} of {n} URLs in 30 s", done.len());
        for e in std::fs::read_dir(dir.join("urls")).unwrap().flatten() {
            let url = std::fs::read_to_string(e.path()).unwrap();
            if !done.contains(&url) {
                decide(&url, approve);
                done.push(url);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done
}

fn server_env() -> Vec<(&'static str, &'static str)> {
    vec![("RAPIDATA_ISSUER", server().issuer.as_str()), ("RAPIDATA_CA_FILE", server().ca_file.as_str())]
}

#[test]
fn cli_login_then_token_with_no_arguments_then_logout() {
    let home = temp_dir("cli-home");
    let browser = recording_browser(&home);
    let env = [server_env(), vec![("BROWSER", browser.as_str())]].concat();
    let approver = {
        let home = home.clone();
        std::thread::spawn(move || decide_recorded(&home, 1, true))
    };
    let out = cli(&["login"], &home, &env);
    let urls = approver.join().unwrap();
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("browser window that just opened") && out.stderr.contains(&urls[0]), "the URL is always printed too: {}", out.stderr);
    let file = home.join(".config/rapidata/credentials.json");
    assert!(out.stdout.contains("Logged in") && out.stdout.contains(file.to_str().unwrap()), "{}", out.stdout);
    let doc = entries(&file);
    let entry = &doc[&server().issuer][0];
    let (id, secret) = (entry["client_id"].as_str().unwrap(), entry["client_secret"].as_str().unwrap());
    assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));

    let token = cli(&["token"], &home, &server_env());
    assert_eq!(token.code, 0, "{}", token.stderr);
    assert!(api_accepts(token.stdout.trim()));
    let check = cli(&["check"], &home, &server_env());
    assert_eq!(check.code, 0, "{}", check.stdout);
    let line = check.stdout.lines().find(|l| l.starts_with("credentials:")).unwrap();
    assert!(line.contains(file.to_str().unwrap()) && line.contains(id), "check says where the credentials came from: {line}");
    assert!(!check.stdout.contains(secret));

    let out = cli(&["logout"], &home, &server_env());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(id) && out.stdout.contains("still exist at Rapidata"), "{}", out.stdout);
    assert!(entries(&file).get(&server().issuer).is_none());
    let check = cli(&["check"], &home, &server_env());
    assert_eq!(check.code, 12, "{}", check.stdout);
    assert!(check.stdout.contains("none found") && check.stdout.contains("raptoken login"), "check suggests the login: {}", check.stdout);
    let out = cli(&["logout"], &home, &server_env());
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("nothing to remove"), "{}", out.stdout);
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn cli_logins_from_concurrent_processes_lose_no_entry() {
    let home = temp_dir("cli-concurrent");
    let browser = recording_browser(&home);
    let env = [server_env(), vec![("BROWSER", browser.as_str())]].concat();
    const N: usize = 4;
    let children: Vec<_> = (0..N).map(|_| spawn_cli(&["login"], &home, &env)).collect();
    decide_recorded(&home, N, true);
    for child in children {
        let out = wait_bounded(child, Duration::from_secs(60), &["login"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let doc = entries(&home.join(".config/rapidata/credentials.json"));
    let ids: std::collections::HashSet<_> = doc[&server().issuer].as_array().unwrap().iter().map(|e| e["client_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), N, "{doc}");
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn cli_login_failures_have_their_exit_code_and_hint() {
    let home = temp_dir("cli-fail");
    let browser = recording_browser(&home);
    let env = [server_env(), vec![("BROWSER", browser.as_str())]].concat();
    let refuser = {
        let home = home.clone();
        std::thread::spawn(move || decide_recorded(&home, 1, false))
    };
    let out = cli(&["login"], &home, &env);
    refuser.join().unwrap();
    assert_eq!(out.code, 18, "{}", out.stderr);
    assert!(out.stderr.contains("hint: the login was refused"), "{}", out.stderr);

    let out = cli(&["login", "--no-browser", "--timeout", "1"], &home, &env);
    assert_eq!(out.code, 16, "{}", out.stderr);
    assert!(out.stderr.contains("Open this URL in a browser") && out.stderr.contains("writeKey="), "{}", out.stderr);
    assert!(out.stderr.contains("hint: approve the login") && out.stderr.contains("--timeout"), "{}", out.stderr);
    assert_eq!(std::fs::read_dir(home.join("urls")).unwrap().count(), 1, "--no-browser starts no browser");

    let (other, _child) = spawn_server(&["--no-bridge"]);
    let out = cli(&["login", "--issuer", &other.issuer, "--ca-file", &other.ca_file], &home, &[]);
    assert_eq!(out.code, 14, "{}", out.stderr);
    assert!(out.stderr.contains("no Rapidata login bridge") && out.stderr.contains("hint: this issuer is not Rapidata's"), "{}", out.stderr);
    assert!(!home.join(".config/rapidata/credentials.json").exists());

    let out = cli(&["login", "--client-id", "x"], &home, &env);
    assert_eq!(out.code, 2, "{}", out.stderr);
    std::fs::remove_dir_all(&home).unwrap();
}

/// A writer killed at any instant leaves the old file or the new one, never a part, and the
/// next writer clears the temporary file it left. `raptoken logout` rewrites the file without
/// the network; SIGKILL lands at instants spread across a whole run of it (start-up included).
#[cfg(unix)]
#[test]
fn a_writer_killed_at_any_instant_leaves_the_old_file_or_the_new_one() {
    use std::os::unix::fs::PermissionsExt;
    let home = temp_dir("killed-writer");
    let file = home.join(".config/rapidata/credentials.json");
    let tmp = file.with_file_name(".credentials.json.tmp");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::set_permissions(file.parent().unwrap(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let issuer = "https://auth.example.test";
    let entry = |id: &str| serde_json::json!({"display_name": format!("host - {id}"), "client_id": id, "client_secret": format!("secret-{id}"),
        "endpoint": "https://api.example.test", "created_at": 1.7e9, "last_used": 1.7e9});
    let before = serde_json::json!({issuer: [entry("a"), entry("b")], "https://auth.rapidata.ai": [entry("other")]});
    let after = serde_json::json!({issuer: [entry("b")], "https://auth.rapidata.ai": [entry("other")]});
    let restore = || {
        std::fs::write(&file, serde_json::to_vec_pretty(&before).unwrap()).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    let args = ["logout", "--issuer", issuer, "--client-id", "a"];
    // How long one whole run takes here: the kills are spread over that time.
    restore();
    let t0 = Instant::now();
    let out = cli(&args, &home, &[]);
    let full = t0.elapsed();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(entries(&file), after);
    let (runs, mut old, mut new, mut temps) = (60u32, 0, 0, 0);
    for i in 0..runs {
        restore();
        let mut child = spawn_cli(&args, &home, &[]);
        std::thread::sleep(full * i / runs);
        let _ = child.kill(); // SIGKILL; an error means it had already finished
        let _ = wait_bounded(child, Duration::from_secs(30), &args);
        let text = std::fs::read(&file).unwrap();
        let doc: Value = serde_json::from_slice(&text).unwrap_or_else(|e| panic!("run {i}: a partial file ({e}): {}", String::from_utf8_lossy(&text)));
        if doc == before {
            old += 1;
        } else {
            assert_eq!(doc, after, "run {i}: neither the old file nor the new one");
            new += 1;
        }
        assert_eq!(mode(&file), 0o600, "run {i}");
        temps += u32::from(tmp.exists());
    }
    eprintln!("killed writers: {old} left the old file, {new} the new one, {temps} a temporary file (of {runs}; one run takes {full:?})");
    // The next writer removes what a killed one left.
    restore();
    std::fs::write(&tmp, "{\"half\": ").unwrap();
    let out = cli(&args, &home, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(entries(&file), after);
    assert!(!tmp.exists(), "the stale temporary file is gone");
    std::fs::remove_dir_all(&home).unwrap();
}
