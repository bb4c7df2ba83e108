//! One test per fault: what status the caller gets, that the call returns before its deadline
//! (plus slack; a bound, not a speed goal), and how many requests the server saw. Faults come
//! from the in-process fault server on loopback (tests/fault_server); the TLS and proxy cases
//! put a forwarder or a CONNECT proxy in front of the real provider (tests/common).

mod common;
mod fault_server;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use fault_server::{closed_port, http_date, json, Action, ConnFault, ConnectProxy, FaultServer, Forwarder, Transcript};
use raptoken::{Client, ClientOptions, ErrorKind, Result};

const DEADLINE: Duration = Duration::from_secs(5);
/// Scheduling slack on a loaded 2-core CI machine; the bound is the deadline, not speed.
const SLACK: Duration = Duration::from_secs(2);

struct Case {
    server: Option<FaultServer>,
    client: Client,
    log: Transcript,
    secret: String,
    extra_secrets: Arc<Mutex<Vec<String>>>,
}

fn options(name: &str, issuer: &str, secret: &str, log: &Transcript) -> ClientOptions {
    let mut o = ClientOptions::new().client_id("fault-client").unwrap().client_secret(secret).unwrap().issuer(issuer).unwrap();
    o.set_connect_timeout(Duration::from_secs(1)).unwrap();
    o.set_request_timeout(Duration::from_millis(1500)).unwrap();
    o.set_deadline(DEADLINE).unwrap();
    o.set_retry_backoff(Duration::from_millis(10), Duration::from_millis(200)).unwrap();
    o.set_max_retry_after(Duration::from_secs(3));
    o.set_logger(log.logger());
    let _ = name;
    o
}

fn case(name: &str, server: FaultServer, tweak: impl FnOnce(&mut ClientOptions)) -> Case {
    let log = Transcript::new(name);
    let secret = format!("fault-secret-{name}-{:x}", fault_server::rand64());
    let mut o = options(name, &server.base, &secret, &log);
    tweak(&mut o);
    let client = Client::new(&o).unwrap();
    Case { server: Some(server), client, log, secret, extra_secrets: Default::default() }
}

impl Case {
    fn server(&self) -> &FaultServer {
        self.server.as_ref().unwrap()
    }

    /// One call, timed; errors are recorded for the secret scan.
    fn get(&self) -> (Result<String>, Duration) {
        let start = Instant::now();
        let r = self.client.token();
        let took = start.elapsed();
        if let Err(e) = &r {
            self.log.record_error(e);
        }
        (r, took)
    }

    fn expect_err(&self, kind: ErrorKind) -> raptoken::Error {
        let (r, took) = self.get();
        let e = r.expect_err("expected an error");
        assert_eq!(e.kind(), kind, "{}", e.message());
        assert!(took < DEADLINE + SLACK, "returned after {took:?}, past the deadline");
        e
    }

    fn expect_ok(&self) -> String {
        let (r, took) = self.get();
        assert!(took < DEADLINE + SLACK, "returned after {took:?}, past the deadline");
        r.unwrap_or_else(|e| panic!("expected a token: {e:?}"))
    }

    fn tokens(&self) -> u64 {
        self.server().count("/token")
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let mut secrets = vec![self.secret.clone()];
        secrets.extend(self.extra_secrets.lock().unwrap().iter().cloned());
        if let Some(s) = &self.server {
            secrets.extend(s.issued().into_iter().map(|i| i.token));
        }
        self.log.check_and_save(&secrets);
    }
}

fn status(status: u16) -> Action {
    Action::Respond(status, vec![], format!("status {status}").into_bytes())
}

fn html(status: u16) -> Action {
    let page = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>nginx</p></body></html>";
    Action::Respond(status, vec![("Content-Type", "text/html".into())], page.as_bytes().to_vec())
}

#[test]
fn connection_refused_is_transport_after_retries() {
    let log = Transcript::new("connection_refused");
    let o = options("refused", &format!("http://127.0.0.1:{}", closed_port()), "fault-secret-refused-0123", &log);
    let client = Client::new(&o).unwrap();
    let start = Instant::now();
    let e = client.token().unwrap_err();
    log.record_error(&e);
    assert_eq!(e.kind(), ErrorKind::Transport, "{}", e.message());
    assert!(start.elapsed() < DEADLINE + SLACK);
    // Discovery is the first request; it is retried like the token request.
    let s = client.stats();
    assert_eq!((s.discovery_requests, s.token_requests, s.retries, s.fetches_failed), (3, 0, 2, 1));
    assert!(log.contains("retrying in"), "retries are logged with their reason");
    log.check_and_save(&["fault-secret-refused-0123".into()]);
}

#[test]
fn reset_mid_response_is_retried() {
    let c = case("reset", FaultServer::script(vec![Action::Reset, Action::Reset]), |_| {});
    c.expect_ok();
    assert_eq!(c.tokens(), 3);
    let c = case("reset_always", FaultServer::start(|_, _| Action::Reset), |_| {});
    let e = c.expect_err(ErrorKind::Transport);
    assert!(e.is_retryable());
    assert_eq!(c.tokens(), 3, "three attempts, then the error");
}

