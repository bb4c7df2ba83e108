//! Options + environment + defaults → `Config`, the configuration a client runs with; and from
//! it, each subsystem's plain options.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::chain::{self, CredentialSource, Credentials};
use super::spec::Env;
use super::{apply_gen, apply_text, check_environment, table, ClientOptions, SharedCacheSetting};
use crate::cache::shared::{self, SharedConfig};
use crate::cache::Margins;
use crate::fetch::{
    AuthMethod, ClientAuth, FetchConfig, ProxySetting, RetryPolicy, TransportOptions, Trust, DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX,
    DEFAULT_DEADLINE, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_RETRY_AFTER,
};
use crate::sources::token_file;
use crate::util::error::{Error, Result};
use crate::util::log::Logger;
use crate::util::url;

pub const DEFAULT_ISSUER: &str = "https://auth.rapidata.ai";
pub const DEFAULT_SCOPE: &str = "openid roles email";
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The configuration a client runs with, after options, environment and defaults are merged.
#[derive(Debug, Clone)]
pub struct Config {
    /// Issuer URL without trailing slash; also the key into the credentials file.
    pub issuer: String,
    /// Explicit token endpoint; `None` means discovery.
    pub token_endpoint: Option<String>,
    pub scope: String,
    pub ca_file: Option<PathBuf>,
    pub auth_method: AuthMethod,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub expiry_margin: Option<Duration>,
    pub refresh_ahead: Option<Duration>,
    pub credentials: Credentials,
    /// Where tokens are shared with other processes; `None` when sharing is off.
    pub shared_cache_dir: Option<PathBuf>,
    pub retry: RetryPolicy,
    pub trust: Option<Trust>,
    pub proxy: ProxySetting,
    pub logger: Option<Logger>,
}

/// Where environment variables come from; tests pass a map, production passes `std::env`.
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl Config {
    pub fn resolve(options: &ClientOptions) -> Result<Config> {
        Self::resolve_with(options, &process_env)
    }

    pub(crate) fn resolve_with(o: &ClientOptions, env: EnvLookup) -> Result<Config> {
        // An empty variable counts as unset, as in Rapidata's SDK.
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let issuer = resolve_issuer(o, &var)?;
        let o = with_env_vars(o, &var)?;
        let token_endpoint = o.token_endpoint.clone();
        let scope = o.scope.clone().unwrap_or_else(|| DEFAULT_SCOPE.to_string());
        let auth_method = o.auth_method.unwrap_or_default();
        let ca_file = o.ca_file.clone();
        let credentials_file = credentials_file(&o, &var);

        // A ready token (Rapidata's token-file pattern) comes first, as in the SDK, with one
        // difference: an id and secret given to this client win over RAPIDATA_TOKEN_FILE
        // (explicit beats environment everywhere else too).
        let explicit_pair = o.client_id.is_some() || o.client_secret.is_some();
        let skip_env_token_file = o.ignore_token_file || (explicit_pair && o.token_file.is_none());
        let credentials = match token_file::source(o.token_file.as_deref(), skip_env_token_file, &var) {
            Some(path) => Credentials::from_token_file(path),
            None => chain::resolve(
                o.client_id.as_deref(),
                o.client_secret.as_ref(),
                &var,
                credentials_file.as_deref(),
                &issuer,
            )?,
        };
        let shared_cache_dir = resolve_shared_dir(o.shared_cache.as_ref(), &var)?;

        Ok(Config {
            issuer,
            token_endpoint,
            scope,
            ca_file,
            auth_method,
            connect_timeout: o.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            request_timeout: o.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
            expiry_margin: o.expiry_margin,
            refresh_ahead: o.refresh_ahead,
            credentials,
            shared_cache_dir,
            retry: RetryPolicy {
                max_attempts: o.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS),
                backoff_base: o.retry_backoff.map_or(DEFAULT_BACKOFF_BASE, |b| b.0),
                backoff_max: o.retry_backoff.map_or(DEFAULT_BACKOFF_MAX, |b| b.1),
                max_retry_after: o.max_retry_after.unwrap_or(DEFAULT_MAX_RETRY_AFTER),
                deadline: o.deadline.unwrap_or(DEFAULT_DEADLINE),
            },
            trust: o.trust,
            proxy: o.proxy.clone(),
            logger: o.logger.clone(),
        })
    }
    // Each subsystem's own plain options: the layers below never see `Config`.

    pub(crate) fn transport_options(&self) -> TransportOptions {
        TransportOptions {
            trust: self.trust,
            ca_file: self.ca_file.clone(),
            proxy: self.proxy.clone(),
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
        }
    }

    pub(crate) fn fetch_config(&self) -> FetchConfig {
        FetchConfig {
            issuer: self.issuer.clone(),
            token_endpoint: self.token_endpoint.clone(),
            scope: self.scope.clone(),
            auth: ClientAuth {
                client_id: self.credentials.client_id.clone(),
                secret: self.credentials.client_secret.clone(),
                method: self.auth_method,
            },
            request_timeout: self.request_timeout,
            retry: self.retry,
        }
    }

    pub(crate) fn margins(&self) -> Margins {
        Margins { hard: self.expiry_margin, refresh_ahead: self.refresh_ahead }
    }

    /// The host shared cache's directory and key (`None` when sharing is off, or when the token
    /// comes from a token file, which is already shared).
    pub(crate) fn shared_cache(&self) -> Option<SharedConfig> {
        let dir = self.shared_cache_dir.clone()?;
        if matches!(self.credentials.source, CredentialSource::TokenFile { .. }) {
            return None;
        }
        // A discovered token endpoint is a function of the issuer, so an unset one keys as "".
        let key = shared::key(&[
            &self.issuer,
            self.token_endpoint.as_deref().unwrap_or(""),
            &self.credentials.client_id,
            &self.scope,
            self.auth_method.as_str(),
        ]);
        // A healthy holder's request ends within its request timeout; a holder that hangs longer
        // is given up on rather than waited for.
        Some(SharedConfig { dir, key, lock_wait: self.request_timeout })
    }
}

