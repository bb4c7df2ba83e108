//! The credentials chain, in the SDK's order: explicit arguments, then `RAPIDATA_CLIENT_ID` /
//! `RAPIDATA_CLIENT_SECRET` (as a pair), then the SDK's credentials file.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::sources::credentials;
use crate::util::error::{Error, ErrorKind, Result};
use crate::util::secret::Secret;

/// Where the client id and secret came from (shown by diagnostics; the secret never is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    Explicit,
    Environment,
    File { path: PathBuf, display_name: Option<String> },
    /// A ready token read from a file another process keeps fresh (`RAPIDATA_TOKEN_FILE`).
    TokenFile { path: PathBuf },
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Explicit => f.write_str("explicit arguments"),
            CredentialSource::Environment => f.write_str("RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_SECRET"),
            CredentialSource::File { path, display_name: Some(n) } => write!(f, "{} (entry '{n}')", path.display()),
            CredentialSource::File { path, display_name: None } => write!(f, "{}", path.display()),
            CredentialSource::TokenFile { path } => write!(f, "token file {}", path.display()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: Secret,
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
        Credentials { client_id: String::new(), client_secret: Secret::new(""), source: CredentialSource::TokenFile { path } }
    }
}

pub(crate) fn resolve(
    explicit_id: Option<&str>,
    explicit_secret: Option<&Secret>,
    var: &dyn Fn(&str) -> Option<String>,
    file: Option<&Path>,
    issuer: &str,
) -> Result<Credentials> {
    match (explicit_id, explicit_secret) {
        (Some(id), Some(secret)) => {
            return Ok(Credentials { client_id: id.to_string(), client_secret: secret.clone(), source: CredentialSource::Explicit })
        }
        (Some(_), None) => return Err(Error::invalid_argument("a client id was given without a client secret; give both or neither")),
        (None, Some(_)) => return Err(Error::invalid_argument("a client secret was given without a client id; give both or neither")),
        (None, None) => {}
    }
    // A lone half of the pair is not used: the pair comes from the next source instead.
    if let (Some(id), Some(secret)) = (var("RAPIDATA_CLIENT_ID"), var("RAPIDATA_CLIENT_SECRET")) {
        return Ok(Credentials { client_id: id, client_secret: Secret::new(secret), source: CredentialSource::Environment });
    }
    let mut file_note = String::from("no credentials file (HOME is not set)");
    if let Some(path) = file {
        match credentials::read_file(path, issuer)? {
            Some(c) => {
                let source = CredentialSource::File { path: c.path, display_name: c.display_name };
                return Ok(Credentials { client_id: c.client_id, client_secret: c.client_secret, source });
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
             elsewhere pass a client id and secret, or set RAPIDATA_CLIENT_ID and RAPIDATA_CLIENT_SECRET ({file_note})"
        ),
    ))
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
        let c = resolve(Some("id"), Some(&s), &env(&[("RAPIDATA_CLIENT_ID", "e")]), None, ISSUER).unwrap();
        assert_eq!(c.source, CredentialSource::Explicit);
        assert_eq!(resolve(Some("id"), None, &env(&[]), None, ISSUER).unwrap_err().kind(), ErrorKind::InvalidArgument);
        let c = resolve(None, None, &env(&[("RAPIDATA_CLIENT_ID", "e"), ("RAPIDATA_CLIENT_SECRET", "es")]), None, ISSUER).unwrap();
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
        let c = resolve(None, None, &env(&[("RAPIDATA_CLIENT_ID", "e")]), Some(&file), ISSUER).unwrap();
        assert_eq!(c.client_id, "f");
        assert!(matches!(c.source, CredentialSource::File { .. }));

        let e = resolve(None, None, &env(&[]), Some(&dir.join("missing.json")), ISSUER).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoCredentials);
        for place in ["RAPIDATA_CLIENT_ID", "credentials.json", "client id and secret", "missing.json does not exist"] {
            assert!(e.message().contains(place), "{}", e.message());
        }

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
            let e = resolve(None, None, &env(&[]), Some(&file), ISSUER).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config);
            assert!(e.message().contains("chmod 600"));
        }
        std::fs::write(&file, "{not json").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let e = resolve(None, None, &env(&[]), Some(&file), ISSUER).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains(&file.display().to_string()));
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
