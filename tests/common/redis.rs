//! A real `redis-server` (the Debian package, installed by scripts/setup.d/60-redis.sh) for one
//! test: a free loopback port, its own temporary directory and unix socket, a password, nothing
//! persisted. Stopped (and resumed first, if paused) when dropped. `redis-cli` reads and changes
//! what the library stored, as an operator or an attacker with access to Redis would.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Redis {
    pub port: u16,
    pub password: String,
    pub dir: PathBuf,
    /// With TLS: the port that speaks TLS (certificate for localhost by the test server's CA).
    pub tls_port: Option<u16>,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Redis {
    pub fn start() -> Redis {
        Self::launch(None)
    }

    /// Also listening with TLS, with the certificate the test OpenID server made (`server_dir`
    /// holds server.pem, server-key.pem, ca.pem).
    pub fn start_tls(server_dir: &Path) -> Redis {
        Self::launch(Some(server_dir))
    }

    fn launch(tls: Option<&Path>) -> Redis {
        let dir = std::env::temp_dir().join(format!("raptoken-redis-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        let password = format!("pw-{}-{}", std::process::id(), free_port());
        for _ in 0..5 {
            let port = free_port();
            let tls_port = tls.map(|_| free_port());
            let mut cmd = Command::new("redis-server");
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--requirepass", &password, "--save", "", "--appendonly", "no"])
                .args(["--unixsocket", dir.join("redis.sock").to_str().unwrap(), "--unixsocketperm", "700"])
                .arg("--dir")
                .arg(&dir)
                .args(["--logfile", dir.join("redis.log").to_str().unwrap()]);
            if let (Some(server_dir), Some(tp)) = (tls, tls_port) {
                let f = |n: &str| server_dir.join(n).to_str().unwrap().to_string();
                cmd.args(["--tls-port", &tp.to_string(), "--tls-cert-file", &f("server.pem"), "--tls-key-file", &f("server-key.pem")])
                    .args(["--tls-ca-cert-file", &f("ca.pem"), "--tls-auth-clients", "no"]);
            }
            let child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start redis-server (scripts/setup.sh installs it)");
            let mut r = Redis { port, password: password.clone(), dir: dir.clone(), tls_port, child: Some(child) };
            if r.wait_ready(Duration::from_secs(5)) {
                return r;
            }
            r.kill(); // the port was taken meanwhile: try another
        }
        panic!("redis-server did not start; see {}", dir.join("redis.log").display());
    }

    fn wait_ready(&mut self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(Child::try_wait) {
                return false;
            }
            if self.try_cli(&["PING"]).is_some_and(|o| o.trim() == "PONG") {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// `redis://:PASSWORD@127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://:{}@127.0.0.1:{}", self.password, self.port)
    }

    pub fn unix_url(&self) -> String {
        format!("unix://{}?password={}", self.dir.join("redis.sock").display(), self.password)
    }

    fn try_cli(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "--no-auth-warning", "-a", &self.password])
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs a redis-cli command, returning its output.
    pub fn cli(&self, args: &[&str]) -> String {
        self.try_cli(args).unwrap_or_else(|| panic!("redis-cli {args:?} failed"))
    }

    /// The raw bytes under `key`, as redis-cli shows them (what anyone with access to Redis sees).
    pub fn raw(&self, key: &str) -> Vec<u8> {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "--no-auth-warning", "-a", &self.password, "--raw", "GET", key])
            .output()
            .unwrap();
        out.stdout
    }

    /// Replaces the value under `key` with `bytes` (any bytes: written through redis-cli -x).
    pub fn set_raw(&self, key: &str, bytes: &[u8]) {
        use std::io::Write;
        let mut child = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "--no-auth-warning", "-a", &self.password, "-x", "SET", key])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        assert!(child.wait().unwrap().success());
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut k: Vec<String> = self.cli(&["--scan"]).lines().map(str::to_string).filter(|l| !l.is_empty()).collect();
        k.sort();
        k
    }

    /// The key of the token entry (there must be exactly one).
    pub fn token_key(&self) -> String {
        let keys: Vec<String> = self.keys().into_iter().filter(|k| k.ends_with(":token")).collect();
        assert_eq!(keys.len(), 1, "{keys:?}");
        keys[0].clone()
    }

    fn signal(&self, sig: i32) {
        if let Some(c) = &self.child {
            // SAFETY: signalling our own child process.
            unsafe { libc::kill(c.id() as i32, sig) };
        }
    }

    /// SIGSTOP: the server keeps its sockets but answers nothing (a hung or swapping server).
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    /// SIGKILL: the server is gone, connections reset.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child process.
            unsafe { libc::kill(c.id() as i32, libc::SIGCONT) };
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port (after `kill`), empty.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "kill it first");
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--requirepass", &self.password, "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        assert!(self.wait_ready(Duration::from_secs(5)), "redis-server did not restart");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
