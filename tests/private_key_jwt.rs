//! private_key_jwt (RFC 7523) and token request parameters against the real OpenID provider
//! (testing/oidc-server), which registers clients with a public JWKS at run time and logs what
//! its token endpoint received, assertions decoded (`GET /requests`). Client ids start with
//! `rs-jwt-`, one per test, so request logs don't mix.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{api_me, openssl, register_jwt_client, requests, server, tls_agent};
use raptoken::internals::client_assertion;
use raptoken::{AuthMethod, Client, ClientKey, ClientOptions, ErrorKind, LogLevel, Logger, SigningAlgorithm};
use serde_json::Value;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("raptoken-jwt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `pem` in a new file of `mode`.
fn key_file(dir: &Path, name: &str, pem: &[u8], mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn ec_key() -> (ClientKey, String) {
    let (key, pem) = ClientKey::generate().unwrap();
    (key, pem.to_string())
}

/// A 2048-bit RSA key in PKCS#8 PEM, as `openssl genpkey` writes it.
fn rsa_pem() -> String {
    String::from_utf8(openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])).unwrap()
}

fn options(client_id: &str) -> ClientOptions {
    ClientOptions::new().client_id(client_id).unwrap().issuer(&server().issuer).unwrap().ca_file(&server().ca_file).unwrap()
}

/// The decoded assertion of the last request `client_id` sent.
fn last_assertion(client_id: &str) -> Value {
    let log = requests(client_id);
    let last = log.last().unwrap_or_else(|| panic!("no request from {client_id}"));
    assert_eq!(last["auth"], "private_key_jwt", "{last}");
    assert!(last["params"].get("client_secret").is_none());
    last["client_assertion"].clone()
}

#[test]
fn an_ec_key_gets_tokens_with_fresh_well_formed_assertions() {
    let (key, pem) = ec_key();
    register_jwt_client("rs-jwt-ec", &[&key.public_jwk(SigningAlgorithm::Es256, Some("ec-1"))], Value::Null);
    let o = options("rs-jwt-ec").client_key(&pem).unwrap().client_key_id("ec-1").unwrap();
    let client = Client::new(&o).unwrap();
    assert_eq!(client.config().auth_method, AuthMethod::PrivateKeyJwt);
    let first = client.token().unwrap();
    assert_eq!(api_me(&first).unwrap()["client_id"], "rs-jwt-ec");

    let a = last_assertion("rs-jwt-ec");
    assert_eq!(a["header"], serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": "ec-1"}));
    let c = &a["claims"];
    assert_eq!((c["iss"].as_str(), c["sub"].as_str()), (Some("rs-jwt-ec"), Some("rs-jwt-ec")));
    assert_eq!(c["aud"].as_str(), Some(server().token_endpoint.as_str()), "aud defaults to the token endpoint");
    assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 60, "a short-lived assertion");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(c["iat"].as_u64().unwrap().abs_diff(now) < 30);

    // A second token request signs a new assertion: the server refuses a jti it has seen.
    assert!(client.invalidate(&first));
    let second = client.token().unwrap();
    assert_ne!(first, second);
    let log = requests("rs-jwt-ec");
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["status"], 200, "{}", log[1]);
    assert_ne!(log[0]["client_assertion"]["claims"]["jti"], log[1]["client_assertion"]["claims"]["jti"]);
}

