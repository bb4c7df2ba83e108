//! The library against a real OpenID provider over real HTTPS (testing/oidc-server).
//! Each test uses its own client id, so server-side request counts don't mix.

mod common;

use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime};

use common::{api_accepts, basic, options, server, token_requests};
use raptoken::{AuthMethod, Client, ClientOptions, ErrorKind};

#[test]
fn discovery_fetch_and_reuse() {
    let client = Client::new(&basic(0)).unwrap();
    let t1 = client.token().unwrap();
    let t2 = client.token().unwrap();
    assert_eq!(t1, t2, "the second call is served from the cache");
    assert!(api_accepts(&t1), "the token works against the provider's API");
    assert_eq!(token_requests("basic-0"), 1);
    let info = client.access_token(Duration::ZERO).unwrap();
    let left = info.expires_at.duration_since(SystemTime::now()).unwrap();
    assert!(left > Duration::from_secs(3500) && left <= Duration::from_secs(3600), "{left:?}");
    assert_eq!(info.token_type, "Bearer");
    assert_eq!(client.token_endpoint().unwrap(), server().token_endpoint, "discovered");
}

#[test]
fn client_secret_post() {
    let o = options("post-0", "secret-post-0").auth_method(AuthMethod::ClientSecretPost);
    let token = Client::new(&o).unwrap().token().unwrap();
    assert!(api_accepts(&token));
    // The provider registered post-1 for client_secret_post only: Basic is refused.
    let e = Client::new(&options("post-1", "secret-post-1")).unwrap().token().unwrap_err();
    assert_eq!((e.kind(), e.oauth_code()), (ErrorKind::OAuth, Some("invalid_client")));
}

#[test]
fn special_characters_in_the_secret_both_methods() {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic; a strict server
    // rejects raw '+ : / % & =' and spaces.
    let secret = "s3cr+t: /%&= x";
    let t = Client::new(&options("special", secret)).unwrap().token().unwrap();
    assert!(api_accepts(&t));
    let o = options("special-post", secret).auth_method(AuthMethod::ClientSecretPost);
    assert!(api_accepts(&Client::new(&o).unwrap().token().unwrap()));
}

#[test]
fn explicit_token_endpoint_skips_discovery() {
    // The issuer points at a closed port: only the explicit endpoint can make this work.
    let o = basic(1).issuer("https://127.0.0.1:9").unwrap().token_endpoint(&server().token_endpoint).unwrap();
    let client = Client::new(&o).unwrap();
    assert!(api_accepts(&client.token().unwrap()));
}

#[test]
fn no_network_io_at_construction() {
    let o = basic(2).issuer("https://127.0.0.1:9").unwrap();
    let client = Client::new(&o).expect("construction must not touch the network");
    assert_eq!(client.token().unwrap_err().kind(), ErrorKind::Transport);
}

