//! `RAPIDATA_SHARED_CACHE` and `RAPIDATA_TOKEN_FILE` through real environment variables. One
//! test per binary: the environment is process-wide.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use raptoken::{Client, ClientOptions, CredentialSource, ErrorKind};

#[test]
fn shared_cache_and_token_file_from_the_environment() {
    let s = common::server();
    let base = std::env::temp_dir().join(format!("raptoken-shared-env-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let xdg = base.join("xdg-cache");
    // SAFETY: this binary has one test, so nothing reads the environment concurrently.
    unsafe {
        std::env::set_var("HOME", base.join("home"));
        std::env::set_var("XDG_CACHE_HOME", &xdg);
        std::env::set_var("RAPIDATA_ISSUER", &s.issuer);
        std::env::set_var("RAPIDATA_CA_FILE", &s.ca_file);
        std::env::set_var("RAPIDATA_CLIENT_ID", "basic-31");
        std::env::set_var("RAPIDATA_CLIENT_SECRET", "secret-basic-31");
        std::env::set_var("RAPIDATA_SHARED_CACHE", "1");
        std::env::set_var("RAPIDATA_TOKEN_FILE", "");
    }
    // =1: the default directory, $XDG_CACHE_HOME/raptoken, created private (parents too).
    let a = Client::from_env().unwrap();
    assert_eq!(a.credential_source(), &CredentialSource::Environment, "an empty RAPIDATA_TOKEN_FILE counts as unset");
    let token = a.token().unwrap();
    assert!(a.shared_cache_file().unwrap().starts_with(xdg.join("raptoken")));
    for dir in [&xdg, &xdg.join("raptoken")] {
        let m = std::fs::metadata(dir).unwrap();
        assert_eq!(m.mode() & 0o777, 0o700, "{}", dir.display());
    }
    assert_eq!(Client::from_env().unwrap().token().unwrap(), token);
    assert_eq!(common::token_requests("basic-31"), 1);

    // An explicit "off" wins over the variable; a path in the variable is used as given.
    let mut off = ClientOptions::new();
    off.set_shared_cache(false);
    assert!(Client::new(&off).unwrap().shared_cache_file().is_none());
    let elsewhere = base.join("elsewhere");
    unsafe { std::env::set_var("RAPIDATA_SHARED_CACHE", &elsewhere) };
    assert!(Client::from_env().unwrap().shared_cache_file().unwrap().starts_with(&elsewhere));
    unsafe { std::env::set_var("RAPIDATA_SHARED_CACHE", "sometimes") };
    let e = Client::from_env().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.message().contains("RAPIDATA_SHARED_CACHE"), "{}", e.message());
    unsafe { std::env::set_var("RAPIDATA_SHARED_CACHE", "0") };
    assert!(Client::from_env().unwrap().shared_cache_file().is_none());

    // RAPIDATA_TOKEN_FILE is the top of the chain: the client id/secret variables are not used.
    let file = base.join("token.json");
    raptoken::write_token_file(&file, &a.access_token(std::time::Duration::ZERO).unwrap()).unwrap();
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    unsafe {
        std::env::set_var("RAPIDATA_TOKEN_FILE", &file);
        std::env::set_var("RAPIDATA_SHARED_CACHE", "1");
    }
    let reader = Client::from_env().unwrap();
    assert_eq!(reader.credential_source(), &CredentialSource::TokenFile { path: file.clone() });
    assert!(reader.shared_cache_file().is_none(), "a token file is already shared");
    assert_eq!(reader.token().unwrap(), token);
    assert_eq!(common::token_requests("basic-31"), 1);
    std::fs::remove_dir_all(&base).ok();
}
