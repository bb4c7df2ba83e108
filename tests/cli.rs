//! The `raptoken` command against the real OpenID provider (testing/oidc-server): what it prints,
//! its exit code for each failure class with a hint, and that no run ever prints a secret.
//! Each test uses its own client ids (56-63 here), so server-side counts don't mix.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{api_accepts, server, token_requests};

/// Every secret these tests hand to the CLI; `run` fails if any run prints one of them.
const SECRETS: &[&str] = &[
    "secret-basic-56",
    "secret-basic-57",
    "secret-basic-58",
    "secret-basic-59",
    "secret-basic-60",
    "secret-basic-61",
    "secret-basic-62",
    "secret-basic-63",
    "secret-post-58",
    "secret-post-59",
    "secret-post-60",
    "secret-short-56",
    "secret-slow-14",
    "wrong-secret-for-cli",
    "argv-secret-never-echoed",
];

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

fn temp_dir(name: &str) -> PathBuf {
    // Dots, not dashes: the path must not look like a token to `has_token_like_word`.
    let d = std::env::temp_dir().join(format!("raptoken.cli.{}.{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the CLI with only `env` (plus an empty HOME, so no real credentials file is found),
/// bounded to 30 s, and checks that neither stream contains a secret.
fn run(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Out {
    static RUNS: AtomicU32 = AtomicU32::new(0);
    let dir = temp_dir(&format!("run.{}", RUNS.fetch_add(1, Ordering::Relaxed)));
    let (out_path, err_path) = (dir.join("stdout"), dir.join("stderr"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_raptoken"));
    cmd.args(args)
        .env_clear()
        .env("HOME", &dir)
        .envs(env.iter().copied())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().expect("run raptoken");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("raptoken {args:?} did not finish in 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = Out {
        code: status.code().expect("exited normally"),
        stdout: std::fs::read_to_string(&out_path).unwrap(),
        stderr: std::fs::read_to_string(&err_path).unwrap(),
    };
    std::fs::remove_dir_all(&dir).ok();
    for secret in SECRETS {
        assert!(!out.all().contains(secret), "raptoken {args:?} printed the secret {secret}:\n{}", out.all());
    }
    out
}

/// The environment that points the library at the test server, with a client's credentials.
fn env_for<'a>(id: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("RAPIDATA_ISSUER", server().issuer.as_str()),
        ("RAPIDATA_CA_FILE", server().ca_file.as_str()),
        ("RAPIDATA_CLIENT_ID", id),
        ("RAPIDATA_CLIENT_SECRET", secret),
    ]
}

fn with<'a>(mut env: Vec<(&'a str, &'a str)>, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    env.extend_from_slice(more);
    env
}

/// A token-like word (a long unbroken run of token characters) anywhere in `text`, other than a
/// key's public JWK thumbprint, which `check` shows on purpose.
fn has_token_like_word(text: &str) -> bool {
    let mut words = text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).peekable();
    while let Some(w) = words.next() {
        if w == "thumbprint" {
            words.next_if(|next| next.is_empty());
            words.next();
        } else if w.len() >= 30 {
            return true;
        }
    }
    false
}

fn assert_failure(out: &Out, code: i32, hint_words: &str, what: &str) {
    assert_eq!(out.code, code, "{what}: {}", out.all());
    let hint = out.all().lines().find(|l| l.starts_with("hint:")).map(str::to_string);
    let hint = hint.unwrap_or_else(|| panic!("{what}: no hint line in:\n{}", out.all()));
    assert!(hint.contains(hint_words), "{what}: hint lacks {hint_words:?}: {hint}");
    assert!(!has_token_like_word(&out.all()), "{what}: {}", out.all());
}

/// Runs `token` and `check` with the same settings; both must fail with `code` and a hint.
fn assert_both_fail(args: &[&str], env: &[(&str, &str)], code: i32, hint_words: &str) {
    let token = run(&[&["token"], args].concat(), env, None);
    assert_failure(&token, code, hint_words, "token");
    assert!(token.stdout.is_empty(), "a failed token run printed to stdout: {}", token.stdout);
    let check = run(&[&["check"], args].concat(), env, None);
    assert_failure(&check, code, hint_words, "check");
    let verdict = check.stdout.lines().find(|l| l.starts_with("verdict:")).expect("a verdict line");
    assert!(verdict.contains("FAILED") && verdict.contains(&format!("exit {code}")), "{verdict}");
}

#[test]
fn token_prints_exactly_the_token() {
    let out = run(&["token"], &env_for("basic-56", "secret-basic-56"), None);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stderr.is_empty(), "stderr: {}", out.stderr);
    let token = out.stdout.strip_suffix('\n').expect("ends with a newline");
    assert!(!token.is_empty() && !token.contains(char::is_whitespace), "{:?}", out.stdout);
    assert!(api_accepts(token), "the printed token works against the API");
    assert_eq!(token_requests("basic-56"), 1);
}

#[test]
fn json_has_token_type_scope_and_expiry() {
    let out = run(&["token", "--json"], &env_for("basic-57", "secret-basic-57"), None);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout.lines().count(), 1, "one line of JSON");
    let j: serde_json::Value = serde_json::from_str(&out.stdout).expect("valid JSON");
    let mut keys: Vec<_> = j.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["access_token", "expires_at", "expires_at_unix", "expires_in", "refresh_at", "refresh_at_unix", "scope", "token_type"]
    );
    assert!(api_accepts(j["access_token"].as_str().unwrap()));
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["scope"], "openid roles email");
    let expires_in = j["expires_in"].as_u64().unwrap();
    assert!((3590..=3600).contains(&expires_in), "{expires_in}");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let expires_at = j["expires_at_unix"].as_i64().unwrap();
    assert!((expires_at - now - 3600).abs() <= 10, "{expires_at} vs now {now}");
    assert!(j["refresh_at_unix"].as_i64().unwrap() < expires_at);
    // The ISO form is the same instant as the Unix one (checked with date(1)).
    let date = Command::new("date").args(["-u", "-d", &format!("@{expires_at}"), "+%Y-%m-%dT%H:%M:%SZ"]).output().unwrap();
    assert_eq!(j["expires_at"].as_str().unwrap(), String::from_utf8(date.stdout).unwrap().trim());
}

