//! `RapidataOptions`: a builder for `rapidata_client_new_with_options`. Every setter validates
//! its value at once, so a mistake is reported where it is made. Unset options fall back to
//! environment variables, then defaults (README: configuration table).

use std::ffi::c_char;
use std::time::Duration;

use super::{arg_mut, arg_out, arg_str, guard, guard_void, invalid, RapidataError, RapidataStatus};
use crate::config::{AuthMethod, ClientOptions};

/// Opaque options builder. Not thread-safe while being mutated: use it from one thread at a
/// time (reading it in `rapidata_client_new_with_options` from several threads is fine).
pub struct RapidataOptions {
    pub(crate) inner: ClientOptions,
}

/// Values for `rapidata_options_set_auth_method`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RapidataAuthMethod {
    /// HTTP Basic, id and secret form-urlencoded first (RFC 6749 §2.3.1). The default.
    ClientSecretBasic = 0,
    /// `client_id` and `client_secret` in the request body.
    ClientSecretPost = 1,
}

/// Creates an empty options builder.
/// On success the caller owns `*out_options` and frees it with `rapidata_options_free`.
/// Statuses: OK; INVALID_ARGUMENT if `out_options` is NULL.
#[no_mangle]
pub extern "C" fn rapidata_options_new(out_options: *mut *mut RapidataOptions) -> RapidataStatus {
    guard(std::ptr::null_mut(), || {
        let out = arg_out(out_options, "out_options")?;
        let boxed = Box::new(RapidataOptions { inner: ClientOptions::default() });
        // SAFETY: checked non-NULL; the caller passed a writable pointer.
        unsafe { *out = Box::into_raw(boxed) };
        Ok(())
    })
}

/// Frees an options builder. NULL is a no-op. Must not be called twice. Clients created from
/// it keep working: they copied what they need.
#[no_mangle]
pub extern "C" fn rapidata_options_free(options: *mut RapidataOptions) {
    if !options.is_null() {
        // SAFETY: a pointer from rapidata_options_new, freed once (documented).
        guard_void(|| drop(unsafe { Box::from_raw(options) }));
    }
}

/// Runs a string setter with the shared checks.
fn set_str(
    options: *mut RapidataOptions,
    value: *const c_char,
    name: &str,
    out_error: *mut *mut RapidataError,
    apply: impl FnOnce(&mut ClientOptions, &str) -> crate::Result<()>,
) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: documented contract of every setter.
        let o = unsafe { arg_mut(options, "options") }?;
        let v = unsafe { arg_str(value, name) }?;
        apply(&mut o.inner, v)?;
        Ok(())
    })
}

fn set_ms(
    options: *mut RapidataOptions,
    out_error: *mut *mut RapidataError,
    apply: impl FnOnce(&mut ClientOptions) -> crate::Result<()>,
) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: documented contract of every setter.
        let o = unsafe { arg_mut(options, "options") }?;
        apply(&mut o.inner)?;
        Ok(())
    })
}

/// Sets the client id (UTF-8, non-empty). Set it together with the client secret; setting
/// neither uses the credentials chain.
/// Statuses: OK; INVALID_ARGUMENT for a NULL argument, invalid UTF-8 or an empty value.
/// `out_error` may be NULL; on failure a non-NULL `out_error` receives an owned error.
#[no_mangle]
pub extern "C" fn rapidata_options_set_client_id(
    options: *mut RapidataOptions,
    client_id: *const c_char,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    set_str(options, client_id, "client_id", out_error, |o, v| o.set_client_id(v).map(drop))
}

/// Sets the client secret. The library keeps a copy (zeroized when freed); the caller may
/// wipe its own copy right after. Statuses as for `rapidata_options_set_client_id`.
#[no_mangle]
pub extern "C" fn rapidata_options_set_client_secret(
    options: *mut RapidataOptions,
    secret: *const c_char,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    set_str(options, secret, "client_secret", out_error, |o, v| o.set_client_secret(v).map(drop))
}

/// Sets the issuer URL (default `https://auth.rapidata.ai`, or `RAPIDATA_ISSUER`, or
/// `https://auth.<RAPIDATA_ENVIRONMENT>`). Must be https, or http to a loopback host.
/// Statuses: OK; INVALID_ARGUMENT for NULL, invalid UTF-8, a non-http(s) URL or plain http to
/// a remote host.
#[no_mangle]
pub extern "C" fn rapidata_options_set_issuer(
    options: *mut RapidataOptions,
    issuer_url: *const c_char,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    set_str(options, issuer_url, "issuer_url", out_error, |o, v| o.set_issuer(v).map(drop))
}

