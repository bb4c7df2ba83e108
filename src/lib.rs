//! raptoken: gets and keeps OAuth 2.0 client-credentials bearer tokens for the Rapidata API.
//!
//! Layers, bottom up: `config` + `credentials` (what to ask, with which identity), `transport`
//! + `discovery` + `token` (asking), `cache` (keeping), `client` (the Rust API), `ffi` (the C
//! ABI that the Go, C++ and C# bindings wrap).

pub mod cache;
pub mod client;
mod coarse_clock;
pub mod config;
pub mod credentials;
pub mod diagnostics;
mod discovery;
mod encoding;
pub mod error;
pub mod ffi;
mod resolver;
#[doc(hidden)]
pub mod fuzzing;
pub mod logging;
pub mod network;
pub mod retry;
mod secret;
pub mod shared_cache;
pub mod stats;
pub mod token;
pub mod timefmt;
pub mod token_file;
mod transport;
mod url;

pub use client::{AccessToken, Client};
pub use config::{AuthMethod, ClientOptions, Config};
pub use credentials::{CredentialSource, Credentials};
pub use error::{Error, ErrorKind, Result};
pub use logging::{LogLevel, Logger};
pub use network::Trust;
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use stats::Stats;

/// The library version, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
