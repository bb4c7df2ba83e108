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
            "no Rapidata client credentials found: pass a client id and secret, or set RAPIDATA_CLIENT_ID and \
             RAPIDATA_CLIENT_SECRET, or log in once with Rapidata's Python SDK to create \
             ~/.config/rapidata/credentials.json ({file_note})"
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
}
