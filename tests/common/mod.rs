//! Test harness: a real OpenID provider (testing/oidc-server, npm `oidc-provider`) over HTTPS.
//! Uses the one `testing/with-oidc-server.sh` started (RAPTOKEN_TEST_* variables), or starts
//! its own for plain `cargo test`. The child dies with this process: it exits when its stdin
//! (a pipe we hold) closes.
#![allow(dead_code)]

pub mod redis;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use once_cell::sync::Lazy;

pub struct Server {
    pub issuer: String,
    pub token_endpoint: String,
    pub api: String,
    pub admin: String,
    pub ca_file: String,
    pub wrong_ca_file: String,
    /// The server's directory: its CA and its certificate for localhost (server.pem, server-key.pem).
    pub dir: String,
    /// The resource indicators (RFC 8707) the server knows.
    pub resources: Vec<String>,
}

static CHILD: Lazy<Mutex<Option<Child>>> = Lazy::new(|| Mutex::new(None));

pub static SERVER: Lazy<Server> = Lazy::new(|| {
    if let Ok(issuer) = std::env::var("RAPTOKEN_TEST_ISSUER") {
        let v = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} not set"));
        return Server {
            issuer,
            token_endpoint: v("RAPTOKEN_TEST_TOKEN_ENDPOINT"),
            api: v("RAPTOKEN_TEST_API"),
            admin: v("RAPTOKEN_TEST_ADMIN"),
            ca_file: v("RAPTOKEN_TEST_CA_FILE"),
            wrong_ca_file: v("RAPTOKEN_TEST_WRONG_CA_FILE"),
            dir: v("RAPTOKEN_TEST_SERVER_DIR"),
            resources: v("RAPTOKEN_TEST_RESOURCES").split_whitespace().map(str::to_string).collect(),
        };
    }
    let (server, child) = spawn_server(&[]);
    *CHILD.lock().unwrap() = Some(child);
    server
});

/// Starts another test server with `args` (e.g. `--no-bridge`). It stops when the returned
/// child is dropped with its stdin, or with this process.
pub fn spawn_server(args: &[&str]) -> (Server, Child) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let deps = Command::new(root.join("testing/oidc-server/install-deps.sh")).status().expect("run install-deps.sh");
    assert!(deps.success(), "npm dependencies of the test server failed to install");
    let mut child = Command::new("node")
        .arg(root.join("testing/oidc-server/server.mjs"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start node testing/oidc-server/server.mjs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("read the server's ready line");
    let j: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad ready line {line:?}: {e}"));
    let s = |k: &str| j[k].as_str().unwrap_or_else(|| panic!("{k} missing in {line}")).to_string();
    let server = Server {
        issuer: s("issuer"),
        token_endpoint: s("token_endpoint"),
        api: s("api"),
        admin: s("admin"),
        ca_file: s("ca_file"),
        wrong_ca_file: s("wrong_ca_file"),
        dir: s("dir"),
        resources: j["resources"].as_array().into_iter().flatten().filter_map(|r| r.as_str().map(str::to_string)).collect(),
    };
    (server, child)
}

pub fn server() -> &'static Server {
    &SERVER
}

/// Token requests the server has seen from `client_id` (counted on the server side).
pub fn token_requests(client_id: &str) -> u64 {
    let url = format!("{}/stats?client_id={client_id}", server().admin);
    let body = ureq::get(&url).call().expect("admin stats").body_mut().read_to_string().unwrap();
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    j["token_requests"].as_u64().unwrap()
}

/// Asks the protected test API whether `token` is currently valid there.
pub fn api_accepts(token: &str) -> bool {
    api_me(token).is_some()
}

/// The protected test API's answer for `token` (`client_id`, `scope`, `aud`), or `None` for a 401.
pub fn api_me(token: &str) -> Option<serde_json::Value> {
    let mut resp = tls_agent().get(&server().api).header("Authorization", &format!("Bearer {token}")).call().unwrap();
    (resp.status().as_u16() == 200).then(|| serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap())
}

/// Options for a registered test client, trusting the test CA.
pub fn options(client_id: &str, secret: &str) -> raptoken::ClientOptions {
    raptoken::ClientOptions::new()
        .client_id(client_id)
        .unwrap()
        .client_secret(secret)
        .unwrap()
        .issuer(&server().issuer)
        .unwrap()
        .ca_file(&server().ca_file)
        .unwrap()
}

/// `basic-N` with its secret.
pub fn basic(n: u32) -> raptoken::ClientOptions {
    options(&format!("basic-{n}"), &format!("secret-basic-{n}"))
}

/// Registers a new client with a secret at the test server (a fresh id, so its request count
/// starts at 0 whatever else runs) and returns its id and secret.
pub fn new_client(tag: &str) -> (String, String) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let id = format!("{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    let secret = format!("secret-of-{id}-0123456789");
    let body = format!(r#"{{"client_id":"{id}","client_secret":"{secret}","token_endpoint_auth_method":"client_secret_basic"}}"#);
    ureq::post(&format!("{}/clients", server().admin)).header("Content-Type", "application/json").send(body.as_bytes()).expect("register a client");
    (id, secret)
}

/// An agent that trusts the test CA (for requests the library does not make itself).
pub fn tls_agent() -> ureq::Agent {
    let ca = std::fs::read(&server().ca_file).unwrap();
    let certs: Vec<_> = ureq::tls::parse_pem(&ca)
        .filter_map(|i| match i {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    ureq::Agent::config_builder()
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&certs)).build())
        .http_status_as_error(false)
        .build()
        .into()
}

/// A call to the admin API (plain HTTP on loopback) with an optional JSON body; its JSON answer.
pub fn admin(method: &str, path: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
    let url = format!("{}{path}", server().admin);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut resp = match (method, body) {
        ("GET", _) => agent.get(&url).call(),
        ("DELETE", _) => agent.delete(&url).call(),
        (_, Some(b)) => agent.post(&url).header("Content-Type", "application/json").send(b.to_string()),
        (_, None) => agent.post(&url).send_empty(),
    }
    .unwrap_or_else(|e| panic!("admin {method} {path}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// Registers a private_key_jwt client with these public JWKs (extra metadata merged in).
pub fn register_jwt_client(client_id: &str, jwks: &[&str], extra: serde_json::Value) {
    let keys: Vec<serde_json::Value> = jwks.iter().map(|j| serde_json::from_str(j).unwrap()).collect();
    let mut body = serde_json::json!({"client_id": client_id, "jwks": {"keys": keys}});
    if let serde_json::Value::Object(more) = extra {
        body.as_object_mut().unwrap().extend(more);
    }
    let (status, answer) = admin("POST", "/clients", Some(body));
    assert_eq!(status, 200, "registering {client_id}: {answer}");
}

/// What the token endpoint received from `client_id`, oldest first (`GET /requests`).
pub fn requests(client_id: &str) -> Vec<serde_json::Value> {
    let (status, answer) = admin("GET", &format!("/requests?client_id={client_id}"), None);
    assert_eq!(status, 200, "{answer}");
    match answer {
        serde_json::Value::Array(a) => a,
        other => other["requests"].as_array().cloned().unwrap_or_else(|| panic!("unexpected /requests answer: {other}")),
    }
}

/// Runs openssl (keys for the tests: RSA, and the formats other tools write).
pub fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl").args(args).output().expect("run openssl");
    assert!(out.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}
