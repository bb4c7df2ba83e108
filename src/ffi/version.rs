//! Version reporting, so a program can check the library it loaded against the header it
//! was compiled with (`RAPTOKEN_VERSION` in raptoken.h).

use std::ffi::c_char;

use super::RapidataStatus;

/// The library's version, e.g. "0.1.0": equals `RAPTOKEN_VERSION` from the header it was built
/// with. Static string: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn rapidata_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The name of a status value, e.g. "RAPIDATA_STATUS_OAUTH"; "RAPIDATA_STATUS_UNKNOWN" for
/// values this version does not know. Static string: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn rapidata_status_name(status: u32) -> *const c_char {
    let name: &'static str = match status {
        s if s == RapidataStatus::Ok as u32 => "RAPIDATA_STATUS_OK\0",
        s if s == RapidataStatus::InvalidArgument as u32 => "RAPIDATA_STATUS_INVALID_ARGUMENT\0",
        s if s == RapidataStatus::NoCredentials as u32 => "RAPIDATA_STATUS_NO_CREDENTIALS\0",
        s if s == RapidataStatus::BufferTooSmall as u32 => "RAPIDATA_STATUS_BUFFER_TOO_SMALL\0",
        s if s == RapidataStatus::Config as u32 => "RAPIDATA_STATUS_CONFIG\0",
        s if s == RapidataStatus::Transport as u32 => "RAPIDATA_STATUS_TRANSPORT\0",
        s if s == RapidataStatus::Timeout as u32 => "RAPIDATA_STATUS_TIMEOUT\0",
        s if s == RapidataStatus::Http as u32 => "RAPIDATA_STATUS_HTTP\0",
        s if s == RapidataStatus::Oauth as u32 => "RAPIDATA_STATUS_OAUTH\0",
        s if s == RapidataStatus::Protocol as u32 => "RAPIDATA_STATUS_PROTOCOL\0",
        s if s == RapidataStatus::Panic as u32 => "RAPIDATA_STATUS_PANIC\0",
        _ => "RAPIDATA_STATUS_UNKNOWN\0",
    };
    name.as_ptr().cast()
}
