//! Test harness: a real OpenID provider (testing/oidc-server, npm `oidc-provider`) over HTTPS.
//! Uses the one `testing/with-oidc-server.sh` started (RAPTOKEN_TEST_* variables), or starts
//! its own for plain `cargo test`. The child dies with this process: it exits when its stdin
//! (a pipe we hold) closes.
#![allow(dead_code)]

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
    let ca = std::fs::read(&server().ca_file).unwrap();
    let certs: Vec<_> = ureq::tls::parse_pem(&ca)
        .filter_map(|i| match i {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&certs)).build())
        .http_status_as_error(false)
        .build()
        .into();
    let resp = agent.get(&server().api).header("Authorization", &format!("Bearer {token}")).call().unwrap();
    resp.status().as_u16() == 200
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