/// The issuer URL without a trailing slash: the option, else the environment option, else
/// `RAPIDATA_ISSUER`, else `RAPIDATA_ENVIRONMENT`, else Rapidata's production issuer.
fn resolve_issuer(o: &ClientOptions, var: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let issuer = if let Some(i) = &o.issuer {
        i.clone()
    } else if let Some(e) = &o.environment {
        format!("https://auth.{e}")
    } else if let Some(i) = var("RAPIDATA_ISSUER") {
        url::check_secure(&i, "RAPIDATA_ISSUER").map_err(Error::config)?;
        i
    } else if let Some(e) = var("RAPIDATA_ENVIRONMENT") {
        check_environment(&e).map_err(|m| Error::config(format!("RAPIDATA_ENVIRONMENT: {m}")))?;
        format!("https://auth.{}", e.trim())
    } else {
        DEFAULT_ISSUER.to_string()
    };
    Ok(issuer.trim_end_matches('/').to_string())
}

/// The options with what their environment variables set (Env::Var rows of the option table),
/// applied through the same setters: a bad value is CONFIG, naming the variable.
fn with_env_vars(o: &ClientOptions, var: &dyn Fn(&str) -> Option<String>) -> Result<ClientOptions> {
    let mut o = o.clone();
    for opt in table::OPTIONS {
        if let Env::Var(name) = opt.env {
            if let Some(v) = var(name) {
                if !apply_gen::is_set(&o, opt.name) {
                    apply_text(&mut o, opt.name, v.trim()).map_err(|e| Error::config(format!("{name}: {}", e.message())))?;
                }
            }
        }
    }
    Ok(o)
}

/// The SDK's credentials file: the option (or `RAPIDATA_CREDENTIALS_FILE`), else
/// `$HOME/.config/rapidata/credentials.json`.
fn credentials_file(o: &ClientOptions, var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    o.credentials_file.clone().or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config/rapidata/credentials.json")))
}

pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

