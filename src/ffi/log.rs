//! The log callback: diagnostics lines delivered to a C function, from whatever thread fetches.

use std::ffi::{c_char, c_void, CString};

use super::{arg_mut, guard, invalid, RapidataError, RapidataOptions, RapidataStatus};
use crate::util::log::{LogLevel, Logger};

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

const _: () = {
    assert!(RapidataLogLevel::Error as u32 == LogLevel::Error as u32 && RapidataLogLevel::Debug as u32 == LogLevel::Debug as u32);
    assert!(RapidataLogLevel::Warn as u32 == LogLevel::Warn as u32 && RapidataLogLevel::Info as u32 == LogLevel::Info as u32);
};

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