#[test]
fn secret_from_a_file_or_stdin_wins_over_the_environment() {
    let dir = temp_dir("secret-file");
    let file = dir.join("secret");
    std::fs::write(&file, "secret-basic-58\n").unwrap();
    // The environment holds a wrong pair: the explicit flags must win.
    let env = env_for("basic-58", "wrong-secret-for-cli");
    let out = run(&["token", "--client-id", "basic-58", "--client-secret-file", file.to_str().unwrap()], &env, None);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(api_accepts(out.stdout.trim()));

    let args = ["token", "--client-id=post-58", "--client-secret-stdin", "--auth-method", "post"];
    let out = run(&args, &env, Some("secret-post-58\n"));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(api_accepts(out.stdout.trim()));
    assert_eq!(token_requests("post-58"), 1);

    let missing = dir.join("missing");
    let out = run(&["token", "--client-id", "basic-58", "--client-secret-file", missing.to_str().unwrap()], &env, None);
    assert_failure(&out, 14, "--client-secret-file", "missing secret file");
    let out = run(&["token", "--client-id", "basic-58", "--client-secret-stdin"], &env, Some(""));
    assert_failure(&out, 14, "--client-secret-stdin", "empty stdin");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn check_explains_a_working_setup() {
    let s = server();
    let out = run(&["check"], &env_for("basic-59", "secret-basic-59"), None);
    assert_eq!(out.code, 0, "{}", out.all());
    let line = |label: &str| -> String {
        let prefix = format!("{label}:");
        out.stdout.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {label} line:\n{}", out.stdout)).to_string()
    };
    assert!(line("credentials").contains("RAPIDATA_CLIENT_ID") && line("credentials").contains("basic-59"));
    assert!(line("issuer").ends_with(&s.issuer));
    assert!(line("discovery").contains("ok"));
    assert!(line("token endpoint").contains(&format!("{} (discovered)", s.token_endpoint)), "{}", line("token endpoint"));
    assert!(line("auth method").contains("client_secret_basic"));
    assert!(line("token request").contains("HTTP 200"));
    // Server and client share this machine's clock: at most a small skew (Node caches its Date
    // header for up to a second, longer on a loaded machine).
    let skew = line("clock skew");
    assert!(skew.contains("Date header"), "{skew}");
    if !skew.contains("none measurable") {
        let secs: f64 = skew.split_whitespace().find_map(|w| w.parse().ok()).expect("a number of seconds");
        assert!(secs < 5.0, "{skew}");
    }
    assert!(line("token lifetime").contains("3600 s"), "{}", line("token lifetime"));
    let last = out.stdout.lines().last().unwrap();
    assert!(last.starts_with("verdict:") && last.contains("OK"), "{last}");
    assert!(!has_token_like_word(&out.stdout), "check printed something token-like:\n{}", out.stdout);
    assert_eq!(token_requests("basic-59"), 1);

    let out = run(&["check", "--token-endpoint", &s.token_endpoint], &env_for("basic-59", "secret-basic-59"), None);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("skipped (the token endpoint is configured)"), "{}", out.stdout);
}

