//! Fault injection on loopback, for faults a real authorization server won't produce on demand:
//! an HTTP server whose token endpoint answers what the test scripts (resets, stalls, 5xx,
//! 429 with Retry-After, garbage), a TCP forwarder that breaks TLS connections to the real
//! provider, and a tiny CONNECT proxy. Every server counts what it saw and stops when dropped.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// What the server does with one request.
pub enum Action {
    /// A good token response with this `expires_in`.
    Token(u64),
    /// A JWT-shaped token whose `exp` is stamped as Keycloak does (the issue second, rounded
    /// down, + lifetime), with `expires_in` = lifetime: `exp` is up to 1 s before `now + expires_in`.
    Jwt(u64),
    /// Any status, headers and body.
    Respond(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// Half a response, then a TCP reset.
    Reset,
    /// Read the request, then say nothing for this long (or until the server stops).
    Stall(Duration),
    /// A status line, then headers without end (until the client hangs up).
    EndlessHeaders,
}

pub fn json(status: u16, body: &str) -> Action {
    Action::Respond(status, vec![("Content-Type", "application/json".into())], body.as_bytes().to_vec())
}

pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A token the server issued, and when (server clock), so tests can tell expired from fresh.
#[derive(Clone)]
pub struct Issued {
    pub token: String,
    pub at: Instant,
    pub lifetime: Duration,
    /// The JWT's exp claim (Action::Jwt only).
    pub exp: Option<SystemTime>,
}

type Responder = Box<dyn FnMut(&Request, u64) -> Action + Send>;

struct State {
    stop: AtomicBool,
    counts: Mutex<HashMap<String, u64>>,
    token_requests: AtomicU64,
    responder: Mutex<Responder>,
    discovery: Mutex<Option<String>>,
    /// The first this-many discovery requests get a 503.
    discovery_failures: AtomicU64,
    issued: Mutex<Vec<Issued>>,
    /// What answers paths other than discovery and /token (default: 404).
    other: Mutex<Option<Responder>>,
    /// Every response body the server sent, for the secret scan (tokens live there).
    id: u64,
}

pub struct FaultServer {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`: an issuer; loopback http is allowed by the library.
    pub base: String,
    state: Arc<State>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl FaultServer {
    /// A server whose token endpoint answers `responder(request, n)` for the n-th (1-based) request.
    pub fn start(responder: impl FnMut(&Request, u64) -> Action + Send + 'static) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            stop: AtomicBool::new(false),
            counts: Mutex::new(HashMap::new()),
            token_requests: AtomicU64::new(0),
            responder: Mutex::new(Box::new(responder)),
            discovery: Mutex::new(None),
            discovery_failures: AtomicU64::new(0),
            issued: Mutex::new(Vec::new()),
            other: Mutex::new(None),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed) + std::process::id() as u64 * 1000,
        });
        let s = state.clone();
        let base = format!("http://{addr}");
        let base2 = base.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (s, base) = (s.clone(), base2.clone());
                std::thread::spawn(move || serve(conn, &s, &base));
            }
        });
        FaultServer { addr, base, state }
    }

    /// A script: the n-th token request gets `actions[n-1]`, later ones a good token.
    pub fn script(actions: Vec<Action>) -> FaultServer {
        let mut actions: std::collections::VecDeque<Action> = actions.into();
        Self::start(move |_, _| actions.pop_front().unwrap_or(Action::Token(3600)))
    }

    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.base)
    }

    /// Answers every path other than discovery and /token with `responder(request, n)` (n: the
    /// n-th such request), e.g. a scripted login bridge.
    pub fn on_other_paths(&self, responder: impl FnMut(&Request, u64) -> Action + Send + 'static) {
        *self.state.other.lock().unwrap() = Some(Box::new(responder));
    }

    /// Replaces the discovery document (default: this issuer, token endpoint /token).
    pub fn set_discovery(&self, body: &str) {
        *self.state.discovery.lock().unwrap() = Some(body.to_string());
    }

    /// The next `n` discovery requests fail with HTTP 503.
    pub fn fail_discovery(&self, n: u64) {
        self.state.discovery_failures.store(n, Ordering::SeqCst);
    }

    /// Requests seen on `path`.
    pub fn count(&self, path: &str) -> u64 {
        self.state.counts.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    pub fn issued(&self) -> Vec<Issued> {
        self.state.issued.lock().unwrap().clone()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
    }
}

fn read_request(conn: &mut TcpStream) -> Option<Request> {
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())))
        .collect();
    let len: usize = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Request { method, path, headers, body })
}

fn serve(mut conn: TcpStream, s: &State, base: &str) {
    let Some(req) = read_request(&mut conn) else { return };
    let path = req.path.split('?').next().unwrap_or("").to_string();
    *s.counts.lock().unwrap().entry(path.clone()).or_default() += 1;
    let action = match path.as_str() {
        "/.well-known/openid-configuration" if s.discovery_failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() => {
            Action::Respond(503, vec![], b"discovery down".to_vec())
        }
        "/.well-known/openid-configuration" => {
            let doc = s.discovery.lock().unwrap().clone();
            let doc = doc.unwrap_or_else(|| format!(r#"{{"issuer":"{base}","token_endpoint":"{base}/token"}}"#));
            json(200, &doc)
        }
        "/token" => {
            let n = s.token_requests.fetch_add(1, Ordering::SeqCst) + 1;
            let mut responder = s.responder.lock().unwrap();
            responder(&req, n)
        }
        _ => match s.other.lock().unwrap().as_mut() {
            Some(responder) => {
                let n = s.counts.lock().unwrap().values().sum::<u64>();
                responder(&req, n)
            }
            None => json(404, r#"{"error":"not_found"}"#),
        },
    };
    match action {
        Action::Token(secs) => {
            let token = format!("fault-token-{}-{}-{:016x}", s.id, s.issued.lock().unwrap().len() + 1, rand64());
            s.issued.lock().unwrap().push(Issued { token: token.clone(), at: Instant::now(), lifetime: Duration::from_secs(secs), exp: None });
            let body = format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":{secs}}}"#);
            write_response(&mut conn, 200, &[("Content-Type", "application/json".into())], body.as_bytes());
        }
        Action::Jwt(secs) => {
            let now = SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
            let exp = now.as_secs() + secs;
            let b64 = |s: &str| base64url(s.as_bytes());
            let n = s.issued.lock().unwrap().len() + 1;
            let token = format!("{}.{}.fault-sig-{}-{n}-{:016x}", b64(r#"{"alg":"RS256","typ":"JWT"}"#), b64(&format!(r#"{{"sub":"fault","exp":{exp}}}"#)), s.id, rand64());
            // Valid until exp, on this machine's clock (the server's).
            let at = Instant::now() - Duration::from_nanos(now.subsec_nanos() as u64);
            let exp_at = std::time::UNIX_EPOCH + Duration::from_secs(exp);
            s.issued.lock().unwrap().push(Issued { token: token.clone(), at, lifetime: Duration::from_secs(secs), exp: Some(exp_at) });
            let body = format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":{secs}}}"#);
            write_response(&mut conn, 200, &[("Content-Type", "application/json".into())], body.as_bytes());
        }
        Action::Respond(status, headers, body) => write_response(&mut conn, status, &headers, &body),
        Action::Reset => {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"access_to");
            reset(&conn);
        }
        Action::EndlessHeaders => {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n");
            let line = format!("X-Filler: {}\r\n", "a".repeat(100));
            for _ in 0..100_000 {
                if s.stop.load(Ordering::SeqCst) || conn.write_all(line.as_bytes()).is_err() {
                    break;
                }
            }
        }
        Action::Stall(d) => {
            let start = Instant::now();
            while start.elapsed() < d && !s.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn write_response(conn: &mut TcpStream, status: u16, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status} Fault\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // The client may hang up early (e.g. on a 10 MB body): errors here are expected.
    let _ = conn.write_all(head.as_bytes()).and_then(|_| conn.write_all(body));
    let _ = conn.flush();
    let _ = conn.shutdown(Shutdown::Write);
    // Let the client read everything before the socket closes (bounded).
    let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = conn.read(&mut [0u8; 64]);
}

/// Closes with SO_LINGER 0, which makes the kernel send RST instead of FIN.
pub fn reset(conn: &TcpStream) {
    use std::os::fd::AsRawFd;
    #[repr(C)]
    struct Linger {
        onoff: i32,
        linger: i32,
    }
    extern "C" {
        fn setsockopt(fd: i32, level: i32, name: i32, value: *const std::ffi::c_void, len: u32) -> i32;
    }
    const SOL_SOCKET: i32 = 1; // Linux
    const SO_LINGER: i32 = 13;
    let l = Linger { onoff: 1, linger: 0 };
    // SAFETY: a valid socket and a correctly sized struct linger.
    unsafe { setsockopt(conn.as_raw_fd(), SOL_SOCKET, SO_LINGER, (&l as *const Linger).cast(), 8) };
}

/// Unpadded base64url, as JWTs use.
pub fn base64url(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for c in input.chunks(3) {
        let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
        }
    }
    out
}

pub fn rand64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new().build_hasher().finish()
}

/// A port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// IMF-fixdate, as `Retry-After` carries it.
pub fn http_date(t: SystemTime) -> String {
    let secs = raptoken::internals::unix_seconds(t);
    let (y, m, d, hh, mm, ss) = raptoken::internals::civil_from_unix(secs);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][secs.div_euclid(86_400).rem_euclid(7) as usize];
    let mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][m as usize - 1];
    format!("{wd}, {d:02} {mon} {y} {hh:02}:{mm:02}:{ss:02} GMT")
}

/// Copies bytes both ways between two sockets until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let (mut a2, mut b2) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    let t = std::thread::spawn(move || {
        let mut a = a;
        let mut b = b;
        let _ = std::io::copy(&mut a, &mut b);
        let _ = b.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut b2, &mut a2);
    let _ = a2.shutdown(Shutdown::Write);
    let _ = t.join();
}

/// A loopback TCP listener whose accept loop hands each connection to `handle` (on the accept
/// thread; spawn for anything slow) until the `Loopback` is dropped. `handle` gets the stop flag,
/// for connections that should end when the server does.
pub struct Loopback {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl Loopback {
    pub fn start(mut handle: impl FnMut(TcpStream, &Arc<AtomicBool>) + Send + 'static) -> Loopback {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    handle(conn, &st);
                }
            }
        });
        Loopback { port, stop }
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
    }
}

/// What a TCP forwarder does with the n-th connection.
pub enum ConnFault {
    Forward,
    /// Reset at once (during the TLS handshake).
    Reset,
    /// Accept and say nothing for this long.
    Stall(Duration),
}

/// A TCP forwarder to `target` that breaks the connections the test asks it to: a fault
/// injected below TLS, in front of the real (HTTPS) provider.
pub struct Forwarder {
    pub port: u16,
    pub connections: Arc<AtomicU64>,
    _listener: Loopback,
}

impl Forwarder {
    pub fn start(target: SocketAddr, mut plan: impl FnMut(u64) -> ConnFault + Send + 'static) -> Forwarder {
        let connections = Arc::new(AtomicU64::new(0));
        let c = connections.clone();
        let listener = Loopback::start(move |conn, stop| {
            let n = c.fetch_add(1, Ordering::SeqCst) + 1;
            match plan(n) {
                ConnFault::Forward => {
                    std::thread::spawn(move || {
                        if let Ok(up) = TcpStream::connect(target) {
                            pipe(conn, up);
                        }
                    });
                }
                ConnFault::Reset => reset(&conn),
                ConnFault::Stall(d) => {
                    let st = stop.clone();
                    std::thread::spawn(move || {
                        let start = Instant::now();
                        while start.elapsed() < d && !st.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        drop(conn);
                    });
                }
            }
        });
        Forwarder { port: listener.port, connections, _listener: listener }
    }
}

/// A minimal HTTP CONNECT proxy: records each target, then tunnels bytes.
pub struct ConnectProxy {
    pub url: String,
    pub targets: Arc<Mutex<Vec<String>>>,
    _listener: Loopback,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        let targets = Arc::new(Mutex::new(Vec::new()));
        let t = targets.clone();
        let listener = Loopback::start(move |mut conn, _| {
            let t = t.clone();
            std::thread::spawn(move || {
                let Some(req) = read_request(&mut conn) else { return };
                t.lock().unwrap().push(format!("{} {}", req.method, req.path));
                if req.method != "CONNECT" {
                    write_response(&mut conn, 405, &[], b"CONNECT only");
                    return;
                }
                match TcpStream::connect(req.path.as_str()) {
                    Ok(up) => {
                        let _ = conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                        pipe(conn, up);
                    }
                    Err(_) => write_response(&mut conn, 502, &[], b"no route"),
                }
            });
        });
        ConnectProxy { url: format!("http://127.0.0.1:{}", listener.port), targets, _listener: listener }
    }

    pub fn connects(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

/// Collects every log line and error message a test produces, and writes them (with the
/// secrets and tokens to look for) under target/fault-logs/ for the suite-wide scan.
pub struct Transcript {
    pub lines: Arc<Mutex<Vec<String>>>,
    name: String,
}

impl Transcript {
    pub fn new(name: &str) -> Transcript {
        Transcript { lines: Arc::new(Mutex::new(Vec::new())), name: name.to_string() }
    }

    pub fn logger(&self) -> raptoken::Logger {
        let lines = self.lines.clone();
        raptoken::Logger::new(raptoken::LogLevel::Debug, move |level, line| lines.lock().unwrap().push(format!("{level:?} {line}")))
    }

    pub fn record_error(&self, e: &raptoken::Error) {
        self.lines.lock().unwrap().push(format!("ERROR-RESULT {e} | {e:?} | {:?}", e.oauth_description()));
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.lines.lock().unwrap().iter().any(|l| l.contains(needle))
    }

    /// Asserts no line holds any of `secrets`, then writes lines and secrets out for the
    /// suite-wide scan (scripts/test.d/15-faults.sh).
    pub fn check_and_save(&self, secrets: &[String]) {
        let lines = self.lines.lock().unwrap().clone();
        for s in secrets {
            for l in &lines {
                assert!(!l.contains(s.as_str()), "a log line or error leaks a secret or token: {l}");
            }
        }
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("../fault-logs");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{}.lines", self.name)), lines.join("\n")).unwrap();
        std::fs::write(dir.join(format!("{}.secrets", self.name)), secrets.join("\n")).unwrap();
    }
}

/// An HTTPS server on 127.0.0.1 that answers every request with one fixed JSON document (e.g. a
/// discovery document the real provider would never serve), using the test provider's
/// certificate (valid for 127.0.0.1). Counts requests; stops when dropped.
pub struct TlsDocument {
    pub base: String,
    pub requests: Arc<AtomicU64>,
    _listener: Loopback,
}

impl TlsDocument {
    pub fn start(server_dir: &std::path::Path, body: impl Fn(&str) -> String + Send + 'static) -> TlsDocument {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(server_dir.join("server.pem")).unwrap().collect::<Result<_, _>>().unwrap();
        let key = PrivateKeyDer::from_pem_file(server_dir.join("server-key.pem")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let config = Arc::new(config);
        let requests = Arc::new(AtomicU64::new(0));
        let base = Arc::new(Mutex::new(String::new()));
        let (r, b) = (requests.clone(), base.clone());
        let listener = Loopback::start(move |tcp, _| {
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let Ok(tls) = rustls::ServerConnection::new(config.clone()) else { return };
            let mut stream = rustls::StreamOwned::new(tls, tcp);
            // Read the request head (a GET has no body), then answer.
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            r.fetch_add(1, Ordering::SeqCst);
            let doc = body(&b.lock().unwrap());
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{doc}",
                doc.len()
            );
            let _ = stream.write_all(resp.as_bytes());
            stream.conn.send_close_notify();
            let _ = stream.flush();
        });
        let url = format!("https://127.0.0.1:{}", listener.port);
        *base.lock().unwrap() = url.clone();
        TlsDocument { base: url, requests, _listener: listener }
    }
}

/// A plain-http server that answers every connection with an HTTP 400 at once, whatever it
/// receives (as a real http server does when a TLS client hello arrives).
pub struct PlainResponder {
    pub port: u16,
    pub connections: Arc<AtomicU64>,
    _listener: Loopback,
}

impl PlainResponder {
    pub fn start() -> PlainResponder {
        let connections = Arc::new(AtomicU64::new(0));
        let c = connections.clone();
        let listener = Loopback::start(move |mut conn, _| {
            c.fetch_add(1, Ordering::SeqCst);
            let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = conn.read(&mut [0u8; 1024]);
            let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nbad request");
            let _ = conn.shutdown(Shutdown::Write);
        });
        PlainResponder { port: listener.port, connections, _listener: listener }
    }
}
