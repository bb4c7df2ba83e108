//! raptoken: gets and keeps OAuth 2.0 client-credentials bearer tokens for the Rapidata API.
//!
//! Layers, top down; a module imports only from layers below it (ARCHITECTURE.md, checked by
//! scripts/check-layout):
//!
//! - `ffi`: the C ABI that the Go, C++ and C# bindings wrap;
//! - `client`: `Client`, which wires the layers below together;
//! - `options`: what a program sets, the option table, resolution against the environment;
//! - `cache` (keeping tokens), `fetch` (getting one from the server), `sources` (the SDK's
//!   credentials and token files): siblings that never import each other;
//! - `token`: the token as every layer sees it;
//! - `util`: errors, secrets, encodings, time, files, logging, counters.
//!
//! Every module is private; the Rust API is what this file re-exports.

mod cache;
mod client;
mod ffi;
mod fetch;
mod options;
mod sources;
mod token;
mod util;

#[doc(hidden)]
pub mod fuzzing;

pub use cache::CachedToken;
pub use client::login::{login, logout, open_browser, LoggedIn, LoggedOut};
pub use client::Client;
pub use fetch::{AuthMethod, ClientKey, ClockSkew, Diagnostics, EndpointSource, ProxySetting, RetryPolicy, SigningAlgorithm, TokenExchange, Trust};
pub use options::{ClientOptions, Config, CredentialSource, Credentials};
pub use sources::credentials::RemovedClient;
pub use token::AccessToken;
pub use util::cancel::Cancellation;
pub use util::counters::Stats;
pub use util::error::{Error, ErrorKind, Result};
pub use util::log::{LogLevel, Logger};
pub use util::secret::Secret;

/// The library version, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Writes a token to a token file in Rapidata's SDK format, atomically and with mode 0600
/// (what `raptoken maintain` keeps fresh; readers use `RAPIDATA_TOKEN_FILE`).
pub fn write_token_file(path: &std::path::Path, token: &AccessToken) -> Result<()> {
    sources::token_file::write(path, token)
}

/// Writes a new EC P-256 private key (PKCS#8 PEM) to `path` with mode 0600, never replacing an
/// existing file, and returns it: what `raptoken keygen` does. Register its
/// [`ClientKey::public_jwk`] with the authorization server, then use `path` as the client key file.
pub fn write_client_key(path: &std::path::Path) -> Result<ClientKey> {
    let (key, pem) = ClientKey::generate()?;
    util::files::write_new(path, pem.as_bytes()).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Error::config(format!("the client key file {} exists already; remove it or choose another path", path.display())),
        _ => Error::config(format!("cannot write the client key file {}: {e}", path.display())),
    })?;
    Ok(key)
}

/// Installs (or with `None` removes) the function that receives the shared caches' diagnostics
/// (host and fleet): entries ignored and why, stores not used, Redis outages, lock waits given
/// up. Process-wide; the same lines also go to each client's logger.
pub fn set_shared_cache_log_hook(hook: Option<fn(&str)>) {
    cache::shared::set_log_hook(hook)
}

/// The C status number of an error kind (`RAPIDATA_STATUS_*`), e.g. for exit codes.
pub fn status_code(kind: ErrorKind) -> u32 {
    ffi::RapidataStatus::from_kind(kind) as u32
}

/// Checks that `value` parses for the option `name` (the CLI's usage errors), without setting it.
#[doc(hidden)]
pub fn check_option_text(name: &str, value: &str) -> Result<()> {
    options::check_parses(name, value)
}

/// Internals for the CLI's time formats, the benchmarks and the tests' fault server; not part of
/// the supported API.
#[doc(hidden)]
pub mod internals {
    pub use crate::cache::clock::SystemClock;
    pub use crate::options::spec::{Cli, Env, Kind, Opt};
    pub use crate::options::table::OPTIONS;
    pub use crate::cache::memory::{Margins, TokenCache};
    pub use crate::token::Fetched;
    pub use crate::util::counters::StripedCounter;
    pub use crate::util::timefmt::{civil_from_unix, iso8601, unix_seconds};

    /// One client assertion as a token request signs it, issued at `iat`, for `audience` (the
    /// benchmarks time this; the tests send expired and replayed ones).
    pub fn client_assertion(
        key: &crate::ClientKey,
        algorithm: crate::SigningAlgorithm,
        client_id: &str,
        audience: &str,
        iat: std::time::SystemTime,
    ) -> crate::Result<String> {
        let signer = crate::fetch::AssertionSigner { key: key.clone(), algorithm, key_id: None, audience: None };
        Ok(signer.sign(client_id, audience, iat)?.expose().to_string())
    }
}
