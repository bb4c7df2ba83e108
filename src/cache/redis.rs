//! The fleet level's store: Redis or Valkey, through the `redis` crate's synchronous client (no
//! async runtime). Entries are sealed (seal.rs) before they leave the process; the lock is
//! `SET key value NX PX lease`, released by its holder only (a compare-and-delete script), or
//! by expiry if the holder died.
//!
//! Every call is bounded: connecting (name resolution included: it runs on a helper thread that
//! is waited for at most `io_timeout`) and each command (socket timeouts). When Redis fails
//! (down, paused, refusing the password, answering garbage) the store reports a fault, the
//! level fetches directly, and Redis is not tried again for a growing pause (1 s doubling to
//! 30 s): an outage is logged once when it starts and once when it ends.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use redis::{Client as RedisClient, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};
use ring::rand::{SecureRandom, SystemRandom};

use super::fleet_config::{FleetConfig, RedisAddr};
use super::seal::{self, Sealer};
use super::shared::{self, Fault, Read, Slot, Store};
use crate::util::error::{Error, Result};
use crate::util::log::{LogLevel, Logger};
use crate::util::secret::Secret;

/// A sealed entry is a few hundred bytes; anything bigger is not ours (and is not decrypted).
const MAX_ENTRY: usize = 64 * 1024;
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// Deletes the lock only if it still holds our value: a holder whose lease ran out must not
/// release the lock of the process that took it over.
const UNLOCK: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

pub(crate) struct RedisStore {
    client: RedisClient,
    /// Connect on a helper thread (a host name's lookup cannot be bounded otherwise).
    resolve_in_thread: bool,
    display: String,
    password: Option<Secret>,
    io_timeout: Duration,
    lease: Duration,
    token_key: String,
    lock_key: String,
    failure_key: String,
    sealer: Sealer,
    rng: SystemRandom,
    conn: Mutex<Option<redis::Connection>>,
    health: Mutex<Health>,
    logger: Option<Logger>,
}

/// Whether Redis is being skipped after a failure, and for how long.
#[derive(Default)]
struct Health {
    down_until: Option<Instant>,
    pause: Duration,
}

/// A held lock: the random value we set.
pub(crate) struct RedisLock(String);

impl RedisStore {
    pub(crate) fn new(cfg: &FleetConfig) -> Result<RedisStore> {
        let url = &cfg.url;
        let mut settings = RedisConnectionInfo::default().set_db(url.db).set_skip_set_lib_name();
        if let Some(u) = &url.username {
            settings = settings.set_username(u);
        }
        if let Some(p) = &url.password {
            settings = settings.set_password(p.expose());
        }
        let bad = |e: redis::RedisError| Error::config(format!("shared cache URL {}: {e}", url.display()));
        let (addr, resolve_in_thread) = match &url.addr {
            RedisAddr::Tcp { host, port, tls: false } => (ConnectionAddr::Tcp(host.clone(), *port), host.parse::<std::net::IpAddr>().is_err()),
            RedisAddr::Tcp { host, port, tls: true } => {
                (ConnectionAddr::TcpTls { host: host.clone(), port: *port, insecure: false, tls_params: None }, host.parse::<std::net::IpAddr>().is_err())
            }
            RedisAddr::Unix(path) => (ConnectionAddr::Unix(path.clone()), false),
        };
        let info = addr.into_connection_info().map_err(bad)?.set_redis_settings(settings);
        let client = if url.is_tls() {
            let certs = redis::TlsCertificates { client_tls: None, root_cert: cfg.tls_roots_pem.clone() };
            RedisClient::build_with_tls(info, certs)
                .map_err(|e| Error::config(format!("shared cache URL {}: cannot use the trust roots for TLS: {e}", url.display())))?
        } else {
            RedisClient::open(info).map_err(bad)?
        };
        let material = cfg.level.key_material.expose().as_bytes();
        let tag = shared::hex(&seal::credential_tag(material, &cfg.level.key));
        // Hash tags ({...}) keep the three keys in one slot, should the server be a cluster proxy.
        let hash = shared::hex(&shared::sha256(format!("raptoken-fleet-v1\0{}\0{tag}", cfg.level.key).as_bytes()));
        Ok(RedisStore {
            client,
            resolve_in_thread,
            display: url.display(),
            password: url.password.clone(),
            io_timeout: cfg.io_timeout,
            lease: cfg.lease,
            token_key: format!("raptoken:{{{hash}}}:token"),
            lock_key: format!("raptoken:{{{hash}}}:lock"),
            failure_key: format!("raptoken:{{{hash}}}:failed"),
            sealer: Sealer::new(material, &cfg.level.key),
            rng: SystemRandom::new(),
            conn: Mutex::new(None),
            health: Mutex::new(Health::default()),
            logger: cfg.level.logger.clone(),
        })
    }

