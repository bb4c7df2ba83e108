//! Options for sharing tokens between processes: the per-host shared cache and Rapidata's
//! token-file pattern (README: "Sharing tokens between processes").

use std::ffi::c_char;

use super::{arg_mut, arg_str, guard, RapidataError, RapidataOptions, RapidataStatus};

/// Turns the shared token cache on (`true`: in the default directory,
/// `$XDG_CACHE_HOME/raptoken`, else `$HOME/.cache/raptoken`) or off (`false`, even if the
/// environment variable `RAPIDATA_SHARED_CACHE` turns it on). With it on, processes of the same
/// user on this host share one token per client through files of mode 0600 in a directory of
/// mode 0700, and processes that start together send one token request. A directory or file
/// that cannot be used never fails a call: the client then caches in memory only.
/// The last call of this function or `rapidata_options_set_shared_cache_dir` wins.
/// Statuses: OK; INVALID_ARGUMENT if `options` is NULL. Not thread-safe on one `options`.
#[no_mangle]
pub extern "C" fn rapidata_options_set_shared_cache(
    options: *mut RapidataOptions,
    enabled: bool,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: documented contract of every setter.
        let o = unsafe { arg_mut(options, "options") }?;
        o.inner.set_shared_cache(enabled);
        Ok(())
    })
}

/// Turns the shared token cache on in directory `dir` (UTF-8; a relative path is taken from
/// the working directory when the client is created). The directory is created with mode 0700
/// if missing; an existing one must belong to this user and give group and others no access,
/// or it is not used. The string is copied.
/// Statuses: OK; INVALID_ARGUMENT for a NULL argument, invalid UTF-8 or an empty path.
/// Not thread-safe on one `options`.
#[no_mangle]
pub extern "C" fn rapidata_options_set_shared_cache_dir(
    options: *mut RapidataOptions,
    dir: *const c_char,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: documented contract of every setter.
        let o = unsafe { arg_mut(options, "options") }?;
        let v = unsafe { arg_str(dir, "dir") }?;
        o.inner.set_shared_cache_dir(v)?;
        Ok(())
    })
}

/// Reads the token from a JSON file that another process keeps fresh (Rapidata's token-file
/// pattern: `access_token`, `token_type`, integer Unix-seconds `expires_at`; what
/// `raptoken maintain --token-file` and the Python SDK write) instead of exchanging client
/// credentials, which are then not needed. It wins over every other credential source
/// (the environment variable `RAPIDATA_TOKEN_FILE` yields only to explicit client
/// credentials); the file is re-read when its token nears
/// expiry. The string is copied; the file is first read by the first `rapidata_get_token`,
/// which returns CONFIG if it is missing, malformed, writable by others or expired.
/// Statuses: OK; INVALID_ARGUMENT for a NULL argument, invalid UTF-8 or an empty path.
/// Not thread-safe on one `options`.
#[no_mangle]
pub extern "C" fn rapidata_options_set_token_file(
    options: *mut RapidataOptions,
    path: *const c_char,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: documented contract of every setter.
        let o = unsafe { arg_mut(options, "options") }?;
        let v = unsafe { arg_str(path, "path") }?;
        o.inner.set_token_file(v)?;
        Ok(())
    })
}
