//! Rapidata SDK credentials files (`~/.config/rapidata/credentials.json`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    raptoken::fuzzing::credentials_file(data, "https://auth.rapidata.ai");
});
