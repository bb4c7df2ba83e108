//! `RapidataStatus`: the result of every fallible call, and its name.

use std::ffi::c_char;

use crate::util::error::ErrorKind;

/// Status of every fallible call. Values are stable: a value never changes meaning, new
/// failures get new numbers.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RapidataStatus {
    /// Success; outputs were written.
    Ok = 0,
    /// A NULL where a value is required, invalid UTF-8, or an unusable value.
    InvalidArgument = 1,
    /// No client id/secret in arguments, environment or credentials file.
    NoCredentials = 2,
    /// The buffer cannot hold the token and its NUL; `*out_len` holds the length needed.
    BufferTooSmall = 3,
    /// Broken configuration: credentials file, CA file, issuer, discovery mismatch.
    Config = 4,
    /// Network failure: DNS, connect, TLS, reset.
    Transport = 5,
    /// A timeout or deadline passed.
    Timeout = 6,
    /// An HTTP error status without an OAuth error document.
    Http = 7,
    /// An RFC 6749 error answer; see `rapidata_error_oauth_code`.
    Oauth = 8,
    /// The server's answer is not a valid token response or discovery document.
    Protocol = 9,
    /// A bug inside raptoken was caught at the boundary; the process is still safe to use.
    Panic = 10,
    /// The caller cancelled the call (`rapidata_cancellation_cancel`).
    Cancelled = 11,
}

impl RapidataStatus {
    pub(crate) fn from_kind(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidArgument => RapidataStatus::InvalidArgument,
            ErrorKind::NoCredentials => RapidataStatus::NoCredentials,
            ErrorKind::Config => RapidataStatus::Config,
            ErrorKind::Transport => RapidataStatus::Transport,
            ErrorKind::Timeout => RapidataStatus::Timeout,
            ErrorKind::Http => RapidataStatus::Http,
            ErrorKind::OAuth => RapidataStatus::Oauth,
            ErrorKind::Protocol => RapidataStatus::Protocol,
            ErrorKind::Cancelled => RapidataStatus::Cancelled,
        }
    }
}

/// The name of a status value, e.g. "RAPIDATA_STATUS_OAUTH"; "RAPIDATA_STATUS_UNKNOWN" for
/// values this version does not know. Static string: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn rapidata_status_name(status: u32) -> *const c_char {
    let name: &'static str = match status {
        s if s == RapidataStatus::Ok as u32 => "RAPIDATA_STATUS_OK\0",
        s if s == RapidataStatus::InvalidArgument as u32 => "RAPIDATA_STATUS_INVALID_ARGUMENT\0",
        s if s == RapidataStatus::NoCredentials as u32 => "RAPIDATA_STATUS_NO_CREDENTIALS\0",
        s if s == RapidataStatus::BufferTooSmall as u32 => "RAPIDATA_STATUS_BUFFER_TOO_SMALL\0",
        s if s == RapidataStatus::Config as u32 => "RAPIDATA_STATUS_CONFIG\0",
        s if s == RapidataStatus::Transport as u32 => "RAPIDATA_STATUS_TRANSPORT\0",
        s if s == RapidataStatus::Timeout as u32 => "RAPIDATA_STATUS_TIMEOUT\0",
        s if s == RapidataStatus::Http as u32 => "RAPIDATA_STATUS_HTTP\0",
        s if s == RapidataStatus::Oauth as u32 => "RAPIDATA_STATUS_OAUTH\0",
        s if s == RapidataStatus::Protocol as u32 => "RAPIDATA_STATUS_PROTOCOL\0",
        s if s == RapidataStatus::Panic as u32 => "RAPIDATA_STATUS_PANIC\0",
        s if s == RapidataStatus::Cancelled as u32 => "RAPIDATA_STATUS_CANCELLED\0",
        _ => "RAPIDATA_STATUS_UNKNOWN\0",
    };
    name.as_ptr().cast()
}
