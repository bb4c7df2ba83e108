//! The credentials chain, in the SDK's order: explicit arguments, then `RAPIDATA_CLIENT_ID` with
//! `RAPIDATA_CLIENT_SECRET` or `RAPIDATA_CLIENT_KEY_FILE` (as a pair), then the SDK's credentials
//! file. A client proves who it is with a secret or with a private key (private_key_jwt).

use std::fmt;
use std::path::{Path, PathBuf};

use super::KeySetting;
use crate::fetch::{ClientKey, MAX_PEM_BYTES};
use crate::sources::credentials;
use crate::util::error::{Error, ErrorKind, Result};
use crate::util::files;
use crate::util::secret::Secret;

/// Where the client id and secret came from (shown by diagnostics; the secret never is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    Explicit,
    /// `RAPIDATA_CLIENT_ID` and `RAPIDATA_CLIENT_SECRET`.
    Environment,
    /// `RAPIDATA_CLIENT_ID` and `RAPIDATA_CLIENT_KEY_FILE`.
    EnvironmentKey,
    File { path: PathBuf, display_name: Option<String> },
    /// A ready token read from a file another process keeps fresh (`RAPIDATA_TOKEN_FILE`).
    TokenFile { path: PathBuf },
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Explicit => f.write_str("explicit arguments"),
            CredentialSource::Environment => f.write_str("RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_SECRET"),
            CredentialSource::EnvironmentKey => f.write_str("RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_KEY_FILE"),
            CredentialSource::File { path, display_name: Some(n) } => write!(f, "{} (entry '{n}')", path.display()),
            CredentialSource::File { path, display_name: None } => write!(f, "{}", path.display()),
            CredentialSource::TokenFile { path } => write!(f, "token file {}", path.display()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: String,
    /// Empty when the client authenticates with a key.
    pub client_secret: Secret,
    /// The private key of private_key_jwt, if the client authenticates with one.
    pub key: Option<ClientKey>,
    /// The file the key was read from (`None` for a key given as text).
    pub key_file: Option<PathBuf>,
    pub source: CredentialSource,
}

impl Credentials {
    /// An `invalid_client` answer for credentials from the credentials file most likely means
    /// the client was deleted in Rapidata's settings: the error says so and names the login that
    /// replaces them. The entry stays in the file (docs/credentials.md says why).
    pub(crate) fn explain(&self, e: Error) -> Error {
        let CredentialSource::File { path, display_name } = &self.source else { return e };
        if e.oauth_code() != Some("invalid_client") {
            return e;
        }
        let entry = display_name.as_deref().map(|n| format!(" (entry '{n}')")).unwrap_or_default();
        let server = match e.oauth_description() {
            Some(d) => format!("HTTP {}: {d}", e.http_status()),
            None => format!("HTTP {}", e.http_status()),
        };
        let msg = format!(
            "the stored credentials are stale: the token endpoint refused client {} from the credentials file {}{entry} \
             with invalid_client ({server}); the client was probably deleted in Rapidata's settings. Run `raptoken login` \
             (or the library's login call) to store new credentials; the stale entry stays in the file until you remove \
             it (`raptoken logout --client-id {}`)",
            self.client_id,
            path.display(),
            self.client_id
        );
        e.reworded(msg)
    }

    /// A client that reads its token from a file has no id or secret of its own.
    pub(crate) fn from_token_file(path: PathBuf) -> Self {
        Self::with_secret(String::new(), Secret::new(""), CredentialSource::TokenFile { path })
    }

    fn with_secret(client_id: String, client_secret: Secret, source: CredentialSource) -> Self {
        Credentials { client_id, client_secret, key: None, key_file: None, source }
    }

    fn with_key(client_id: String, key: ClientKey, key_file: Option<PathBuf>, source: CredentialSource) -> Self {
        Credentials { client_id, client_secret: Secret::new(""), key: Some(key), key_file, source }
    }
}

