//! Client private keys (PEM: PKCS#8, PKCS#1, SEC1) for private_key_jwt.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    raptoken::fuzzing::client_key(data);
});
