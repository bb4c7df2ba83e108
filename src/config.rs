//! Options a user sets, and how they resolve against the environment into the configuration a
//! client runs with. Resolution reads environment variables and files but never the network.

use std::path::PathBuf;
use std::time::Duration;

use crate::credentials::{self, Credentials};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::url;

pub const DEFAULT_ISSUER: &str = "https://auth.rapidata.ai";
pub const DEFAULT_SCOPE: &str = "openid roles email";
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How the client proves its identity to the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMethod {
    /// HTTP Basic with the id and secret form-urlencoded first. What Rapidata's SDK uses.
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body. What Rapidata's curl example shows.
    ClientSecretPost,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "client_secret_basic" | "basic" => Some(AuthMethod::ClientSecretBasic),
            "client_secret_post" | "post" => Some(AuthMethod::ClientSecretPost),
            _ => None,
        }
    }
}

/// Everything a caller may set. Unset fields fall back to environment variables, then defaults
/// (see the README's configuration table). Setters validate their value at once.
#[derive(Clone, Default, Debug)]
pub struct ClientOptions {
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<Secret>,
    pub(crate) issuer: Option<String>,
    pub(crate) environment: Option<String>,
    pub(crate) token_endpoint: Option<String>,
    pub(crate) scope: Option<String>,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) credentials_file: Option<PathBuf>,
    pub(crate) auth_method: Option<AuthMethod>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) expiry_margin: Option<Duration>,
    pub(crate) refresh_ahead: Option<Duration>,
    pub(crate) shared_cache: Option<crate::shared_cache::Setting>,
    pub(crate) token_file: Option<PathBuf>,
    pub(crate) ignore_token_file: bool,
    pub(crate) retry: crate::retry::RetryOptions,
    pub(crate) network: crate::network::NetworkOptions,
    pub(crate) logger: Option<crate::logging::Logger>,
}

impl ClientOptions {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_client_id(&mut self, id: &str) -> Result<&mut Self> {
        check_text(id, "client id")?;
        self.client_id = Some(id.to_string());
        Ok(self)
    }

    pub fn set_client_secret(&mut self, secret: &str) -> Result<&mut Self> {
        if secret.is_empty() {
            return Err(Error::invalid_argument("client secret is empty"));
        }
        self.client_secret = Some(Secret::new(secret));
        Ok(self)
    }

    /// The authorization server's issuer URL, e.g. `https://auth.rapidata.ai`.
    pub fn set_issuer(&mut self, issuer: &str) -> Result<&mut Self> {
        url::check_secure(issuer, "issuer").map_err(Error::invalid_argument)?;
        self.issuer = Some(issuer.to_string());
        Ok(self)
    }

    /// A Rapidata base domain (`rapidata.ai`, `rabbitdata.ch`): the issuer becomes `https://auth.<env>`.
    pub fn set_environment(&mut self, env: &str) -> Result<&mut Self> {
        check_environment(env).map_err(Error::invalid_argument)?;
        self.environment = Some(env.to_string());
        Ok(self)
    }

    /// Use this token endpoint and skip discovery.
    pub fn set_token_endpoint(&mut self, url: &str) -> Result<&mut Self> {
        url::check_secure(url, "token endpoint").map_err(Error::invalid_argument)?;
        self.token_endpoint = Some(url.to_string());
        Ok(self)
    }

    /// Space-separated scopes; an empty string sends no `scope` parameter.
    pub fn set_scope(&mut self, scope: &str) -> Result<&mut Self> {
        check_scope(scope).map_err(Error::invalid_argument)?;
        self.scope = Some(normalize_scope(scope));
        Ok(self)
    }

    /// A PEM file whose certificates replace the built-in trust roots.
    pub fn set_ca_file(&mut self, path: &str) -> Result<&mut Self> {
        check_text(path, "CA file path")?;
        self.ca_file = Some(PathBuf::from(path));
        Ok(self)
    }

    /// Where to look for Rapidata's SDK credentials file.
    pub fn set_credentials_file(&mut self, path: &str) -> Result<&mut Self> {
        check_text(path, "credentials file path")?;
        self.credentials_file = Some(PathBuf::from(path));
        Ok(self)
    }

    pub fn set_auth_method(&mut self, method: AuthMethod) -> &mut Self {
        self.auth_method = Some(method);
        self
    }