#[test]
fn no_credentials_is_12() {
    let env = [("RAPIDATA_ISSUER", server().issuer.as_str()), ("RAPIDATA_CA_FILE", server().ca_file.as_str())];
    assert_both_fail(&[], &env, 12, "RAPIDATA_CLIENT_ID");
    // A lone half in the environment is not a pair.
    let env = [env[0], env[1], ("RAPIDATA_CLIENT_ID", "basic-60")];
    assert_both_fail(&[], &env, 12, "RAPIDATA_CLIENT_SECRET");
}

#[test]
fn oauth_refusals_are_18() {
    assert_both_fail(&[], &env_for("basic-60", "wrong-secret-for-cli"), 18, "secret");
    assert_both_fail(&["--scope", "openid admin"], &env_for("basic-61", "secret-basic-61"), 18, "scopes");
    // A wrong URL on the real server: 404 with an OAuth error body.
    let nope = format!("{}/nope", server().issuer);
    assert_both_fail(&["--token-endpoint", &nope], &env_for("basic-61", "secret-basic-61"), 18, "not a token endpoint");
    assert_eq!(token_requests("basic-60"), 2);
}

#[test]
fn transport_failures_are_15() {
    let env = env_for("basic-62", "secret-basic-62");
    assert_both_fail(&["--ca-file", &server().wrong_ca_file], &env, 15, "--ca-file");
    assert_both_fail(&["--issuer", "https://127.0.0.1:9"], &env, 15, "nothing answered");
    assert_eq!(token_requests("basic-62"), 0);
}

#[test]
fn config_and_invalid_values() {
    let env = env_for("basic-62", "secret-basic-62");
    assert_both_fail(&["--ca-file", "/nonexistent/ca.pem"], &env, 14, "--ca-file");
    assert_both_fail(&["--issuer", "http://auth.example.com"], &env, 11, "command line");
    let mut bad_env = env.clone();
    bad_env.push(("RAPIDATA_AUTH_METHOD", "kerberos"));
    assert_both_fail(&[], &bad_env, 14, "environment variable");
}

/// A plain-HTTP endpoint on loopback that answers every request with `response`: for answers
/// the real provider never gives (an HTML error page, a 200 that is not a token response).
fn fake_endpoint(response: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/connect/token", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            // Read the head and the body, so closing does not reset the connection early.
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 {
                    break;
                }
                req.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&req).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if req.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
            let head = response.split_once("\r\n\r\n").map_or(response, |(h, _)| h);
            let full = format!("{head}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            conn.write_all(full.as_bytes()).ok();
        }
    });
    url
}