/// What a workstation login runs with. No credentials chain: the login makes the credentials.
#[derive(Debug, Clone)]
pub(crate) struct LoginConfig {
    /// Without trailing slash: also the key the new entry is stored under.
    pub issuer: String,
    pub credentials_file: PathBuf,
    pub transport: TransportOptions,
    pub timeout: Duration,
    pub request_timeout: Duration,
    pub logger: Option<Logger>,
}

impl LoginConfig {
    pub(crate) fn resolve(options: &ClientOptions) -> Result<LoginConfig> {
        Self::resolve_with(options, &process_env)
    }

    pub(crate) fn resolve_with(o: &ClientOptions, env: EnvLookup) -> Result<LoginConfig> {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let issuer = resolve_issuer(o, &var)?;
        let o = with_env_vars(o, &var)?;
        let credentials_file = credentials_file(&o, &var).ok_or_else(|| {
            Error::config("HOME is not set, so there is no default credentials file to store the login in: set the credentials file option (RAPIDATA_CREDENTIALS_FILE)")
        })?;
        let request_timeout = o.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT);
        Ok(LoginConfig {
            issuer,
            credentials_file,
            transport: TransportOptions {
                trust: o.trust,
                ca_file: o.ca_file.clone(),
                proxy: o.proxy.clone(),
                connect_timeout: o.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
                request_timeout,
            },
            timeout: o.login_timeout.unwrap_or(DEFAULT_LOGIN_TIMEOUT),
            request_timeout,
            logger: o.logger.clone(),
        })
    }
}

/// The directory to share tokens in, or `None` when sharing is off. The option wins over
/// `RAPIDATA_SHARED_CACHE` (`1`/`true`/`yes`/`on`: the default directory; `0`/`false`/`no`/
/// `off`: off; an absolute path: that directory).
fn resolve_shared_dir(setting: Option<&SharedCacheSetting>, var: &dyn Fn(&str) -> Option<String>) -> Result<Option<PathBuf>> {
    let setting = match setting {
        Some(s) => s.clone(),
        None => match var("RAPIDATA_SHARED_CACHE") {
            None => return Ok(None),
            Some(v) => parse_env(v.trim())?,
        },
    };
    Ok(match setting {
        SharedCacheSetting::Off => None,
        SharedCacheSetting::Dir(d) if d.is_absolute() => Some(d),
        SharedCacheSetting::Dir(d) => Some(std::env::current_dir().map(|c| c.join(&d)).unwrap_or(d)),
        SharedCacheSetting::DefaultDir => default_dir(var),
    })
}

fn parse_env(v: &str) -> Result<SharedCacheSetting> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(SharedCacheSetting::DefaultDir),
        "0" | "false" | "no" | "off" => Ok(SharedCacheSetting::Off),
        _ if Path::new(v).is_absolute() => Ok(SharedCacheSetting::Dir(PathBuf::from(v))),
        _ => Err(Error::config(
            "RAPIDATA_SHARED_CACHE must be 1 (share tokens in the default directory), 0, or an absolute directory path",
        )),
    }
}

