//! The CLI prints times through the library's formatter (one calendar implementation).

pub use raptoken::internals::{iso8601, unix_seconds as unix};