pub(crate) fn resolve(
    explicit_id: Option<&str>,
    explicit_secret: Option<&Secret>,
    explicit_key: Option<&KeySetting>,
    var: &dyn Fn(&str) -> Option<String>,
    file: Option<&Path>,
    issuer: &str,
) -> Result<Credentials> {
    let explicit = |m: &str| Err(Error::invalid_argument(m.to_string()));
    match (explicit_id, explicit_secret, explicit_key) {
        (Some(id), Some(secret), None) => return Ok(Credentials::with_secret(id.to_string(), secret.clone(), CredentialSource::Explicit)),
        (Some(id), None, Some(KeySetting::Pem(key))) => return Ok(Credentials::with_key(id.to_string(), key.clone(), None, CredentialSource::Explicit)),
        (Some(id), None, Some(KeySetting::File(path))) => {
            let key = read_key_file(path, "client key file")?;
            return Ok(Credentials::with_key(id.to_string(), key, Some(path.clone()), CredentialSource::Explicit));
        }
        (_, Some(_), Some(_)) => return explicit("both a client secret and a client key were given; a client authenticates with one"),
        (Some(_), None, None) => return explicit("a client id was given without a client secret or key; give both or neither"),
        (None, Some(_), None) => return explicit("a client secret was given without a client id; give both or neither"),
        (None, None, Some(_)) => return explicit("a client key was given without a client id; give both or neither"),
        (None, None, None) => {}
    }
    // A lone half of a pair is not used: the pair comes from the next source instead.
    if let Some(id) = var("RAPIDATA_CLIENT_ID") {
        match (var("RAPIDATA_CLIENT_SECRET"), var("RAPIDATA_CLIENT_KEY_FILE")) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "both RAPIDATA_CLIENT_SECRET and RAPIDATA_CLIENT_KEY_FILE are set; a client authenticates with one: unset the other",
                ))
            }
            (Some(secret), None) => return Ok(Credentials::with_secret(id, Secret::new(secret), CredentialSource::Environment)),
            (None, Some(path)) => {
                let path = PathBuf::from(path);
                let key = read_key_file(&path, "client key file (RAPIDATA_CLIENT_KEY_FILE)")?;
                return Ok(Credentials::with_key(id, key, Some(path), CredentialSource::EnvironmentKey));
            }
            (None, None) => {}
        }
    }
    let mut file_note = String::from("no credentials file (HOME is not set)");
    if let Some(path) = file {
        match credentials::read_file(path, issuer)? {
            Some(c) => {
                let source = CredentialSource::File { path: c.path, display_name: c.display_name };
                return Ok(Credentials::with_secret(c.client_id, c.client_secret, source));
            }
            None if path.exists() => file_note = format!("{} has no entry for {issuer}", path.display()),
            None => file_note = format!("{} does not exist", path.display()),
        }
    }
    Err(Error::new(
        ErrorKind::NoCredentials,
        format!(
            "no Rapidata client credentials found: on a workstation, log in once with `raptoken login` (or the \
             library's login call, or Rapidata's Python SDK) to create ~/.config/rapidata/credentials.json; \
             elsewhere pass a client id and secret (or key), or set RAPIDATA_CLIENT_ID and RAPIDATA_CLIENT_SECRET \
             (or RAPIDATA_CLIENT_KEY_FILE) ({file_note})"
        ),
    ))
}

