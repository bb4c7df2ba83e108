//! The fleet cache (`shared_cache_url`) against a real redis-server (one per test, with a
//! password, on a free port: tests/common/redis.rs) and the real OpenID provider. Separate
//! `Client`s stand in for processes (each has its own in-memory cache and Redis connection);
//! tests/fleet_processes.sh runs real processes. Every fault ends in a token for the caller
//! while the authorization server is healthy, within the deadline.
#![cfg(feature = "fleet")]

mod common;

use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use common::redis::Redis;
use common::{api_accepts, new_client, options, server, token_requests};
use raptoken::{Client, ClientOptions, ErrorKind, LogLevel, Logger};

/// A client's log lines.
type Lines = Arc<Mutex<Vec<String>>>;

fn fleet_client(id: &str, secret: &str, url: &str) -> (Client, Lines) {
    fleet_client_with(options(id, secret), url)
}

fn fleet_client_with(mut o: ClientOptions, url: &str) -> (Client, Lines) {
    let lines: Lines = Arc::default();
    let sink = lines.clone();
    o.set_logger(Logger::new(LogLevel::Debug, move |_, l| sink.lock().unwrap().push(l.to_string())));
    o.set_shared_cache_url(url).unwrap();
    (Client::new(&o).unwrap(), lines)
}

fn count(lines: &Lines, needle: &str) -> usize {
    lines.lock().unwrap().iter().filter(|l| l.contains(needle)).count()
}

fn no_secrets(lines: &Lines, secrets: &[&str]) {
    for l in lines.lock().unwrap().iter() {
        for s in secrets {
            assert!(!l.contains(s), "a log line shows a secret: {l}");
        }
    }
}

#[test]
fn many_clients_and_threads_on_cold_caches_send_one_request() {
    let redis = Redis::start();
    let (id, secret) = new_client("fleet-stampede");
    let barrier = Arc::new(Barrier::new(32));
    let mut handles = Vec::new();
    for _ in 0..8 {
        let client = Arc::new(fleet_client(&id, &secret, &redis.url()).0);
        for _ in 0..4 {
            let (c, b) = (client.clone(), barrier.clone());
            handles.push(std::thread::spawn(move || {
                b.wait();
                c.token().unwrap()
            }));
        }
    }
    let tokens: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(tokens.iter().all(|t| t == &tokens[0]));
    assert_eq!(token_requests(&id), 1, "8 clients x 4 threads, one request");
    assert!(api_accepts(&tokens[0]));

    // What anyone who can read Redis sees: one hashed key, no lock or failure left, and a value
    // that is neither the token nor names the client.
    let keys = redis.keys();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("raptoken:{") && keys[0].ends_with("}:token"), "{keys:?}");
    assert!(!keys[0].contains(&id));
    let raw = redis.raw(&keys[0]);
    let text = String::from_utf8_lossy(&raw);
    for leak in [tokens[0].as_str(), &tokens[0][..20], id.as_str(), secret.as_str(), "access_token", "Bearer"] {
        assert!(!text.contains(leak), "the stored value shows {leak:?}");
    }
    let ttl: u64 = redis.cli(&["PTTL", &keys[0]]).trim().parse().unwrap();
    assert!(ttl > 3_500_000 && ttl <= 3_600_000, "expires with the token: {ttl} ms");
}

