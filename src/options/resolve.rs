//! Options + environment + defaults → `Config`, the configuration a client runs with; and from
//! it, each subsystem's plain options.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::chain::{self, CredentialSource, Credentials};
use super::{apply_gen, apply_text, check_environment, ClientOptions, SharedCacheSetting};
use crate::cache::fleet_config::{FleetConfig, RedisUrl};
use crate::cache::files::SharedConfig;
use crate::cache::shared::{self, LevelConfig};
use crate::cache::Margins;
use crate::fetch::{
    AssertionSigner, AuthMethod, ClientAuth, FetchConfig, ProxySetting, RetryPolicy, SigningAlgorithm, TransportOptions, Trust,
    DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX, DEFAULT_DEADLINE, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_RETRY_AFTER,
};
use crate::sources::token_file;
use crate::util::encoding::{form_body, form_urldecode};
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
    /// How the client authenticates: `private_key_jwt` when the credentials hold a key.
    pub auth_method: AuthMethod,
    /// With a key: the assertions' algorithm (the option's, else the key's own).
    pub client_key_algorithm: Option<SigningAlgorithm>,
    pub client_key_id: Option<String>,
    /// The assertions' `aud`; `None`: the token endpoint.
    pub assertion_audience: Option<String>,
    /// The `audience` parameter of token requests.
    pub audience: Option<String>,
    /// `resource` parameters (RFC 8707), in order.
    pub resources: Vec<String>,
    /// Other parameters of token requests, in order.
    pub extra_params: Vec<(String, String)>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub expiry_margin: Option<Duration>,
    pub refresh_ahead: Option<Duration>,
    pub credentials: Credentials,
    /// Where tokens are shared with other processes; `None` when sharing is off.
    pub shared_cache_dir: Option<PathBuf>,
    /// The Redis/Valkey server tokens are shared through with a fleet; `None` when off.
    pub(crate) shared_cache_url: Option<RedisUrl>,
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
                o.client_key.as_ref(),
                &var,
                credentials_file.as_deref(),
                &issuer,
            )?,
        };
        let (auth_method, client_key_algorithm) = resolve_auth(&o, &credentials)?;
        let shared_cache_dir = resolve_shared_dir(o.shared_cache.as_ref(), &var)?;

        Ok(Config {
            issuer,
            token_endpoint,
            scope,
            ca_file,
            auth_method,
            client_key_algorithm,
            client_key_id: o.client_key_id.clone(),
            assertion_audience: o.assertion_audience.clone(),
            audience: o.audience.clone(),
            resources: o.resources.clone(),
            extra_params: o.extra_params.clone(),
            connect_timeout: o.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            request_timeout: o.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
            expiry_margin: o.expiry_margin,
            refresh_ahead: o.refresh_ahead,
            credentials,
            shared_cache_dir,
            shared_cache_url: o.shared_cache_url.clone().flatten(),
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
                assertion: self.credentials.key.clone().zip(self.client_key_algorithm).map(|(key, algorithm)| AssertionSigner {
                    key,
                    algorithm,
                    key_id: self.client_key_id.clone(),
                    audience: self.assertion_audience.clone(),
                }),
            },
            params: self.request_params(),
            request_timeout: self.request_timeout,
            retry: self.retry,
        }
    }

    /// What token requests carry after the standard parameters, in order.
    fn request_params(&self) -> Vec<(String, String)> {
        let audience = self.audience.iter().map(|a| ("audience".to_string(), a.clone()));
        let resources = self.resources.iter().map(|r| ("resource".to_string(), r.clone()));
        audience.chain(resources).chain(self.extra_params.iter().cloned()).collect()
    }

    pub(crate) fn margins(&self) -> Margins {
        Margins { hard: self.expiry_margin, refresh_ahead: self.refresh_ahead }
    }

    /// The window after a failed fetch (first, max), in this process and between processes:
    /// twice the retry backoff base, doubling up to the backoff max.
    pub(crate) fn failure_backoff(&self) -> (Duration, Duration) {
        let first = self.retry.backoff_base * 2;
        (first, self.retry.backoff_max.max(first))
    }

    /// The host shared cache's directory and key (`None` when sharing is off, or when the token
    /// comes from a token file, which is already shared).
    pub(crate) fn shared_cache(&self) -> Option<SharedConfig> {
        let dir = self.shared_cache_dir.clone()?;
        // A healthy holder's request ends within its request timeout; a holder that hangs longer
        // is given up on rather than waited for.
        Some(SharedConfig { dir, level: self.shared_level(self.request_timeout)? })
    }

    /// The fleet cache's server and key (`None` when off or with a token file). Fails with
    /// CONFIG if `rediss://` cannot use this client's trust settings.
    pub(crate) fn fleet_cache(&self) -> Result<Option<FleetConfig>> {
        let Some(url) = self.shared_cache_url.clone() else { return Ok(None) };
        // Waiters wait for the fetch they wait on as long as it may take (its deadline); a
        // holder that dies is taken over when its lock's lease (one request's time) ends.
        let Some(level) = self.shared_level(self.retry.deadline) else { return Ok(None) };
        // Without the fleet feature the client refuses the URL (FleetCache::new): no roots needed.
        let tls_roots_pem = if url.is_tls() && cfg!(feature = "fleet") {
            crate::fetch::network::root_certs_pem(self.trust, self.ca_file.as_deref())
                .map_err(|e| Error::config(format!("shared cache URL {}: {}", url.display(), e.message())))?
        } else {
            None
        };
        Ok(Some(FleetConfig {
            url,
            tls_roots_pem,
            io_timeout: self.connect_timeout.min(MAX_REDIS_WAIT),
            lease: self.request_timeout,
            level,
        }))
    }

    /// What every shared level of this client has in common.
    fn shared_level(&self, lock_wait: Duration) -> Option<LevelConfig> {
        if matches!(self.credentials.source, CredentialSource::TokenFile { .. }) {
            return None;
        }
        // A discovered token endpoint is a function of the issuer, so an unset one keys as "".
        let mut parts = vec![
            self.issuer.clone(),
            self.token_endpoint.clone().unwrap_or_default(),
            self.credentials.client_id.clone(),
            self.scope.clone(),
            self.auth_method.as_str().to_string(),
        ];
        // What else changes the token, labelled and only when set, so the keys of clients
        // without them stay what they were. Form encoding keeps the list unambiguous.
        let params = self.request_params();
        if !params.is_empty() {
            let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            parts.push(format!("params:{}", form_body(&pairs)));
        }
        if let Some(key) = &self.credentials.key {
            parts.push(format!("jwk:{}", key.thumbprint()));
        }
        let key = shared::key(&parts.iter().map(String::as_str).collect::<Vec<_>>());
        Some(LevelConfig {
            key,
            lock_wait,
            // As the in-memory cache's back-off after a failed renewal.
            failure_backoff: self.failure_backoff(),
            max_retry_after: self.retry.max_retry_after,
            // What only holders of the credentials have: the secret, or a digest of the private key.
            key_material: match &self.credentials.key {
                Some(k) => k.secret_digest(),
                None => self.credentials.client_secret.clone(),
            },
            logger: self.logger.clone(),
        })
    }
}

