//! The little URL handling the library needs: check a scheme, find the host, tell loopback
//! apart. Deliberately strict: anything odd is refused rather than guessed at.

/// A checked absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    pub https: bool,
    pub host: String,
}

pub(crate) fn parse_http_url(input: &str) -> Result<HttpUrl, String> {
    let (https, rest) = if let Some(r) = strip_prefix_ci(input, "https://") {
        (true, r)
    } else if let Some(r) = strip_prefix_ci(input, "http://") {
        (false, r)
    } else {
        return Err(format!("'{}' is not an http(s) URL", preview(input)));
    };
    if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("'{}' contains whitespace or control characters", preview(input)));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("URLs with user:password@ are not accepted; pass credentials as options".into());
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("").to_string()
    } else {
        authority.split(':').next().unwrap_or("").to_string()
    };
    if host.is_empty() {
        return Err(format!("'{}' has no host", preview(input)));
    }
    Ok(HttpUrl { https, host: host.to_ascii_lowercase() })
}

/// http is allowed only to the local machine: anything else would send the secret in clear.
pub(crate) fn check_secure(input: &str, what: &str) -> Result<(), String> {
    let url = parse_http_url(input).map_err(|e| format!("{what}: {e}"))?;
    if !url.https && !is_loopback(&url.host) {
        return Err(format!(
            "{what} '{}' uses plain http; https is required except for localhost/127.0.0.1/::1",
            preview(input)
        ));
    }
    Ok(())
}

pub(crate) fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "::1"
        || host.parse::<std::net::Ipv4Addr>().map(|a| a.is_loopback()).unwrap_or(false)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len() && s.is_char_boundary(prefix.len()) && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

/// URLs are configuration, not secrets, but keep quoted values short. A URL may come from a
/// server (discovery), so control characters are replaced: a quoted newline could forge log lines.
pub(crate) fn preview(s: &str) -> String {
    let mut p: String = s.chars().take(120).map(|c| if c.is_control() { '?' } else { c }).collect();
    if s.chars().count() > 120 {
        p.push_str("...");
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_classifies() {
        assert_eq!(parse_http_url("https://auth.rapidata.ai").unwrap().host, "auth.rapidata.ai");
        assert_eq!(parse_http_url("HTTP://[::1]:8080/x").unwrap(), HttpUrl { https: false, host: "::1".into() });
        assert!(parse_http_url("ftp://x").is_err());
        assert!(parse_http_url("https://").is_err());
        assert!(parse_http_url("https://u:p@host").is_err());
        assert!(parse_http_url("https://a b").is_err());
        assert!(check_secure("http://127.0.0.1:9/x", "issuer").is_ok());
        assert!(check_secure("http://localhost:9", "issuer").is_ok());
        assert!(check_secure("http://auth.example.com", "issuer").unwrap_err().contains("plain http"));
        assert!(check_secure("https://auth.example.com", "issuer").is_ok());
        // Found by fuzzing (discovery_document): control characters were quoted verbatim.
        let e = check_secure("https:hua//t.rapidata.aiononne\t/token\nFAKE LOG LINE", "endpoint").unwrap_err();
        assert!(!e.chars().any(char::is_control), "{e:?}");
        assert!(parse_http_url(&"https://x/".repeat(100)).is_ok());
        assert!(check_secure(&format!("ftp://{}", "é".repeat(200)), "x").unwrap_err().ends_with("...' is not an http(s) URL"));
    }
}
