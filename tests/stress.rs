//! Stress: 8 threads call for RAPTOKEN_STRESS_SECS (default 20) seconds against 3-second tokens
//! while the server injects failures (503, resets, 429 with Retry-After). Checks: no expired token
//! is ever returned, no error while a usable token existed, and the number of token requests
//! stays close to what the refresh schedule needs.

mod fault_server;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fault_server::{Action, FaultServer, Transcript};
use raptoken::{Client, ClientOptions};

const LIFETIME: Duration = Duration::from_secs(3);
/// A 3 s opaque token counts as 2 s (a second off for the server's whole-second clock); the
/// library's defaults for it: hard margin 10 % (0.2 s), refresh window 50 % (1 s).
const USABLE: Duration = Duration::from_millis(1800);
const REFRESH_AFTER: Duration = Duration::from_millis(800);

/// The n-th token request: a fixed, repeating mix of failures (about 40 % of requests).
fn plan(n: u64) -> Action {
    match n % 10 {
        2 | 7 => Action::Respond(503, vec![], b"busy".to_vec()),
        4 => Action::Reset,
        9 => Action::Respond(429, vec![("Retry-After", "1".into())], b"slow down".to_vec()),
        _ => Action::Token(LIFETIME.as_secs()),
    }
}

#[test]
fn eight_threads_against_three_second_tokens_with_failures() {
    let secs: u64 = std::env::var("RAPTOKEN_STRESS_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let duration = Duration::from_secs(secs);
    let server = Arc::new(FaultServer::start(|_, n| plan(n)));
    let log = Transcript::new("stress");
    let secret = format!("stress-secret-{:x}", fault_server::rand64());
    let mut o = ClientOptions::new().client_id("stress").unwrap().client_secret(&secret).unwrap().issuer(&server.base).unwrap();
    o.set_request_timeout(Duration::from_secs(1)).unwrap();
    o.set_deadline(Duration::from_secs(5)).unwrap();
    o.set_retry_backoff(Duration::from_millis(50), Duration::from_millis(500)).unwrap();
    o.set_max_retry_after(Duration::from_secs(1));
    o.set_logger(log.logger());
    let client = Arc::new(Client::new(&o).unwrap());

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let min_left = Arc::new(Mutex::new(LIFETIME));
    let start = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (client, server, stop, calls, errors, min_left) =
                (client.clone(), server.clone(), stop.clone(), calls.clone(), errors.clone(), min_left.clone());
            std::thread::spawn(move || {
                // This thread's view of which server-side issue time each token had.
                let mut issued_at: HashMap<String, Instant> = HashMap::new();
                let mut local_min = LIFETIME;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let called_at = Instant::now();
                    let r = client.with_token(Duration::ZERO, |t| (t.access_token().to_string(), Instant::now()));
                    n += 1;
                    match r {
                        Ok((token, served_at)) => {
                            if !issued_at.contains_key(&token) {
                                issued_at.extend(server.issued().into_iter().map(|i| (i.token, i.at)));
                            }
                            let at = *issued_at.get(&token).expect("a token the server issued");
                            // The server issued it after the client sent the request, so the
                            // client's expiry clock started earlier: this bound is strict.
                            let left = (at + LIFETIME).checked_duration_since(served_at);
                            assert!(left.is_some(), "an expired token was returned");
                            local_min = local_min.min(left.unwrap());
                        }
                        Err(e) => {
                            // Was a token still usable when this call began? Then this is a bug.
                            let usable = server.issued().iter().any(|i| i.at < called_at && i.at + USABLE > called_at + Duration::from_millis(100));
                            assert!(!usable, "an error while a usable token existed: {e}");
                            errors.lock().unwrap().push(e.to_string());
                        }
                    }
                    // Bursts of tight calls, with short pauses like a busy service.
                    if n % 64 == 0 {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                calls.fetch_add(n, Ordering::Relaxed);
                let mut m = min_left.lock().unwrap();
                *m = (*m).min(local_min);
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let elapsed = start.elapsed();

    let stats = client.stats();
    let issued = server.issued().len() as u64;
    let requests = server.count("/token");
    // Renewals start 0.8 s after a token was requested; the schedule needs about one per 0.8 s.
    let expected = elapsed.as_secs_f64() / REFRESH_AFTER.as_secs_f64();
    let errors = errors.lock().unwrap().clone();
    let summary = format!(
        "stress: {:.1} s, 8 threads, {} calls, {} errors (none while a usable token existed), {} token requests ({} tokens issued, \
         expected ~{:.0} = duration / 0.8 s refresh interval; duration / lifetime = {:.0}), min time left on a returned token {} ms, \
         stats {:?}",
        elapsed.as_secs_f64(),
        calls.load(Ordering::Relaxed),
        errors.len(),
        requests,
        issued,
        expected,
        elapsed.as_secs_f64() / LIFETIME.as_secs_f64(),
        min_left.lock().unwrap().as_millis(),
        stats
    );
    eprintln!("{summary}");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("../fault-logs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("stress.summary"), &summary).unwrap();

    assert!(issued as f64 >= elapsed.as_secs_f64() / USABLE.as_secs_f64() * 0.9, "too few tokens: {summary}");
    assert!((issued as f64) <= expected * 1.3 + 2.0, "too many tokens: {summary}");
    // Each issued token costs at most one request plus the injected failures around it.
    assert!(requests as f64 <= issued as f64 * 2.0 + 4.0, "too many requests: {summary}");
    assert_eq!(stats.token_requests, requests, "the client's counter matches the server");
    // Almost every call is a cache hit; the rest fetched or waited for a fetch.
    assert!(stats.cache_hits as f64 >= calls.load(Ordering::Relaxed) as f64 * 0.9, "{summary}");
    let mut secrets = vec![secret];
    secrets.extend(server.issued().into_iter().map(|i| i.token));
    for e in &errors {
        assert!(!secrets.iter().any(|s| e.contains(s.as_str())), "{e}");
    }
    log.lines.lock().unwrap().extend(errors);
    log.check_and_save(&secrets);
}
