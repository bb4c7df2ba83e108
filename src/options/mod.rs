//! The options layer: what a program may set (`ClientOptions`, one setter per row of the option
//! table in table.rs), and how options, environment and defaults resolve into the configuration
//! a client runs with (resolve.rs, with the credentials chain in chain.rs). It builds each
//! subsystem's own plain options (transport, retry, margins, shared cache key); the layers below
//! never see `ClientOptions` or `Config`. Resolution reads environment variables and files, never
//! the network.

use std::path::PathBuf;
use std::time::Duration;

use crate::cache::fleet_config::RedisUrl;
use crate::fetch::{AuthMethod, ClientKey, ProxySetting, SigningAlgorithm, Trust, MAX_ATTEMPTS_LIMIT};
use crate::util::error::{Error, Result};
use crate::util::log::Logger;
use crate::util::secret::Secret;
use crate::util::url;

mod apply_gen;
mod chain;
pub(crate) mod parse;
mod resolve;
pub(crate) mod spec;
pub(crate) mod table;

pub(crate) use apply_gen::{apply_text, check_parses};
pub use chain::{CredentialSource, Credentials};
pub use resolve::Config;
pub(crate) use resolve::LoginConfig;

/// A setter's outcome, whether it can fail or not: the generated C setters and text parser
/// call every setter the same way.
pub(crate) trait Applied {
    fn applied(self) -> Result<()>;
}

impl Applied for &mut ClientOptions {
    fn applied(self) -> Result<()> {
        Ok(())
    }
}

impl Applied for Result<&mut ClientOptions> {
    fn applied(self) -> Result<()> {
        self.map(drop)
    }
}

impl CValue for AuthMethod {
    fn from_c(v: u32) -> Result<Self> {
        [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost, AuthMethod::PrivateKeyJwt]
            .into_iter()
            .find(|m| *m as u32 == v)
            .ok_or_else(|| Error::invalid_argument(format!("unknown auth method {v}; use RAPIDATA_AUTH_METHOD_*")))
    }
    fn parse_text(s: &str) -> Result<Self> {
        AuthMethod::parse(s).ok_or_else(|| {
            Error::invalid_argument("the auth method must be client_secret_basic (basic), client_secret_post (post) or private_key_jwt")
        })
    }
}

impl CValue for SigningAlgorithm {
    fn from_c(v: u32) -> Result<Self> {
        SigningAlgorithm::ALL
            .into_iter()
            .find(|a| *a as u32 == v)
            .ok_or_else(|| Error::invalid_argument(format!("unknown signing algorithm {v}; use RAPIDATA_SIGNING_ALGORITHM_*")))
    }
    fn parse_text(s: &str) -> Result<Self> {
        SigningAlgorithm::parse(s).ok_or_else(|| Error::invalid_argument("the signing algorithm must be RS256, PS256 or ES256"))
    }
}

impl CValue for Trust {
    fn from_c(v: u32) -> Result<Self> {
        Trust::from_bits(v).ok_or_else(|| Error::invalid_argument(format!("unknown trust flags {v:#x}; use RAPIDATA_TRUST_*")))
    }
    /// `builtin`, `system`, or both separated by commas.
    fn parse_text(s: &str) -> Result<Self> {
        let mut bits = 0;
        for word in s.split(',').map(str::trim) {
            bits |= match word.to_ascii_lowercase().as_str() {
                "builtin" => Trust::BUILTIN.bits(),
                "system" => Trust::SYSTEM.bits(),
                _ => return Err(Error::invalid_argument(format!("trust: {} is not builtin or system", parse::preview(word)))),
            };
        }
        Ok(Trust::from_bits(bits).unwrap_or(Trust::BUILTIN))
    }
}

/// An option value that crosses the C ABI as a `uint32_t` (an enum or flags) and can be read
/// from text (environment variables, CLI flags).
pub(crate) trait CValue: Sized {
    fn from_c(v: u32) -> Result<Self>;
    fn parse_text(s: &str) -> Result<Self>;
}