#[test]
fn an_entry_is_useless_without_the_secret() {
    let redis = Redis::start();
    let (id, secret) = new_client("fleet-secret");
    let (a, _) = fleet_client(&id, &secret, &redis.url());
    let token = a.token().unwrap();
    let key = redis.token_key();
    // A process with a wrong secret has its own key (the credential is part of the hash): it
    // fails at the server and leaves its failure record there.
    let (wrong, _) = fleet_client(&id, "not-the-secret-0123456789", &redis.url());
    assert_eq!(wrong.token().unwrap_err().oauth_code(), Some("invalid_client"));
    let failed: Vec<String> = redis.keys().into_iter().filter(|k| k.ends_with(":failed")).collect();
    assert_eq!(failed.len(), 1, "{:?}", redis.keys());
    // Put the real entry where the wrong secret looks: it does not open, the token is not served.
    let planted = failed[0].replace(":failed", ":token");
    assert_ne!(planted, key);
    redis.cli(&["COPY", &key, &planted]);
    let (wrong2, lines) = fleet_client(&id, "not-the-secret-0123456789", &redis.url());
    let e = wrong2.token().unwrap_err();
    assert!(!e.message().contains(&token));
    assert_eq!(e.kind(), ErrorKind::OAuth, "{e:?}");
    assert_eq!(count(&lines, "does not authenticate with this client's credentials"), 1, "{:?}", lines.lock().unwrap());
    assert_eq!(token_requests(&id), 2, "the second wrong process failed fast on the first one's failure");
}

#[test]
fn tampered_truncated_and_garbage_entries_are_ignored_logged_and_replaced() {
    let redis = Redis::start();
    let (id, secret) = new_client("fleet-tamper");
    let (first, _) = fleet_client(&id, &secret, &redis.url());
    let mut previous = first.token().unwrap();
    let key = redis.token_key();
    type Spoil = Box<dyn Fn(&Redis, &str)>;
    let cases: Vec<(&str, Spoil, &str)> = vec![
        (
            "a flipped bit",
            Box::new(|r: &Redis, k: &str| {
                let mut v = r.raw(k);
                v.pop(); // redis-cli --raw adds a newline
                let mid = v.len() / 2;
                v[mid] ^= 1;
                r.set_raw(k, &v);
            }),
            "does not authenticate",
        ),
        (
            "truncated",
            Box::new(|r: &Redis, k: &str| {
                let v = r.raw(k);
                r.set_raw(k, &v[..v.len() / 2]);
            }),
            "does not authenticate",
        ),
        ("garbage", Box::new(|r: &Redis, k: &str| r.set_raw(k, b"garbage")), "too short"),
        (
            "another type",
            Box::new(|r: &Redis, k: &str| {
                r.cli(&["DEL", k]);
                r.cli(&["LPUSH", k, "x"]);
            }),
            "",
        ),
    ];
    let mut requests = 1;
    for (what, spoil, reason) in cases {
        spoil(&redis, &key);
        let (c, lines) = fleet_client(&id, &secret, &redis.url());
        let t = c.token().unwrap_or_else(|e| panic!("{what}: the caller never sees a cache problem: {e}"));
        requests += 1;
        assert_ne!(t, previous, "{what}: not served");
        assert!(api_accepts(&t), "{what}");
        assert_eq!(token_requests(&id), requests, "{what}");
        if !reason.is_empty() {
            assert_eq!(count(&lines, reason), 1, "{what}: {:?}", lines.lock().unwrap());
        }
        no_secrets(&lines, &[&t, &secret]);
        // Replaced for everyone.
        assert_eq!(fleet_client(&id, &secret, &redis.url()).0.token().unwrap(), t, "{what}");
        assert_eq!(token_requests(&id), requests, "{what}: the replacement is shared");
        previous = t;
    }
}

