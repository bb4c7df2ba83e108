//! Options for resilience and network policy: retries, deadline, `Retry-After` cap, trust
//! roots, proxy, and the log callback. Same rules as every setter in options.rs.

use std::ffi::{c_char, c_void, CString};
use std::time::Duration;

use super::{arg_mut, arg_str, guard, invalid, RapidataError, RapidataOptions, RapidataStatus};
use crate::logging::{LogLevel, Logger};
use crate::network::Trust;

/// Flags for `rapidata_options_set_trust` (combine with `|`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RapidataTrust {
    /// Mozilla's root certificates compiled into the library. The default when no CA file is set.
    Builtin = 1,
    /// The system's bundle: `SSL_CERT_FILE` and `SSL_CERT_DIR` if set, else the distribution's
    /// file (e.g. /etc/ssl/certs/ca-certificates.crt).
    System = 2,
}

/// Levels of log lines, most severe first.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RapidataLogLevel {
    /// A fetch failed and no usable token was left to serve.
    Error = 1,
    /// Retries, throttling, a failed refresh while the current token is still served.
    Warn = 2,
    /// Fetch start and end (duration, attempts), discovery results.
    Info = 3,
    /// Each request.
    Debug = 4,
}

/// Receives one log line. `message` is valid only during the call. Called from whatever thread
/// is fetching, possibly several at once: it must be thread-safe, and must not call back into
/// the client that logs (the calling thread is inside it).
pub type RapidataLogCallback = Option<unsafe extern "C" fn(user_data: *mut c_void, level: u32, message: *const c_char)>;

fn set(options: *mut RapidataOptions, out_error: *mut *mut RapidataError, apply: impl FnOnce(&mut crate::ClientOptions) -> crate::Result<()>) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: documented contract of every setter.
        let o = unsafe { arg_mut(options, "options") }?;
        apply(&mut o.inner)?;
        Ok(())
    })
}

fn ms(v: u32) -> Duration {
    Duration::from_millis(v.into())
}

/// Sets how many attempts one fetch makes, 1 (no retries) to 10 (default 3). Only failures
/// worth repeating are retried: connection errors, resets, timeouts, HTTP 408, 429, 5xx and the
/// OAuth errors `server_error`/`temporarily_unavailable`; never `invalid_client` & co.
/// Statuses: OK; INVALID_ARGUMENT for NULL options or a value out of range.
#[no_mangle]
pub extern "C" fn rapidata_options_set_max_attempts(options: *mut RapidataOptions, attempts: u32, out_error: *mut *mut RapidataError) -> RapidataStatus {
    set(options, out_error, |o| o.set_max_attempts(attempts).map(drop))
}

/// Sets the backoff between attempts: a random wait up to `base_ms * 2^(n-1)`, at most
/// `max_ms` (full jitter). After a failed refresh while the current token is still served, the
/// next try comes after `2 * base_ms`, doubling up to `max_ms`. Defaults 500 and 30000.
/// Statuses: OK; INVALID_ARGUMENT for NULL options, `base_ms == 0` or `max_ms < base_ms`.
#[no_mangle]
pub extern "C" fn rapidata_options_set_retry_backoff_ms(options: *mut RapidataOptions, base_ms: u32, max_ms: u32, out_error: *mut *mut RapidataError) -> RapidataStatus {
    set(options, out_error, |o| o.set_retry_backoff(ms(base_ms), ms(max_ms)).map(drop))
}

/// Sets the longest `Retry-After` honoured, in milliseconds (default 60000). A server asking
/// for longer is called again after this. Statuses: OK; INVALID_ARGUMENT for NULL options.
#[no_mangle]
pub extern "C" fn rapidata_options_set_max_retry_after_ms(options: *mut RapidataOptions, max_ms: u32, out_error: *mut *mut RapidataError) -> RapidataStatus {
    set(options, out_error, |o| {
        o.set_max_retry_after(ms(max_ms));
        Ok(())
    })
}

