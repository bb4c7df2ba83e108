//! `RapidataError`: an owned error object with status, message and the OAuth details.
//! Owned objects instead of a thread-local "last error": a goroutine or a .NET task may move to
//! another OS thread between two calls.

use std::ffi::{c_char, CString};
use std::ptr;

use super::{guard_void, Failure, RapidataStatus};

/// Details of a failed call. Owned by the caller; free with `rapidata_error_free`. Immutable,
/// so it may be read from several threads at once.
pub struct RapidataError {
    status: RapidataStatus,
    message: CString,
    oauth_code: Option<CString>,
    oauth_description: Option<CString>,
    http_status: u16,
    retry_after_unix_ms: i64,
}

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

impl RapidataError {
    pub(crate) fn from_failure(f: Failure) -> Self {
        let e = f.error;
        RapidataError {
            status: f.status,
            message: c_string(e.message()),
            oauth_code: e.oauth_code().map(c_string),
            oauth_description: e.oauth_description().map(c_string),
            http_status: e.http_status(),
            retry_after_unix_ms: e.retry_after().map(crate::util::timefmt::unix_ms).unwrap_or(0),
        }
    }
}

/// The status of the call that produced `error`.
/// Returns `RAPIDATA_STATUS_INVALID_ARGUMENT` if `error` is NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn rapidata_error_status(error: *const RapidataError) -> RapidataStatus {
    // SAFETY: NULL or a live error from this library (documented).
    unsafe { error.as_ref() }.map_or(RapidataStatus::InvalidArgument, |e| e.status)
}

/// A message for humans: what failed and what to fix. Never contains a secret or a token.
/// The string is owned by `error` and valid until `rapidata_error_free(error)`.
/// Returns NULL if `error` is NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn rapidata_error_message(error: *const RapidataError) -> *const c_char {
    // SAFETY: as above.
    unsafe { error.as_ref() }.map_or(ptr::null(), |e| e.message.as_ptr())
}

/// The RFC 6749 `error` code the server sent (e.g. "invalid_client"), or NULL if none.
/// Owned by `error`, valid until `rapidata_error_free(error)`. Thread-safe.
#[no_mangle]
pub extern "C" fn rapidata_error_oauth_code(error: *const RapidataError) -> *const c_char {
    // SAFETY: as above.
    unsafe { error.as_ref() }.and_then(|e| e.oauth_code.as_ref()).map_or(ptr::null(), |s| s.as_ptr())
}

/// The RFC 6749 `error_description` the server sent (scrubbed, truncated), or NULL if none.
/// Owned by `error`, valid until `rapidata_error_free(error)`. Thread-safe.
#[no_mangle]
pub extern "C" fn rapidata_error_oauth_description(error: *const RapidataError) -> *const c_char {
    // SAFETY: as above.
    unsafe { error.as_ref() }.and_then(|e| e.oauth_description.as_ref()).map_or(ptr::null(), |s| s.as_ptr())
}

/// The HTTP status of the response behind the failure; 0 if there was none (or `error` is NULL).
#[no_mangle]
pub extern "C" fn rapidata_error_http_status(error: *const RapidataError) -> u16 {
    // SAFETY: as above.
    unsafe { error.as_ref() }.map_or(0, |e| e.http_status)
}

/// When the server asked to be left alone until (`Retry-After`, capped by
/// `rapidata_options_set_max_retry_after_ms`), in Unix milliseconds; 0 if it did not say (or
/// `error` is NULL). Until then the client sends no token request: calls without a usable
/// token fail at once with this error.
#[no_mangle]
pub extern "C" fn rapidata_error_retry_after_unix_ms(error: *const RapidataError) -> i64 {
    // SAFETY: as above.
    unsafe { error.as_ref() }.map_or(0, |e| e.retry_after_unix_ms)
}

/// Frees an error. NULL is a no-op. Must not be called twice on the same error, nor while
/// another thread still reads it; strings obtained from it become invalid.
#[no_mangle]
pub extern "C" fn rapidata_error_free(error: *mut RapidataError) {
    if !error.is_null() {
        // SAFETY: a pointer from Box::into_raw in `guard`, freed once (documented).
        guard_void(|| drop(unsafe { Box::from_raw(error) }));
    }
}