#[test]
fn redis_killed_mid_run_then_back() {
    let mut redis = Redis::start();
    let (id, secret) = new_client("fleet-kill");
    let (a, _) = fleet_client(&id, &secret, &redis.url());
    let t1 = a.token().unwrap();
    redis.kill();
    let (b, lines) = fleet_client(&id, &secret, &redis.url());
    let start = Instant::now();
    let t2 = b.token().expect("Redis down is not the caller's problem");
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    assert_ne!(t2, t1);
    assert!(api_accepts(&t2));
    assert_eq!(token_requests(&id), 2);
    assert_eq!(a.token().unwrap(), t1, "the warm path never touches Redis");
    // More fetches during the outage: logged once, and Redis is not tried during its pause.
    assert!(b.invalidate(&t2));
    let t3 = b.token().unwrap();
    assert_eq!(count(&lines, "unavailable"), 1, "{:?}", lines.lock().unwrap());
    no_secrets(&lines, &[&redis.password, &secret]);

    // Back: after the pause (1 s) the next fetch uses Redis again, and says so.
    redis.restart();
    std::thread::sleep(Duration::from_millis(1100));
    assert!(b.invalidate(&t3));
    let t4 = b.token().unwrap();
    assert_eq!(count(&lines, "answers again"), 1, "{:?}", lines.lock().unwrap());
    assert_eq!(fleet_client(&id, &secret, &redis.url()).0.token().unwrap(), t4, "shared again");
    assert_eq!(token_requests(&id), 4);
}

#[test]
fn a_paused_redis_costs_at_most_its_timeout_and_never_an_error() {
    let redis = Redis::start();
    let (id, secret) = new_client("fleet-pause");
    let mut o = options(&id, &secret);
    o.set_deadline(Duration::from_secs(4)).unwrap();
    let (a, _) = fleet_client_with(o.clone(), &redis.url());
    let t1 = a.token().unwrap();
    redis.pause(); // SIGSTOP: connections stay open, nothing answers
    let (b, lines) = fleet_client_with(o.clone(), &redis.url());
    let start = Instant::now();
    let t2 = b.token().expect("a hung Redis is not the caller's problem");
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_millis(2500), "one bounded Redis call, then the fetch: {took:?}");
    assert!(api_accepts(&t2));
    assert!(count(&lines, "no answer within 1000 ms") + count(&lines, "no connection within 1000 ms") == 1, "{:?}", lines.lock().unwrap());
    // The warm path is untouched by the hung server.
    let start = Instant::now();
    for _ in 0..10_000 {
        assert_eq!(a.token().unwrap(), t1);
    }
    assert!(start.elapsed() < Duration::from_millis(500), "{:?}", start.elapsed());
    redis.resume();
    assert_eq!(token_requests(&id), 2);
}

#[test]
fn flushall_costs_one_request_and_nothing_else() {
    let redis = Redis::start();
    let (id, secret) = new_client("fleet-flush");
    let (a, _) = fleet_client(&id, &secret, &redis.url());
    let t1 = a.token().unwrap();
    redis.cli(&["FLUSHALL"]);
    assert_eq!(a.token().unwrap(), t1, "in memory");
    let t2 = fleet_client(&id, &secret, &redis.url()).0.token().unwrap();
    assert_eq!(token_requests(&id), 2);
    assert_eq!(fleet_client(&id, &secret, &redis.url()).0.token().unwrap(), t2);
    assert_eq!(token_requests(&id), 2);
}

#[test]
fn a_refused_password_means_fetching_alone_and_the_password_is_never_shown() {
    let redis = Redis::start();
    let (id, secret) = new_client("fleet-auth");
    let url = format!("redis://:wrong-password-1234@127.0.0.1:{}", redis.port);
    let (a, lines) = fleet_client(&id, &secret, &url);
    assert!(api_accepts(&a.token().unwrap()));
    assert_eq!(count(&lines, "unavailable"), 1, "{:?}", lines.lock().unwrap());
    assert!(lines.lock().unwrap().iter().any(|l| l.contains("redis://:***@127.0.0.1")), "{:?}", lines.lock().unwrap());
    no_secrets(&lines, &["wrong-password-1234", &secret]);
    assert_eq!(fleet_client(&id, &secret, &url).0.token().map(drop), Ok(()));
    assert_eq!(token_requests(&id), 2, "nothing shared");
    assert!(redis.keys().is_empty());
}

