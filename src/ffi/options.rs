//! `RapidataOptions`: a builder for `rapidata_client_new_with_options`. Its setters are
//! generated from the option table into options_gen.rs (log.rs has the callback's); they go
//! through the helpers here and validate at once, so a mistake is reported where it is made.
//! Unset options fall back to environment variables, then defaults (docs/configuration.md).

use std::ffi::c_char;
use std::time::Duration;

use super::{arg_mut, arg_out, arg_str, guard, guard_void, RapidataError, RapidataStatus};
use crate::fetch::{AuthMethod, SigningAlgorithm, Trust};
use crate::options::ClientOptions;

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
    /// A JWT signed with the client's private key (RFC 7523): set a client key. A client key
    /// selects this method by itself.
    PrivateKeyJwt = 2,
}

/// Values for `rapidata_options_set_client_key_algorithm`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RapidataSigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, for RSA keys. The default for them.
    Rs256 = 0,
    /// RSASSA-PSS with SHA-256, for RSA keys.
    Ps256 = 1,
    /// ECDSA with P-256 and SHA-256, for EC keys (the only choice for them).
    Es256 = 2,
}

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

// The C values are the Rust ones (which the option layer converts): checked by the compiler.
const _: () = {
    assert!(RapidataAuthMethod::ClientSecretBasic as u32 == AuthMethod::ClientSecretBasic as u32);
    assert!(RapidataAuthMethod::ClientSecretPost as u32 == AuthMethod::ClientSecretPost as u32);
    assert!(RapidataAuthMethod::PrivateKeyJwt as u32 == AuthMethod::PrivateKeyJwt as u32);
    assert!(RapidataSigningAlgorithm::Rs256 as u32 == SigningAlgorithm::Rs256 as u32);
    assert!(RapidataSigningAlgorithm::Ps256 as u32 == SigningAlgorithm::Ps256 as u32);
    assert!(RapidataSigningAlgorithm::Es256 as u32 == SigningAlgorithm::Es256 as u32);
    assert!(RapidataTrust::Builtin as u32 == Trust::BUILTIN.bits());
    assert!(RapidataTrust::System as u32 == Trust::SYSTEM.bits());
};

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

// The helpers below are what every generated setter calls. They take the setter's body as a
// function pointer, not a generic closure, so the panic guard and the argument checks are
// compiled once (per value type) rather than once per setter: about 1.5 KB of library each.

/// Runs a setter body with the shared checks (the generated setters use these helpers).
pub(crate) fn set<T>(
    options: *mut RapidataOptions,
    out_error: *mut *mut RapidataError,
    value: T,
    apply: fn(&mut ClientOptions, T) -> crate::Result<()>,
) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: documented contract of every setter.
        let o = unsafe { arg_mut(options, "options") }?;
        apply(&mut o.inner, value)?;
        Ok(())
    })
}

/// A string setter: NULL and invalid UTF-8 are refused with the parameter's name.
pub(crate) fn set_text(
    options: *mut RapidataOptions,
    value: *const c_char,
    name: &str,
    out_error: *mut *mut RapidataError,
    apply: fn(&mut ClientOptions, &str) -> crate::Result<()>,
) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: documented contract of every setter.
        let o = unsafe { arg_mut(options, "options") }?;
        let v = unsafe { arg_str(value, name) }?;
        apply(&mut o.inner, v)?;
        Ok(())
    })
}

/// A setter of two strings (a name and a value).
pub(crate) fn set_pair(
    options: *mut RapidataOptions,
    a: (*const c_char, &str),
    b: (*const c_char, &str),
    out_error: *mut *mut RapidataError,
    apply: fn(&mut ClientOptions, &str, &str) -> crate::Result<()>,
) -> RapidataStatus {
    guard(out_error, || {
        // SAFETY: documented contract of every setter.
        let o = unsafe { arg_mut(options, "options") }?;
        let (va, vb) = unsafe { (arg_str(a.0, a.1)?, arg_str(b.0, b.1)?) };
        apply(&mut o.inner, va, vb)?;
        Ok(())
    })
}

pub(crate) fn ms(v: u32) -> Duration {
    Duration::from_millis(v.into())
}
