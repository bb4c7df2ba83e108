//! Workstation login, as Rapidata's SDK does it on first use: a person approves in a browser,
//! Rapidata creates an API client, and its id and secret are stored in the SDK's credentials
//! file, where every later client (raptoken's and the SDK's) finds them. Orchestration only:
//! the bridge's HTTP steps are fetch/login.rs, the file sources/credentials.rs.

use std::path::PathBuf;

use crate::fetch::login::{self as bridge, BridgeSettings};
use crate::options::{ClientOptions, LoginConfig};
use crate::sources::credentials::{self, NewClient, RemovedClient};
use crate::util::cancel::Cancellation;
use crate::util::error::Result;
use crate::util::log::LogLevel;

/// What a login stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedIn {
    /// The issuer (auth server URL) the credentials are for: their key in the file.
    pub issuer: String,
    /// The new API client's id (its secret is only in the file).
    pub client_id: String,
    /// Its name in Rapidata's settings: `<hostname> - raptoken`.
    pub display_name: String,
    pub credentials_file: PathBuf,
}

/// What a logout removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedOut {
    pub issuer: String,
    pub credentials_file: PathBuf,
    /// The entries taken out of the file (none if there were none).
    pub removed: Vec<RemovedClient>,
}

/// Logs in on a workstation with Rapidata's browser login and stores a new API client in the
/// credentials file, for the options' issuer (or environment), CA, proxy, timeouts and
/// credentials file. Blocks until the person approved or refused in the browser, the login
/// timeout passed, or `cancel` was cancelled. `on_url` receives the URL the person must open;
/// `None` tries to open a browser ([`open_browser`]) and prints the URL on stderr. A client
/// created afterwards without credentials uses the new ones.
///
/// Errors: CONFIG for an issuer without Rapidata's login bridge or a credentials file that
/// cannot be written (checked before the browser opens); OAUTH `access_denied` when the login
/// was refused; TIMEOUT; CANCELLED; HTTP, TRANSPORT, PROTOCOL for the server's failures.
pub fn login(options: &ClientOptions, on_url: Option<&mut dyn FnMut(&str)>, cancel: Option<&Cancellation>) -> Result<LoggedIn> {
    let cfg = LoginConfig::resolve(options)?;
    // Before a person spends a minute in the browser: would the result be storable?
    credentials::check_writable(&cfg.credentials_file)?;
    let display_name = format!("{} - raptoken", hostname());
    let settings = BridgeSettings {
        issuer: cfg.issuer.clone(),
        transport: cfg.transport.clone(),
        timeout: cfg.timeout,
        request_timeout: cfg.request_timeout,
        display_name: display_name.clone(),
        logger: cfg.logger.clone(),
    };
    let timeout = cfg.timeout;
    let mut default = move |url: &str| print_url(url, timeout);
    let none = Cancellation::new();
    let cancel = cancel.unwrap_or(&none);
    let created = match on_url {
        Some(f) => bridge::run(&settings, f, cancel),
        None => bridge::run(&settings, &mut default, cancel),
    }?;
    let client_id = created.client_id.clone();
    let entry = NewClient { client_id: created.client_id, client_secret: created.client_secret, display_name: display_name.clone() };
    credentials::add(&cfg.credentials_file, &cfg.issuer, &entry).map_err(|e| {
        e.with_context(&format!(
            "the login created API client {client_id} ('{display_name}') at Rapidata, but storing it failed (delete that \
             client in Rapidata's settings, fix what follows and log in again)"
        ))
    })?;
    if let Some(l) = &cfg.logger {
        l.emit(LogLevel::Info, &format!("login: stored client {client_id} for {} in {}", cfg.issuer, cfg.credentials_file.display()));
    }
    Ok(LoggedIn { issuer: cfg.issuer, client_id, display_name, credentials_file: cfg.credentials_file })
}

/// Removes the options' issuer's entries from the credentials file, or only `client_id`'s.
/// Only the file changes: the API client itself stays in Rapidata's settings until deleted there.
pub fn logout(options: &ClientOptions, client_id: Option<&str>) -> Result<LoggedOut> {
    let cfg = LoginConfig::resolve(options)?;
    let removed = credentials::remove(&cfg.credentials_file, &cfg.issuer, client_id)?;
    Ok(LoggedOut { issuer: cfg.issuer, credentials_file: cfg.credentials_file, removed })
}

/// The library's default for the login URL: try a browser, and print the URL on stderr either
/// way (over SSH or in a container no browser opens here).
fn print_url(url: &str, timeout: std::time::Duration) {
    let lead = if open_browser(url) {
        "Log in to Rapidata in the browser window that just opened, or open this URL:"
    } else {
        "Open this URL in a browser to log in to Rapidata:"
    };
    write_stderr(&format!("{lead}\n  {url}\nWaiting up to {} s for the login to be approved...\n", timeout.as_secs()));
}

/// Unbuffered, straight to file descriptor 2: std's stderr machinery is kilobytes of library
/// for three lines.
fn write_stderr(text: &str) {
    #[cfg(unix)]
    {
        let mut rest = text.as_bytes();
        while !rest.is_empty() {
            // SAFETY: writes from a live buffer of the given length.
            let n = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
            if n <= 0 {
                return;
            }
            rest = &rest[n as usize..];
        }
    }
    #[cfg(not(unix))]
    eprint!("{text}");
}