#[test]
fn a_full_or_read_only_redis_is_read_but_not_written() {
    let redis = Redis::start();
    let (id, secret) = new_client("fleet-full");
    redis.cli(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    redis.cli(&["CONFIG", "SET", "maxmemory", "1"]);
    let (a, lines) = fleet_client(&id, &secret, &redis.url());
    assert!(api_accepts(&a.token().expect("a full Redis is not the caller's problem")));
    // The lock is refused first, then the token: one line for the condition.
    assert_eq!(count(&lines, "OOM"), 1, "{:?}", lines.lock().unwrap());
    redis.cli(&["CONFIG", "SET", "maxmemory", "0"]);

    // A replica after a failover: reads work, writes are refused with READONLY.
    let t = fleet_client(&id, &secret, &redis.url()).0.token().unwrap();
    redis.cli(&["REPLICAOF", "127.0.0.1", "1"]);
    let (b, lines) = fleet_client(&id, &secret, &redis.url());
    assert_eq!(b.token().unwrap(), t, "still read");
    assert!(b.invalidate(&t));
    assert!(api_accepts(&b.token().unwrap()));
    assert_eq!(count(&lines, "read only replica"), 1, "{:?}", lines.lock().unwrap());
    redis.cli(&["REPLICAOF", "NO", "ONE"]);
    assert_eq!(token_requests(&id), 3);
}

#[test]
fn a_server_that_is_not_redis_is_stepped_around() {
    let (id, secret) = new_client("fleet-garbage");
    // The test server's admin port speaks HTTP: every answer is garbage to a Redis client.
    let port = server().admin.rsplit(':').next().unwrap().trim_end_matches('/').to_string();
    let url = format!("redis://127.0.0.1:{port}");
    let (a, lines) = fleet_client(&id, &secret, &url);
    let start = Instant::now();
    assert!(api_accepts(&a.token().unwrap()));
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(count(&lines, "unavailable"), 1, "{:?}", lines.lock().unwrap());
}

#[test]
fn a_lock_holder_that_died_is_taken_over_when_its_lease_ends() {
    let redis = Redis::start();
    let (id, secret) = new_client("fleet-dead");
    fleet_client(&id, &secret, &redis.url()).0.token().unwrap();
    let lock = redis.token_key().replace(":token", ":lock");
    redis.cli(&["FLUSHALL"]);
    // A process took the lock and died: its lease (1.5 s here) is all that is left of it.
    redis.cli(&["SET", &lock, "dead-process", "PX", "1500"]);
    let mut o = options(&id, &secret);
    o.set_deadline(Duration::from_secs(20)).unwrap();
    let (b, _) = fleet_client_with(o.clone(), &redis.url());
    let (c, _) = fleet_client_with(o, &redis.url());
    let start = Instant::now();
    let (tb, tc) = std::thread::scope(|s| {
        let hb = s.spawn(|| b.token().unwrap());
        let hc = s.spawn(|| c.token().unwrap());
        (hb.join().unwrap(), hc.join().unwrap())
    });
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(1400) && took < Duration::from_secs(6), "taken over after the lease, not the 20 s deadline: {took:?}");
    assert_eq!(tb, tc);
    assert_eq!(token_requests(&id), 2, "one of the two waiters took over");
    assert!(redis.keys().iter().all(|k| !k.ends_with(":lock")), "released");
}