/// Everything a caller may set. Unset fields fall back to environment variables, then defaults
/// (docs/configuration.md, generated from the option table). Setters validate their value at once.
#[derive(Clone, Default, Debug)]
pub struct ClientOptions {
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<Secret>,
    pub(crate) client_key: Option<KeySetting>,
    pub(crate) client_key_id: Option<String>,
    pub(crate) client_key_algorithm: Option<SigningAlgorithm>,
    pub(crate) assertion_audience: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) environment: Option<String>,
    pub(crate) token_endpoint: Option<String>,
    pub(crate) scope: Option<String>,
    pub(crate) audience: Option<String>,
    pub(crate) resources: Vec<String>,
    pub(crate) extra_params: Vec<(String, String)>,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) credentials_file: Option<PathBuf>,
    pub(crate) auth_method: Option<AuthMethod>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) expiry_margin: Option<Duration>,
    pub(crate) refresh_ahead: Option<Duration>,
    pub(crate) shared_cache: Option<SharedCacheSetting>,
    /// The fleet cache's server; `Some(None)`: off, even if the environment names one.
    pub(crate) shared_cache_url: Option<Option<RedisUrl>>,
    pub(crate) token_file: Option<PathBuf>,
    pub(crate) ignore_token_file: bool,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) retry_backoff: Option<(Duration, Duration)>,
    pub(crate) max_retry_after: Option<Duration>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) trust: Option<Trust>,
    pub(crate) proxy: ProxySetting,
    pub(crate) login_timeout: Option<Duration>,
    pub(crate) logger: Option<Logger>,
}

/// The client key, as the program gave it: parsed already, or a file read at client creation.
#[derive(Debug, Clone)]
pub(crate) enum KeySetting {
    Pem(ClientKey),
    File(PathBuf),
}

/// Names a token request carries already, or that have their own option: an extra parameter
/// may not repeat them (OAuth refuses a repeated parameter, RFC 6749 §3.2).
const RESERVED_PARAMS: &[&str] =
    &["grant_type", "scope", "client_id", "client_secret", "client_assertion", "client_assertion_type", "audience", "resource"];

