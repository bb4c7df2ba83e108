//! Version reporting, so a program can check the library it loaded against the header it
//! was compiled with (`RAPTOKEN_VERSION` in raptoken.h).

use std::ffi::c_char;

/// The library's version, e.g. "0.1.0": equals `RAPTOKEN_VERSION` from the header it was built
/// with. Static string: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn rapidata_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