/// Redis answers in well under a millisecond; one that takes a second is treated as down.
const MAX_REDIS_WAIT: Duration = Duration::from_secs(1);

/// How the client authenticates, and with a key the algorithm it signs with. A key selects
/// private_key_jwt by itself; a method that does not fit the credentials is a CONFIG error
/// rather than a request the server refuses.
fn resolve_auth(o: &ClientOptions, credentials: &Credentials) -> Result<(AuthMethod, Option<SigningAlgorithm>)> {
    if matches!(credentials.source, CredentialSource::TokenFile { .. }) {
        return Ok((o.auth_method.unwrap_or_default(), None));
    }
    let Some(key) = &credentials.key else {
        return match o.auth_method.unwrap_or_default() {
            AuthMethod::PrivateKeyJwt => Err(Error::config(format!(
                "the auth method is private_key_jwt but the credentials ({}) have a secret, not a key: set a client key \
                 (client_key_file, RAPIDATA_CLIENT_KEY_FILE)",
                credentials.source
            ))),
            m => Ok((m, None)),
        };
    };
    match o.auth_method {
        None | Some(AuthMethod::PrivateKeyJwt) => {}
        Some(m) => {
            return Err(Error::config(format!(
                "a client key authenticates with private_key_jwt, but the auth method is set to {}: unset it or set private_key_jwt",
                m.as_str()
            )))
        }
    }
    let alg = o.client_key_algorithm.unwrap_or_else(|| key.default_algorithm());
    if !key.can_sign(alg) {
        return Err(Error::config(format!("the client key is {}, which cannot sign {}: use {}", key.kind(), alg.as_str(), key.default_algorithm().as_str())));
    }
    Ok((AuthMethod::PrivateKeyJwt, Some(alg)))
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
    // Options an environment variable may set (Env::Var in the option table), through the
    // same setters: a bad value is CONFIG, naming the variable.
    let mut o = o.clone();
    for &(option, name) in apply_gen::ENV_VARS {
        if let Some(v) = var(name) {
            if !apply_gen::is_set(&o, option) {
                apply_text(&mut o, option, v.trim()).map_err(|e| Error::config(format!("{name}: {}", e.message())))?;
            }
        }
    }
    // The lists' variables apply when the program added nothing, through the same setters.
    let list_var = |name: &str, o: &mut ClientOptions, add: &dyn Fn(&mut ClientOptions, &str) -> Result<()>| match var(name) {
        Some(v) => add(o, &v).map_err(|e| Error::config(format!("{name}: {}", e.message()))),
        None => Ok(()),
    };
    if o.resources.is_empty() {
        list_var("RAPIDATA_RESOURCE", &mut o, &|o, v| v.split_whitespace().try_for_each(|r| o.add_resource(r).map(drop)))?;
    }
    if o.extra_params.is_empty() {
        list_var("RAPIDATA_EXTRA_PARAMS", &mut o, &|o, v| {
            v.split('&').filter(|p| !p.is_empty()).try_for_each(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                match (form_urldecode(name), form_urldecode(value)) {
                    (Some(n), Some(v)) => o.add_extra_param(&n, &v).map(drop),
                    _ => Err(Error::invalid_argument("a name or value is not valid form encoding (%XX of UTF-8)")),
                }
            })
        })?;
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
        c.shared_cache().unwrap().level.key
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
        // Clients without request parameters or a key keep the key they had before those existed.
        assert_eq!(base, shared::key(&["https://auth.rapidata.ai", "", "a", "openid", "client_secret_basic"]));
        // Each request parameter and the key change it.
        let mut keys = vec![base];
        for change in [
            &(|c: &mut Config| c.audience = Some("https://api".into())) as &dyn Fn(&mut Config),
            &|c| c.resources = vec!["https://api/".into()],
            &|c| c.resources = vec!["https://api/".into(), "https://files/".into()],
            &|c| c.extra_params = vec![("org".into(), "x".into())],
            &|c| c.extra_params = vec![("org".into(), "y".into())],
            &|c| c.credentials.key = Some(crate::ClientKey::generate().unwrap().0),
        ] {
            let mut c = config("a", "s1", "openid");
            change(&mut c);
            keys.push(key(&c));
        }
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
    }

    fn key_options() -> ClientOptions {
        let (_, pem) = crate::ClientKey::generate().unwrap();
        ClientOptions::new().client_id("id").unwrap().client_key(&pem).unwrap()
    }

    #[test]
    fn a_key_selects_private_key_jwt_and_conflicts_are_config_errors() {
        let c = resolve(&key_options(), &[]).unwrap();
        assert_eq!((c.auth_method, c.client_key_algorithm), (AuthMethod::PrivateKeyJwt, Some(SigningAlgorithm::Es256)));
        let f = c.fetch_config();
        let signer = f.auth.assertion.as_ref().unwrap();
        assert_eq!((signer.algorithm, signer.key_id.as_deref(), signer.audience.as_deref()), (SigningAlgorithm::Es256, None, None));
        assert!(f.auth.secret.is_empty());

        let c = resolve(&key_options(), &[("RAPIDATA_CLIENT_KEY_ID", "k1"), ("RAPIDATA_ASSERTION_AUDIENCE", "https://auth.x/")]).unwrap();
        let signer = c.fetch_config().auth.assertion.unwrap();
        assert_eq!((signer.key_id.as_deref(), signer.audience.as_deref()), (Some("k1"), Some("https://auth.x/")));

        for (o, vars, want) in [
            (key_options().auth_method(AuthMethod::ClientSecretBasic), vec![], "unset it or set private_key_jwt"),
            (key_options(), vec![("RAPIDATA_AUTH_METHOD", "post")], "client_secret_post"),
            (key_options().client_key_algorithm(SigningAlgorithm::Rs256), vec![], "EC P-256, which cannot sign RS256: use ES256"),
            (key_options(), vec![("RAPIDATA_CLIENT_KEY_ALGORITHM", "PS256")], "cannot sign PS256"),
            (creds().auth_method(AuthMethod::PrivateKeyJwt), vec![], "have a secret, not a key"),
        ] {
            let e = resolve(&o, &vars).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config);
            assert!(e.message().contains(want), "{}", e.message());
        }
        assert!(resolve(&key_options(), &[("RAPIDATA_CLIENT_KEY_ALGORITHM", "HS256")]).unwrap_err().message().contains("RAPIDATA_CLIENT_KEY_ALGORITHM"));
    }

    #[test]
    fn request_parameters_from_options_and_environment() {
        let o = creds().audience("https://aud").unwrap().resource("https://api/").unwrap().resource("urn:x:y").unwrap();
        let o = o.extra_param("organization", "o 1").unwrap();
        let c = resolve(&o, &[("RAPIDATA_RESOURCE", "https://ignored/"), ("RAPIDATA_EXTRA_PARAMS", "ignored=1")]).unwrap();
        let want = [("audience", "https://aud"), ("resource", "https://api/"), ("resource", "urn:x:y"), ("organization", "o 1")];
        assert_eq!(c.fetch_config().params, want.map(|(k, v)| (k.to_string(), v.to_string())), "options win, in order");

        let vars = [
            ("RAPIDATA_AUDIENCE", "a"),
            ("RAPIDATA_RESOURCE", " https://one/  urn:two "),
            ("RAPIDATA_EXTRA_PARAMS", "org=R%26D+team&x=&&tenant=t%C3%BC"),
        ];
        let c = resolve(&creds(), &vars).unwrap();
        let want = [("audience", "a"), ("resource", "https://one/"), ("resource", "urn:two"), ("org", "R&D team"), ("x", ""), ("tenant", "tü")];
        assert_eq!(c.fetch_config().params, want.map(|(k, v)| (k.to_string(), v.to_string())));

        for (var, value, want) in [
            ("RAPIDATA_RESOURCE", "https://ok/ not-a-uri", "absolute URI"),
            ("RAPIDATA_RESOURCE", "https://a/#frag", "fragment"),
            ("RAPIDATA_EXTRA_PARAMS", "scope=x", "use the scope option"),
            ("RAPIDATA_EXTRA_PARAMS", "a=1&a=2", "added already"),
            ("RAPIDATA_EXTRA_PARAMS", "a=%zz", "form encoding"),
        ] {
            let e = resolve(&creds(), &[(var, value)]).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config);
            assert!(e.message().starts_with(var) && e.message().contains(want), "{}", e.message());
        }
    }
}