#[test]
fn short_token_is_renewed_in_the_refresh_window() {
    let client = Client::new(&options("short-0", "secret-short-0")).unwrap();
    let first = client.access_token(Duration::ZERO).unwrap();
    assert_eq!(token_requests("short-0"), 1);
    // Still fresh: served without a request.
    assert_eq!(client.token().unwrap(), first.secret());
    // Wait (bounded: the refresh instant is ~1.35 s away) until the library says it renews.
    let wait = first.refresh_at.duration_since(SystemTime::now()).unwrap_or_default();
    assert!(wait < Duration::from_secs(3));
    std::thread::sleep(wait + Duration::from_millis(20));
    // The call that finds the token due gets the current one at once and starts the renewal in
    // the background (issue 13): the new token arrives shortly after (bounded wait).
    assert_eq!(client.token().unwrap(), first.secret());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let second = loop {
        let t = client.access_token(Duration::ZERO).unwrap();
        if t.secret() != first.secret() || std::time::Instant::now() > deadline {
            break t;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_ne!(second.secret(), first.secret(), "renewed");
    assert_eq!(token_requests("short-0"), 2);
    assert!(second.expires_at > first.expires_at);
    assert!(api_accepts(second.secret()));
}

#[test]
fn invalid_client_is_oauth_with_code_and_status() {
    let e = Client::new(&options("basic-3", "wrong")).unwrap().token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OAuth);
    assert_eq!(e.oauth_code(), Some("invalid_client"));
    assert_eq!(e.http_status(), 401);
    assert!(e.message().contains("client id and secret"), "says what to fix: {}", e.message());
    assert!(!e.message().contains("wrong"), "never echoes the secret");
}

#[test]
fn invalid_scope_is_oauth_with_code_and_status() {
    let e = Client::new(&basic(4).scope("openid admin").unwrap()).unwrap().token().unwrap_err();
    assert_eq!((e.kind(), e.oauth_code(), e.http_status()), (ErrorKind::OAuth, Some("invalid_scope"), 400));
}

#[test]
fn wrong_ca_is_transport() {
    let o = basic(5).ca_file(&server().wrong_ca_file).unwrap();
    let e = Client::new(&o).unwrap().token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{}", e.message());
    assert!(e.message().contains("CA"), "hints at the CA option: {}", e.message());
    // The built-in roots don't know the throwaway CA either.
    let o = ClientOptions::new().client_id("basic-5").unwrap().client_secret("secret-basic-5").unwrap().issuer(&server().issuer).unwrap();
    assert_eq!(Client::new(&o).unwrap().token().unwrap_err().kind(), ErrorKind::Transport);
    assert_eq!(token_requests("basic-5"), 0);
}

#[test]
fn discovery_document_for_another_issuer_is_config() {
    // The provider's discovery names https://localhost:PORT/; asking as 127.0.0.1 is a mismatch.
    let issuer = server().issuer.replace("localhost", "127.0.0.1");
    let e = Client::new(&basic(6).issuer(&issuer).unwrap()).unwrap().token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{}", e.message());
    assert!(e.message().contains("names issuer"));
}

#[test]
fn thirty_two_cold_threads_cause_one_request() {
    let client = Arc::new(Client::new(&basic(7)).unwrap());
    let barrier = Arc::new(Barrier::new(32));
    let tokens: Vec<String> = (0..32)
        .map(|_| {
            let (c, b) = (client.clone(), barrier.clone());
            std::thread::spawn(move || {
                b.wait();
                c.token().unwrap()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert!(tokens.iter().all(|t| t == &tokens[0]));
    assert_eq!(token_requests("basic-7"), 1, "one request for 32 concurrent callers");
}

#[test]
fn invalidation_renews_once() {
    let client = Client::new(&basic(8)).unwrap();
    let t1 = client.token().unwrap();
    assert!(client.invalidate(&t1));
    assert!(!client.invalidate(&t1), "already dropped");
    let t2 = client.token().unwrap();
    assert_ne!(t1, t2);
    assert!(!client.invalidate(&t1), "a late 401 for the old token keeps the new one");
    assert_eq!(client.token().unwrap(), t2);
    assert_eq!(token_requests("basic-8"), 2);
}

#[test]
fn min_valid_forces_a_fresh_token() {
    // short-1 tokens live 3 s: usable for 2.7 s, so a 2 s need is at most 90 % of that.
    let client = Client::new(&options("short-1", "secret-short-1")).unwrap();
    let t1 = client.access_token(Duration::from_secs(2)).unwrap();
    assert_eq!(client.access_token(Duration::from_secs(2)).unwrap().secret(), t1.secret(), "2.7 s left is enough");
    // Let a second pass (before the refresh window at ~1.35 s): 1.7 s left is not enough.
    std::thread::sleep(Duration::from_secs(1));
    let t2 = client.access_token(Duration::from_secs(2)).unwrap();
    assert_ne!(t1.secret(), t2.secret());
    assert_eq!(client.access_token(Duration::from_secs(3600)).unwrap().secret(), t2.secret(), "impossible needs are capped");
    assert_eq!(token_requests("short-1"), 2);
}

#[test]
fn credentials_file_from_the_python_sdk() {
    let dir = std::env::temp_dir().join(format!("raptoken-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("credentials.json");
    let json = serde_json::json!({
        server().issuer.clone(): [
            {"display_name":"old","client_id":"basic-10","client_secret":"stale","endpoint":server().issuer,
             "created_at":"2026-01-01T00:00:00Z","last_used":"2026-01-02T00:00:00+00:00"},
            {"display_name":"laptop","client_id":"basic-10","client_secret":"secret-basic-10","endpoint":server().issuer,
             "created_at":"2026-01-01T00:00:00Z","last_used":"2026-08-21T10:00:00.123456Z"}
        ]
    });
    std::fs::write(&file, json.to_string()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut o = ClientOptions::new().issuer(&server().issuer).unwrap().ca_file(&server().ca_file).unwrap();
    o.set_credentials_file(file.to_str().unwrap()).unwrap();
    let client = Client::new(&o).unwrap();
    assert!(matches!(client.credential_source(), raptoken::CredentialSource::File { .. }));
    assert!(api_accepts(&client.token().unwrap()), "the newest entry was used");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn debug_output_never_shows_secrets_or_tokens() {
    let client = Client::new(&basic(11)).unwrap();
    let token = client.access_token(Duration::ZERO).unwrap();
    let printed = format!("{client:?} {token:?} {:?} {:?}", client.config(), basic(11));
    assert!(!printed.contains("secret-basic-11"), "{printed}");
    assert!(!printed.contains(token.secret()), "{printed}");
}
