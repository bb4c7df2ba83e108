//! Name resolution for the transport. ureq resolves the host before every request, even one that
//! will reuse a pooled connection, and with a timeout configured it does so on a thread of its
//! own: a thread spawn and an /etc/hosts read per token fetch (about a third of a kept-alive
//! fetch's CPU in the benchmarks). An IP literal needs no lookup at all, so it is answered here;
//! host names still go through ureq's resolver, timeout and all.

use std::net::{IpAddr, SocketAddr};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

#[derive(Debug, Default)]
pub(crate) struct LiteralFirst {
    fallback: DefaultResolver,
}

/// The address of an `http(s)://IP[:port]` URI, or `None` if its host is a name.
fn literal(uri: &Uri) -> Option<SocketAddr> {
    let host = uri.host()?;
    let ip: IpAddr = host.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    let port = uri.port_u16().or_else(|| match uri.scheme_str()? {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    })?;
    Some(SocketAddr::new(ip, port))
}

impl Resolver for LiteralFirst {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        match literal(uri) {
            Some(addr) => {
                let mut out = self.fallback.empty();
                out.push(addr);
                Ok(out)
            }
            None => self.fallback.resolve(uri, config, timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_resolve_in_place_and_names_do_not() {
        let lit = |s: &str| literal(&s.parse::<Uri>().unwrap());
        assert_eq!(lit("https://127.0.0.1:8443/connect/token"), Some("127.0.0.1:8443".parse().unwrap()));
        assert_eq!(lit("https://10.1.2.3/x"), Some("10.1.2.3:443".parse().unwrap()));
        assert_eq!(lit("http://[::1]:9000/x"), Some("[::1]:9000".parse().unwrap()));
        assert_eq!(lit("https://localhost:8443/x"), None);
        assert_eq!(lit("https://auth.rapidata.ai/connect/token"), None);
    }
}
