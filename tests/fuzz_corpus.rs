//! Replays every committed fuzz corpus file (fuzz/corpus/<target>/) through the same entry
//! points the fuzz targets use, so a fixed finding stays fixed in every `cargo test`.

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files.into_iter().map(|p| (p.display().to_string(), std::fs::read(&p).unwrap())).collect()
}

#[test]
fn token_response_corpus() {
    for (name, data) in corpus("token_response") {
        // Same split as fuzz/fuzz_targets/token_response.rs.
        let (status, body) = match data.as_slice() {
            [a, b, rest @ ..] => (100 + u16::from_be_bytes([*a, *b]) % 500, rest),
            _ => (200, data.as_slice()),
        };
        let r = std::panic::catch_unwind(|| {
            raptoken::fuzzing::token_response(status, body);
            raptoken::fuzzing::retry_after(body);
        });
        assert!(r.is_ok(), "{name}");
    }
}

#[test]
fn discovery_document_corpus() {
    for (name, data) in corpus("discovery_document") {
        let r = std::panic::catch_unwind(|| {
            raptoken::fuzzing::discovery_document(&data, "https://auth.rapidata.ai");
            raptoken::fuzzing::discovery_document(&data, "http://127.0.0.1:8080/");
        });
        assert!(r.is_ok(), "{name}");
    }
}

#[test]
fn credentials_file_corpus() {
    for (name, data) in corpus("credentials_file") {
        assert!(std::panic::catch_unwind(|| raptoken::fuzzing::credentials_file(&data, "https://auth.rapidata.ai")).is_ok(), "{name}");
    }
}

#[test]
fn client_key_corpus() {
    for (name, data) in corpus("client_key") {
        assert!(std::panic::catch_unwind(|| raptoken::fuzzing::client_key(&data)).is_ok(), "{name}");
    }
}