#[test]
fn stall_past_the_read_timeout_is_timeout_within_the_deadline() {
    let c = case("stall", FaultServer::start(|_, _| Action::Stall(Duration::from_secs(4))), |o| {
        o.set_request_timeout(Duration::from_millis(300)).unwrap();
        o.set_deadline(Duration::from_secs(2)).unwrap();
    });
    let e = c.expect_err(ErrorKind::Timeout);
    assert!(e.message().contains("timed out") || e.message().contains("deadline"), "{}", e.message());
    assert_eq!(c.tokens(), 3);
    // A stall longer than the whole deadline: the deadline cuts the attempt short.
    let c = case("stall_deadline", FaultServer::start(|_, _| Action::Stall(Duration::from_secs(4))), |o| {
        o.set_request_timeout(Duration::from_secs(10)).unwrap();
        o.set_deadline(Duration::from_millis(700)).unwrap();
    });
    let (r, took) = c.get();
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Timeout);
    assert!(took < Duration::from_millis(700) + SLACK, "{took:?}");
    assert_eq!(c.tokens(), 1, "no time left for a second attempt");
}

#[test]
fn server_errors_then_success() {
    for (i, first) in [status(500), html(502), status(503)].into_iter().enumerate() {
        let c = case(&format!("5xx_{i}"), FaultServer::script(vec![first]), |_| {});
        c.expect_ok();
        assert_eq!(c.tokens(), 2);
        assert_eq!(c.client.stats().retries, 1);
    }
    let c = case("5xx_all", FaultServer::script(vec![status(500), html(502), status(503)]), |_| {});
    let e = c.expect_err(ErrorKind::Http);
    assert_eq!(e.http_status(), 503);
    assert_eq!(c.tokens(), 3);
    // One more attempt allowed: the fourth succeeds.
    let c = case("5xx_four", FaultServer::script(vec![status(500), html(502), status(503)]), |o| {
        o.set_max_attempts(4).unwrap();
    });
    c.expect_ok();
    assert_eq!(c.tokens(), 4);
    // 408 is retried; 400 and 404 are not.
    let c = case("408", FaultServer::script(vec![status(408)]), |_| {});
    c.expect_ok();
    for s in [400, 404] {
        let c = case(&format!("{s}"), FaultServer::script(vec![status(s)]), |_| {});
        assert_eq!(c.expect_err(ErrorKind::Http).http_status(), s);
        assert_eq!(c.tokens(), 1);
    }
}

fn too_many(retry_after: String) -> Action {
    Action::Respond(429, vec![("Retry-After", retry_after), ("Content-Type", "text/plain".into())], b"Too Many Requests".to_vec())
}

#[test]
fn too_many_requests_with_retry_after_in_seconds() {
    let c = case("429_secs", FaultServer::script(vec![too_many("1".into())]), |_| {});
    let start = Instant::now();
    c.expect_ok();
    assert!(start.elapsed() >= Duration::from_millis(950), "waited for Retry-After: {:?}", start.elapsed());
    assert_eq!(c.tokens(), 2);
    assert!(c.log.contains("throttled until"));
}

#[test]
fn too_many_requests_with_retry_after_as_http_date() {
    // HTTP dates have whole seconds: now + 2 s means a wait of 1 to 2 s.
    let when = SystemTime::now() + Duration::from_secs(2);
    let c = case("429_date", FaultServer::script(vec![too_many(http_date(when))]), |_| {});
    let start = Instant::now();
    c.expect_ok();
    assert!(start.elapsed() >= Duration::from_millis(900), "{:?}", start.elapsed());
    assert_eq!(c.tokens(), 2);
}

#[test]
fn retry_after_beyond_the_deadline_throttles_every_caller_without_requests() {
    let c = case("429_long", FaultServer::script(vec![too_many("30".into())]), |o| {
        o.set_max_retry_after(Duration::from_secs(60));
        o.set_deadline(Duration::from_secs(2)).unwrap();
    });
    let e = c.expect_err(ErrorKind::Http);
    assert_eq!(e.http_status(), 429);
    let at = e.retry_after().expect("retry-after on the error");
    let wait = at.duration_since(SystemTime::now()).unwrap();
    assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30), "{wait:?}");
    assert_eq!(c.tokens(), 1, "waiting 30 s would pass the 2 s deadline: no retry");
    // Every later caller, on any thread, gets the error at once and sends nothing.
    let client = &c.client;
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let start = Instant::now();
                    let e = client.token().unwrap_err();
                    (e, start.elapsed())
                })
            })
            .collect();
        for h in hs {
            let (e, took) = h.join().unwrap();
            c.log.record_error(&e);
            assert_eq!((e.kind(), e.http_status()), (ErrorKind::Http, 429));
            assert!(e.message().contains("retry after"), "{}", e.message());
            assert_eq!(e.retry_after(), Some(at));
            assert!(took < SLACK, "refused at once, not after a request: {took:?}");
        }
    });
    assert_eq!(c.tokens(), 1);
    let s = c.client.stats();
    assert!(s.throttled >= 1 && s.throttled_until_unix_ms > 0, "{s:?}");
    assert_eq!(s.last_error_http_status, 429);
}

