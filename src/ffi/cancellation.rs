//! `RapidataCancellation`: stops a long call (a workstation login) from another thread, or from
//! a signal handler.

use super::{arg_out, guard, guard_void, RapidataStatus};
use crate::util::cancel::Cancellation;

/// Opaque cancellation flag. Pass it to a call that accepts one and call
/// `rapidata_cancellation_cancel` from any thread to make that call return
/// `RAPIDATA_STATUS_CANCELLED`. Every function may be called on it from any number of threads.
pub struct RapidataCancellation {
    pub(crate) inner: Cancellation,
}

/// Creates a cancellation flag, not cancelled.
/// On success the caller owns `*out_cancellation` and frees it with `rapidata_cancellation_free`
/// once no call uses it any more.
/// Statuses: OK; INVALID_ARGUMENT if `out_cancellation` is NULL.
#[no_mangle]
pub extern "C" fn rapidata_cancellation_new(out_cancellation: *mut *mut RapidataCancellation) -> RapidataStatus {
    guard(std::ptr::null_mut(), || {
        let out = arg_out(out_cancellation, "out_cancellation")?;
        let boxed = Box::new(RapidataCancellation { inner: Cancellation::new() });
        // SAFETY: checked non-NULL; the caller passed a writable pointer.
        unsafe { *out = Box::into_raw(boxed) };
        Ok(())
    })
}

/// Cancels: the calls given `cancellation` return `RAPIDATA_STATUS_CANCELLED` soon (a login
/// within 20 ms while it waits, or when its current HTTP request ends, which the request
/// timeout bounds). Permanent; calling it again does nothing. NULL is a no-op.
/// Thread-safe, lock-free and async-signal-safe (one atomic store): a SIGINT handler may call it.
#[no_mangle]
pub extern "C" fn rapidata_cancellation_cancel(cancellation: *const RapidataCancellation) {
    // SAFETY: NULL or a live cancellation from rapidata_cancellation_new (documented).
    if let Some(c) = unsafe { cancellation.as_ref() } {
        c.inner.cancel();
    }
}

/// Frees a cancellation flag. NULL is a no-op. Must not be called twice, nor while a call that
/// was given it still runs.
#[no_mangle]
pub extern "C" fn rapidata_cancellation_free(cancellation: *mut RapidataCancellation) {
    if !cancellation.is_null() {
        // SAFETY: a pointer from rapidata_cancellation_new, freed once (documented).
        guard_void(|| drop(unsafe { Box::from_raw(cancellation) }));
    }
}

// The thread-safety promise above, checked by the compiler.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<RapidataCancellation>();
};