#[test]
fn http_errors_and_non_token_answers() {
    let env = env_for("basic-63", "secret-basic-63");
    let forbidden = fake_endpoint("HTTP/1.1 403 Forbidden\r\ncontent-type: text/html\r\n\r\n<html>Blocked by policy</html>");
    assert_both_fail(&["--token-endpoint", &forbidden], &env, 17, "forbids");
    let portal = fake_endpoint("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\r\n<html>Please log in</html>");
    assert_both_fail(&["--token-endpoint", &portal], &env, 19, "not like an OAuth token endpoint");
}

/// Resets the server's response delay for slow-* clients even if the test fails.
struct Delay;
impl Delay {
    fn set(ms: u64) -> Delay {
        ureq::post(&format!("{}/delay?ms={ms}", server().admin)).send_empty().expect("admin /delay");
        Delay
    }
}
impl Drop for Delay {
    fn drop(&mut self) {
        ureq::post(&format!("{}/delay?ms=0", server().admin)).send_empty().ok();
    }
}

#[test]
fn slow_fetches_show_progress_and_time_out_with_16() {
    let env = env_for("slow-14", "secret-slow-14");
    let _delay = Delay::set(1500);
    let out = run(&["token", "--progress", "always"], &env, None);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stderr.contains("still waiting for"), "no progress after 1.5 s: {:?}", out.stderr);
    assert!(api_accepts(out.stdout.trim()), "stdout is still just the token");
    // Default (auto): stderr is not a terminal here, so nothing is shown.
    let out = run(&["token"], &env, None);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", out.all());
    let out = run(&["token", "--request-timeout", "500ms"], &env, None);
    assert_failure(&out, 16, "--request-timeout", "timeout");
}

#[test]
fn usage_errors_are_2_and_never_echo_a_secret() {
    let env = env_for("basic-56", "secret-basic-56");
    for args in [
        &["token", "--no-such-flag"][..],
        &["frobnicate"],
        &[],
        &["token", "--scope"],
        &["token", "--connect-timeout", "soon"],
        &["token", "--auth-method", "kerberos"],
        &["check", "--json"],
        &["token", "--client-id", "basic-56"],
        &["token", "--client-secret=argv-secret-never-echoed"],
        &["token", "--client-secret", "argv-secret-never-echoed"],
        &["token", "argv-secret-never-echoed"],
    ] {
        let out = run(args, &env, None);
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(out.stderr.contains("raptoken --help"), "{args:?}: {}", out.stderr);
    }
    let out = run(&["token", "--client-secret=argv-secret-never-echoed"], &env, None);
    assert!(out.stderr.contains("--client-secret-file") && out.stderr.contains("--client-secret-stdin"), "{}", out.stderr);
}

#[test]
fn help_and_version() {
    let out = run(&["--help"], &[], None);
    assert_eq!(out.code, 0);
    for needle in ["Examples:", "raptoken token", "raptoken check", "--client-secret-stdin", "Exit status", "18  OAUTH"] {
        assert!(out.stdout.contains(needle), "help lacks {needle}");
    }
    assert_eq!(run(&["help"], &[], None).stdout, out.stdout);
    let out = run(&["--version"], &[], None);
    assert_eq!((out.code, out.stdout.as_str()), (0, format!("raptoken {}\n", env!("CARGO_PKG_VERSION")).as_str()));
}