#[test]
fn rsa_keys_from_files_sign_rs256_by_default_and_ps256_when_asked() {
    let d = dir("rsa");
    let pkcs8 = rsa_pem();
    let k8 = key_file(&d, "pkcs8.pem", pkcs8.as_bytes(), 0o600);
    // The same key as PKCS#1 (`BEGIN RSA PRIVATE KEY`), read-only for its owner.
    let pkcs1 = openssl(&["pkey", "-in", k8.to_str().unwrap(), "-traditional"]);
    assert!(pkcs1.starts_with(b"-----BEGIN RSA PRIVATE KEY-----"));
    let k1 = key_file(&d, "pkcs1.pem", &pkcs1, 0o400);
    let key = ClientKey::from_pem(&pkcs8).unwrap();
    assert_eq!(key.kind(), "RSA 2048-bit");
    assert_eq!(ClientKey::from_pem(std::str::from_utf8(&pkcs1).unwrap()).unwrap().thumbprint(), key.thumbprint());
    // A JWK names one `alg`: the server gets one for each.
    let jwks = [key.public_jwk(SigningAlgorithm::Rs256, None), key.public_jwk(SigningAlgorithm::Ps256, None)];
    register_jwt_client("rs-jwt-rsa", &[&jwks[0], &jwks[1]], Value::Null);

    for (file, alg, want) in [(&k8, None, "RS256"), (&k1, Some(SigningAlgorithm::Ps256), "PS256"), (&k1, None, "RS256")] {
        let mut o = options("rs-jwt-rsa").client_key_file(file.to_str().unwrap()).unwrap();
        if let Some(a) = alg {
            o = o.client_key_algorithm(a);
        }
        let token = Client::new(&o).unwrap().token().unwrap();
        assert!(api_me(&token).is_some());
        let a = last_assertion("rs-jwt-rsa");
        assert_eq!(a["header"]["alg"], want);
        assert!(a["header"].get("kid").is_none(), "no kid unless set");
    }
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn a_sec1_ec_key_from_openssl_ecparam_works() {
    let d = dir("sec1");
    let pem = openssl(&["ecparam", "-name", "prime256v1", "-genkey"]);
    assert!(String::from_utf8_lossy(&pem).contains("BEGIN EC PARAMETERS"), "with the parameters block openssl adds");
    let path = key_file(&d, "ec.pem", &pem, 0o600);
    let key = ClientKey::from_pem(std::str::from_utf8(&pem).unwrap()).unwrap();
    register_jwt_client("rs-jwt-sec1", &[&key.public_jwk(SigningAlgorithm::Es256, None)], Value::Null);
    let token = Client::new(&options("rs-jwt-sec1").client_key_file(path.to_str().unwrap()).unwrap()).unwrap().token().unwrap();
    assert!(api_me(&token).is_some());
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn a_key_the_server_does_not_know_is_oauth_invalid_client_with_a_key_hint() {
    let (registered, _) = ec_key();
    let (_, other_pem) = ec_key();
    register_jwt_client("rs-jwt-wrong", &[&registered.public_jwk(SigningAlgorithm::Es256, None)], Value::Null);
    let e = Client::new(&options("rs-jwt-wrong").client_key(&other_pem).unwrap()).unwrap().token().unwrap_err();
    assert_eq!((e.kind(), e.oauth_code(), e.http_status()), (ErrorKind::OAuth, Some("invalid_client"), 401));
    assert!(e.message().contains("thumbprint") && e.message().contains("clock"), "{}", e.message());
    assert_eq!(requests("rs-jwt-wrong").len(), 1, "invalid_client is not retried");
    assert_eq!(requests("rs-jwt-wrong")[0]["error_detail"], "signature verification failed");
    // A kid the JWKS does not have is refused the same way.
    let (key, pem) = ec_key();
    register_jwt_client("rs-jwt-kid", &[&key.public_jwk(SigningAlgorithm::Es256, Some("right"))], Value::Null);
    let e = Client::new(&options("rs-jwt-kid").client_key(&pem).unwrap().client_key_id("wrong").unwrap()).unwrap().token().unwrap_err();
    assert_eq!(e.oauth_code(), Some("invalid_client"));
}

/// Posts a ready assertion for `client_id` to the token endpoint as the library would.
fn post_assertion(assertion: &str) -> (u16, Value) {
    let body = format!(
        "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}"
    );
    let mut resp = tls_agent()
        .post(&server().token_endpoint)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(body)
        .unwrap();
    (resp.status().as_u16(), serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap())
}

#[test]
fn the_server_refuses_expired_and_replayed_assertions() {
    // What makes a 60 s assertion safe: the server enforces exp (with no leeway) and jti.
    let (key, _) = ec_key();
    register_jwt_client("rs-jwt-replay", &[&key.public_jwk(SigningAlgorithm::Es256, None)], Value::Null);
    let endpoint = &server().token_endpoint;
    let old = SystemTime::now() - Duration::from_secs(61);
    let expired = client_assertion(&key, SigningAlgorithm::Es256, "rs-jwt-replay", endpoint, old).unwrap();
    let (status, body) = post_assertion(&expired);
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    assert_eq!(requests("rs-jwt-replay").last().unwrap()["error_detail"], "jwt expired");

    let fresh = client_assertion(&key, SigningAlgorithm::Es256, "rs-jwt-replay", endpoint, SystemTime::now()).unwrap();
    assert_eq!(post_assertion(&fresh).0, 200);
    let (status, body) = post_assertion(&fresh);
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    assert_eq!(requests("rs-jwt-replay").last().unwrap()["error_detail"], "client assertion tokens must only be used once");
}

#[test]
fn the_assertion_audience_can_be_the_issuer() {
    // A client whose server wants the issuer as aud, spelled as discovery spells it (slash).
    let (key, pem) = ec_key();
    let jwk = key.public_jwk(SigningAlgorithm::Es256, None);
    register_jwt_client("rs-jwt-aud", &[&jwk], serde_json::json!({"assertion_audience": "issuer"}));
    let base = options("rs-jwt-aud").client_key(&pem).unwrap();
    let e = Client::new(&base).unwrap().token().unwrap_err();
    assert_eq!(e.oauth_code(), Some("invalid_client"), "the default (token endpoint) is refused by this client");
    let issuer = format!("{}/", server().issuer);
    let token = Client::new(&base.clone().assertion_audience(&issuer).unwrap()).unwrap().token().unwrap();
    assert!(api_me(&token).is_some());
    assert_eq!(last_assertion("rs-jwt-aud")["claims"]["aud"], issuer.as_str());
}

#[test]
fn key_files_open_to_others_malformed_or_missing_fail_creation_with_config() {
    let d = dir("files");
    let (_, pem) = ec_key();
    let loose = key_file(&d, "loose.pem", pem.as_bytes(), 0o644);
    let e = Client::new(&options("rs-jwt-files").client_key_file(loose.to_str().unwrap()).unwrap()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    for want in [loose.to_str().unwrap(), "mode 644", "chmod 600"] {
        assert!(e.message().contains(want), "{}", e.message());
    }
    let cases: &[(&str, &[u8], &str)] = &[
        ("truncated.pem", &pem.as_bytes()[..120], "no END line"),
        ("public.pem", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "only PUBLIC KEY"),
        ("binary.der", b"\x30\x82\x04\xbe\xff\xfe", "not PEM text"),
        ("empty.pem", b"", "not PEM"),
    ];
    for (name, bytes, want) in cases {
        let path = key_file(&d, name, bytes, 0o600);
        let e = Client::new(&options("rs-jwt-files").client_key_file(path.to_str().unwrap()).unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{name}");
        assert!(e.message().contains(path.to_str().unwrap()) && e.message().contains(want), "{name}: {}", e.message());
    }
    let missing = d.join("missing.pem");
    let e = Client::new(&options("rs-jwt-files").client_key_file(missing.to_str().unwrap()).unwrap()).unwrap_err();
    assert!(e.message().contains("does not exist"), "{}", e.message());
    assert_eq!(requests("rs-jwt-files").len(), 0, "nothing reached the server");
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn audience_resource_and_extra_parameters_reach_the_server() {
    let resource = &server().resources[0];
    let o = common::basic(40).audience("https://aud.example.test/").unwrap().resource(resource).unwrap();
    let o = o.extra_param("organization", "R&D team").unwrap();
    let token = Client::new(&o).unwrap().token().unwrap();
    assert_eq!(api_me(&token).unwrap()["aud"], resource.as_str(), "the token is for the resource");
    let last = requests("basic-40").pop().unwrap();
    assert_eq!(last["params"]["audience"], serde_json::json!(["https://aud.example.test/"]));
    assert_eq!(last["params"]["resource"], serde_json::json!([resource]));
    assert_eq!(last["params"]["organization"], serde_json::json!(["R&D team"]));

    // Two resources are both sent; this server takes one per request and says so.
    let o = common::basic(41).resource(&server().resources[0]).unwrap().resource(&server().resources[1]).unwrap();
    let e = Client::new(&o).unwrap().token().unwrap_err();
    assert_eq!((e.kind(), e.oauth_code(), e.http_status()), (ErrorKind::OAuth, Some("invalid_target"), 400));
    let last = requests("basic-41").pop().unwrap();
    assert_eq!(last["params"]["resource"], serde_json::json!([&server().resources[0], &server().resources[1]]));
}

#[test]
fn keys_and_assertions_never_reach_debug_output_or_log_lines() {
    let (key, pem) = ec_key();
    register_jwt_client("rs-jwt-quiet", &[&key.public_jwk(SigningAlgorithm::Es256, None)], Value::Null);
    let lines = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = lines.clone();
    let logger = Logger::new(LogLevel::Debug, move |_, line| sink.lock().unwrap().push_str(line));
    let mut o = options("rs-jwt-quiet").client_key(&pem).unwrap().resource(&server().resources[0]).unwrap();
    o.set_logger(logger);
    let client = Client::new(&o).unwrap();
    client.token().unwrap();
    // A wrong key too, so the failure path logs.
    let (_, other) = ec_key();
    let mut bad = options("rs-jwt-quiet").client_key(&other).unwrap();
    bad.set_logger(Logger::new(LogLevel::Debug, {
        let sink = lines.clone();
        move |_, line| sink.lock().unwrap().push_str(line)
    }));
    let e = Client::new(&bad).unwrap().token().unwrap_err();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let everything = format!("{o:?} {client:?} {:?} {e:?} {} {}", client.config(), e.message(), lines.lock().unwrap());
    assert!(!everything.contains(&body[..40]) && !everything.contains("BEGIN"), "key material leaked");
    assert!(!everything.contains("eyJhbGci"), "an assertion leaked: {everything}");
    assert!(everything.contains(key.thumbprint()), "the thumbprint names the key instead");
}