/// Sets the overall deadline of one fetch in milliseconds (default 30000): discovery, every
/// attempt and the waits between them. A retry that could only start after it is not made,
/// and callers waiting for another thread's fetch wait at most this long (plus 1 s).
/// Statuses: OK; INVALID_ARGUMENT for NULL options or 0.
#[no_mangle]
pub extern "C" fn rapidata_options_set_deadline_ms(options: *mut RapidataOptions, deadline_ms: u32, out_error: *mut *mut RapidataError) -> RapidataStatus {
    set(options, out_error, |o| o.set_deadline(ms(deadline_ms)).map(drop))
}

/// Sets which roots TLS trusts: `RapidataTrust` flags combined with `|`. Default: BUILTIN, or
/// only the CA file when one is set. A CA file set together with SYSTEM adds to the system
/// roots. BUILTIN cannot be combined with SYSTEM or a CA file (the client's creation then
/// returns CONFIG). Statuses: OK; INVALID_ARGUMENT for NULL options, 0 or unknown flags.
#[no_mangle]
pub extern "C" fn rapidata_options_set_trust(options: *mut RapidataOptions, trust_flags: u32, out_error: *mut *mut RapidataError) -> RapidataStatus {
    set(options, out_error, |o| {
        let t = Trust::from_bits(trust_flags)
            .ok_or_else(|| crate::Error::invalid_argument(format!("unknown trust flags {trust_flags:#x}; use RAPIDATA_TRUST_*")))?;
        o.set_trust(t).map(drop)
    })
}

/// Sets the proxy for every request of this client, e.g. "http://proxy.internal:3128"
/// (`user:password@` allowed; never logged). "" means no proxy even if `HTTPS_PROXY` is set.
/// Unset, the environment decides: `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, and `NO_PROXY`.
/// Statuses: OK; INVALID_ARGUMENT for NULL, invalid UTF-8 or something that is not a proxy URL.
#[no_mangle]
pub extern "C" fn rapidata_options_set_proxy(options: *mut RapidataOptions, proxy_url: *const c_char, out_error: *mut *mut RapidataError) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: documented contract of every setter.
        let o = unsafe { arg_mut(options, "options") }?;
        let v = unsafe { arg_str(proxy_url, "proxy_url") }?;
        o.inner.set_proxy(v)?;
        Ok(())
    })
}

/// The callback and its user data; the caller promised both may be used from any thread.
struct CLog {
    callback: unsafe extern "C" fn(*mut c_void, u32, *const c_char),
    user_data: *mut c_void,
}
// SAFETY: the documented contract of rapidata_options_set_log_callback.
unsafe impl Send for CLog {}
unsafe impl Sync for CLog {}

impl CLog {
    fn call(&self, level: LogLevel, line: &str) {
        let text = CString::new(line.replace('\0', " ")).unwrap_or_default();
        // SAFETY: the caller gave a function valid for this signature, and thread-safe.
        unsafe { (self.callback)(self.user_data, level as u32, text.as_ptr()) }
    }
}

/// Sends diagnostics to `callback` (NULL removes it): lines at `min_level` or more severe,
/// where `min_level` is a `RapidataLogLevel` (e.g. RAPIDATA_LOG_LEVEL_WARN delivers ERROR and
/// WARN). Lines never contain a secret or token. `user_data` is passed back untouched; it must
/// stay valid as long as any client created from these options lives. The callback runs on
/// whatever thread is fetching, possibly several at once: it must be thread-safe and must not
/// call back into the client.
/// Statuses: OK; INVALID_ARGUMENT for NULL options or an unknown level.
#[no_mangle]
pub extern "C" fn rapidata_options_set_log_callback(
    options: *mut RapidataOptions,
    callback: RapidataLogCallback,
    user_data: *mut c_void,
    min_level: u32,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: documented contract of every setter.
        let o = unsafe { arg_mut(options, "options") }?;
        let level = LogLevel::from_u32(min_level).ok_or_else(|| invalid(format!("unknown log level {min_level}; use RAPIDATA_LOG_LEVEL_*")))?;
        let Some(callback) = callback else {
            o.inner.clear_logger();
            return Ok(());
        };
        let c = CLog { callback, user_data };
        o.inner.set_logger(Logger::new(level, move |level, line| c.call(level, line)));
        Ok(())
    })
}
