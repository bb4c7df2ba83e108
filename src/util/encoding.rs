//! The two encodings a token request needs. Written out (40 lines) rather than pulling two
//! crates into a library whose size users weigh.

/// `application/x-www-form-urlencoded` per the WHATWG URL spec: unreserved bytes stay, space is
/// `+`, everything else is `%XX`. RFC 6749 §2.3.1 applies this to the id and secret before Basic.
pub(crate) fn form_urlencode(input: &str) -> String {
    let mut out = String::with_capacity(input.len() * 3);
    form_urlencode_into(&mut out, input);
    out
}

/// Appends the encoding of `input`. Secrets go through here into a buffer sized up front
/// (`3 * len`), so no reallocation leaves an unwiped copy behind.
pub(crate) fn form_urlencode_into(out: &mut String, input: &str) {
    encode_into(out, input, true)
}

/// A URL query value (RFC 3986): unreserved bytes stay, everything else, space included, is
/// `%XX`. For URLs a browser opens, where `+` is not reliably read as a space.
pub(crate) fn percent_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len() * 3);
    encode_into(&mut out, input, false);
    out
}

fn encode_into(out: &mut String, input: &str, form: bool) {
    for &b in input.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => out.push(b as char),
            b'*' if form => out.push('*'),
            b'~' if !form => out.push('~'),
            b' ' if form => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

/// Builds a form body from pairs.
/// The body may carry the client secret: sized once for the worst case and encoded in place,
/// so the only copy is the returned string (which the caller wipes).
pub(crate) fn form_body(pairs: &[(&str, &str)]) -> String {
    let cap = pairs.iter().map(|(k, v)| 3 * (k.len() + v.len()) + 2).sum();
    let mut out = String::with_capacity(cap);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        form_urlencode_into(&mut out, k);
        out.push('=');
        form_urlencode_into(&mut out, v);
    }
    out
}

/// Standard base64 with padding (RFC 4648 §4), as HTTP Basic uses.
pub(crate) fn base64(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    base64_into(&mut out, input);
    out
}

/// Appends the encoding of `input` (the caller reserves `4 * ceil(len / 3)` for secrets).
pub(crate) fn base64_into(out: &mut String, input: &[u8]) {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(TABLE[(n >> 18) as usize & 63] as char);
        out.push(TABLE[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 { TABLE[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if chunk.len() > 2 { TABLE[n as usize & 63] as char } else { '=' });
    }
}

/// Decodes unpadded base64url (RFC 4648 §5), as JWTs use; `None` for anything else.
pub(crate) fn base64url_decode(input: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32)
    };
    if input.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    for chunk in input.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_matches_rfc6749_example_rules() {
        assert_eq!(form_urlencode("s3cr+t: /%&= x"), "s3cr%2Bt%3A+%2F%25%26%3D+x");
        assert_eq!(form_urlencode("abc-._*"), "abc-._*");
        assert_eq!(form_urlencode("ü"), "%C3%BC");
        assert_eq!(percent_encode("openid profile+email*~"), "openid%20profile%2Bemail%2A~");
        assert_eq!(form_body(&[("a", "1 2"), ("b", "x&y")]), "a=1+2&b=x%26y");
    }

    #[test]
    fn base64url_decodes_what_base64_encodes() {
        for i in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "\u{ff}\u{fe}?>"] {
            let url = base64(i.as_bytes()).trim_end_matches('=').replace('+', "-").replace('/', "_");
            assert_eq!(base64url_decode(&url).unwrap(), i.as_bytes(), "{i}");
        }
        assert!(base64url_decode("a").is_none() && base64url_decode("ab+c").is_none() && base64url_decode("ab=c").is_none());
    }

    #[test]
    fn base64_rfc4648_vectors() {
        for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
}