    /// Whether Redis answers a PING now, and how long it took (connecting included).
    pub(crate) fn ping(&self) -> std::result::Result<Duration, String> {
        let start = Instant::now();
        let mut conn = self.conn.lock();
        let result = self.connected(&mut conn).and_then(|c| redis::cmd("PING").query::<String>(c).map_err(|e| self.why(&e)));
        match result {
            Ok(_) => Ok(start.elapsed()),
            Err(why) => {
                *conn = None;
                Err(why)
            }
        }
    }

    /// Runs `op` on the connection (connecting first if needed). A failure drops the
    /// connection; one that means Redis cannot be used starts a pause during which it is not
    /// tried (logged when it starts), and the first success after one is logged too.
    fn run<T>(&self, what: &str, mut op: impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>) -> std::result::Result<T, Fault> {
        if self.health.lock().down_until.is_some_and(|t| Instant::now() < t) {
            return Err(Fault { class: "down", line: String::new(), quiet: true });
        }
        let mut conn = self.conn.lock();
        // A kept connection may have been closed since (a failover, a server restart, an idle
        // timeout): one more try on a new connection before Redis counts as down.
        let reused = conn.is_some();
        let mut result = self.attempt(&mut conn, &mut op);
        if reused && matches!(result, Err((None, _))) {
            result = self.attempt(&mut conn, &mut op);
        }
        match result {
            Ok(v) => {
                drop(conn);
                self.up();
                Ok(v)
            }
            // The server is there but refuses this command (out of memory, read-only replica
            // after a failover, no permission): the level goes on without it.
            Err((Some(code), why)) => Err(Fault::new(code, format!("fleet cache {}: cannot {what}: {why}; going on without it", self.display))),
            Err((None, why)) => {
                drop(conn);
                Err(self.down(&why))
            }
        }
    }

    /// One try; a failure drops the connection. `Err((Some(code), why))`: Redis refused it.
    fn attempt<T>(
        &self,
        conn: &mut Option<redis::Connection>,
        op: &mut impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> std::result::Result<T, (Option<&'static str>, String)> {
        let result = match self.connected(conn) {
            Ok(c) => op(c).map_err(|e| (refusal(&e), self.why(&e))),
            Err(why) => Err((None, why)),
        };
        if result.is_err() {
            *conn = None;
        }
        result
    }

    fn connected<'a>(&self, conn: &'a mut Option<redis::Connection>) -> std::result::Result<&'a mut redis::Connection, String> {
        if conn.is_none() {
            let c = self.connect()?;
            c.set_read_timeout(Some(self.io_timeout)).and_then(|()| c.set_write_timeout(Some(self.io_timeout))).map_err(|e| self.why(&e))?;
            *conn = Some(c);
        }
        Ok(conn.as_mut().expect("set above"))
    }

    fn connect(&self) -> std::result::Result<redis::Connection, String> {
        let timeout = self.io_timeout;
        if !self.resolve_in_thread {
            return self.client.get_connection_with_timeout(timeout).map_err(|e| self.why(&e));
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let client = self.client.clone();
        std::thread::Builder::new()
            .name("raptoken-redis-connect".into())
            .spawn(move || {
                let _ = tx.send(client.get_connection_with_timeout(timeout));
            })
            .map_err(|e| format!("cannot start a thread to connect: {e}"))?;
        // The thread's own timeout covers connecting and the handshake; this also covers the
        // name lookup, which has none. A thread still stuck in it ends when the lookup does.
        match rx.recv_timeout(timeout + Duration::from_millis(50)) {
            Ok(r) => r.map_err(|e| self.why(&e)),
            Err(_) => Err(format!("no connection within {} ms (name resolution or connect)", timeout.as_millis())),
        }
    }

    /// A Redis error for a log line, with the password removed should it ever appear.
    fn why(&self, e: &redis::RedisError) -> String {
        let text = if e.is_timeout() { format!("no answer within {} ms ({e})", self.io_timeout.as_millis()) } else { e.to_string() };
        let mut text = crate::util::error::scrub(&text, 300);
        if let Some(p) = &self.password {
            crate::util::error::redact_str(&mut text, std::slice::from_ref(p));
        }
        text
    }

    fn down(&self, why: &str) -> Fault {
        let mut h = self.health.lock();
        let was_up = h.pause.is_zero();
        h.pause = if was_up { FIRST_PAUSE } else { (h.pause * 2).min(MAX_PAUSE) };
        h.down_until = Some(Instant::now() + h.pause);
        let pause = h.pause;
        drop(h);
        if was_up {
            self.say(
                LogLevel::Warn,
                &format!("fleet cache {} unavailable: {why}; fetching tokens directly, and trying it again in {} s", self.display, pause.as_secs()),
            );
        }
        Fault { class: "down", line: String::new(), quiet: true }
    }

    fn up(&self) {
        let mut h = self.health.lock();
        if h.pause.is_zero() {
            return;
        }
        *h = Health::default();
        drop(h);
        self.say(LogLevel::Info, &format!("fleet cache {} answers again", self.display));
    }

    fn say(&self, level: LogLevel, line: &str) {
        shared::log(format_args!("{line}"));
        if let Some(l) = &self.logger {
            l.emit(level, line);
        }
    }

    fn open_slot(&self, value: Option<Vec<u8>>, context: &[u8]) -> Slot {
        let v = value?;
        if v.len() > MAX_ENTRY {
            return Some(Err(format!("{} bytes: too big to be an entry", v.len())));
        }
        Some(self.sealer.open(&v, context).map_err(str::to_string))
    }

    fn context(kind: &str, key: &str) -> Vec<u8> {
        format!("{kind}\0{key}").into_bytes()
    }

    fn set_sealed(&self, what: &str, key: &str, kind: &str, plain: &[u8], ttl: Duration) -> std::result::Result<(), Fault> {
        let ms = ttl.as_millis().min(u64::MAX as u128) as u64;
        if ms == 0 {
            return Ok(());
        }
        let sealed = self.sealer.seal(plain, &Self::context(kind, key)).ok_or_else(|| Fault::new("seal", "cannot seal an entry (no randomness)".into()))?;
        self.run(what, |c| redis::cmd("SET").arg(key).arg(&sealed).arg("PX").arg(ms).query::<()>(c))
    }
}

