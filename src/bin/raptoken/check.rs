//! `raptoken check`: says which configuration the library resolved, fetches one token, and
//! reports how that went (discovery, HTTP status, the server's clock, the token's lifetime),
//! ending with a one-line verdict and, on failure, a hint. The secret and the token are never
//! printed: the token is not even copied out of the cache.

use std::time::Duration;

use raptoken::{EndpointSource, TokenExchange};
use raptoken::{Client, CredentialSource, ErrorKind};

use crate::args::Cli;
use crate::exit::Failure;
use crate::{progress, time, token};

/// Beyond this, a clock difference is worth a warning: APIs that check a token's `iat`/`nbf`
/// may reject it, and TLS certificate checks start to fail.
const SKEW_WARNING: f64 = 60.0;

fn line(label: &str, value: impl std::fmt::Display) {
    println!("{:<16}{value}", format!("{label}:"));
}

pub fn run(cli: &Cli) -> i32 {
    println!("raptoken {} check", raptoken::VERSION);
    let client = match cli.client_options().and_then(|o| Client::new(&o).map_err(Failure::from)) {
        Ok(c) => c,
        Err(f) => {
            let what = match &f {
                Failure::Lib(e) if e.kind() == ErrorKind::NoCredentials => {
                    "none found: on a workstation, run `raptoken login` once (a browser login that stores them)"
                }
                _ => "unknown (the configuration failed: see the verdict)",
            };
            line("credentials", what);
            return failed(&f);
        }
    };

    let cfg = client.config();
    let from_token_file = matches!(cfg.credentials.source, CredentialSource::TokenFile { .. });
    if from_token_file {
        line("credentials", format!("{} (a ready token: no client id or secret is used)", cfg.credentials.source));
    } else {
        let what = if cfg.credentials.key.is_some() { "key" } else { "secret" };
        line(
            "credentials",
            format!("{}, client id {} (the {what} is never shown)", cfg.credentials.source, cfg.credentials.client_id),
        );
    }
    line("issuer", &cfg.issuer);
    if !from_token_file {
        line("auth method", cfg.auth_method.as_str());
    }
    if let (Some(key), Some(alg)) = (&cfg.credentials.key, cfg.client_key_algorithm) {
        let from = match &cfg.credentials.key_file {
            Some(f) => format!("from {}", f.display()),
            None => "given as text".to_string(),
        };
        line("client key", format!("{} {from}, JWK thumbprint {}", key.kind(), key.thumbprint()));
        let kid = cfg.client_key_id.as_deref().map(|k| format!(", kid {k}")).unwrap_or_default();
        let aud = cfg.assertion_audience.as_deref().unwrap_or("the token endpoint");
        line("assertion", format!("{} JWT for 60 s{kid}, aud {aud}", alg.as_str()));
    }
    line("scope", if cfg.scope.is_empty() { "(none: no scope parameter is sent)" } else { &cfg.scope });
    let mut params: Vec<String> = cfg.audience.iter().map(|a| format!("audience {a}")).collect();
    params.extend(cfg.resources.iter().map(|r| format!("resource {r}")));
    if !cfg.extra_params.is_empty() {
        let names: Vec<&str> = cfg.extra_params.iter().map(|(n, _)| n.as_str()).collect();
        params.push(format!("{} (values not shown)", names.join(", ")));
    }
    if !params.is_empty() {
        line("parameters", params.join("; "));
    }
    match &cfg.ca_file {
        Some(p) => line("trust roots", format!("{} (replaces the built-in roots)", p.display())),
        None => line("trust roots", "built-in (Mozilla's root certificates)"),
    }
    line("timeouts", format!("connect {}, request {}", secs(cfg.connect_timeout), secs(cfg.request_timeout)));
    match client.shared_cache_file() {
        Some(f) => line("shared cache", format!("{} (shared with this user's other processes)", f.display())),
        None => line("shared cache", "off"),
    }
    match (client.fleet_cache_url(), client.ping_fleet_cache()) {
        (Some(url), Some(Ok(took))) => line("fleet cache", format!("{url} (answers: PING in {:.1} ms; shared with every process using it)", took.as_secs_f64() * 1e3)),
        (Some(url), Some(Err(why))) => line("fleet cache", format!("{url} (does NOT answer: {why}; tokens are fetched without it)")),
        _ => line("fleet cache", "off"),
    }

    let target = token::fetch_target(&client);
    let got = progress::run(cli.progress, &target, || {
        client.with_token(Duration::ZERO, |t| (t.token_type().to_string(), t.scope().map(str::to_string), t.lifetime(), t.expires_at()))
    });

    let diag = client.diagnostics();
    match &diag.endpoint {
        Some(EndpointSource::Configured { token_endpoint }) => {
            line("discovery", "skipped (the token endpoint is configured)");
            line("token endpoint", token_endpoint);
        }
        Some(EndpointSource::Discovered { discovery_url, token_endpoint }) => {
            line("discovery", format!("ok ({discovery_url})"));
            line("token endpoint", format!("{token_endpoint} (discovered)"));
        }
        Some(EndpointSource::DiscoveryFailed { discovery_url }) => {
            line("discovery", format!("FAILED ({discovery_url})"));
            line("token endpoint", "unknown (discovery failed)");
        }
        None if got.is_ok() => line("token endpoint", "not needed"),
        None => line("token endpoint", "unknown (not reached)"),
    }
    let mut skew_warning = None;
    match &diag.last_token_exchange {
        Some(x) => {
            line("token request", exchange(x));
            let (text, warning) = skew(x);
            line("clock skew", text);
            skew_warning = warning;
        }
        None => {
            let why = if from_token_file {
                "not sent: the token was read from the token file"
            } else if got.is_ok() && (client.shared_cache_file().is_some() || client.fleet_cache_url().is_some()) {
                "not sent: another process's token was taken from the shared cache"
            } else {
                "not sent"
            };
            line("token request", why);
            line("clock skew", "unknown (no request was sent to the token endpoint)");
        }
    }

    match got {
        Ok((token_type, scope, lifetime, expires_at)) => {
            line("granted scope", scope.as_deref().unwrap_or("(not stated by the server)"));
            line("token lifetime", format!("{} s (expires {})", lifetime.as_secs(), time::iso8601(expires_at)));
            match skew_warning {
                None if from_token_file => line("verdict", format!("OK: got a {token_type} token from the token file")),
                None => line("verdict", format!("OK: got a {token_type} token for {}", cfg.credentials.client_id)),
                Some(w) => line("verdict", format!("OK, but {w}")),
            }
            0
        }
        Err(e) => {
            line("token lifetime", "no token");
            failed(&Failure::Lib(e))
        }
    }
}

