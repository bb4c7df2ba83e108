//! `RapidataClient`: the handle users hold for the life of their program.

use std::ffi::c_char;
use std::time::Duration;

use super::{arg_out, arg_ref, arg_str, guard, guard_void, Failure, FfiResult, RapidataError, RapidataOptions, RapidataStatus};
use crate::cache::CachedToken;
use crate::options::ClientOptions;
use crate::util::error::{Error, ErrorKind};
use crate::util::timefmt::unix_ms;
use crate::Client;

/// Opaque client. Every function may be called on it from any number of threads at once.
pub struct RapidataClient {
    pub(crate) client: Client,
}

/// Facts about the token a call returned.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RapidataTokenInfo {
    /// When the token expires, in Unix milliseconds. It errs early: counted from when the
    /// request was sent, never later than a JWT's `exp` claim, and for other tokens a second
    /// (at most half the lifetime) before what `expires_in` says, for servers' whole-second clocks.
    pub expires_at_unix_ms: i64,
    /// From this instant on, the next call renews the token. A binding may keep its own copy of
    /// the token until then without asking again.
    pub refresh_at_unix_ms: i64,
    /// How long the token is usable from its request, in milliseconds: the lifetime the
    /// server granted, shortened as `expires_at_unix_ms` is.
    pub lifetime_ms: i64,
}

fn create(options: &ClientOptions, out_client: *mut *mut RapidataClient) -> FfiResult<()> {
    let out = arg_out(out_client, "out_client")?;
    let client = Client::new(options)?;
    // SAFETY: checked non-NULL; the caller passed a writable pointer.
    unsafe { *out = Box::into_raw(Box::new(RapidataClient { client })) };
    Ok(())
}

/// Creates a client. Pass both `client_id` and `client_secret`, or NULL for both to use the
/// credentials chain (`RAPIDATA_CLIENT_ID`/`RAPIDATA_CLIENT_SECRET`, then
/// `~/.config/rapidata/credentials.json`). Other settings come from environment variables and
/// defaults. No network I/O happens here: the first `rapidata_get_token` fetches.
/// With NULL, NULL and `RAPIDATA_TOKEN_FILE` set, the token is read from that file instead
/// (Rapidata's token-file pattern, see `rapidata_options_set_token_file`); explicit
/// credentials win over that variable.
///
/// On success the caller owns `*out_client` and frees it with `rapidata_free`.
/// Statuses: OK; INVALID_ARGUMENT (NULL `out_client`, one of id/secret NULL, invalid UTF-8,
/// empty values); NO_CREDENTIALS (nothing found; the message names the three places);
/// CONFIG (malformed or group-writable credentials file, bad CA file, bad environment variable).
/// `out_error` may be NULL; on failure a non-NULL `out_error` receives an owned error.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn rapidata_client_new(
    client_id: *const c_char,
    client_secret: *const c_char,
    out_client: *mut *mut RapidataClient,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    guard(out_error, || {
        let mut options = ClientOptions::default();
        match (client_id.is_null(), client_secret.is_null()) {
            (true, true) => {}
            (false, false) => {
                // SAFETY: non-NULL NUL-terminated strings (documented).
                options.set_client_id(unsafe { arg_str(client_id, "client_id") }?)?;
                options.set_client_secret(unsafe { arg_str(client_secret, "client_secret") }?)?;
            }
            _ => return Err(super::invalid("pass both client_id and client_secret, or NULL for both to use the credentials chain")),
        }
        create(&options, out_client)
    })
}

/// Creates a client from an options builder. `options` is only read; the caller keeps owning
/// it and may free it right after. Ownership, statuses and thread safety as for
/// `rapidata_client_new`; INVALID_ARGUMENT also if `options` is NULL or only one of client
/// id/secret was set.
#[no_mangle]
pub extern "C" fn rapidata_client_new_with_options(
    options: *const RapidataOptions,
    out_client: *mut *mut RapidataClient,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: a live options handle (documented).
        let o = unsafe { arg_ref(options, "options") }?;
        create(&o.inner, out_client)
    })
}

/// Copies the token into the caller's buffer, or reports that it does not fit.
#[inline]
fn copy_out(tok: &CachedToken, buf: *mut c_char, buf_len: usize, out_len: *mut usize, out_info: *mut RapidataTokenInfo) -> FfiResult<()> {
    let token = tok.access_token().as_bytes();
    if !out_len.is_null() {
        // SAFETY: non-NULL, writable (documented). Written on success and on BUFFER_TOO_SMALL.
        unsafe { *out_len = token.len() };
    }
    if buf.is_null() || buf_len <= token.len() {
        return Err(Failure {
            status: RapidataStatus::BufferTooSmall,
            error: Error::new(
                ErrorKind::InvalidArgument,
                format!("the buffer holds {buf_len} bytes; the token needs {} plus a NUL", token.len()),
            ),
        });
    }
    // SAFETY: `buf` has room for `buf_len > token.len()` bytes (documented contract).
    unsafe {
        std::ptr::copy_nonoverlapping(token.as_ptr(), buf.cast::<u8>(), token.len());
        *buf.add(token.len()) = 0;
    }
    if !out_info.is_null() {
        // SAFETY: non-NULL, writable (documented).
        unsafe {
            *out_info = RapidataTokenInfo {
                expires_at_unix_ms: unix_ms(tok.expires_at()),
                refresh_at_unix_ms: unix_ms(tok.refresh_at()),
                lifetime_ms: tok.lifetime().as_millis() as i64,
            }
        };
    }
    Ok(())
}