/// `$XDG_CACHE_HOME/raptoken`, else `$HOME/.cache/raptoken` (the XDG base directory rules: a
/// relative `XDG_CACHE_HOME` is ignored).
fn default_dir(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let abs = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(x) = abs("XDG_CACHE_HOME") {
        return Some(x.join("raptoken"));
    }
    if let Some(h) = abs("HOME") {
        return Some(h.join(".cache").join("raptoken"));
    }
    crate::cache::shared::log(format_args!("shared cache off: neither XDG_CACHE_HOME nor HOME is set; give the directory explicitly"));
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(o: &ClientOptions, vars: &[(&str, &str)]) -> Result<Config> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::resolve_with(o, &move |k| map.get(k).cloned())
    }

    fn creds() -> ClientOptions {
        ClientOptions::new().client_id("id").unwrap().client_secret("s").unwrap()
    }

    #[test]
    fn defaults() {
        let c = resolve(&creds(), &[]).unwrap();
        assert_eq!(c.issuer, "https://auth.rapidata.ai");
        assert_eq!(c.scope, "openid roles email");
        assert_eq!(c.auth_method, AuthMethod::ClientSecretBasic);
        assert!(c.token_endpoint.is_none());
    }

    #[test]
    fn environment_variable_picks_issuer_and_explicit_wins() {
        let c = resolve(&creds(), &[("RAPIDATA_ENVIRONMENT", "rabbitdata.ch")]).unwrap();
        assert_eq!(c.issuer, "https://auth.rabbitdata.ch");
        let o = creds().issuer("https://localhost:8443/").unwrap();
        let c = resolve(&o, &[("RAPIDATA_ENVIRONMENT", "rabbitdata.ch")]).unwrap();
        assert_eq!(c.issuer, "https://localhost:8443");
        let e = resolve(&creds(), &[("RAPIDATA_ENVIRONMENT", "not a domain")]).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
    }

    #[test]
    fn env_overrides_and_validation() {
        let c = resolve(
            &creds(),
            &[("RAPIDATA_SCOPE", " openid   email "), ("RAPIDATA_AUTH_METHOD", "client_secret_post"), ("RAPIDATA_TOKEN_ENDPOINT", "https://x/t")],
        )
        .unwrap();
        assert_eq!(c.scope, "openid email");
        assert_eq!(c.auth_method, AuthMethod::ClientSecretPost);
        assert_eq!(c.token_endpoint.as_deref(), Some("https://x/t"));
        assert!(resolve(&creds(), &[("RAPIDATA_ISSUER", "http://auth.example.com")]).is_err());
        assert!(resolve(&creds(), &[("RAPIDATA_AUTH_METHOD", "kerberos")]).is_err());
    }

    #[test]
    fn explicit_credentials_win_over_the_token_file_variable() {
        let c = resolve(&creds(), &[("RAPIDATA_TOKEN_FILE", "/run/job/token.json")]).unwrap();
        assert_eq!(c.credentials.source, crate::CredentialSource::Explicit);
        let c = resolve(&ClientOptions::new(), &[("RAPIDATA_TOKEN_FILE", "/run/job/token.json")]).unwrap();
        assert!(matches!(c.credentials.source, crate::CredentialSource::TokenFile { .. }));
    }

    #[test]
    fn a_login_needs_no_credentials_and_finds_where_to_store_them() {
        let env = |pairs: &'static [(&'static str, &'static str)]| move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
        let c = LoginConfig::resolve_with(&ClientOptions::new(), &env(&[("HOME", "/home/u"), ("RAPIDATA_ENVIRONMENT", "rabbitdata.ch")])).unwrap();
        assert_eq!(c.issuer, "https://auth.rabbitdata.ch");
        assert_eq!(c.credentials_file, PathBuf::from("/home/u/.config/rapidata/credentials.json"));
        assert_eq!(c.timeout, DEFAULT_LOGIN_TIMEOUT);
        let mut o = ClientOptions::new().issuer("https://localhost:8443/").unwrap();
        o.set_login_timeout(Duration::from_secs(5)).unwrap();
        let c = LoginConfig::resolve_with(&o, &env(&[("RAPIDATA_CREDENTIALS_FILE", "/x/c.json"), ("RAPIDATA_CA_FILE", "/ca.pem")])).unwrap();
        assert_eq!((c.issuer.as_str(), c.timeout), ("https://localhost:8443", Duration::from_secs(5)));
        assert_eq!((c.credentials_file.to_str(), c.transport.ca_file.as_deref()), (Some("/x/c.json"), Some(Path::new("/ca.pem"))));
        let e = LoginConfig::resolve_with(&ClientOptions::new(), &env(&[])).unwrap_err();
        assert!(e.message().contains("RAPIDATA_CREDENTIALS_FILE"), "{}", e.message());
        assert!(ClientOptions::new().set_login_timeout(Duration::ZERO).is_err());
    }

    #[test]
    fn setters_reject_bad_values() {
        let mut o = ClientOptions::new();
        assert!(o.set_issuer("ftp://x").is_err());
        assert!(o.set_issuer("http://auth.example.com").is_err());
        assert!(o.set_client_id("").is_err());
        assert!(o.set_scope("openid \"x\"").is_err());
        assert!(o.set_connect_timeout(Duration::ZERO).is_err());
        assert!(o.set_environment("rapidata.ai").is_ok());
    }

    fn resolve_dir(setting: Option<SharedCacheSetting>, vars: &[(&str, &str)]) -> Result<Option<PathBuf>> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        resolve_shared_dir(setting.as_ref(), &move |k| map.get(k).cloned())
    }

    #[test]
    fn directory_from_option_environment_and_defaults() {
        let home = [("HOME", "/home/u")];
        assert_eq!(resolve_dir(None, &home).unwrap(), None, "off unless asked for");
        assert_eq!(resolve_dir(None, &[("RAPIDATA_SHARED_CACHE", "1"), ("HOME", "/home/u")]).unwrap(), Some(PathBuf::from("/home/u/.cache/raptoken")));
        let xdg = [("RAPIDATA_SHARED_CACHE", "yes"), ("HOME", "/home/u"), ("XDG_CACHE_HOME", "/xdg")];
        assert_eq!(resolve_dir(None, &xdg).unwrap(), Some(PathBuf::from("/xdg/raptoken")));
        let relative_xdg = [("RAPIDATA_SHARED_CACHE", "on"), ("HOME", "/home/u"), ("XDG_CACHE_HOME", "rel")];
        assert_eq!(resolve_dir(None, &relative_xdg).unwrap(), Some(PathBuf::from("/home/u/.cache/raptoken")));
        assert_eq!(resolve_dir(None, &[("RAPIDATA_SHARED_CACHE", "/srv/tok")]).unwrap(), Some(PathBuf::from("/srv/tok")));
        assert_eq!(resolve_dir(None, &[("RAPIDATA_SHARED_CACHE", "0"), ("HOME", "/home/u")]).unwrap(), None);
        assert_eq!(resolve_dir(None, &[("RAPIDATA_SHARED_CACHE", "1")]).unwrap(), None, "no HOME: off, with a log line");
        for bad in ["maybe", "relative/dir"] {
            let e = resolve_dir(None, &[("RAPIDATA_SHARED_CACHE", bad)]).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config);
            assert!(e.message().contains("RAPIDATA_SHARED_CACHE"));
        }
        // The option wins over the environment, both ways.
        let on = [("RAPIDATA_SHARED_CACHE", "1"), ("HOME", "/home/u")];
        assert_eq!(resolve_dir(Some(SharedCacheSetting::Off), &on).unwrap(), None);
        assert_eq!(resolve_dir(Some(SharedCacheSetting::Dir("/d".into())), &on).unwrap(), Some(PathBuf::from("/d")));
        assert!(resolve_dir(Some(SharedCacheSetting::Dir("rel".into())), &[]).unwrap().unwrap().is_absolute());
    }

    fn config(id: &str, secret: &str, scope: &str) -> Config {
        let o = ClientOptions::new().client_id(id).unwrap().client_secret(secret).unwrap().scope(scope).unwrap().shared_cache_dir("/tmp/x").unwrap();
        Config::resolve_with(&o, &|_| None).unwrap()
    }

    fn key(c: &Config) -> String {
        c.shared_cache().unwrap().key
    }

    #[test]
    fn the_shared_cache_key_covers_what_changes_the_token_and_never_the_secret() {
        let base = key(&config("a", "s1", "openid"));
        assert_eq!(base.len(), 64);
        assert_eq!(base, key(&config("a", "another-secret", "openid")), "the secret is not part of the key");
        assert_ne!(base, key(&config("b", "s1", "openid")));
        assert_ne!(base, key(&config("a", "s1", "openid email")));
        let mut c = config("a", "s1", "openid");
        c.auth_method = crate::AuthMethod::ClientSecretPost;
        assert_ne!(base, key(&c));
        let mut c = config("a", "s1", "openid");
        c.token_endpoint = Some("https://auth.rapidata.ai/connect/token".into());
        assert_ne!(base, key(&c));
        let mut c = config("a", "s1", "openid");
        c.issuer = "https://auth.rabbitdata.ch".into();
        assert_ne!(base, key(&c));
    }
}
