//! Network policy from the environment: HTTPS_PROXY / NO_PROXY through a tiny CONNECT proxy,
//! the explicit "no proxy" option winning over them, and SSL_CERT_FILE as the system trust
//! store. One test per binary: the environment is process-wide.

mod common;
mod fault_server;

use fault_server::{ConnectProxy, Transcript};
use raptoken::{Client, ClientOptions, ErrorKind, Trust};

fn options(n: u32, log: &Transcript) -> ClientOptions {
    let s = common::server();
    let mut o = ClientOptions::new()
        .client_id(&format!("basic-{n}"))
        .unwrap()
        .client_secret(&format!("secret-basic-{n}"))
        .unwrap()
        .issuer(&s.issuer)
        .unwrap();
    o.set_max_attempts(1).unwrap();
    o.set_logger(log.logger());
    o
}

#[test]
fn proxy_variables_no_proxy_and_system_trust_from_the_environment() {
    let s = common::server();
    let log = Transcript::new("network_env");
    let proxy = ConnectProxy::start();
    let port = s.issuer.rsplit(':').next().unwrap().to_string();
    // Tunnels to the provider (the test harness's own admin calls may use the proxy too).
    let to_provider = || proxy.connects().into_iter().filter(|c| c == &format!("CONNECT localhost:{port}")).count();
    // SAFETY: this binary has one test; nothing else reads the environment concurrently.
    unsafe {
        for v in ["ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy", "https_proxy", "no_proxy", "NO_PROXY", "SSL_CERT_DIR"] {
            std::env::remove_var(v);
        }
        std::env::set_var("HTTPS_PROXY", &proxy.url);
    }
    let mut tokens = Vec::new();

    // HTTPS_PROXY: discovery and token request tunnel through the proxy.
    let client = Client::new(&options(15, &log).ca_file(&s.ca_file).unwrap()).unwrap();
    tokens.push(client.token().unwrap_or_else(|e| panic!("{e:?}")));
    let via_proxy = to_provider();
    assert!(via_proxy >= 1, "{:?}", proxy.connects());
    assert_eq!(common::token_requests("basic-15"), 1);

    // NO_PROXY=localhost: direct, the proxy sees nothing new.
    unsafe { std::env::set_var("NO_PROXY", "localhost") };
    let client = Client::new(&options(16, &log).ca_file(&s.ca_file).unwrap()).unwrap();
    tokens.push(client.token().unwrap_or_else(|e| panic!("{e:?}")));
    assert_eq!(to_provider(), via_proxy, "NO_PROXY bypasses the proxy: {:?}", proxy.connects());
    unsafe { std::env::remove_var("NO_PROXY") };

    // The explicit "" option: no proxy even though HTTPS_PROXY is set.
    let mut o = options(17, &log).ca_file(&s.ca_file).unwrap();
    o.set_proxy("").unwrap();
    tokens.push(Client::new(&o).unwrap().token().unwrap_or_else(|e| panic!("{e:?}")));
    assert_eq!(to_provider(), via_proxy, "the option wins over HTTPS_PROXY");
    // And with the variable pointing at a dead proxy, the environment alone fails.
    unsafe { std::env::set_var("HTTPS_PROXY", format!("http://127.0.0.1:{}", fault_server::closed_port())) };
    let e = Client::new(&options(18, &log).ca_file(&s.ca_file).unwrap()).unwrap().token().unwrap_err();
    log.record_error(&e);
    assert_eq!(e.kind(), ErrorKind::Transport, "{}", e.message());
    unsafe { std::env::remove_var("HTTPS_PROXY") };

    // SYSTEM trust reads SSL_CERT_FILE: the test CA there makes the provider trusted...
    unsafe { std::env::set_var("SSL_CERT_FILE", &s.ca_file) };
    let mut o = options(19, &log);
    o.set_trust(Trust::SYSTEM).unwrap();
    tokens.push(Client::new(&o).unwrap().token().unwrap_or_else(|e| panic!("{e:?}")));
    // ...and an unrelated CA there makes it a TLS failure (not retried, nothing sent).
    unsafe { std::env::set_var("SSL_CERT_FILE", &s.wrong_ca_file) };
    let mut o = options(39, &log);
    o.set_trust(Trust::SYSTEM).unwrap();
    o.set_max_attempts(3).unwrap();
    let client = Client::new(&o).unwrap();
    let e = client.token().unwrap_err();
    log.record_error(&e);
    assert_eq!(e.kind(), ErrorKind::Transport, "{}", e.message());
    assert_eq!(client.stats().discovery_requests, 1, "TLS failures are not retried");
    // An unreadable SSL_CERT_FILE is a configuration error when the client is created.
    unsafe { std::env::set_var("SSL_CERT_FILE", "/nonexistent/bundle.pem") };
    let e = Client::new(&o).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.message().contains("SSL_CERT_FILE"), "{}", e.message());
    unsafe { std::env::remove_var("SSL_CERT_FILE") };

    let mut secrets: Vec<String> = [15, 16, 17, 18, 19, 39].iter().map(|n| format!("secret-basic-{n}")).collect();
    secrets.extend(tokens);
    log.check_and_save(&secrets);
}