#[test]
fn retry_after_is_capped() {
    // The server asks for an hour; the cap (1 s) decides when the next request goes out.
    let c = case("429_cap", FaultServer::script(vec![too_many("3600".into())]), |o| {
        o.set_max_retry_after(Duration::from_secs(1));
    });
    c.expect_ok();
    assert_eq!(c.tokens(), 2);
}

#[test]
fn oauth_error_documents() {
    let c = case("200_error", FaultServer::script(vec![json(200, r#"{"error":"invalid_client","error_description":"unknown client"}"#)]), |_| {});
    let e = c.expect_err(ErrorKind::OAuth);
    assert_eq!((e.oauth_code(), e.http_status()), (Some("invalid_client"), 200));
    assert_eq!(c.tokens(), 1, "never retried");
    for code in ["invalid_scope", "invalid_grant", "unauthorized_client"] {
        let c = case(code, FaultServer::script(vec![json(400, &format!(r#"{{"error":"{code}"}}"#))]), |_| {});
        c.expect_err(ErrorKind::OAuth);
        assert_eq!(c.tokens(), 1);
    }
    for code in ["temporarily_unavailable", "server_error"] {
        let c = case(code, FaultServer::script(vec![json(400, &format!(r#"{{"error":"{code}"}}"#))]), |_| {});
        c.expect_ok();
        assert_eq!(c.tokens(), 2, "{code} is retried");
    }
}

#[test]
fn malformed_token_responses_are_protocol_errors_and_not_retried() {
    let cases: Vec<(&str, Action)> = vec![
        ("no_access_token", json(200, r#"{"token_type":"Bearer","expires_in":60}"#)),
        ("not_bearer", json(200, r#"{"access_token":"fault-token-mac-0123456789abcdef","token_type":"MAC","expires_in":60}"#)),
        ("expires_zero", json(200, r#"{"access_token":"fault-token-zero-0123456789","token_type":"Bearer","expires_in":0}"#)),
        ("expires_negative", json(200, r#"{"access_token":"fault-token-neg-0123456789","token_type":"Bearer","expires_in":-60}"#)),
        ("expires_word", json(200, r#"{"access_token":"fault-token-word-0123456789","token_type":"Bearer","expires_in":"soon"}"#)),
        ("invalid_json", json(200, r#"{"access_token":"fault-token-json-01234","token_type":"Bearer""#)),
        ("html_200", Action::Respond(200, vec![("Content-Type", "text/html".into())], b"<html><body>Login</body></html>".to_vec())),
        ("invalid_utf8", Action::Respond(200, vec![], b"{\"access_token\":\"\xff\xfe\",\"token_type\":\"Bearer\"}".to_vec())),
        ("ten_megabytes", Action::Respond(200, vec![], vec![b' '; 10 * 1024 * 1024])),
    ];
    for (name, action) in cases {
        let c = case(name, FaultServer::script(vec![action]), |_| {});
        let e = c.expect_err(ErrorKind::Protocol);
        assert_eq!(c.tokens(), 1, "{name}: not retried");
        if name == "ten_megabytes" {
            assert!(e.message().contains("larger than"), "{}", e.message());
        }
        for t in ["fault-token-mac-0123456789abcdef", "fault-token-zero-0123456789"] {
            c.extra_secrets.lock().unwrap().push(t.into());
        }
    }
}

#[test]
fn expires_in_variants_that_still_give_a_token() {
    let cases = [
        ("expires_missing", r#"{"access_token":"fault-token-missing-0123","token_type":"Bearer"}"#, 300),
        ("expires_huge", r#"{"access_token":"fault-token-huge-0123","token_type":"bearer","expires_in":99999999999}"#, 24 * 3600),
        ("expires_string", r#"{"access_token":"fault-token-string-0123","token_type":"Bearer","expires_in":"120"}"#, 120),
    ];
    for (name, body, lifetime) in cases {
        let c = case(name, FaultServer::script(vec![json(200, body)]), |_| {});
        c.expect_ok();
        let t = c.client.access_token(Duration::ZERO).unwrap();
        let left = t.expires_at.duration_since(SystemTime::now()).unwrap().as_secs();
        assert!(left <= lifetime && left + 5 >= lifetime, "{name}: {left} s left");
        assert_eq!(c.tokens(), 1);
        c.extra_secrets.lock().unwrap().push(t.secret().to_string());
    }
}

#[test]
fn redirect_on_the_token_post_is_not_followed() {
    let server = FaultServer::script(vec![Action::Respond(302, vec![("Location", "/elsewhere".into())], vec![])]);
    let c = case("redirect", server, |_| {});
    let e = c.expect_err(ErrorKind::Http);
    assert_eq!(e.http_status(), 302);
    assert!(e.message().contains("redirects are not followed"), "{}", e.message());
    assert_eq!((c.tokens(), c.server().count("/elsewhere")), (1, 0));
}

#[test]
fn bad_discovery_documents() {
    let cases = [
        ("foreign_issuer", r#"{"issuer":"https://evil.example","token_endpoint":"https://evil.example/token"}"#.to_string(), ErrorKind::Config),
        ("no_token_endpoint", String::new(), ErrorKind::Protocol),
        ("http_token_endpoint", String::new(), ErrorKind::Config),
    ];
    for (name, doc, kind) in cases {
        let server = FaultServer::script(vec![]);
        let doc = match name {
            "no_token_endpoint" => format!(r#"{{"issuer":"{}"}}"#, server.base),
            "http_token_endpoint" => format!(r#"{{"issuer":"{}","token_endpoint":"http://auth.example.com/token"}}"#, server.base),
            _ => doc,
        };
        server.set_discovery(&doc);
        let c = case(name, server, |_| {});
        let e = c.expect_err(kind);
        assert!(e.message().contains("discovery"), "{}", e.message());
        assert_eq!(c.server().count("/.well-known/openid-configuration"), 1, "{name}: not retried");
        assert_eq!(c.tokens(), 0);
    }
}

#[test]
fn discovery_failures_are_retried_within_the_same_deadline() {
    // Discovery answers 503 once: the attempt is retried, then discovery and token succeed.
    let server = FaultServer::script(vec![]);
    server.fail_discovery(1);
    let c = case("discovery_503", server, |_| {});
    c.expect_ok();
    assert_eq!((c.server().count("/.well-known/openid-configuration"), c.tokens()), (2, 1));
    assert!(c.log.contains("discovery: token endpoint is"));
    // Discovery down for good: HTTP, three discovery requests, no token request.
    let server = FaultServer::script(vec![]);
    server.fail_discovery(10);
    let c = case("discovery_down", server, |_| {});
    let e = c.expect_err(ErrorKind::Http);
    assert!(e.message().contains("discovery"), "{}", e.message());
    assert_eq!((c.server().count("/.well-known/openid-configuration"), c.tokens()), (3, 0));
}

#[test]
fn the_secret_echoed_by_a_server_is_redacted() {
    // client_secret_post: the secret travels in the body. A server quoting the form fields back
    // (as words short enough to pass `scrub`) has them redacted by the client.
    let echo = |req: &fault_server::Request| String::from_utf8_lossy(&req.body).replace(['&', '='], " ");
    let server = FaultServer::start(move |req, _| json(400, &format!(r#"{{"error":"invalid_request","error_description":"got {}"}}"#, echo(req))));
    let c = case("echo", server, |o| {
        o.set_auth_method(raptoken::AuthMethod::ClientSecretPost);
    });
    let e = c.expect_err(ErrorKind::OAuth);
    assert!(e.message().contains("client_secret [redacted]"), "{}", e.message());
    assert!(e.oauth_description().unwrap().contains("[redacted]"));
    let server = FaultServer::start(move |req, _| Action::Respond(500, vec![], format!("<html>bad request: {} </html>", echo(req)).into_bytes()));
    let c2 = case("echo2", server, |o| {
        o.set_auth_method(raptoken::AuthMethod::ClientSecretPost);
        o.set_max_attempts(2).unwrap();
    });
    let e = c2.expect_err(ErrorKind::Http);
    assert!(e.message().contains("[redacted]"), "{}", e.message());
    assert!(c2.log.contains("[redacted]"), "the retry log line quoting the error is redacted too");
}

#[test]
fn keep_serving_while_the_token_is_usable_then_surface_the_error() {
    // 5 s tokens (4 s once a second is taken off for whole-second clocks): usable 3.6 s,
    // renewed from 1.6 s on. After the first, the server fails.
    let c = case("keep_serving", FaultServer::start(|_, n| if n == 1 { Action::Token(5) } else { status(503) }), |o| {
        o.set_retry_backoff(Duration::from_millis(100), Duration::from_millis(400)).unwrap();
    });
    let first = c.expect_ok();
    let info = c.client.access_token(Duration::ZERO).unwrap();
    let usable_until = info.expires_at - Duration::from_millis(400);
    let stop = Instant::now() + Duration::from_secs(8);
    let mut served_after_failure = 0;
    let error = loop {
        assert!(Instant::now() < stop, "the error never surfaced");
        match c.client.token() {
            Ok(t) => {
                assert_eq!(t, first);
                assert!(SystemTime::now() < usable_until + Duration::from_millis(50), "served past its usable life");
                if c.tokens() > 1 {
                    served_after_failure += 1;
                }
            }
            Err(e) => break e,
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    c.log.record_error(&error);
    assert_eq!(error.kind(), ErrorKind::Http);
    assert!(SystemTime::now() + Duration::from_millis(100) >= usable_until, "an error while the token was still usable");
    assert!(served_after_failure > 0, "the current token was served after a failed refresh");
    let s = c.client.stats();
    assert!(s.kept_serving >= 1 && s.cache_hits > 10, "{s:?}");
    assert!(c.log.contains("still serving the current token"));
    // Refreshes backed off (100 ms doubling to 400 ms over 2 s): a handful, not one per call.
    let refresh_requests = c.tokens() - 1;
    assert!((2..=12).contains(&refresh_requests), "{refresh_requests} refresh requests");
}

#[test]
fn a_failed_fetch_is_not_cached_past_its_backoff() {
    let c = case("recover", FaultServer::script(vec![status(500)]), |o| {
        o.set_max_attempts(1).unwrap();
    });
    let e = c.expect_err(ErrorKind::Http);
    assert!(e.retry_after().is_none(), "the server did not ask to wait");
    // Issue 13: inside the back-off window the next call fails fast, saying until when.
    let e = c.expect_err(ErrorKind::Http);
    assert!(e.message().contains("no request was sent"), "{}", e.message());
    let until = e.retry_after().expect("the window's end");
    assert_eq!(c.tokens(), 1);
    // Past the window, the next call tries again.
    std::thread::sleep(until.duration_since(SystemTime::now()).unwrap_or_default() + Duration::from_millis(5));
    c.expect_ok();
    assert_eq!(c.tokens(), 2);
}

#[test]
fn cold_waiters_follow_the_deadline() {
    let c = case("waiters", FaultServer::start(|_, _| Action::Stall(Duration::from_secs(5))), |o| {
        o.set_request_timeout(Duration::from_secs(10)).unwrap();
        o.set_deadline(Duration::from_millis(800)).unwrap();
    });
    let client = &c.client;
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..6)
            .map(|_| {
                s.spawn(|| {
                    let start = Instant::now();
                    (client.token(), start.elapsed())
                })
            })
            .collect();
        for h in hs {
            let (r, took) = h.join().unwrap();
            let e = r.unwrap_err();
            c.log.record_error(&e);
            assert_eq!(e.kind(), ErrorKind::Timeout, "{}", e.message());
            assert!(took < Duration::from_millis(800) + Duration::from_secs(1) + SLACK, "{took:?}");
        }
    });
    assert!(c.tokens() <= 6, "{}", c.tokens());
}

#[test]
fn tls_faults_below_the_real_provider() {
    let s = common::server();
    let port: u16 = s.issuer.rsplit(':').next().unwrap().parse().unwrap();
    let target = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    // First connection reset during the handshake, then forwarded: one retry, a real token.
    let fwd = Forwarder::start(target, |n| if n == 1 { ConnFault::Reset } else { ConnFault::Forward });
    let log = Transcript::new("tls_reset");
    let mut o = options("tls_reset", &s.issuer, "secret-basic-32", &log);
    o.set_client_id("basic-32").unwrap();
    o.set_ca_file(&s.ca_file).unwrap();
    o.set_token_endpoint(&format!("https://localhost:{}/connect/token", fwd.port)).unwrap();
    let client = Client::new(&o).unwrap();
    let token = client.token().unwrap_or_else(|e| panic!("{e:?}"));
    assert!(common::api_accepts(&token));
    assert_eq!(fwd.connections.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(client.stats().token_requests, 2);
    log.check_and_save(&["secret-basic-32".into(), token]);

    // A handshake that never completes: TIMEOUT before the deadline.
    let fwd = Forwarder::start(target, |_| ConnFault::Stall(Duration::from_secs(5)));
    let log = Transcript::new("tls_stall");
    let mut o = options("tls_stall", &s.issuer, "secret-basic-33", &log);
    o.set_client_id("basic-33").unwrap();
    o.set_ca_file(&s.ca_file).unwrap();
    o.set_request_timeout(Duration::from_millis(300)).unwrap();
    o.set_deadline(Duration::from_secs(2)).unwrap();
    o.set_token_endpoint(&format!("https://localhost:{}/connect/token", fwd.port)).unwrap();
    let client = Client::new(&o).unwrap();
    let start = Instant::now();
    let e = client.token().unwrap_err();
    log.record_error(&e);
    assert_eq!(e.kind(), ErrorKind::Timeout, "{}", e.message());
    assert!(start.elapsed() < Duration::from_secs(2) + SLACK);
    assert_eq!(fwd.connections.load(std::sync::atomic::Ordering::SeqCst), 3);
    log.check_and_save(&["secret-basic-33".into()]);
}

#[test]
fn explicit_proxy_option_tunnels_through_connect() {
    let s = common::server();
    let proxy = ConnectProxy::start();
    let log = Transcript::new("proxy_explicit");
    let mut o = options("proxy", &s.issuer, "secret-basic-34", &log);
    o.set_client_id("basic-34").unwrap();
    o.set_ca_file(&s.ca_file).unwrap();
    o.set_proxy(&proxy.url).unwrap();
    let client = Client::new(&o).unwrap();
    let token = client.token().unwrap_or_else(|e| panic!("{e:?}"));
    assert!(common::api_accepts(&token));
    let port = s.issuer.rsplit(':').next().unwrap();
    let connects = proxy.connects();
    // Discovery and the token request, each through a CONNECT tunnel to the provider.
    assert!(!connects.is_empty() && connects.iter().all(|c| c == &format!("CONNECT localhost:{port}")), "{connects:?}");
    assert_eq!(common::token_requests("basic-34"), 1);
    // A proxy that is down: TRANSPORT, and nothing reached the provider.
    let mut o = options("proxy_down", &s.issuer, "secret-basic-35", &log);
    o.set_client_id("basic-35").unwrap();
    o.set_ca_file(&s.ca_file).unwrap();
    o.set_max_attempts(1).unwrap();
    o.set_proxy(&format!("http://user:proxy-password-77@127.0.0.1:{}", closed_port())).unwrap();
    let e = Client::new(&o).unwrap().token().unwrap_err();
    log.record_error(&e);
    assert_eq!(e.kind(), ErrorKind::Transport, "{}", e.message());
    assert_eq!(common::token_requests("basic-35"), 0);
    log.check_and_save(&["secret-basic-34".into(), "secret-basic-35".into(), "proxy-password-77".into(), token]);
}

#[test]
fn system_trust_with_a_ca_file_and_builtin_conflicts() {
    let s = common::server();
    let log = Transcript::new("trust");
    // SYSTEM + the test CA file: the union trusts the provider.
    let mut o = options("trust", &s.issuer, "secret-basic-36", &log);
    o.set_client_id("basic-36").unwrap();
    o.set_ca_file(&s.ca_file).unwrap();
    o.set_trust(raptoken::Trust::SYSTEM).unwrap();
    let token = Client::new(&o).unwrap().token().unwrap_or_else(|e| panic!("{e:?}"));
    // SYSTEM alone does not know the throwaway CA.
    let mut o = options("trust2", &s.issuer, "secret-basic-37", &log);
    o.set_client_id("basic-37").unwrap();
    o.set_trust(raptoken::Trust::SYSTEM).unwrap();
    let e = Client::new(&o).unwrap().token().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{}", e.message());
    assert!(!e.is_retryable(), "TLS failures are not retried");
    assert_eq!(common::token_requests("basic-37"), 0);
    // BUILTIN cannot be merged with a CA file.
    let mut o = options("trust3", &s.issuer, "secret-basic-38", &log);
    o.set_ca_file(&s.ca_file).unwrap();
    o.set_trust(raptoken::Trust::BUILTIN).unwrap();
    assert_eq!(Client::new(&o).unwrap_err().kind(), ErrorKind::Config);
    log.check_and_save(&["secret-basic-36".into(), "secret-basic-37".into(), token]);
}

#[test]
fn logs_describe_a_retried_fetch() {
    let c = case("logs", FaultServer::script(vec![status(503)]), |_| {});
    c.expect_ok();
    let lines = c.log.lines.lock().unwrap().clone();
    let has = |p: &str| lines.iter().any(|l| l.contains(p));
    assert!(has("Info token fetch started"), "{lines:#?}");
    assert!(has("Warn attempt 1/3 failed (the token endpoint answered HTTP 503"), "{lines:#?}");
    assert!(has("Info token fetch succeeded in") && has("after 2 attempt(s)"), "{lines:#?}");
    assert!(has("Debug token request to"), "{lines:#?}");
    let s = c.client.stats();
    assert_eq!((s.token_requests, s.fetches_ok, s.retries, s.discovery_requests), (2, 1, 1, 1));
    for _ in 0..10 {
        c.expect_ok();
    }
    assert!(c.client.stats().cache_hits >= 10);
}

/// Whether `token` (issued by `server`) is still valid by the server's own record, now.
fn valid_now(server: &FaultServer, token: &str) -> bool {
    let issued = server.issued();
    let i = issued.iter().find(|i| i.token == token).expect("a token this server issued");
    Instant::now() < i.at + i.lifetime
}

#[test]
fn a_renewal_that_outlives_the_token_never_serves_it() {
    // Issue 13, defect 1: a 5 s token (counted as 4 s for whole-second clocks: usable 3.6 s,
    // renewed from 2.6 s on); every renewal stalls. Eight threads call in a loop through the
    // token's end and beyond. No call may return the token once it expired, judged when the
    // call returns; after that, callers of the one stalled renewal all get the same error.
    let c = case("renewal_outlives", FaultServer::start(|_, n| if n == 1 { Action::Token(5) } else { Action::Stall(Duration::from_secs(10)) }), |o| {
        // Renewals start at 2.6 s and may take 2.5 s: past the token's real end (5 s).
        o.set_refresh_ahead(Duration::from_secs(1));
        o.set_request_timeout(Duration::from_millis(2500)).unwrap();
        o.set_deadline(Duration::from_secs(3)).unwrap();
    });
    let first = c.expect_ok();
    let stop = Instant::now() + Duration::from_millis(5500);
    let client = &c.client;
    let server = c.server();
    let first = &first;
    let results: Vec<(bool, Option<ErrorKind>)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(move || {
                    let mut seen = Vec::new();
                    while Instant::now() < stop {
                        match client.token() {
                            Ok(t) => {
                                assert_eq!(&t, first);
                                // Judged at return: the server's clock says it is still valid.
                                assert!(valid_now(server, &t), "an expired token was returned");
                                seen.push((true, None));
                            }
                            Err(e) => seen.push((false, Some(e.kind()))),
                        }
                        std::thread::sleep(Duration::from_millis(25));
                    }
                    seen
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let errors: Vec<ErrorKind> = results.iter().filter_map(|r| r.1).collect();
    assert!(results.iter().any(|r| r.0), "the token was served while usable");
    assert!(!errors.is_empty(), "after its end, callers get an error");
    assert!(errors.iter().all(|k| *k == ErrorKind::Timeout), "one answer per fetch: {errors:?}");
    // The first renewal stopped where the token stopped being usable, not a second later.
    assert!(c.log.contains("stopped being usable") || c.log.contains("timed out"), "the renewal's end is logged");
}

#[test]
fn the_renewing_caller_gets_the_current_token_only_while_it_is_usable() {
    // The exact sequence from issue 13: a call at t = 3.0 s of a 4 s token (expires_in 5, less
    // a second for whole-second clocks) starts the renewal; the server stalls. The call must
    // not come back with the token after it expired.
    let c = case("renewing_caller", FaultServer::start(|_, n| if n == 1 { Action::Token(5) } else { Action::Stall(Duration::from_secs(10)) }), |o| {
        o.set_request_timeout(Duration::from_secs(1)).unwrap();
        o.set_refresh_ahead(Duration::from_millis(700)); // renewal due from 2.9 s on
    });
    let t0 = Instant::now();
    let first = c.expect_ok();
    let at = t0 + Duration::from_millis(3000);
    std::thread::sleep(at.saturating_duration_since(Instant::now())); // move the clock to t = 3.0 s
    let started = Instant::now();
    let r = c.client.access_token(Duration::ZERO);
    let returned = Instant::now();
    // Issue 13, weakness 4: the renewal runs off the caller's path, so the caller that finds the
    // token due gets the current one at once (a bound far below the 1 s stall, not a speed goal).
    let t = r.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(t.secret(), first);
    assert!(valid_now(c.server(), &first), "returned after the token expired");
    assert!(SystemTime::now() < t.expires_at, "the reported expiry is in the past");
    assert!(returned - started < Duration::from_millis(500), "the caller waited on the renewal: {:?}", returned - started);
    // The renewal did go out, in the background.
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.tokens() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(c.tokens(), 2);
}

#[test]
fn an_https_issuer_never_gets_credentials_sent_over_plain_http() {
    // Issue 13, defect 2: issuer https://127.0.0.1:PORT whose discovery document names a
    // plain-http token endpoint on loopback. The credentials must not be sent there.
    let s = common::server();
    let dir = std::path::Path::new(&s.ca_file).parent().unwrap().to_path_buf();
    let plain = FaultServer::script(vec![]);
    let endpoint = plain.token_endpoint();
    let tls = fault_server::TlsDocument::start(&dir, move |base| format!(r#"{{"issuer":"{base}","token_endpoint":"{endpoint}"}}"#));
    let log = Transcript::new("https_issuer_http_endpoint");
    let secret = "fault-secret-https-issuer-0123";
    let mut o = options("https_issuer", &tls.base, secret, &log);
    o.set_ca_file(&s.ca_file).unwrap();
    let client = Client::new(&o).unwrap();
    let e = client.token().unwrap_err();
    log.record_error(&e);
    assert_eq!(e.kind(), ErrorKind::Config, "{}", e.message());
    assert!(e.message().contains("plain-http token endpoint"), "{}", e.message());
    assert_eq!(tls.requests.load(std::sync::atomic::Ordering::SeqCst), 1, "discovery was asked once, not retried");
    assert_eq!(plain.count("/token"), 0, "nothing was sent over plain http");
    log.check_and_save(&[secret.into()]);
}

#[test]
fn a_jwt_is_never_served_past_its_exp_claim() {
    // Issue 13, defect 3: 3 s JWTs whose exp is stamped in whole seconds, refresh-ahead off,
    // requests sent late in a second (.600). expires_at errs early (never after exp) and no
    // call returns a token past its exp, judged at return.
    let c = case("jwt_exp", FaultServer::start(|_, _| Action::Jwt(3)), |o| {
        o.set_refresh_ahead(Duration::ZERO);
    });
    let wall = || SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    // Start at .600 of a wall-clock second, as in the report.
    let into = wall().subsec_millis() as u64;
    std::thread::sleep(Duration::from_millis((1600 - into) % 1000));
    let stop = Instant::now() + Duration::from_secs(7);
    let mut served = 0;
    while Instant::now() < stop {
        let t = c.client.access_token(Duration::ZERO).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(valid_now(c.server(), t.secret()), "a token was returned past its exp");
        let exp = c.server().issued().into_iter().find(|i| i.token == t.secret()).and_then(|i| i.exp).unwrap();
        assert!(t.expires_at <= exp, "expires_at {:?} is after exp {:?}", t.expires_at, exp);
        served += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(c.tokens() >= 3, "tokens were renewed: {}", c.tokens());
    assert!(served > 100);
    for i in c.server().issued() {
        c.extra_secrets.lock().unwrap().push(i.token.split('.').nth(2).unwrap().to_string());
    }
}

#[test]
fn a_timeout_says_where_and_which_limit_fired() {
    // Issue 13, weakness 6: not "(global)", but the URL and the limit with its value.
    let c = case("timeout_request", FaultServer::start(|_, _| Action::Stall(Duration::from_secs(4))), |o| {
        o.set_request_timeout(Duration::from_millis(300)).unwrap();
        o.set_max_attempts(1).unwrap();
    });
    let e = c.expect_err(ErrorKind::Timeout);
    let url = c.server().token_endpoint();
    assert!(e.message().contains(&url) && e.message().contains("request timeout of 300 ms"), "{}", e.message());
    let c = case("timeout_deadline", FaultServer::start(|_, _| Action::Stall(Duration::from_secs(4))), |o| {
        o.set_request_timeout(Duration::from_secs(10)).unwrap();
        o.set_deadline(Duration::from_millis(600)).unwrap();
    });
    let e = c.expect_err(ErrorKind::Timeout);
    assert!(e.message().contains("600 ms deadline"), "{}", e.message());
}

#[test]
fn endless_headers_are_reported_as_such_and_not_retried() {
    let c = case("endless_headers", FaultServer::start(|_, _| Action::EndlessHeaders), |_| {});
    let e = c.expect_err(ErrorKind::Protocol);
    assert!(e.message().contains("response headers are too large"), "{}", e.message());
    assert!(!e.message().contains("isconnected"), "{}", e.message());
    assert_eq!(c.tokens(), 1, "not retried");
}

#[test]
fn a_peer_without_tls_is_named_as_such() {
    let plain = fault_server::PlainResponder::start();
    let log = Transcript::new("no_tls");
    let mut o = options("no_tls", "https://127.0.0.1:1", "fault-secret-no-tls-0123", &log);
    o.set_token_endpoint(&format!("https://127.0.0.1:{}/token", plain.port)).unwrap();
    let client = Client::new(&o).unwrap();
    let e = client.token().unwrap_err();
    log.record_error(&e);
    assert_eq!(e.kind(), ErrorKind::Transport, "{}", e.message());
    assert!(e.message().contains("did not answer with TLS"), "{}", e.message());
    assert!(!e.message().contains("CA file"), "not the CA hint: {}", e.message());
    assert_eq!(plain.connections.load(std::sync::atomic::Ordering::SeqCst), 1, "not retried");
    log.check_and_save(&["fault-secret-no-tls-0123".into()]);
}

#[test]
fn the_first_429_already_says_until_when() {
    let c = case("429_first", FaultServer::start(|_, _| too_many("20".into())), |o| {
        o.set_max_retry_after(Duration::from_secs(60));
        o.set_deadline(Duration::from_secs(1)).unwrap();
    });
    let e = c.expect_err(ErrorKind::Http);
    assert_eq!(c.tokens(), 1);
    assert!(e.message().contains("Retry-After") && e.message().contains("wait until"), "{}", e.message());
}

#[test]
fn unauthorized_client_as_401_hints_at_both_causes() {
    let c = case("unauthorized_401", FaultServer::script(vec![json(401, r#"{"error":"unauthorized_client"}"#)]), |_| {});
    let e = c.expect_err(ErrorKind::OAuth);
    assert!(e.message().contains("client id and secret") && e.message().contains("client credentials grant"), "{}", e.message());
    let c = case("unauthorized_400", FaultServer::script(vec![json(400, r#"{"error":"unauthorized_client"}"#)]), |_| {});
    let e = c.expect_err(ErrorKind::OAuth);
    assert!(!e.message().contains("client id and secret"), "400 is the grant only: {}", e.message());
}

#[test]
fn an_outage_is_not_hammered_by_every_caller() {
    // Issue 13, weakness 5: 16 threads calling every 50 ms for 3 s while the server answers 503.
    // Without memory across calls each failed fetch was followed at once by the next (3
    // attempts each); now the client backs off (1 s, then 2 s, jittered) and callers inside the
    // window get the last error at once, saying when the next attempt is allowed.
    let c = case("outage", FaultServer::start(|_, _| status(503)), |o| {
        o.set_retry_backoff(Duration::from_millis(20), Duration::from_secs(30)).unwrap();
    });
    // The failure window follows the backoff setting: 2 x 20 ms doubling is too short to show
    // the point, so this client uses the defaults' 1 s first window.
    let mut o = options("outage", &c.server().base, &c.secret, &c.log);
    o.set_retry_backoff(Duration::from_millis(500), Duration::from_secs(30)).unwrap();
    o.set_deadline(Duration::from_secs(2)).unwrap();
    let client = Client::new(&o).unwrap();
    let stop = Instant::now() + Duration::from_secs(3);
    let (calls, fast) = std::thread::scope(|s| {
        let hs: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    let (mut calls, mut fast) = (0, 0);
                    while Instant::now() < stop {
                        let e = client.token().unwrap_err();
                        calls += 1;
                        if e.message().contains("no request was sent") {
                            assert!(e.retry_after().is_some(), "says until when");
                            fast += 1;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    (calls, fast)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    let requests = c.tokens();
    // Fetches start at 0 s, after ~1 s and after ~3 s at the latest: 3 attempts each.
    assert!(requests <= 9, "{requests} token requests during a 3 s outage from {calls} calls");
    assert!(fast > calls / 2, "most calls were answered at once: {fast} of {calls}");
    let s = client.stats();
    assert!(s.throttled >= fast as u64, "{s:?}");
}

#[test]
fn retry_now_ends_the_window() {
    let c = case("retry_now", FaultServer::script(vec![status(500)]), |o| {
        o.set_max_attempts(1).unwrap();
        o.set_retry_backoff(Duration::from_secs(5), Duration::from_secs(30)).unwrap();
    });
    c.expect_err(ErrorKind::Http);
    let e = c.expect_err(ErrorKind::Http);
    assert!(e.message().contains("no request was sent"), "{}", e.message());
    assert_eq!(c.tokens(), 1);
    c.client.retry_now();
    c.expect_ok();
    assert_eq!(c.tokens(), 2);
}
