//! `rapidata_client_stats`: counters a service can export to its metrics.

use super::{arg_out, arg_ref, guard, RapidataClient, RapidataStatus};

/// A snapshot of a client's counters. All counts start at 0 when the client is created.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RapidataStats {
    /// Calls answered from the cache without fetching or waiting for a fetch.
    pub cache_hits: u64,
    /// HTTP requests sent to the token endpoint (every attempt, retries included).
    pub token_requests: u64,
    /// HTTP requests sent for OpenID discovery.
    pub discovery_requests: u64,
    /// Fetches that ended with a new token.
    pub fetches_ok: u64,
    /// Fetches that ended with an error, after their retries.
    pub fetches_failed: u64,
    /// Attempts that repeated a failed one.
    pub retries: u64,
    /// Calls refused without sending a request: the server's Retry-After had not passed, or the
    /// back-off window after a failed fetch had not ended (the error says until when).
    pub throttled: u64,
    /// Failed refreshes after which the still-usable current token kept being served.
    pub kept_serving: u64,
    /// When the last fetch failed, Unix milliseconds; 0 if none has.
    pub last_error_unix_ms: i64,
    /// When the last fetch succeeded, Unix milliseconds; 0 if none has.
    pub last_success_unix_ms: i64,
    /// Until when no token request is sent (server's Retry-After), Unix ms; 0 if not throttled.
    pub throttled_until_unix_ms: i64,
    /// The `RapidataStatus` of the last failed fetch; 0 (OK) if none has failed.
    pub last_error_status: u32,
    /// The HTTP status behind the last failed fetch; 0 if it had none.
    pub last_error_http_status: u32,
}

/// Writes the client's counters to `*out_stats`. Cheap: reading them does not slow callers
/// getting tokens. Thread-safe.
/// Statuses: OK; INVALID_ARGUMENT if `client` or `out_stats` is NULL.
#[no_mangle]
pub extern "C" fn rapidata_client_stats(client: *const RapidataClient, out_stats: *mut RapidataStats) -> RapidataStatus {
    guard(std::ptr::null_mut(), || {
        // SAFETY: a live client handle (documented).
        let c = unsafe { arg_ref(client, "client") }?;
        let out = arg_out(out_stats, "out_stats")?;
        let s = c.client.stats();
        let stats = RapidataStats {
            cache_hits: s.cache_hits,
            token_requests: s.token_requests,
            discovery_requests: s.discovery_requests,
            fetches_ok: s.fetches_ok,
            fetches_failed: s.fetches_failed,
            retries: s.retries,
            throttled: s.throttled,
            kept_serving: s.kept_serving,
            last_error_unix_ms: s.last_error_unix_ms,
            last_success_unix_ms: s.last_success_unix_ms,
            throttled_until_unix_ms: s.throttled_until_unix_ms,
            last_error_status: s.last_error.map_or(0, |k| RapidataStatus::from_kind(k) as u32),
            last_error_http_status: s.last_error_http_status,
        };
        // SAFETY: checked non-NULL; the caller passed a writable pointer.
        unsafe { *out = stats };
        Ok(())
    })
}
