//! What the fleet level is configured with, as plain values: the Redis/Valkey server named by
//! `shared_cache_url` (parsed and checked when the option is set, with or without the `fleet`
//! feature) and the timeouts and level settings the options layer derives for it.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::shared::LevelConfig;
use crate::util::secret::Secret;

/// Where the Redis server is, as `shared_cache_url` names it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RedisUrl {
    pub addr: RedisAddr,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub db: i64,
    /// The URL for messages, without the password.
    shown: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RedisAddr {
    Tcp { host: String, port: u16, tls: bool },
    Unix(PathBuf),
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl RedisUrl {
    /// `redis://[[user]:password@]host[:port][/db]`, `rediss://...` (TLS), or
    /// `unix:///path[?db=N]` (also `redis+unix://`). User and password are percent-decoded.
    pub(crate) fn parse(input: &str) -> std::result::Result<RedisUrl, String> {
        #[cfg(feature = "fleet")]
        return Self::parse_full(input).map(|mut u| {
            u.shown = u.format();
            u
        });
        // A build without the fleet store only checks the scheme (creating the client refuses
        // the URL anyway): the parser stays out of the size-budgeted default library.
        #[cfg(not(feature = "fleet"))]
        {
            let scheme = input.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
            if !matches!(scheme.as_deref(), Some("redis" | "rediss" | "unix" | "redis+unix")) {
                return Err(format!("shared cache URL '{}': the scheme must be redis, rediss or unix", redacted(input)));
            }
            let addr = RedisAddr::Tcp { host: String::new(), port: 0, tls: scheme.as_deref() == Some("rediss") };
            Ok(RedisUrl { addr, username: None, password: None, db: 0, shown: redacted(input) })
        }
    }

    #[cfg_attr(not(feature = "fleet"), allow(dead_code))]
    fn parse_full(input: &str) -> std::result::Result<RedisUrl, String> {
        let bad = |why: &str| format!("shared cache URL '{}': {why}", redacted(input));
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("contains whitespace or control characters"));
        }
        let (scheme, rest) = input.split_once("://").ok_or_else(|| bad("expected redis://host:port, rediss://host:port or unix:///path"))?;
        let scheme = scheme.to_ascii_lowercase();
        if rest.contains('#') {
            return Err(bad("a fragment (#) is not allowed"));
        }
        let (rest, query) = rest.split_once('?').map_or((rest, None), |(r, q)| (r, Some(q)));
        let mut url = RedisUrl { addr: RedisAddr::Unix(PathBuf::new()), username: None, password: None, db: 0, shown: String::new() };
        match scheme.as_str() {
            "redis" | "rediss" => {
                let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
                let hostport = match authority.rsplit_once('@') {
                    Some((userinfo, hp)) => {
                        url.set_userinfo(userinfo).map_err(|w| bad(&w))?;
                        hp
                    }
                    None => authority,
                };
                let (host, port) = split_host_port(hostport).map_err(|w| bad(&w))?;
                url.addr = RedisAddr::Tcp { host, port, tls: scheme == "rediss" };
                if !path.is_empty() {
                    url.db = parse_db(path).map_err(|w| bad(&w))?;
                }
            }
            "unix" | "redis+unix" => {
                if !rest.starts_with('/') {
                    return Err(bad("a unix socket needs an absolute path: unix:///run/redis/redis.sock"));
                }
                url.addr = RedisAddr::Unix(PathBuf::from(decode(rest).map_err(|w| bad(&w))?));
            }
            _ => return Err(bad("the scheme must be redis, rediss or unix")),
        }
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = decode(v).map_err(|w| bad(&w))?;
            match k {
                "db" => url.db = parse_db(&v).map_err(|w| bad(&w))?,
                "user" | "username" => url.username = Some(v).filter(|u| !u.is_empty()),
                "pass" | "password" => url.password = Some(Secret::new(v)).filter(|p| !p.is_empty()),
                _ => return Err(bad(&format!("unknown parameter '{}' (known: db, user, password)", k.chars().take(40).collect::<String>()))),
            }
        }
        Ok(url)
    }

    fn set_userinfo(&mut self, userinfo: &str) -> std::result::Result<(), String> {
        let (user, pass) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            // `redis://password@host` is a common way to write a password alone.
            None => ("", Some(userinfo)),
        };
        self.username = Some(decode(user)?).filter(|u| !u.is_empty());
        self.password = pass.map(decode).transpose()?.filter(|p| !p.is_empty()).map(Secret::new);
        Ok(())
    }

    /// The URL for messages and `raptoken check`: never the password.
    pub(crate) fn display(&self) -> String {
        self.shown.clone()
    }

    #[cfg_attr(not(feature = "fleet"), allow(dead_code))]
    fn format(&self) -> String {
        let user = match (&self.username, &self.password) {
            (Some(u), Some(_)) => format!("{u}:***@"),
            (Some(u), None) => format!("{u}@"),
            (None, Some(_)) => ":***@".to_string(),
            (None, None) => String::new(),
        };
        let db = if self.db == 0 { String::new() } else { format!("/{}", self.db) };
        match &self.addr {
            RedisAddr::Tcp { host, port, tls } => {
                let host = if host.contains(':') { format!("[{host}]") } else { host.clone() };
                format!("{}://{user}{host}:{port}{db}", if *tls { "rediss" } else { "redis" })
            }
            RedisAddr::Unix(p) => {
                let db = if self.db == 0 { String::new() } else { format!("?db={}", self.db) };
                format!("unix://{user}{}{db}", p.display())
            }
        }
    }

    pub(crate) fn is_tls(&self) -> bool {
        matches!(self.addr, RedisAddr::Tcp { tls: true, .. })
    }
}

