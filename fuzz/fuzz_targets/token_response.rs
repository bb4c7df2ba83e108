//! Token endpoint answers: the first two bytes pick the HTTP status, the rest is the body.
//! The body also goes through the Retry-After parser, which reads the same server's headers.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => (100 + u16::from_be_bytes([*a, *b]) % 500, rest),
        _ => (200, data),
    };
    raptoken::fuzzing::token_response(status, body);
    raptoken::fuzzing::retry_after(body);
});