/// Where the shared cache lives, as the program asked (before `RAPIDATA_SHARED_CACHE` and defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SharedCacheSetting {
    Off,
    DefaultDir,
    Dir(PathBuf),
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

    /// Authenticate with this private key (PEM: PKCS#8 RSA or EC P-256, PKCS#1 RSA, SEC1 EC)
    /// instead of a secret: private_key_jwt. Parsed now; a key that cannot be used is refused.
    pub fn set_client_key(&mut self, pem: &str) -> Result<&mut Self> {
        self.client_key = Some(KeySetting::Pem(ClientKey::from_pem(pem)?));
        Ok(self)
    }

    /// Authenticate with the private key in this PEM file (read when the client is created; it
    /// must be open to its owner only).
    pub fn set_client_key_file(&mut self, path: &str) -> Result<&mut Self> {
        check_text(path, "client key file path")?;
        self.client_key = Some(KeySetting::File(PathBuf::from(path)));
        Ok(self)
    }

    /// The `kid` header of client assertions.
    pub fn set_client_key_id(&mut self, kid: &str) -> Result<&mut Self> {
        check_text(kid, "client key id")?;
        self.client_key_id = Some(kid.to_string());
        Ok(self)
    }

    /// The assertions' signature algorithm. Default: RS256 for an RSA key, ES256 for EC.
    pub fn set_client_key_algorithm(&mut self, alg: SigningAlgorithm) -> &mut Self {
        self.client_key_algorithm = Some(alg);
        self
    }

    /// The `aud` claim of client assertions. Default: the token endpoint URL.
    pub fn set_assertion_audience(&mut self, aud: &str) -> Result<&mut Self> {
        check_text(aud, "assertion audience")?;
        self.assertion_audience = Some(aud.to_string());
        Ok(self)
    }

    /// The `audience` parameter of token requests (Auth0 style).
    pub fn set_audience(&mut self, aud: &str) -> Result<&mut Self> {
        check_text(aud, "audience")?;
        self.audience = Some(aud.to_string());
        Ok(self)
    }

    /// Adds a `resource` parameter (RFC 8707): an absolute URI without a fragment.
    pub fn add_resource(&mut self, uri: &str) -> Result<&mut Self> {
        check_resource(uri).map_err(Error::invalid_argument)?;
        if self.resources.iter().any(|r| r == uri) {
            return Err(Error::invalid_argument(format!("resource {uri} was added already")));
        }
        self.resources.push(uri.to_string());
        Ok(self)
    }

    /// Adds a parameter to every token request (x/oauth2's EndpointParams). Names the library
    /// sends itself or has an option for are refused, as is a name added before.
    pub fn add_extra_param(&mut self, name: &str, value: &str) -> Result<&mut Self> {
        check_text(name, "extra parameter name")?;
        let shown = parse::preview(name);
        if RESERVED_PARAMS.contains(&name) {
            let use_instead = match name {
                "scope" | "audience" | "resource" => format!("; use the {name} option"),
                _ => String::new(),
            };
            return Err(Error::invalid_argument(format!("extra parameter {shown} is one the library sets itself{use_instead}")));
        }
        if self.extra_params.iter().any(|(n, _)| n == name) {
            return Err(Error::invalid_argument(format!("extra parameter {shown} was added already; a parameter may appear once")));
        }
        self.extra_params.push((name.to_string(), value.to_string()));
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
    /// `RAPIDATA_SHARED_CACHE` is set. See docs/caching-and-sharing.md.
    pub fn set_shared_cache(&mut self, enabled: bool) -> &mut Self {
        self.shared_cache = Some(if enabled { SharedCacheSetting::DefaultDir } else { SharedCacheSetting::Off });
        self
    }

    /// Share tokens with other processes through files in `dir` (created with mode 0700).
    pub fn set_shared_cache_dir(&mut self, dir: &str) -> Result<&mut Self> {
        check_text(dir, "shared cache directory")?;
        self.shared_cache = Some(SharedCacheSetting::Dir(PathBuf::from(dir)));
        Ok(self)
    }

    /// Share tokens with every process that uses this Redis/Valkey server (`redis://`,
    /// `rediss://`, `unix://`); `""` turns it off even if `RAPIDATA_SHARED_CACHE_URL` is set.
    /// The URL may hold a password: it is never logged or shown.
    pub fn set_shared_cache_url(&mut self, url: &str) -> Result<&mut Self> {
        self.shared_cache_url = Some(if url.is_empty() { None } else { Some(RedisUrl::parse(url).map_err(Error::invalid_argument)?) });
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

    /// Attempts per fetch, 1 (no retries) to 10. Default 3.
    pub fn set_max_attempts(&mut self, attempts: u32) -> Result<&mut Self> {
        if !(1..=MAX_ATTEMPTS_LIMIT).contains(&attempts) {
            return Err(Error::invalid_argument(format!("max attempts must be 1 to {MAX_ATTEMPTS_LIMIT}, not {attempts}")));
        }
        self.max_attempts = Some(attempts);
        Ok(self)
    }

    /// Backoff between attempts: a random wait up to `base * 2^(n-1)`, at most `max`. After a
    /// failed refresh with a usable token, the next try comes `2 * base` doubling, up to `max`.
    /// Defaults 500 ms and 30 s.
    pub fn set_retry_backoff(&mut self, base: Duration, max: Duration) -> Result<&mut Self> {
        if base.is_zero() || max < base {
            return Err(Error::invalid_argument("retry backoff: base must be greater than zero and max at least base"));
        }
        self.retry_backoff = Some((base, max));
        Ok(self)
    }

    /// The longest `Retry-After` honoured; a server asking for more is called again after this.
    /// Default 60 s.
    pub fn set_max_retry_after(&mut self, max: Duration) -> &mut Self {
        self.max_retry_after = Some(max);
        self
    }

    /// Bounds one whole fetch: discovery, attempts and the sleeps between them. Default 30 s.
    pub fn set_deadline(&mut self, d: Duration) -> Result<&mut Self> {
        self.deadline = Some(nonzero(d, "deadline")?);
        Ok(self)
    }

    /// Which roots to trust. Default: the built-in roots, or only the CA file when one is set.
    /// A CA file set together with `SYSTEM` adds to the system roots.
    pub fn set_trust(&mut self, trust: Trust) -> Result<&mut Self> {
        if trust.bits() == 0 {
            return Err(Error::invalid_argument("trust needs at least one of BUILTIN and SYSTEM"));
        }
        self.trust = Some(trust);
        Ok(self)
    }

    /// A proxy URL such as `http://proxy:3128` for every request of this client; `""` means no
    /// proxy even if `HTTPS_PROXY` is set. Unset: `HTTPS_PROXY`/`ALL_PROXY`/`HTTP_PROXY` and `NO_PROXY`.
    pub fn set_proxy(&mut self, url: &str) -> Result<&mut Self> {
        self.proxy = ProxySetting::parse(url).map_err(Error::invalid_argument)?;
        Ok(self)
    }

    /// How long a workstation login ([`crate::login`]) waits for the person to approve it in
    /// the browser. Default 300 s.
    pub fn set_login_timeout(&mut self, d: Duration) -> Result<&mut Self> {
        self.login_timeout = Some(nonzero(d, "login timeout")?);
        Ok(self)
    }

    /// Sends diagnostics to `logger` (see [`Logger::new`]).
    pub fn set_logger(&mut self, logger: Logger) -> &mut Self {
        self.logger = Some(logger);
        self
    }

    pub fn clear_logger(&mut self) -> &mut Self {
        self.logger = None;
        self
    }

    /// Sets the option `name` (a row of docs/configuration.md, e.g. `"connect_timeout"`) from text,
    /// as its environment variable or CLI flag would: `10s`, `basic`, `builtin,system`, ...
    pub fn set_text(&mut self, name: &str, value: &str) -> Result<&mut Self> {
        apply_text(self, name, value)?;
        Ok(self)
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
    pub fn client_key(mut self, pem: &str) -> Result<Self> {
        self.set_client_key(pem)?;
        Ok(self)
    }
    pub fn client_key_file(mut self, v: &str) -> Result<Self> {
        self.set_client_key_file(v)?;
        Ok(self)
    }
    pub fn client_key_id(mut self, v: &str) -> Result<Self> {
        self.set_client_key_id(v)?;
        Ok(self)
    }
    pub fn client_key_algorithm(mut self, alg: SigningAlgorithm) -> Self {
        self.set_client_key_algorithm(alg);
        self
    }
    pub fn assertion_audience(mut self, v: &str) -> Result<Self> {
        self.set_assertion_audience(v)?;
        Ok(self)
    }
    pub fn audience(mut self, v: &str) -> Result<Self> {
        self.set_audience(v)?;
        Ok(self)
    }
    pub fn resource(mut self, v: &str) -> Result<Self> {
        self.add_resource(v)?;
        Ok(self)
    }
    pub fn extra_param(mut self, name: &str, value: &str) -> Result<Self> {
        self.add_extra_param(name, value)?;
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
    pub fn shared_cache_url(mut self, v: &str) -> Result<Self> {
        self.set_shared_cache_url(v)?;
        Ok(self)
    }
    pub fn token_file(mut self, v: &str) -> Result<Self> {
        self.set_token_file(v)?;
        Ok(self)
    }
}


pub(crate) fn check_text(v: &str, what: &str) -> Result<()> {
    if v.is_empty() {
        return Err(Error::invalid_argument(format!("{what} is empty")));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(Error::invalid_argument(format!("{what} contains control characters")));
    }
    Ok(())
}

pub(crate) fn check_environment(env: &str) -> std::result::Result<(), String> {
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

pub(crate) fn check_scope(scope: &str) -> std::result::Result<(), String> {
    // RFC 6749 §3.3: scope tokens are %x21 / %x23-5B / %x5D-7E, separated by spaces.
    for c in scope.chars() {
        if !(c == ' ' || (c.is_ascii_graphic() && c != '"' && c != '\\')) {
            return Err(format!("scope contains a character not allowed by RFC 6749 §3.3: {c:?}"));
        }
    }
    Ok(())
}

/// RFC 8707 §2: an absolute URI (RFC 3986 §4.3: a scheme, no fragment).
pub(crate) fn check_resource(uri: &str) -> std::result::Result<(), String> {
    let scheme = uri.split_once(':').map(|(s, _)| s).unwrap_or("");
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || uri.len() == scheme.len() + 1 {
        return Err(format!("resource {} is not an absolute URI like https://api.example.com/", parse::preview(uri)));
    }
    if uri.contains('#') {
        return Err("a resource must not have a fragment (#...) (RFC 8707)".into());
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a resource must not contain spaces or control characters".into());
    }
    Ok(())
}

pub(crate) fn normalize_scope(scope: &str) -> String {
    scope.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn nonzero(d: Duration, what: &str) -> Result<Duration> {
    if d.is_zero() {
        Err(Error::invalid_argument(format!("{what} must be greater than zero")))
    } else {
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_parameter_setters_refuse_what_would_break_the_request() {
        let mut o = ClientOptions::new();
        for ok in ["https://api.example.com/", "urn:raptoken:test-api", "https://a/b?c=d"] {
            assert!(o.add_resource(ok).is_ok(), "{ok}");
        }
        for bad in ["api.example.com", "/relative", "https:", "https://a/#f", "https://a b/", "1https://a/"] {
            assert_eq!(o.add_resource(bad).unwrap_err().kind(), crate::ErrorKind::InvalidArgument, "{bad}");
        }
        assert!(o.add_resource("urn:raptoken:test-api").unwrap_err().message().contains("added already"));
        assert_eq!(o.resources.len(), 3);
        for name in RESERVED_PARAMS {
            let e = o.add_extra_param(name, "x").unwrap_err();
            assert!(e.message().contains("sets itself"), "{name}: {}", e.message());
        }
        assert!(o.add_extra_param("", "x").is_err() && o.add_extra_param("a\nb", "x").is_err());
        o.add_extra_param("organization", "").unwrap();
        assert!(o.add_extra_param("organization", "y").unwrap_err().message().contains("added already"));
        assert!(o.set_audience("").is_err() && o.set_assertion_audience("a\u{7}").is_err() && o.set_client_key_id("").is_err());
        // A bad PEM is refused at once, without echoing it.
        let e = o.set_client_key("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument);
        assert!(e.message().starts_with("client key: ") && !e.message().contains("c2VjcmV0"), "{}", e.message());
        assert!(o.client_key.is_none());
        assert!(!format!("{:?}", ClientOptions::new().client_key(&ClientKey::generate().unwrap().1).unwrap()).contains("BEGIN"));
    }
}