fn failed(f: &Failure) -> i32 {
    line("verdict", format!("FAILED ({}, exit {}): {}", f.label(), f.exit_code(), f.message()));
    line("hint", f.hint());
    f.exit_code()
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.3} s", d.as_secs_f64())
    }
}

fn exchange(x: &TokenExchange) -> String {
    let ms = x.round_trip().as_millis();
    match x.http_status {
        Some(status) => format!("HTTP {status} in {ms} ms"),
        None => format!("no answer (failed after {ms} ms)"),
    }
}

/// The clock line, and a warning for the verdict if the clocks are far apart.
fn skew(x: &TokenExchange) -> (String, Option<String>) {
    let Some(s) = x.clock_skew() else {
        let why = if x.http_status.is_some() { "the server sent no valid Date header" } else { "no answer" };
        return (format!("unknown ({why})"), None);
    };
    let text = if s.seconds.abs() <= s.uncertainty {
        format!("none measurable (within ±{:.1} s, from the server's Date header)", s.uncertainty)
    } else {
        let side = if s.seconds > 0.0 { "ahead of" } else { "behind" };
        format!("the server's clock is {:.1} s {side} this machine's (±{:.1} s, from its Date header)", s.seconds.abs(), s.uncertainty)
    };
    let warning = (s.seconds.abs() > SKEW_WARNING).then(|| {
        format!(
            "this machine's clock is {:.0} s off the server's: raptoken times tokens by expires_in so its cache is \
             unaffected, but APIs checking token times, and TLS, may fail; sync the clock (NTP)",
            s.seconds.abs()
        )
    });
    (text, warning)
}
