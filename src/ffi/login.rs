//! `rapidata_login`: the workstation login (Rapidata's browser login), which stores a new API
//! client in the credentials file for every later client to use.

use std::ffi::{c_char, c_void, CString};

use super::{arg_ref, guard, RapidataCancellation, RapidataError, RapidataOptions, RapidataStatus};
use crate::options::ClientOptions;

/// Receives the URL the person must open in a browser to log in (`url` is valid only during
/// the call). Called once, on the thread that called `rapidata_login`, before it starts waiting.
/// It must return promptly (show the URL, start a browser) and must not unwind (no C++
/// exception may leave it).
pub type RapidataLoginUrlCallback = Option<unsafe extern "C" fn(user_data: *mut c_void, url: *const c_char)>;

/// Logs in on a workstation, as Rapidata's Python SDK does on first use: starts a login at the
/// issuer's login bridge, has the person open a URL and approve in a browser, then creates an
/// API client named "<hostname> - raptoken" and stores its id and secret in the credentials
/// file (`~/.config/rapidata/credentials.json`, the SDK's format; every other entry is kept,
/// the file is replaced atomically with mode 0600, concurrent logins lose no entry). A client
/// created afterwards without credentials, and the SDK, use the new ones. The login's own
/// access token is never stored.
///
/// `options` (NULL: defaults and environment variables, as for `rapidata_client_new`) gives the
/// issuer or environment, the CA file, trust, proxy, connect and request timeouts, the
/// credentials file, the log callback and `rapidata_options_set_login_timeout_ms` (default 300 s:
/// how long to wait for the approval). Client id and secret are not used. `on_url` receives the
/// URL to open (a GUI shows it or opens it); NULL makes the library try `$BROWSER`, then
/// `xdg-open` (with a display) or `open` (macOS), without waiting for the browser, and print the
/// URL on stderr either way (it works over SSH). `user_data` is passed to `on_url` untouched.
/// `cancellation` (may be NULL) ends the wait early. Blocks until the login is done.
///
/// Statuses: OK (the credentials are stored); INVALID_ARGUMENT; CONFIG (the issuer has no
/// Rapidata login bridge; the credentials file cannot be written or is not valid JSON, checked
/// before the URL is handed out; HOME unset with no credentials file set); OAUTH (the login was
/// refused in the browser: oauth code "access_denied"); TIMEOUT (not approved within the login
/// timeout, or the login request expired on the server); CANCELLED; HTTP (e.g. creating the API
/// client failed: the message has the status and an excerpt of the answer); TRANSPORT;
/// PROTOCOL; PANIC. No partial file is ever left behind. `out_error` may be NULL; on failure a
/// non-NULL `out_error` receives an owned error.
/// Thread-safe; concurrent logins are allowed (each needs its own approval).
#[no_mangle]
pub extern "C" fn rapidata_login(
    options: *const RapidataOptions,
    on_url: RapidataLoginUrlCallback,
    user_data: *mut c_void,
    cancellation: *const RapidataCancellation,
    out_error: *mut *mut RapidataError,
) -> RapidataStatus {
    guard(out_error, || {
        let defaults = ClientOptions::default();
        let options = if options.is_null() {
            &defaults
        } else {
            // SAFETY: a live options handle (documented).
            &unsafe { arg_ref(options, "options") }?.inner
        };
        // SAFETY: NULL or a live cancellation (documented).
        let cancel = unsafe { cancellation.as_ref() }.map(|c| &c.inner);
        let mut call = |url: &str| {
            if let Some(cb) = on_url {
                let text = CString::new(url).unwrap_or_default();
                // SAFETY: the caller gave a function valid for this signature (documented).
                unsafe { cb(user_data, text.as_ptr()) }
            }
        };
        let handler: Option<&mut dyn FnMut(&str)> = if on_url.is_some() { Some(&mut call) } else { None };
        crate::client::login::login(options, handler, cancel)?;
        Ok(())
    })
}