/// The error code if Redis refused a command it understood (so Redis itself is up).
fn refusal(e: &redis::RedisError) -> Option<&'static str> {
    match e.code() {
        Some("OOM") => Some("oom"),
        Some("READONLY") => Some("readonly"),
        Some("NOPERM") => Some("noperm"),
        Some("NOSCRIPT" | "BUSY") => Some("script"),
        _ => None,
    }
}

impl Store for RedisStore {
    type Lock = RedisLock;

    fn describe_entry(&self) -> String {
        format!("the fleet cache entry in {}", self.display)
    }

    fn describe_lock(&self) -> String {
        format!("in {}", self.display)
    }

    fn open(&self) -> std::result::Result<(), Fault> {
        Ok(())
    }

    fn read(&self) -> std::result::Result<Read, Fault> {
        let (entry, failure) = self.run("read", |c| {
            redis::cmd("MGET").arg(&self.token_key).arg(&self.failure_key).query::<(Option<Vec<u8>>, Option<Vec<u8>>)>(c)
        })?;
        Ok(Read {
            entry: self.open_slot(entry, &Self::context("token", &self.token_key)),
            failure: self.open_slot(failure, &Self::context("failed", &self.failure_key)),
        })
    }

    fn try_lock(&self) -> std::result::Result<Option<RedisLock>, Fault> {
        let mut raw = [0u8; 16];
        self.rng.fill(&mut raw).map_err(|_| Fault::new("seal", "no randomness for a lock value".into()))?;
        let value = shared::hex(&raw);
        let ms = self.lease.as_millis().max(1) as u64;
        let set = self.run("take the lock", |c| redis::cmd("SET").arg(&self.lock_key).arg(&value).arg("NX").arg("PX").arg(ms).query::<Option<String>>(c))?;
        Ok(set.map(|_| RedisLock(value)))
    }

    fn unlock(&self, lock: RedisLock) {
        // If this fails the lease ends the lock anyway.
        let _ = self.run("release the lock", |c| redis::cmd("EVAL").arg(UNLOCK).arg(1).arg(&self.lock_key).arg(&lock.0).query::<i64>(c));
    }

    fn write_entry(&self, bytes: &[u8], ttl: Duration) -> std::result::Result<(), Fault> {
        self.set_sealed("store the token", &self.token_key, "token", bytes, ttl)
    }

    fn write_failure(&self, bytes: &[u8], ttl: Duration) -> std::result::Result<(), Fault> {
        self.set_sealed("store the failure", &self.failure_key, "failed", bytes, ttl)
    }

    fn clear_failure(&self) -> std::result::Result<(), Fault> {
        self.run("clear the failure", |c| redis::cmd("DEL").arg(&self.failure_key).query::<i64>(c)).map(drop)
    }
}
