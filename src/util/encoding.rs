//! The encodings a token request needs: form-urlencoding and base64 (standard for HTTP Basic
//! and PEM, base64url for JWTs). Written out rather than pulling crates into a library whose
//! size users weigh.

use zeroize::Zeroizing;

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
    percent_encode_into(out, input, true)
}

/// A URL query value (RFC 3986): unreserved bytes stay, everything else, space included, is
/// `%XX`. For URLs a browser opens, where `+` is not reliably read as a space.
pub(crate) fn percent_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len() * 3);
    percent_encode_into(&mut out, input, false);
    out
}

fn percent_encode_into(out: &mut String, input: &str, form: bool) {
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

/// Decodes one form-urlencoded name or value: `+` is a space, `%XX` a byte; `None` for a bad
/// escape or bytes that are not UTF-8.
pub(crate) fn form_urldecode(input: &str) -> Option<String> {
    percent_decode(input, true)
}

/// Decodes `%XX` escapes (and `+` as a space if `plus_is_space`); `None` for a bad escape or
/// bytes that are not UTF-8.
pub(crate) fn percent_decode(input: &str, plus_is_space: bool) -> Option<String> {
    let mut out = Vec::with_capacity(input.len());
    let mut bytes = input.bytes();
    while let Some(b) = bytes.next() {
        out.push(match b {
            b'+' if plus_is_space => b' ',
            b'%' => {
                let digit = |c: u8| (c as char).to_digit(16);
                let (hi, lo) = (digit(bytes.next()?)?, digit(bytes.next()?)?);
                (hi * 16 + lo) as u8
            }
            _ => b,
        });
    }
    String::from_utf8(out).ok()
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
    encode_into(out, input, STANDARD, true);
}

/// Unpadded base64url (RFC 4648 §5), as JWTs use.
pub(crate) fn base64url(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    encode_into(&mut out, input, URL_SAFE, false);
    out
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn encode_into(out: &mut String, input: &[u8], table: &[u8; 64], pad: bool) {
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(table[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
}

/// Decodes unpadded base64url (RFC 4648 §5), as JWTs use; `None` for anything else. Wiped when
/// dropped: it may be a token's payload.
pub(crate) fn base64url_decode(input: &str) -> Option<Zeroizing<Vec<u8>>> {
    decode(input.bytes(), URL_SAFE)
}

/// A PEM block (RFC 7468): `label` and the base64 of `der` in lines of 64. Wiped when dropped:
/// `der` may be a private key.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> Zeroizing<String> {
    let mut b64 = Zeroizing::new(String::with_capacity(der.len().div_ceil(3) * 4));
    base64_into(&mut b64, der);
    let mut out = Zeroizing::new(String::with_capacity(b64.len() + b64.len() / 64 + 64));
    out.push_str(&format!("-----BEGIN {label}-----\n"));
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Decodes the standard alphabet with optional padding, ignoring whitespace: the body of a PEM
/// block. The result may be a private key, so it is wiped when dropped.
pub(crate) fn base64_decode_pem(input: &str) -> Option<Zeroizing<Vec<u8>>> {
    let body = input.trim_end();
    let unpadded = body.trim_end_matches('=');
    let pad = body.len() - unpadded.len();
    let sextets = || unpadded.bytes().filter(|b| !b.is_ascii_whitespace());
    if pad > 2 || (pad > 0 && (sextets().count() + pad) % 4 != 0) {
        return None;
    }
    decode(sextets(), STANDARD)
}

/// Sextets to bytes; `None` for a character outside `table` or a dangling sextet.
fn decode(sextets: impl Iterator<Item = u8>, table: &[u8; 64]) -> Option<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::new());
    let (mut n, mut count) = (0u32, 0usize);
    for c in sextets {
        let v = table.iter().position(|&t| t == c)? as u32;
        n = (n << 6) | v;
        count += 1;
        if count % 4 == 0 {
            out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
            n = 0;
        }
    }
    match count % 4 {
        0 => {}
        1 => return None,
        2 => out.push((n >> 4) as u8),
        _ => out.extend_from_slice(&[(n >> 10) as u8, (n >> 2) as u8]),
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
        assert_eq!(form_urldecode("s3cr%2Bt%3A+%2F%25%26%3D+x").as_deref(), Some("s3cr+t: /%&= x"));
        assert_eq!(form_urldecode("%C3%BC").as_deref(), Some("ü"));
        for bad in ["%", "%4", "%zz", "%FF", "%+1"] {
            assert_eq!(form_urldecode(bad), None, "{bad}");
        }
    }

    #[test]
    fn base64url_decodes_what_it_encodes() {
        for i in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "\u{ff}\u{fe}?>"] {
            let url = base64url(i.as_bytes());
            assert_eq!(url, base64(i.as_bytes()).trim_end_matches('=').replace('+', "-").replace('/', "_"));
            assert_eq!(base64url_decode(&url).unwrap().as_slice(), i.as_bytes(), "{i}");
        }
        assert!(base64url_decode("a").is_none() && base64url_decode("ab+c").is_none() && base64url_decode("ab=c").is_none());
    }

    #[test]
    fn pem_bodies_decode_with_line_breaks_and_padding() {
        assert_eq!(base64_decode_pem("Zm9v\nYmE=\r\n").unwrap().as_slice(), b"fooba");
        assert_eq!(base64_decode_pem(" Zm9vYg==\n").unwrap().as_slice(), b"foob");
        assert_eq!(base64_decode_pem("Zm9vYg").unwrap().as_slice(), b"foob");
        for bad in ["Zm9vYg=", "Zm9vY===", "Zm=9v", "Zm9v-_", "Z"] {
            assert!(base64_decode_pem(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn base64_rfc4648_vectors() {
        for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
}