#[test]
fn maintain_once_writes_a_token_file_that_token_and_check_read() {
    let dir = temp_dir("token-file");
    let file = dir.join("token.json");
    let f = file.to_str().unwrap();
    // RAPIDATA_TOKEN_FILE names the same file, as it would for the workers: the maintainer
    // must exchange credentials rather than read its own output.
    let env = with(env_for("post-59", "secret-post-59"), &[("RAPIDATA_AUTH_METHOD", "client_secret_post"), ("RAPIDATA_TOKEN_FILE", f)]);
    let out = run(&["maintain", "--token-file", f, "--once"], &env, None);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.is_empty() && out.stderr.contains("wrote a token to"), "{}", out.all());
    assert!(!has_token_like_word(&out.all()), "{}", out.all());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let token = j["access_token"].as_str().unwrap().to_string();
    assert!(api_accepts(&token));
    assert_eq!(token_requests("post-59"), 1);

    // A worker with no credentials at all, only the file.
    let reader = [("RAPIDATA_ISSUER", server().issuer.as_str()), ("RAPIDATA_CA_FILE", server().ca_file.as_str()), ("RAPIDATA_TOKEN_FILE", f)];
    let out = run(&["token"], &reader, None);
    assert_eq!((out.code, out.stdout.trim()), (0, token.as_str()), "{}", out.all());
    let out = run(&["check"], &reader, None);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("token file") && out.stdout.contains("not sent: the token was read from the token file"), "{}", out.stdout);
    assert!(!has_token_like_word(&out.stdout), "{}", out.stdout);
    assert_eq!(token_requests("post-59"), 1, "readers send no token request");

    // A stale file: the hint names the maintainer.
    std::fs::write(&file, r#"{"access_token":"stale-token","token_type":"Bearer","expires_at":1000}"#).unwrap();
    assert_failure(&run(&["token"], &reader, None), 14, "raptoken maintain", "stale token file");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn maintain_renews_the_file_before_the_token_expires() {
    // short-N tokens live 3 s, so the maintainer has to replace the file's token by itself.
    let dir = temp_dir("maintain");
    let file = dir.join("token.json");
    let err_path = dir.join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_raptoken"))
        .args(["maintain", "--token-file", file.to_str().unwrap()])
        .env_clear()
        .env("HOME", &dir)
        .envs(env_for("short-56", "secret-short-56"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let read_token = || -> Option<String> {
        let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).ok()?).ok()?;
        j["access_token"].as_str().map(str::to_string)
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen: Vec<String> = Vec::new();
    while seen.len() < 2 && Instant::now() < deadline {
        if let Some(t) = read_token() {
            if seen.last() != Some(&t) {
                seen.push(t);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().ok();
    child.wait().ok();
    let stderr = std::fs::read_to_string(&err_path).unwrap();
    assert!(!stderr.contains("secret-short-56") && !has_token_like_word(&stderr), "{stderr}");
    assert_eq!(seen.len(), 2, "the file's token was not renewed within 15 s: {stderr}");
    assert!(api_accepts(&seen[1]), "the renewed token works");
    assert!(token_requests("short-56") >= 2);
    assert!(stderr.matches("wrote a token to").count() >= 2, "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn shared_cache_lets_repeated_runs_reuse_one_token() {
    let dir = temp_dir("shared");
    let cache = dir.join("cache"); // created by the library, mode 0700
    let env = with(env_for("post-60", "secret-post-60"), &[("RAPIDATA_AUTH_METHOD", "client_secret_post")]);
    let args = ["token", "--shared-cache-dir", cache.to_str().unwrap()];
    let first = run(&args, &env, None);
    let second = run(&args, &env, None);
    assert_eq!(first.code, 0, "{}", first.all());
    assert_eq!(first.stdout, second.stdout, "the second run reuses the first one's token");
    assert_eq!(token_requests("post-60"), 1);
    let out = run(&["check", "--shared-cache-dir", cache.to_str().unwrap()], &env, None);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains(&format!("shared cache:   {}", cache.display())), "{}", out.stdout);
    assert!(out.stdout.contains("taken from the shared cache"), "{}", out.stdout);
    assert!(run(&["check"], &env, None).stdout.contains("shared cache:   off"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn keygen_then_a_secretless_client_with_its_key() {
    let d = temp_dir("keygen");
    let key = d.join("key.pem");
    let out = run(&["keygen", "--out", key.to_str().unwrap(), "--client-key-id", "cli-1"], &[], None);
    assert_eq!(out.code, 0, "{}", out.all());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    let pem = std::fs::read_to_string(&key).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!out.all().contains(&body[..30]), "keygen printed the private key");
    // stdout is the public JWK alone, ready to register.
    let jwk: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!((jwk["kty"].as_str(), jwk["kid"].as_str(), jwk["alg"].as_str()), (Some("EC"), Some("cli-1"), Some("ES256")));
    assert!(jwk.get("d").is_none());
    let thumbprint = raptoken::ClientKey::from_pem(&pem).unwrap().thumbprint().to_string();
    assert!(out.stderr.contains(&thumbprint) && out.stderr.contains("--client-key-file"), "{}", out.stderr);
    common::register_jwt_client("cli-jwt", &[out.stdout.trim()], serde_json::Value::Null);

    // Never over an existing key.
    let again = run(&["keygen", "--out", key.to_str().unwrap()], &[], None);
    assert_failure(&again, 14, "never replaces", "keygen over a key");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), pem);
    let jwks = run(&["keygen", "--out", d.join("k2.pem").to_str().unwrap(), "--jwks"], &[], None);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&jwks.stdout).unwrap()["keys"][0]["kty"], "EC");

    let server_env = [("RAPIDATA_ISSUER", server().issuer.as_str()), ("RAPIDATA_CA_FILE", server().ca_file.as_str())];
    let flags = ["--client-id", "cli-jwt", "--client-key-file", key.to_str().unwrap(), "--client-key-id", "cli-1"];
    let out = run(&[&["token"], &flags[..]].concat(), &server_env, None);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(api_accepts(out.stdout.trim()));

    let out = run(&[&["check"], &flags[..]].concat(), &server_env, None);
    assert_eq!(out.code, 0, "{}", out.all());
    let line = |label: &str| out.stdout.lines().find(|l| l.starts_with(&format!("{label}:"))).unwrap_or_default().to_string();
    assert!(line("credentials").contains("the key is never shown"), "{}", out.stdout);
    assert!(line("auth method").ends_with("private_key_jwt"), "{}", out.stdout);
    assert!(line("client key").contains(&format!("EC P-256 from {}, JWK thumbprint {thumbprint}", key.display())), "{}", out.stdout);
    assert!(line("assertion").contains("ES256 JWT for 60 s, kid cli-1, aud the token endpoint"), "{}", out.stdout);
    assert!(line("verdict").contains("OK"), "{}", out.stdout);
    assert!(!has_token_like_word(&out.stdout), "{}", out.stdout);

    // The environment pair, with a resource and an audience from the environment too.
    let resource = server().resources[0].as_str();
    let env = with(
        server_env.to_vec(),
        &[
            ("RAPIDATA_CLIENT_ID", "cli-jwt"),
            ("RAPIDATA_CLIENT_KEY_FILE", key.to_str().unwrap()),
            ("RAPIDATA_CLIENT_KEY_ID", "cli-1"),
            ("RAPIDATA_RESOURCE", resource),
            ("RAPIDATA_AUDIENCE", "https://aud.example.test/"),
        ],
    );
    let out = run(&["check"], &env, None);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_KEY_FILE"), "{}", out.stdout);
    assert!(out.stdout.contains(&format!("parameters:     audience https://aud.example.test/; resource {resource}")), "{}", out.stdout);
    let last = common::requests("cli-jwt").pop().unwrap();
    assert_eq!(last["params"]["resource"], serde_json::json!([resource]));

    // A key file others can read: CONFIG, naming the file and the fix.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_both_fail(&flags, &server_env, 14, "chmod 600");
    // A key the server does not know: OAUTH, with a hint about keys.
    let other = d.join("other.pem");
    assert_eq!(run(&["keygen", "--out", other.to_str().unwrap()], &[], None).code, 0);
    let flags = ["--client-id", "cli-jwt", "--client-key-file", other.to_str().unwrap()];
    assert_both_fail(&flags, &server_env, 18, "register this key's public JWK");
}
