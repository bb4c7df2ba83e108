//! The credentials chain through real environment variables. One test per binary: the
//! environment is process-wide.

mod common;

use raptoken::{Client, CredentialSource, ErrorKind};

#[test]
fn environment_variables_then_file_then_a_clear_error() {
    let s = common::server();
    let home = std::env::temp_dir().join(format!("raptoken-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    // SAFETY: this binary has one test, so nothing reads the environment concurrently.
    unsafe {
        std::env::set_var("HOME", &home);
        std::env::remove_var("RAPIDATA_CREDENTIALS_FILE");
        std::env::set_var("RAPIDATA_ISSUER", &s.issuer);
        std::env::set_var("RAPIDATA_CA_FILE", &s.ca_file);
        std::env::set_var("RAPIDATA_CLIENT_ID", "basic-12");
        std::env::set_var("RAPIDATA_CLIENT_SECRET", "");
    }
    // An empty secret counts as unset, and a lone id is not used: nothing is found.
    let e = Client::from_env().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NoCredentials);
    assert!(e.message().contains("credentials.json") && e.message().contains("RAPIDATA_CLIENT_SECRET"));

    unsafe { std::env::set_var("RAPIDATA_CLIENT_SECRET", "secret-basic-12") };
    let client = Client::from_env().unwrap();
    assert_eq!(client.credential_source(), &CredentialSource::Environment);
    assert!(common::api_accepts(&client.token().unwrap()));

    // With the variables gone, the SDK's file under $HOME is next.
    unsafe {
        std::env::remove_var("RAPIDATA_CLIENT_ID");
        std::env::remove_var("RAPIDATA_CLIENT_SECRET");
    }
    let dir = home.join(".config/rapidata");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("credentials.json");
    std::fs::write(&file, format!(r#"{{"{}":[{{"client_id":"basic-13","client_secret":"secret-basic-13"}}]}}"#, s.issuer)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let client = Client::from_env().unwrap();
    assert!(matches!(client.credential_source(), CredentialSource::File { .. }));
    assert!(common::api_accepts(&client.token().unwrap()));

    std::fs::write(&file, "{ broken").unwrap();
    let e = Client::from_env().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.message().contains(file.to_str().unwrap()), "names the file: {}", e.message());
    std::fs::remove_dir_all(&home).ok();
}