#[inline]
fn get_token(
    client: *mut RapidataClient,
    min_valid: Duration,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    out_info: *mut RapidataTokenInfo,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: a live client handle (documented).
        let c = unsafe { arg_ref(client.cast_const(), "client") }?;
        c.client.with_token(min_valid, |tok| copy_out(tok, buf, buf_len, out_len, out_info))?
    })
}

/// Copies the current access token and a terminating NUL into `buf` and sets `*out_len` to its
/// length (without the NUL). Fetches a token first if none is usable; concurrent callers share
/// one request. On the warm path this takes no lock and allocates nothing.
///
/// `buf` is written only on success. If `buf_len` is too small (including `buf == NULL,
/// buf_len == 0`), returns BUFFER_TOO_SMALL and sets `*out_len` to the length needed (allocate
/// `*out_len + 1`). `out_len` may be NULL. Tokens are secrets: wipe the buffer when done.
///
/// Statuses: OK; INVALID_ARGUMENT (NULL client); BUFFER_TOO_SMALL; CONFIG (discovery document
/// does not match the issuer); TRANSPORT; TIMEOUT; HTTP; OAUTH (see the error's oauth code,
/// e.g. "invalid_client": the credentials are wrong or revoked); PROTOCOL; PANIC.
/// `out_error` may be NULL; on failure a non-NULL `out_error` receives an owned error.
/// Thread-safe: call from any number of threads at once.
#[no_mangle]
pub extern "C" fn rapidata_get_token(
    client: *mut RapidataClient,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    get_token(client, Duration::ZERO, buf, buf_len, out_len, std::ptr::null_mut(), out_error)
}

/// Like `rapidata_get_token`, for a token that stays valid at least `min_valid_ms` more
/// milliseconds (e.g. before a long upload), and with its expiry written to `*out_info`
/// (`out_info` may be NULL). If no token of the server's lifetime could last that long, the
/// freshest token is returned. Statuses, ownership and thread safety as for `rapidata_get_token`.
#[no_mangle]
pub extern "C" fn rapidata_get_token_info(
    client: *mut RapidataClient,
    min_valid_ms: u32,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    out_info: *mut RapidataTokenInfo,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    get_token(client, Duration::from_millis(min_valid_ms.into()), buf, buf_len, out_len, out_info, out_error)
}

/// Reports that `token` was rejected (an API answered 401): the client drops it if it is still
/// the cached token, so the next call fetches a new one. If the cache already holds a newer
/// token, nothing happens, so N threads reporting the same stale token cause one renewal.
/// `*out_dropped` (may be NULL) tells whether the token was dropped.
/// Statuses: OK; INVALID_ARGUMENT (NULL client or token, invalid UTF-8). Thread-safe.
#[no_mangle]
pub extern "C" fn rapidata_invalidate_token(
    client: *mut RapidataClient,
    token: *const c_char,
    out_dropped: *mut bool,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: live handle and NUL-terminated string (documented).
        let c = unsafe { arg_ref(client.cast_const(), "client") }?;
        let t = unsafe { arg_str(token, "token") }?;
        let dropped = c.client.invalidate(t);
        if !out_dropped.is_null() {
            // SAFETY: non-NULL, writable (documented).
            unsafe { *out_dropped = dropped };
        }
        Ok(())
    })
}

/// Ends the back-off window that follows a failed fetch (see the resilience docs): the next call
/// that needs a token sends a request at once instead of failing fast with the last error. For a
/// caller that knows the cause is fixed (the network is back, the credentials were corrected).
/// A server's `Retry-After` still holds.
/// Statuses: OK; INVALID_ARGUMENT if `client` is NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn rapidata_retry_now(client: *mut RapidataClient, out_error: *mut *mut RapidataError) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: a live client handle (documented).
        let c = unsafe { arg_ref(client.cast_const(), "client") }?;
        c.client.retry_now();
        Ok(())
    })
}

/// Frees a client and wipes its token and secret. A renewal running in the background at that
/// moment finishes first (its request is bounded by the deadline) and its memory is wiped when it
/// does; no call into the client is made after this returns. NULL is a no-op. Must not be called twice,
/// nor while another thread is still using the client.
#[no_mangle]
pub extern "C" fn rapidata_free(client: *mut RapidataClient) {
    if !client.is_null() {
        // SAFETY: a pointer from rapidata_client_new*, freed once (documented).
        guard_void(|| drop(unsafe { Box::from_raw(client) }));
    }
}

// The thread-safety promise above, checked by the compiler.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<RapidataClient>();
};