/// Sets a Rapidata environment, a base domain such as "rapidata.ai" or "rabbitdata.ch": the
/// issuer becomes `https://auth.<environment>`. An explicit issuer wins over this.
/// Statuses: OK; INVALID_ARGUMENT for NULL, invalid UTF-8 or something that is not a domain.
#[no_mangle]
pub extern "C" fn rapidata_options_set_environment(
    options: *mut RapidataOptions,
    environment: *const c_char,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    set_str(options, environment, "environment", out_error, |o, v| o.set_environment(v).map(drop))
}

/// Sets the token endpoint URL and skips OpenID discovery. Same URL rules as the issuer.
#[no_mangle]
pub extern "C" fn rapidata_options_set_token_endpoint(
    options: *mut RapidataOptions,
    url: *const c_char,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    set_str(options, url, "url", out_error, |o, v| o.set_token_endpoint(v).map(drop))
}

/// Sets the space-separated scopes (default "openid roles email"); "" sends no scope.
/// Statuses: OK; INVALID_ARGUMENT for NULL, invalid UTF-8 or characters RFC 6749 §3.3 forbids.
#[no_mangle]
pub extern "C" fn rapidata_options_set_scope(
    options: *mut RapidataOptions,
    scope: *const c_char,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    set_str(options, scope, "scope", out_error, |o, v| o.set_scope(v).map(drop))
}

/// Sets a PEM file whose certificates replace the built-in roots. Read when the client is
/// created: an unreadable or empty file makes `rapidata_client_new_with_options` return CONFIG.
#[no_mangle]
pub extern "C" fn rapidata_options_set_ca_file(
    options: *mut RapidataOptions,
    pem_path: *const c_char,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    set_str(options, pem_path, "pem_path", out_error, |o, v| o.set_ca_file(v).map(drop))
}

/// Sets where the credentials chain looks for Rapidata's SDK file (default
/// `$HOME/.config/rapidata/credentials.json`, or `RAPIDATA_CREDENTIALS_FILE`).
#[no_mangle]
pub extern "C" fn rapidata_options_set_credentials_file(
    options: *mut RapidataOptions,
    path: *const c_char,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    set_str(options, path, "path", out_error, |o, v| o.set_credentials_file(v).map(drop))
}

/// Sets how the client authenticates: a `RapidataAuthMethod` value (passed as an integer so an
/// out-of-range value is an error, not undefined behaviour).
/// Statuses: OK; INVALID_ARGUMENT for NULL options or an unknown method.
#[no_mangle]
pub extern "C" fn rapidata_options_set_auth_method(
    options: *mut RapidataOptions,
    method: u32,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: documented contract.
        let o = unsafe { arg_mut(options, "options") }?;
        let m = match method {
            m if m == RapidataAuthMethod::ClientSecretBasic as u32 => AuthMethod::ClientSecretBasic,
            m if m == RapidataAuthMethod::ClientSecretPost as u32 => AuthMethod::ClientSecretPost,
            other => return Err(invalid(format!("unknown auth method {other}; use RAPIDATA_AUTH_METHOD_*"))),
        };
        o.inner.set_auth_method(m);
        Ok(())
    })
}

/// Sets the TCP+TLS connect timeout in milliseconds (default 5000). 0 → INVALID_ARGUMENT.
#[no_mangle]
pub extern "C" fn rapidata_options_set_connect_timeout_ms(
    options: *mut RapidataOptions,
    timeout_ms: u32,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    set_ms(options, out_error, |o| o.set_connect_timeout(Duration::from_millis(timeout_ms.into())).map(drop))
}

/// Sets how long one HTTP request (discovery or token) may take in total, in milliseconds
/// (default 10000). 0 → INVALID_ARGUMENT.
#[no_mangle]
pub extern "C" fn rapidata_options_set_request_timeout_ms(
    options: *mut RapidataOptions,
    timeout_ms: u32,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    set_ms(options, out_error, |o| o.set_request_timeout(Duration::from_millis(timeout_ms.into())).map(drop))
}

/// Sets the hard expiry margin in milliseconds: a token is not served once less than this
/// remains. Default min(30 s, 10 % of the token's lifetime); capped at half the lifetime.
#[no_mangle]
pub extern "C" fn rapidata_options_set_expiry_margin_ms(
    options: *mut RapidataOptions,
    margin_ms: u32,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    set_ms(options, out_error, |o| {
        o.set_expiry_margin(Duration::from_millis(margin_ms.into()));
        Ok(())
    })
}

/// Sets the refresh-ahead window in milliseconds: this long before the expiry margin, one
/// caller renews the token while all others keep getting the current one at once.
/// Default min(5 min, 50 % of lifetime); 0 turns refresh-ahead off.
#[no_mangle]
pub extern "C" fn rapidata_options_set_refresh_ahead_ms(
    options: *mut RapidataOptions,
    window_ms: u32,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    set_ms(options, out_error, |o| {
        o.set_refresh_ahead(Duration::from_millis(window_ms.into()));
        Ok(())
    })
}
