//! Network policy: which roots a TLS connection trusts, and which proxy it goes through.
//! Resolved once per client, when its transport is built.

use std::fmt;
use std::path::{Path, PathBuf};

use ureq::tls::{Certificate, PemItem, RootCerts};

use crate::util::error::{Error, Result};
use crate::util::secret::Secret;

pub(crate) const ALL_TRUST_FLAGS: u32 = 3;

/// Which certificate authorities the client trusts (flags; combine with `|`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trust(u32);

impl Trust {
    /// Mozilla's roots compiled into the library (webpki-roots). The default.
    pub const BUILTIN: Trust = Trust(1);
    /// The operating system's bundle: `SSL_CERT_FILE`, `SSL_CERT_DIR`, or the distribution's file.
    pub const SYSTEM: Trust = Trust(2);
    pub fn from_bits(bits: u32) -> Option<Trust> {
        (bits & !ALL_TRUST_FLAGS == 0).then_some(Trust(bits))
    }
    pub const fn bits(self) -> u32 {
        self.0
    }
    pub fn contains(self, other: Trust) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Trust {
    type Output = Trust;
    fn bitor(self, o: Trust) -> Trust {
        Trust(self.0 | o.0)
    }
}

/// What the user chose for the proxy. Unset means the environment (`HTTPS_PROXY`, `NO_PROXY`...).
#[derive(Clone, Default)]
pub enum ProxySetting {
    #[default]
    FromEnvironment,
    /// Never use a proxy, whatever the environment says.
    Direct,
    /// This proxy URL (it may carry `user:password@`, so it is kept as a secret).
    Url(Secret),
}

impl fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySetting::FromEnvironment => f.write_str("FromEnvironment"),
            ProxySetting::Direct => f.write_str("Direct"),
            ProxySetting::Url(u) => write!(f, "Url({})", proxy_display(u.expose())),
        }
    }
}

/// A proxy URL for messages: scheme, host and port, never the user info.
pub(crate) fn proxy_display(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}")
}

impl ProxySetting {
    /// `""` means no proxy; anything else must be a proxy URL like `http://host:port`.
    pub(crate) fn parse(url: &str) -> std::result::Result<ProxySetting, String> {
        if url.is_empty() {
            return Ok(ProxySetting::Direct);
        }
        ureq::Proxy::new(url).map_err(|_| format!("'{}' is not a proxy URL like http://host:port", proxy_display(url)))?;
        Ok(ProxySetting::Url(Secret::new(url)))
    }
}

/// The proxy ureq should use; `None` inside means a direct connection.
pub(crate) fn proxy(setting: &ProxySetting) -> Result<Option<ureq::Proxy>> {
    Ok(match setting {
        ProxySetting::FromEnvironment => ureq::Proxy::try_from_env(),
        ProxySetting::Direct => None,
        ProxySetting::Url(u) => Some(
            ureq::Proxy::new(u.expose())
                .map_err(|_| Error::config(format!("'{}' is not a proxy URL", proxy_display(u.expose()))))?,
        ),
    })
}

/// The roots for the TLS config; `None` means ureq's built-in (webpki) roots.
pub(crate) fn root_certs(trust: Option<Trust>, ca_file: Option<&Path>) -> Result<Option<RootCerts>> {
    Ok(root_cert_list(trust, ca_file)?.map(|certs| RootCerts::new_with_certs(&certs)))
}

/// The same roots as PEM, for TLS stacks configured with a bundle (the fleet cache's Redis
/// client); `None` means the built-in roots.
pub(crate) fn root_certs_pem(trust: Option<Trust>, ca_file: Option<&Path>) -> Result<Option<Vec<u8>>> {
    Ok(root_cert_list(trust, ca_file)?.map(|certs| {
        let mut pem = Vec::new();
        for c in &certs {
            pem.extend_from_slice(crate::util::encoding::pem_encode("CERTIFICATE", c.der()).as_bytes());
        }
        pem
    }))
}

/// The trust settings as certificates; `None` means the built-in roots.
fn root_cert_list(trust: Option<Trust>, ca_file: Option<&Path>) -> Result<Option<Vec<Certificate<'static>>>> {
    let trust = trust.unwrap_or(if ca_file.is_some() { Trust(0) } else { Trust::BUILTIN });
    if trust.contains(Trust::BUILTIN) {
        if trust.contains(Trust::SYSTEM) || ca_file.is_some() {
            // ureq takes the built-in roots only as a whole store, not as certificates to merge.
            return Err(Error::config(
                "the built-in roots cannot be combined with the system roots or a CA file; use SYSTEM together with the CA file",
            ));
        }
        return Ok(None);
    }
    let mut certs = Vec::new();
    if trust.contains(Trust::SYSTEM) {
        certs.extend(system_roots()?);
    }
    if let Some(path) = ca_file {
        let found = load_pem(path, "CA file")?;
        if found.is_empty() {
            return Err(Error::config(format!("CA file {} contains no PEM certificates", path.display())));
        }
        certs.extend(found);
    }
    Ok(Some(certs))
}

/// Where distributions keep their bundle (Debian/Ubuntu/Arch, Fedora/RHEL, openSUSE, Alpine).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

fn system_roots() -> Result<Vec<Certificate<'static>>> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let mut certs = Vec::new();
    if let Some(file) = var("SSL_CERT_FILE") {
        certs.extend(load_pem(&file, "SSL_CERT_FILE")?);
    }
    if let Some(dir) = var("SSL_CERT_DIR") {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::config(format!("cannot read SSL_CERT_DIR {}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            // Hash links and bundles alike; files that are not PEM certificates are skipped.
            if let Ok(c) = load_pem(&entry.path(), "certificate") {
                certs.extend(c);
            }
        }
    }
    if certs.is_empty() && var("SSL_CERT_FILE").is_none() && var("SSL_CERT_DIR").is_none() {
        if let Some(bundle) = SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file()) {
            certs.extend(load_pem(bundle, "system CA bundle")?);
        }
    }
    if certs.is_empty() {
        return Err(Error::config(
            "no system root certificates found: set SSL_CERT_FILE to a PEM bundle, or install the distribution's ca-certificates",
        ));
    }
    Ok(certs)
}

pub(crate) fn load_pem(path: &Path, what: &str) -> Result<Vec<Certificate<'static>>> {
    let pem = std::fs::read(path).map_err(|e| Error::config(format!("cannot read {what} {}: {e}", path.display())))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => return Err(Error::config(format!("{what} {} is not valid PEM: {e}", path.display()))),
        }
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_display_hides_user_info() {
        assert_eq!(proxy_display("http://user:pa55@proxy:3128/x"), "http://proxy:3128");
        assert_eq!(proxy_display("proxy:3128"), "http://proxy:3128");
        let d = format!("{:?}", ProxySetting::Url(Secret::new("http://u:hunter22@p:1")));
        assert!(!d.contains("hunter22"), "{d}");
    }

    #[test]
    fn trust_rules() {
        assert!(Trust::from_bits(4).is_none());
        assert!(matches!(root_certs(None, None), Ok(None)));
        let e = root_certs(Some(Trust::BUILTIN), Some(Path::new("/x.pem"))).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(root_certs(Some(Trust::BUILTIN | Trust::SYSTEM), None).is_err());
        let e = root_certs(None, Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(e.message().contains("/nonexistent/ca.pem"));
        assert!(matches!(ProxySetting::parse(""), Ok(ProxySetting::Direct)));
        assert!(matches!(root_certs_pem(None, None), Ok(None)));
        assert!(ProxySetting::parse("http://[bad").is_err());
    }
}
