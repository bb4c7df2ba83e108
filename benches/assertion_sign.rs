//! CPU cost of signing one private_key_jwt client assertion (the JWT every token request of a
//! key-authenticated client carries), per algorithm: `cargo bench --bench assertion_sign`.
//! Keys: BENCH_RSA_KEY (a PEM file; else `openssl genpkey` makes a 2048-bit one) and a fresh EC
//! P-256 key. Prints µs of process CPU (getrusage) per assertion and, with BENCH_RESULTS set,
//! appends one JSON line per algorithm for bench/report.py. Asserts nothing.

use std::io::Write;
use std::time::{Duration, SystemTime};

use raptoken::internals::client_assertion;
use raptoken::{ClientKey, SigningAlgorithm};

fn cpu() -> Duration {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn rsa_key() -> ClientKey {
    let pem = match std::env::var("BENCH_RSA_KEY") {
        Ok(path) => std::fs::read_to_string(path).expect("read BENCH_RSA_KEY"),
        Err(_) => {
            let out = std::process::Command::new("openssl")
                .args(["genpkey", "-quiet", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
                .output()
                .expect("run openssl");
            String::from_utf8(out.stdout).unwrap()
        }
    };
    ClientKey::from_pem(&pem).expect("an RSA key")
}

fn main() {
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1");
    let (rsa, ec) = (rsa_key(), ClientKey::generate().unwrap().0);
    let aud = "https://auth.example.com/connect/token";
    let mut results = std::env::var("BENCH_RESULTS").ok().map(|p| std::fs::OpenOptions::new().append(true).open(p).expect("BENCH_RESULTS"));
    println!("signing one client assertion (JWT header + claims, base64url, signature), process CPU per assertion");
    for (key, alg) in [(&ec, SigningAlgorithm::Es256), (&rsa, SigningAlgorithm::Rs256), (&rsa, SigningAlgorithm::Ps256)] {
        let n: u32 = match (quick, alg) {
            (true, _) => 20,
            (false, SigningAlgorithm::Es256) => 20_000,
            (false, _) => 2_000,
        };
        let sign = || client_assertion(key, alg, "bench-client", aud, SystemTime::now()).unwrap();
        let bytes = sign().len(); // warm-up
        let start = cpu();
        for _ in 0..n {
            std::hint::black_box(sign());
        }
        let us = (cpu() - start).as_secs_f64() * 1e6 / f64::from(n);
        println!("  {:<6} {:<12} {us:8.1} us CPU per assertion ({n} assertions, {bytes} bytes)", alg.as_str(), key.kind());
        if let Some(f) = results.as_mut() {
            let line = format!(
                r#"{{"bench":"jwt_cost","what":"sign","alg":"{}","key":"{}","cpu_us":{us:.2},"n":{n}}}"#,
                alg.as_str(),
                key.kind()
            );
            writeln!(f, "{line}").expect("write BENCH_RESULTS");
        }
    }
}