/// The input with anything between `://` and `@` replaced, for messages about a URL that did
/// not parse (it may hold a password).
fn redacted(input: &str) -> String {
    let shown = match (input.find("://"), input.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &input[..s + 3], &input[at..]),
        _ => input.to_string(),
    };
    crate::util::url::preview(&shown)
}

fn split_host_port(hp: &str) -> std::result::Result<(String, u16), String> {
    let (host, port) = if let Some(v6) = hp.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("an IPv6 address needs its closing ]")?;
        (h, after.strip_prefix(':'))
    } else {
        match hp.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hp, None),
        }
    };
    if host.is_empty() {
        return Err("no host".into());
    }
    if !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')) {
        return Err("the host has characters a host name cannot have".into());
    }
    let port = match port {
        None | Some("") => 6379,
        Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or("the port must be a number from 1 to 65535")?,
    };
    Ok((host.to_ascii_lowercase(), port))
}

fn parse_db(s: &str) -> std::result::Result<i64, String> {
    s.parse::<i64>().ok().filter(|d| (0..=1_000_000).contains(d)).ok_or_else(|| "the database must be a number (redis://host:6379/0)".to_string())
}

/// Percent-decoding of the user, password and path (`+` stays a plus, as in URLs).
fn decode(s: &str) -> std::result::Result<String, String> {
    crate::util::encoding::percent_decode(s, false)
        .ok_or_else(|| "a % must be followed by two hex digits (percent-encode special characters) and decode to UTF-8".to_string())
}

/// What the fleet level needs, as plain values (built by the options layer).
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "fleet"), allow(dead_code))]
pub(crate) struct FleetConfig {
    pub url: RedisUrl,
    /// For `rediss://`: the client's trust roots as PEM, or `None` for the built-in roots.
    pub tls_roots_pem: Option<Vec<u8>>,
    /// Bounds every Redis call: connecting (name resolution included) and each command.
    pub io_timeout: Duration,
    /// How long a fetcher's lock lives: a holder that dies is taken over after this.
    pub lease: Duration,
    pub level: LevelConfig,
}

#[cfg(all(test, feature = "fleet"))]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16, tls: bool) -> RedisAddr {
        RedisAddr::Tcp { host: host.into(), port, tls }
    }

    #[test]
    fn urls_parse_into_address_credentials_and_database() {
        let u = RedisUrl::parse("redis://cache.internal:6380/2").unwrap();
        assert_eq!((u.addr.clone(), u.db, u.username.clone(), u.password.is_none()), (tcp("cache.internal", 6380, false), 2, None, true));
        let u = RedisUrl::parse("rediss://app:p%40ss%3Aw@Redis.Example.com").unwrap();
        assert_eq!(u.addr, tcp("redis.example.com", 6379, true));
        assert_eq!((u.username.as_deref(), u.password.as_ref().map(Secret::expose)), (Some("app"), Some("p@ss:w")));
        assert_eq!(u.display(), "rediss://app:***@redis.example.com:6379");
        let u = RedisUrl::parse("redis://:hunter2@[::1]:7000").unwrap();
        assert_eq!((u.addr.clone(), u.username.clone()), (tcp("::1", 7000, false), None));
        assert_eq!(u.display(), "redis://:***@[::1]:7000");
        assert!(!format!("{u:?}").contains("hunter2"));
        let u = RedisUrl::parse("redis://hunter2@127.0.0.1").unwrap();
        assert_eq!(u.password.as_ref().map(Secret::expose), Some("hunter2"), "a lone userinfo is the password");
        let u = RedisUrl::parse("unix:///run/redis/redis.sock?db=3&password=pw").unwrap();
        assert_eq!((u.addr.clone(), u.db, u.password.as_ref().map(Secret::expose)), (RedisAddr::Unix("/run/redis/redis.sock".into()), 3, Some("pw")));
        assert_eq!(u.display(), "unix://:***@/run/redis/redis.sock?db=3");
        assert!(RedisUrl::parse("redis+unix:///tmp/r.sock").is_ok());
    }

    #[test]
    fn bad_urls_say_what_is_wrong_and_never_show_the_password() {
        for (bad, want) in [
            ("http://cache:6379", "scheme"),
            ("cache:6379", "expected redis://"),
            ("redis://", "no host"),
            ("redis://cache:0", "port"),
            ("redis://cache:99999", "port"),
            ("redis://:hunter2@cache:x", "port"),
            ("redis://cache/db", "database"),
            ("unix://relative.sock", "absolute path"),
            ("redis://cache?timeout=1", "unknown parameter"),
            ("redis://:pa%zzss@cache", "hex digits"),
            ("redis://ca che", "whitespace"),
            ("redis://cache#x", "fragment"),
        ] {
            let e = RedisUrl::parse(bad).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
            assert!(!e.contains("hunter2") && !e.contains("pa%zzss"), "{e}");
        }
    }
}
