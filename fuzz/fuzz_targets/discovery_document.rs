//! OpenID discovery documents, checked against a fixed issuer and a loopback one.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    raptoken::fuzzing::discovery_document(data, "https://auth.rapidata.ai");
    raptoken::fuzzing::discovery_document(data, "http://127.0.0.1:8080/");
});
