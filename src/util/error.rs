//! The one error type of the library. Its kinds map 1:1 onto the C ABI's status codes, so
//! every binding can tell failures apart without parsing messages.

use std::fmt;
use std::time::SystemTime;

/// What kind of failure happened. Each kind is one `RAPIDATA_STATUS_*` value in the C ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ErrorKind {
    /// A caller passed something unusable (empty id, bad URL, a lone half of a credential pair).
    InvalidArgument,
    /// No client id/secret was found in any place the chain looks.
    NoCredentials,
    /// The configuration is broken: a malformed credentials file, an unreadable CA file, a
    /// plain-http issuer, a discovery document that does not match.
    Config,
    /// The network failed: DNS, connect, TLS, reset.
    Transport,
    /// A timeout or the overall deadline passed.
    Timeout,
    /// The server answered with an HTTP status that is not an OAuth error document.
    Http,
    /// The server answered with an RFC 6749 §5.2 error (`invalid_client`, ...).
    OAuth,
    /// The server answered something that is not a valid token response.
    Protocol,
    /// The caller cancelled the operation (a workstation login).
    Cancelled,
}

/// A failure, with everything a caller needs to decide what to do. Never contains a secret or a
/// token: messages are built from our own words and scrubbed server text only.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    oauth_code: Option<String>,
    oauth_description: Option<String>,
    http_status: u16,
    retry_after: Option<SystemTime>,
    /// Set by the transport for failures worth another try (connect, reset); not for TLS.
    transient: bool,
}

pub type Result<T> = std::result::Result<T, Error>;

impl ErrorKind {
    const ALL: [ErrorKind; 9] = [
        ErrorKind::InvalidArgument,
        ErrorKind::NoCredentials,
        ErrorKind::Config,
        ErrorKind::Transport,
        ErrorKind::Timeout,
        ErrorKind::Http,
        ErrorKind::OAuth,
        ErrorKind::Protocol,
        ErrorKind::Cancelled,
    ];

    /// The kind whose `as u32` is `i` (for counters that store kinds in an atomic).
    pub(crate) fn from_index(i: u32) -> Option<ErrorKind> {
        Self::ALL.iter().copied().find(|k| *k as u32 == i)
    }
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            oauth_code: None,
            oauth_description: None,
            http_status: 0,
            retry_after: None,
            transient: false,
        }
    }

    pub(crate) fn transient(mut self) -> Self {
        self.transient = true;
        self
    }

    /// Whether trying again may succeed: network failures other than TLS, timeouts, HTTP 408,
    /// 429 and 5xx, and the OAuth codes `server_error` and `temporarily_unavailable`. Never
    /// `invalid_client`, `invalid_scope`, `invalid_grant`, `unauthorized_client`, other 4xx,
    /// configuration or protocol errors.
    pub fn is_retryable(&self) -> bool {
        let status_retryable = matches!(self.http_status, 408 | 429 | 500..=599);
        match self.kind {
            ErrorKind::Timeout => true,
            ErrorKind::Transport => self.transient,
            ErrorKind::Http => status_retryable,
            ErrorKind::OAuth => match self.oauth_code.as_deref() {
                Some("server_error" | "temporarily_unavailable") => true,
                Some("invalid_client" | "invalid_scope" | "invalid_grant" | "unauthorized_client" | "invalid_request" | "unsupported_grant_type") => false,
                _ => status_retryable,
            },
            _ => false,
        }
    }

    /// Replaces every occurrence of the given secrets (e.g. a server echoing the client secret
    /// in its error text) with `[redacted]`: a last line of defence behind `scrub`.
    pub(crate) fn redact(mut self, needles: &[crate::util::secret::Secret]) -> Self {
        let clean = |s: &mut String| redact_str(s, needles);
        clean(&mut self.message);
        if let Some(d) = self.oauth_description.as_mut() {
            clean(d);
        }
        if let Some(c) = self.oauth_code.as_mut() {
            clean(c);
        }
        self
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Protocol, message)
    }

    pub(crate) fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = status;
        self
    }

    pub(crate) fn with_oauth(mut self, code: String, description: Option<String>) -> Self {
        self.oauth_code = Some(code);
        self.oauth_description = description;
        self
    }

    pub(crate) fn with_retry_after(mut self, at: Option<SystemTime>) -> Self {
        self.retry_after = at;
        self
    }

    pub(crate) fn reworded(mut self, message: String) -> Self {
        self.message = message;
        self
    }

    pub(crate) fn with_context(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// A message for humans that says what failed and what to fix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The RFC 6749 `error` code, e.g. `invalid_client`, when the server sent one.
    pub fn oauth_code(&self) -> Option<&str> {
        self.oauth_code.as_deref()
    }

    /// The RFC 6749 `error_description`, scrubbed and truncated, when the server sent one.
    pub fn oauth_description(&self) -> Option<&str> {
        self.oauth_description.as_deref()
    }

    /// The HTTP status of the response that caused this error; 0 if there was no response.
    pub fn http_status(&self) -> u16 {
        self.http_status
    }

    /// When the server said it is worth trying again (`Retry-After`), if it said so.
    pub fn retry_after(&self) -> Option<SystemTime> {
        self.retry_after
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("oauth_code", &self.oauth_code)
            .field("http_status", &self.http_status)
            .finish()
    }
}

impl std::error::Error for Error {}

/// Makes server-provided text safe to quote in an error: printable ASCII only, bounded length,
/// and anything that looks like it could carry a credential (long unbroken runs) cut out.
pub(crate) fn scrub(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(max.min(text.len()));
    for word in text.split_whitespace() {
        if out.len() >= max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        // A 40+ character word without spaces is more likely a token or secret than prose.
        if word.chars().count() >= 40 {
            out.push_str("[long value removed]");
            continue;
        }
        for c in word.chars() {
            if c.is_ascii_graphic() {
                out.push(c);
            } else {
                out.push('?');
            }
        }
    }
    if out.len() > max {
        out.truncate(max);
        out.push_str("...");
    }
    out
}

/// Replaces every occurrence of the given secrets in `s` with `[redacted]` (messages, log
/// lines). Values shorter than 4 bytes are left: they would redact ordinary words, and are not
/// worth stealing.
pub(crate) fn redact_str(s: &mut String, needles: &[crate::util::secret::Secret]) {
    for n in needles {
        if n.expose().len() >= 4 && s.contains(n.expose()) {
            *s = s.replace(n.expose(), "[redacted]");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_bounds_and_removes_long_values() {
        let token = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJzdWIiOiJ4In0.sig";
        let s = scrub(&format!("bad token {token} here\u{7}\n"), 200);
        assert_eq!(s, "bad token [long value removed] here?");
        let long = "word ".repeat(100);
        assert!(scrub(&long, 50).len() <= 53);
    }

    #[test]
    fn debug_shows_kind_and_message() {
        let e = Error::new(ErrorKind::OAuth, "rejected")
            .with_oauth("invalid_client".into(), None)
            .with_http_status(401);
        let d = format!("{e:?}");
        assert!(d.contains("OAuth") && d.contains("invalid_client") && d.contains("401"));
    }
}
