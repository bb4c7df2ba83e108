//! Optional diagnostics: a callback that receives one line per event (fetch start/end, retries,
//! throttling, keep-serving, discovery). Lines are built from our own words and already
//! scrubbed errors, and pass through the client's redaction; they never hold a secret or token.

use std::fmt;
use std::sync::Arc;

/// Severity of a log line; the numbers are the C ABI's `RAPIDATA_LOG_LEVEL_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u32)]
pub enum LogLevel {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

impl LogLevel {
    pub fn from_u32(v: u32) -> Option<LogLevel> {
        Some(match v {
            1 => LogLevel::Error,
            2 => LogLevel::Warn,
            3 => LogLevel::Info,
            4 => LogLevel::Debug,
            _ => return None,
        })
    }
}

type Sink = dyn Fn(LogLevel, &str) + Send + Sync;

/// A log sink and the least severe level it wants. Called from whatever thread fetches.
#[derive(Clone)]
pub struct Logger {
    sink: Arc<Sink>,
    max: LogLevel,
}

impl Logger {
    /// `sink` gets every line at `least_severe` or more severe. It must be thread-safe and must
    /// not call back into the client that logs (the fetching caller is inside it).
    pub fn new(least_severe: LogLevel, sink: impl Fn(LogLevel, &str) + Send + Sync + 'static) -> Logger {
        Logger { sink: Arc::new(sink), max: least_severe }
    }

    #[inline]
    pub(crate) fn enabled(&self, level: LogLevel) -> bool {
        level <= self.max
    }

    pub(crate) fn emit(&self, level: LogLevel, line: &str) {
        if self.enabled(level) {
            (self.sink)(level, line);
        }
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Logger(up to {:?})", self.max)
    }
}