#[test]
fn a_failed_fetch_is_not_repeated_by_every_process() {
    let redis = Redis::start();
    let (id, secret) = new_client("fleet-failing");
    fleet_client(&id, &secret, &redis.url()).0.token().unwrap();
    // The client is deleted at the server: every request now gets invalid_client.
    ureq::delete(&format!("{}/clients?client_id={id}", server().admin)).call().unwrap();
    redis.cli(&["FLUSHALL"]);
    let (a, _) = fleet_client(&id, &secret, &redis.url());
    assert_eq!(a.token().unwrap_err().oauth_code(), Some("invalid_client"));
    assert_eq!(token_requests(&id), 2);
    for _ in 0..5 {
        let (b, _) = fleet_client(&id, &secret, &redis.url());
        let e = b.token().unwrap_err();
        assert_eq!((e.kind(), e.oauth_code(), e.http_status()), (ErrorKind::OAuth, Some("invalid_client"), 401));
        assert!(e.message().contains("another process's token request failed"), "{}", e.message());
        assert!(e.retry_after().is_some());
    }
    assert_eq!(token_requests(&id), 2, "five processes failed fast without a request");
    assert!(redis.keys().iter().any(|k| k.ends_with(":failed")));
    // The record holds the error, sealed: not even the client id in clear.
    let failed = redis.keys().into_iter().find(|k| k.ends_with(":failed")).unwrap();
    assert!(!String::from_utf8_lossy(&redis.raw(&failed)).contains("invalid_client"));
}

#[test]
fn rediss_uses_the_clients_trust_settings_and_a_unix_socket_works() {
    let redis = Redis::start_tls(std::path::Path::new(&server().dir));
    let (id, secret) = new_client("fleet-tls");
    // The client trusts the test CA (for the token server): the same roots verify Redis.
    let url = format!("rediss://:{}@localhost:{}", redis.password, redis.tls_port.unwrap());
    let (a, lines) = fleet_client(&id, &secret, &url);
    let t = a.token().unwrap();
    assert_eq!(fleet_client(&id, &secret, &url).0.token().unwrap(), t);
    assert_eq!(token_requests(&id), 1, "shared over TLS: {:?}", lines.lock().unwrap());
    assert_eq!(a.ping_fleet_cache().map(|r| r.is_ok()), Some(true));
    // Plain Redis on the TLS port (or TLS on the plain port) is a fault like any other.
    let (b, lines) = fleet_client(&id, &secret, &format!("rediss://:{}@localhost:{}", redis.password, redis.port));
    assert!(api_accepts(&b.token().unwrap()));
    assert_eq!(count(&lines, "unavailable"), 1, "{:?}", lines.lock().unwrap());
    // A unix socket.
    let (id, secret) = new_client("fleet-unix");
    let t = fleet_client(&id, &secret, &redis.unix_url()).0.token().unwrap();
    assert_eq!(fleet_client(&id, &secret, &redis.unix_url()).0.token().unwrap(), t);
    assert_eq!(token_requests(&id), 1);
}

#[test]
fn the_fleet_and_host_levels_stack() {
    let redis = Redis::start();
    let (id, secret) = new_client("fleet-stack");
    let dir = std::env::temp_dir().join(format!("raptoken-fleet-stack-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let with_dir = || options(&id, &secret).shared_cache_dir(dir.to_str().unwrap()).unwrap();
    let t = fleet_client_with(with_dir(), &redis.url()).0.token().unwrap();
    // Another host (no shared directory) takes it from Redis; another process on this host
    // from the file, even with Redis gone.
    assert_eq!(fleet_client(&id, &secret, &redis.url()).0.token().unwrap(), t);
    redis.cli(&["FLUSHALL"]);
    let (c, _) = fleet_client_with(with_dir(), &redis.url());
    assert_eq!(c.token().unwrap(), t);
    assert_eq!(token_requests(&id), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_option_from_the_environment_and_off() {
    let redis = Redis::start();
    let (id, secret) = new_client("fleet-env");
    let mut o = options(&id, &secret);
    o.set_text("shared_cache_url", &redis.url()).unwrap();
    let c = Client::new(&o).unwrap();
    assert_eq!(c.fleet_cache_url(), Some(format!("redis://:***@127.0.0.1:{}", redis.port).as_str()));
    o.set_shared_cache_url("").unwrap();
    assert_eq!(Client::new(&o).unwrap().fleet_cache_url(), None);
    let e = ClientOptions::new().set_shared_cache_url("http://127.0.0.1:6379").map(drop).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("redis, rediss or unix"), "{}", e.message());
}