    pub fn set_connect_timeout(&mut self, d: Duration) -> Result<&mut Self> {
        self.connect_timeout = Some(nonzero(d, "connect timeout")?);
        Ok(self)
    }

    /// The time one HTTP request (discovery or token) may take, connect included.
    pub fn set_request_timeout(&mut self, d: Duration) -> Result<&mut Self> {
        self.request_timeout = Some(nonzero(d, "request timeout")?);
        Ok(self)
    }

    /// A token is no longer served when less than this remains. Default: min(30 s, 10 % of lifetime).
    pub fn set_expiry_margin(&mut self, d: Duration) -> &mut Self {
        self.expiry_margin = Some(d);
        self
    }

    /// How long before the expiry margin one caller starts renewing while others keep the old
    /// token. Default: min(5 min, 50 % of lifetime). Zero turns refresh-ahead off.
    pub fn set_refresh_ahead(&mut self, d: Duration) -> &mut Self {
        self.refresh_ahead = Some(d);
        self
    }

    /// Share tokens with other processes of this user through files in the default directory
    /// (`$XDG_CACHE_HOME/raptoken`, else `~/.cache/raptoken`); `false` turns sharing off even if
    /// `RAPIDATA_SHARED_CACHE` is set. See the README, "Sharing tokens between processes".
    pub fn set_shared_cache(&mut self, enabled: bool) -> &mut Self {
        use crate::shared_cache::Setting;
        self.shared_cache = Some(if enabled { Setting::DefaultDir } else { Setting::Off });
        self
    }

    /// Share tokens with other processes through files in `dir` (created with mode 0700).
    pub fn set_shared_cache_dir(&mut self, dir: &str) -> Result<&mut Self> {
        check_text(dir, "shared cache directory")?;
        self.shared_cache = Some(crate::shared_cache::Setting::Dir(PathBuf::from(dir)));
        Ok(self)
    }

    /// Read a ready token from this JSON file (Rapidata's token-file pattern) instead of
    /// exchanging credentials; it is re-read when its token nears expiry. Wins over every other
    /// credential source, as `RAPIDATA_TOKEN_FILE` does.
    pub fn set_token_file(&mut self, path: &str) -> Result<&mut Self> {
        check_text(path, "token file path")?;
        self.token_file = Some(PathBuf::from(path));
        Ok(self)
    }

    /// Never read a token file, not even `RAPIDATA_TOKEN_FILE`: for the process that maintains
    /// that file, which must exchange credentials rather than read its own output.
    pub fn ignore_token_file(&mut self) -> &mut Self {
        self.token_file = None;
        self.ignore_token_file = true;
        self
    }

    // By-value forms for builder-style Rust code: `ClientOptions::new().client_id("x")?...`.