/// Starts a browser on `url` without waiting for it: each command of `$BROWSER`
/// (colon-separated; `%s` stands for the URL, else it is appended), then `xdg-open` when a
/// display is set, then macOS's `open`; the first that exists is run, detached, with its output
/// discarded. Returns whether one was started. Never blocks on the browser and never fails.
#[cfg(unix)]
pub fn open_browser(url: &str) -> bool {
    // The URL reaches the browser as a variable, never as shell text; the shell backgrounds the
    // browser and exits at once, so waiting for it is short and no zombie is left behind.
    const SCRIPT: &[u8] = b"u=$1; set -f\n\
        try() { command -v \"${1%% *}\" >/dev/null 2>&1 || return 1\n\
          case $1 in *%s*) c=\"${1%%%s*}\\\"\\$u\\\"${1#*%s}\";; *) c=\"$1 \\\"\\$u\\\"\";; esac\n\
          unset IFS; eval \"$c\" </dev/null >/dev/null 2>&1 & exit 0; }\n\
        IFS=:; for b in $BROWSER; do try \"$b\"; IFS=:; done; unset IFS\n\
        [ -n \"$DISPLAY$WAYLAND_DISPLAY\" ] && try xdg-open\n\
        [ \"$(uname)\" = Darwin ] && try open\n\
        exit 1\n\0";
    let Ok(url) = std::ffi::CString::new(url) else { return false };
    let argv: [*const libc::c_char; 6] =
        [b"sh\0".as_ptr().cast(), b"-c\0".as_ptr().cast(), SCRIPT.as_ptr().cast(), b"raptoken-open-browser\0".as_ptr().cast(), url.as_ptr(), std::ptr::null()];
    match spawn_sh(&argv) {
        Some(pid) => wait_briefly(pid),
        None => false,
    }
}

/// Starts `/bin/sh` with `argv` (NULL-terminated) and stdin, stdout and stderr on /dev/null,
/// its signal mask cleared and SIGPIPE at its default. posix_spawn rather than
/// std::process::Command: the same, at a fraction of the library's size.
#[cfg(unix)]
fn spawn_sh(argv: &[*const libc::c_char]) -> Option<libc::pid_t> {
    let dev_null = b"/dev/null\0".as_ptr().cast();
    // SAFETY: every pointer is valid for the calls (the caller's strings outlive them); the file
    // actions and attributes are initialized before use and destroyed after.
    unsafe {
        let mut actions: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        if libc::posix_spawn_file_actions_init(&mut actions) != 0 {
            return None;
        }
        if libc::posix_spawnattr_init(&mut attr) != 0 {
            libc::posix_spawn_file_actions_destroy(&mut actions);
            return None;
        }
        let mut ok = (0..3).all(|fd| libc::posix_spawn_file_actions_addopen(&mut actions, fd, dev_null, if fd == 0 { libc::O_RDONLY } else { libc::O_WRONLY }, 0) == 0);
        let mut empty: libc::sigset_t = std::mem::zeroed();
        let mut pipe: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigemptyset(&mut pipe);
        libc::sigaddset(&mut pipe, libc::SIGPIPE);
        ok = ok
            && libc::posix_spawnattr_setsigmask(&mut attr, &empty) == 0
            && libc::posix_spawnattr_setsigdefault(&mut attr, &pipe) == 0
            && libc::posix_spawnattr_setflags(&mut attr, (libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF) as _) == 0;
        let mut pid: libc::pid_t = 0;
        let spawned = ok && libc::posix_spawn(&mut pid, b"/bin/sh\0".as_ptr().cast(), &actions, &attr, argv.as_ptr().cast(), environ()) == 0;
        libc::posix_spawnattr_destroy(&mut attr);
        libc::posix_spawn_file_actions_destroy(&mut actions);
        spawned.then_some(pid)
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
fn environ() -> *const *mut libc::c_char {
    extern "C" {
        static environ: *const *mut libc::c_char;
    }
    // SAFETY: the C library's environment, read as posix_spawn's documentation says.
    unsafe { environ }
}

#[cfg(target_os = "macos")]
fn environ() -> *const *mut libc::c_char {
    // SAFETY: the documented way for a shared library to reach the environment on macOS.
    unsafe { *libc::_NSGetEnviron() as *const _ }
}

/// The shell's exit status within 2 s (it only backgrounds the browser); a shell that takes
/// longer is left to itself and counts as no browser.
#[cfg(unix)]
fn wait_briefly(pid: libc::pid_t) -> bool {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let mut status = 0;
        // SAFETY: waits only for the child this process just started.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        }
        if r < 0 || std::time::Instant::now() >= end {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[cfg(not(unix))]
pub fn open_browser(_url: &str) -> bool {
    false
}

/// This machine's name, for the client's display name (as the SDK's `gethostname()`).
#[inline(never)]
fn hostname() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: a writable buffer of the given length; gethostname NUL-terminates on success.
        if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
            if !name.is_empty() {
                return name;
            }
        }
    }
    "unknown host".into()
}