/// The private key in a PEM file open to its owner only. `what` starts the messages.
fn read_key_file(path: &Path, what: &str) -> Result<ClientKey> {
    let fail = |why: String| Error::config(format!("{what} {}: {why}", path.display()));
    let bytes = files::read_protected(path, MAX_PEM_BYTES).map_err(fail)?.ok_or_else(|| fail("it does not exist".into()))?;
    ClientKey::parse(&bytes).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://auth.rapidata.ai";

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn chain_order_and_lone_halves() {
        let s = Secret::new("x");
        let c = resolve(Some("id"), Some(&s), None, &env(&[("RAPIDATA_CLIENT_ID", "e")]), None, ISSUER).unwrap();
        assert_eq!(c.source, CredentialSource::Explicit);
        assert_eq!(resolve(Some("id"), None, None, &env(&[]), None, ISSUER).unwrap_err().kind(), ErrorKind::InvalidArgument);
        let c = resolve(None, None, None, &env(&[("RAPIDATA_CLIENT_ID", "e"), ("RAPIDATA_CLIENT_SECRET", "es")]), None, ISSUER).unwrap();
        assert_eq!((c.client_id.as_str(), c.source), ("e", CredentialSource::Environment));

        let dir = std::env::temp_dir().join(format!("raptoken-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("credentials.json");
        std::fs::write(&file, r#"{"https://auth.rapidata.ai":[{"client_id":"f","client_secret":"fs"}]}"#).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        // Only one half in the environment: the pair comes from the file.
        let c = resolve(None, None, None, &env(&[("RAPIDATA_CLIENT_ID", "e")]), Some(&file), ISSUER).unwrap();
        assert_eq!(c.client_id, "f");
        assert!(matches!(c.source, CredentialSource::File { .. }));

        let e = resolve(None, None, None, &env(&[]), Some(&dir.join("missing.json")), ISSUER).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoCredentials);
        for place in ["RAPIDATA_CLIENT_ID", "credentials.json", "client id and secret", "missing.json does not exist"] {
            assert!(e.message().contains(place), "{}", e.message());
        }

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
            let e = resolve(None, None, None, &env(&[]), Some(&file), ISSUER).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config);
            assert!(e.message().contains("chmod 600"));
        }
        std::fs::write(&file, "{not json").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let e = resolve(None, None, None, &env(&[]), Some(&file), ISSUER).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains(&file.display().to_string()));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[cfg(unix)]
    #[test]
    fn keys_pair_with_an_id_from_options_or_the_environment() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("raptoken-key-chain-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (key, pem) = ClientKey::generate().unwrap();
        let path = dir.join("key.pem");
        std::fs::write(&path, pem.as_bytes()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let p = path.to_str().unwrap();

        let c = resolve(Some("id"), None, Some(&KeySetting::Pem(key.clone())), &env(&[]), None, ISSUER).unwrap();
        assert_eq!((c.source, c.key.unwrap().thumbprint(), c.client_secret.is_empty()), (CredentialSource::Explicit, key.thumbprint(), true));
        let c = resolve(Some("id"), None, Some(&KeySetting::File(path.clone())), &env(&[]), None, ISSUER).unwrap();
        assert_eq!((c.key.unwrap().thumbprint(), c.key_file.as_deref()), (key.thumbprint(), Some(path.as_path())));
        let both = resolve(Some("id"), Some(&Secret::new("s")), Some(&KeySetting::Pem(key.clone())), &env(&[]), None, ISSUER);
        assert_eq!(both.unwrap_err().kind(), ErrorKind::InvalidArgument);
        assert_eq!(resolve(None, None, Some(&KeySetting::Pem(key.clone())), &env(&[]), None, ISSUER).unwrap_err().kind(), ErrorKind::InvalidArgument);

        let c = resolve(None, None, None, &env(&[("RAPIDATA_CLIENT_ID", "e"), ("RAPIDATA_CLIENT_KEY_FILE", p)]), None, ISSUER).unwrap();
        assert_eq!((c.client_id.as_str(), &c.source), ("e", &CredentialSource::EnvironmentKey));
        assert_eq!(c.source.to_string(), "RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_KEY_FILE");
        let e = resolve(None, None, None, &env(&[("RAPIDATA_CLIENT_ID", "e"), ("RAPIDATA_CLIENT_SECRET", "s"), ("RAPIDATA_CLIENT_KEY_FILE", p)]), None, ISSUER);
        assert!(e.unwrap_err().message().contains("unset the other"));

        // Loose permissions, a missing file and a malformed one: CONFIG naming the file.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = resolve(Some("id"), None, Some(&KeySetting::File(path.clone())), &env(&[]), None, ISSUER).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains(p) && e.message().contains("mode 640") && e.message().contains("chmod 600"), "{}", e.message());
        let e = resolve(None, None, None, &env(&[("RAPIDATA_CLIENT_ID", "e"), ("RAPIDATA_CLIENT_KEY_FILE", "/nonexistent/k.pem")]), None, ISSUER);
        let m = e.unwrap_err().message().to_string();
        assert!(m.contains("RAPIDATA_CLIENT_KEY_FILE") && m.contains("/nonexistent/k.pem") && m.contains("does not exist"), "{m}");
        std::fs::write(&path, &pem.as_bytes()[..100]).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        let e = resolve(Some("id"), None, Some(&KeySetting::File(path.clone())), &env(&[]), None, ISSUER).unwrap_err();
        assert!(e.message().contains(p) && e.message().contains("END line"), "{}", e.message());
        assert!(!e.message().contains(&pem[28..60]), "no key material in the message");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn invalid_client_from_the_file_says_the_credentials_are_stale() {
        let refused = || {
            Error::new(ErrorKind::OAuth, "the token endpoint refused the request (HTTP 401): invalid_client")
                .with_oauth("invalid_client".into(), Some("client authentication failed".into()))
                .with_http_status(401)
        };
        let from_file = Credentials {
            client_id: "c-1".into(),
            client_secret: Secret::new("s"),
            key: None,
            key_file: None,
            source: CredentialSource::File { path: "/home/u/.config/rapidata/credentials.json".into(), display_name: Some("laptop - raptoken".into()) },
        };
        let e = from_file.explain(refused());
        assert_eq!((e.kind(), e.oauth_code(), e.http_status()), (ErrorKind::OAuth, Some("invalid_client"), 401));
        for part in ["stale", "c-1", "credentials.json (entry 'laptop - raptoken')", "raptoken login", "client authentication failed", "logout --client-id c-1"] {
            assert!(e.message().contains(part), "{part}: {}", e.message());
        }
        let explicit = Credentials { source: CredentialSource::Explicit, ..from_file.clone() };
        assert!(!explicit.explain(refused()).message().contains("stale"));
        let other = Error::new(ErrorKind::OAuth, "x").with_oauth("invalid_scope".into(), None);
        assert_eq!(from_file.explain(other.clone()), other);
    }
}