    pub fn client_id(mut self, v: &str) -> Result<Self> {
        self.set_client_id(v)?;
        Ok(self)
    }
    pub fn client_secret(mut self, v: &str) -> Result<Self> {
        self.set_client_secret(v)?;
        Ok(self)
    }
    pub fn issuer(mut self, v: &str) -> Result<Self> {
        self.set_issuer(v)?;
        Ok(self)
    }
    pub fn token_endpoint(mut self, v: &str) -> Result<Self> {
        self.set_token_endpoint(v)?;
        Ok(self)
    }
    pub fn scope(mut self, v: &str) -> Result<Self> {
        self.set_scope(v)?;
        Ok(self)
    }
    pub fn ca_file(mut self, v: &str) -> Result<Self> {
        self.set_ca_file(v)?;
        Ok(self)
    }
    pub fn auth_method(mut self, m: AuthMethod) -> Self {
        self.set_auth_method(m);
        self
    }
    pub fn shared_cache_dir(mut self, v: &str) -> Result<Self> {
        self.set_shared_cache_dir(v)?;
        Ok(self)
    }
    pub fn token_file(mut self, v: &str) -> Result<Self> {
        self.set_token_file(v)?;
        Ok(self)
    }
}

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
    pub retry: crate::retry::RetryPolicy,
    pub network: crate::network::NetworkOptions,
    pub logger: Option<crate::logging::Logger>,
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
        let issuer = issuer.trim_end_matches('/').to_string();

        let token_endpoint = match (&o.token_endpoint, var("RAPIDATA_TOKEN_ENDPOINT")) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(t)) => {
                url::check_secure(&t, "RAPIDATA_TOKEN_ENDPOINT").map_err(Error::config)?;
                Some(t)
            }
            (None, None) => None,
        };

        let scope = match (&o.scope, var("RAPIDATA_SCOPE")) {
            (Some(s), _) => s.clone(),
            (None, Some(s)) => {
                check_scope(&s).map_err(|m| Error::config(format!("RAPIDATA_SCOPE: {m}")))?;
                normalize_scope(&s)
            }
            (None, None) => DEFAULT_SCOPE.to_string(),
        };

        let auth_method = match (o.auth_method, var("RAPIDATA_AUTH_METHOD")) {
            (Some(m), _) => m,
            (None, Some(s)) => AuthMethod::parse(&s).ok_or_else(|| {
                Error::config("RAPIDATA_AUTH_METHOD must be client_secret_basic or client_secret_post")
            })?,
            (None, None) => AuthMethod::default(),
        };

        let ca_file = o.ca_file.clone().or_else(|| var("RAPIDATA_CA_FILE").map(PathBuf::from));
        let credentials_file = o
            .credentials_file
            .clone()
            .or_else(|| var("RAPIDATA_CREDENTIALS_FILE").map(PathBuf::from))
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config/rapidata/credentials.json")));

        // A ready token (Rapidata's token-file pattern) comes first, as in the SDK, with one
        // difference: an id and secret given to this client win over RAPIDATA_TOKEN_FILE
        // (explicit beats environment everywhere else too).
        let explicit_pair = o.client_id.is_some() || o.client_secret.is_some();
        let skip_env_token_file = o.ignore_token_file || (explicit_pair && o.token_file.is_none());
        let credentials = match crate::token_file::source(o.token_file.as_deref(), skip_env_token_file, &var) {
            Some(path) => Credentials::from_token_file(path),
            None => credentials::resolve(
                o.client_id.as_deref(),
                o.client_secret.as_ref(),
                &var,
                credentials_file.as_deref(),
                &issuer,
            )?,
        };
        let shared_cache_dir = crate::shared_cache::resolve_dir(o.shared_cache.as_ref(), &var)?;

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
            retry: o.retry.resolve(),
            network: o.network.clone(),
            logger: o.logger.clone(),
        })
    }
}

fn check_text(v: &str, what: &str) -> Result<()> {
    if v.is_empty() {
        return Err(Error::invalid_argument(format!("{what} is empty")));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(Error::invalid_argument(format!("{what} contains control characters")));
    }
    Ok(())
}

fn check_environment(env: &str) -> std::result::Result<(), String> {
    let env = env.trim();
    let ok = !env.is_empty()
        && env.contains('.')
        && env.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !env.starts_with('.')
        && !env.ends_with('.');
    if ok {
        Ok(())
    } else {
        Err(format!("'{}' is not a base domain like rapidata.ai", env.chars().take(80).collect::<String>()))
    }
}

fn check_scope(scope: &str) -> std::result::Result<(), String> {
    // RFC 6749 §3.3: scope tokens are %x21 / %x23-5B / %x5D-7E, separated by spaces.
    for c in scope.chars() {
        if !(c == ' ' || (c.is_ascii_graphic() && c != '"' && c != '\\')) {
            return Err(format!("scope contains a character not allowed by RFC 6749 §3.3: {c:?}"));
        }
    }
    Ok(())
}

fn normalize_scope(scope: &str) -> String {
    scope.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn nonzero(d: Duration, what: &str) -> Result<Duration> {
    if d.is_zero() {
        Err(Error::invalid_argument(format!("{what} must be greater than zero")))
    } else {
        Ok(d)
    }
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
    fn setters_reject_bad_values() {
        let mut o = ClientOptions::new();
        assert!(o.set_issuer("ftp://x").is_err());
        assert!(o.set_issuer("http://auth.example.com").is_err());
        assert!(o.set_client_id("").is_err());
        assert!(o.set_scope("openid \"x\"").is_err());
        assert!(o.set_connect_timeout(Duration::ZERO).is_err());
        assert!(o.set_environment("rapidata.ai").is_ok());
    }
}
