//! The C ABI: one file per C object (status, error, options with their generated setters, log
//! callback, client, cancellation, login, stats, version), the top layer over `Client`. Every `extern "C"` function
//! runs its body through [`guard`], which catches panics (→ `RAPIDATA_STATUS_PANIC`), turns
//! failures into a status plus an optional owned `RapidataError`, and never writes outputs on
//! failure. Argument checks go through the helpers below so NULL and invalid UTF-8 get the same
//! treatment everywhere. Item order here is the header's order.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::util::error::{Error, ErrorKind};

pub mod client;
pub mod error;
pub mod options;
mod options_gen;
pub mod log;
pub mod cancellation;
pub mod login;
pub mod stats;
pub mod status;
pub mod version;

pub(crate) use cancellation::RapidataCancellation;
pub(crate) use client::RapidataClient;
pub(crate) use error::RapidataError;
pub(crate) use options::RapidataOptions;
pub(crate) use status::RapidataStatus;

/// A failure on its way out through the ABI.
pub(crate) struct Failure {
    pub status: RapidataStatus,
    pub error: Error,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure { status: RapidataStatus::from_kind(error.kind()), error }
    }
}

pub(crate) type FfiResult<T> = Result<T, Failure>;

pub(crate) fn invalid(message: impl Into<String>) -> Failure {
    Error::invalid_argument(message).into()
}

/// Runs an ABI body: catches panics, maps failures to statuses, hands out the error object.
#[inline]
pub(crate) fn guard(out_error: *mut *mut RapidataError, body: impl FnOnce() -> FfiResult<()>) -> RapidataStatus {
    finish(catch_unwind(AssertUnwindSafe(body)), out_error)
}

/// The part of [`guard`] that does not depend on the body: compiled once, not per ABI function.
#[inline(never)]
fn finish(result: std::thread::Result<FfiResult<()>>, out_error: *mut *mut RapidataError) -> RapidataStatus {
    let failure = match result {
        Ok(Ok(())) => return RapidataStatus::Ok,
        Ok(Err(f)) => f,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Failure {
                status: RapidataStatus::Panic,
                error: Error::new(
                    ErrorKind::Protocol,
                    format!("internal error in raptoken (please report): {}", crate::util::error::scrub(&what, 200)),
                ),
            }
        }
    };
    let status = failure.status;
    if !out_error.is_null() {
        // Building the error must not unwind either.
        if let Ok(e) = catch_unwind(AssertUnwindSafe(|| RapidataError::from_failure(failure))) {
            // SAFETY: the caller passed a writable `RapidataError **` (documented contract).
            unsafe { *out_error = Box::into_raw(Box::new(e)) };
        }
    }
    status
}

/// Like [`guard`] for functions that return nothing and must not unwind (the `_free`s).
pub(crate) fn guard_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// A required C string argument.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, name: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(invalid(format!("{name} is NULL")));
    }
    // SAFETY: non-NULL, and the caller promises a NUL-terminated string (documented).
    unsafe { CStr::from_ptr(p) }.to_str().map_err(|_| invalid(format!("{name} is not valid UTF-8")))
}

/// A required handle.
#[inline]
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: the caller promises a live handle from the matching `_new` (documented).
    unsafe { p.as_ref() }.ok_or_else(|| invalid(format!("{name} is NULL")))
}

pub(crate) unsafe fn arg_mut<'a, T>(p: *mut T, name: &str) -> FfiResult<&'a mut T> {
    // SAFETY: as above, and the caller promises no concurrent use of a mutable handle.
    unsafe { p.as_mut() }.ok_or_else(|| invalid(format!("{name} is NULL")))
}

/// A required output pointer.
pub(crate) fn arg_out<T>(p: *mut T, name: &str) -> FfiResult<*mut T> {
    if p.is_null() {
        Err(invalid(format!("{name} is NULL")))
    } else {
        Ok(p)
    }
}
