//! The client's private key for private_key_jwt (RFC 7523): read from PEM (PKCS#8 RSA or EC
//! P-256, PKCS#1 RSA, SEC1 EC), its public JWK and RFC 7638 thumbprint, and signing. ring does
//! the cryptography: rustls links it already, so signing adds a few KB to the library rather
//! than a second crypto library. No message and no `Debug` output shows key material: reasons
//! name the key's kind and what to do, never its bytes.

use std::fmt;
use std::sync::Arc;

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use zeroize::Zeroizing;

use crate::util::encoding::{base64_decode_pem, base64url, pem_encode};
use crate::util::error::{Error, Result};
use crate::util::secret::Secret;

/// The largest key file or PEM string read: a 4096-bit RSA key with a certificate chain is
/// about 10 KB.
pub(crate) const MAX_PEM_BYTES: u64 = 64 * 1024;

/// How a client assertion is signed (the JWS `alg`). The numbers are the C ABI's
/// `RAPIDATA_SIGNING_ALGORITHM_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: the default for RSA keys.
    Rs256 = 0,
    /// RSASSA-PSS with SHA-256.
    Ps256 = 1,
    /// ECDSA on P-256 with SHA-256: EC keys.
    Es256 = 2,
}

impl SigningAlgorithm {
    pub const ALL: [SigningAlgorithm; 3] = [SigningAlgorithm::Rs256, SigningAlgorithm::Ps256, SigningAlgorithm::Es256];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::Rs256 => "RS256",
            SigningAlgorithm::Ps256 => "PS256",
            SigningAlgorithm::Es256 => "ES256",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// A private key that signs client assertions. Cheap to clone (shared); its `Debug` shows the
/// kind of key and the public thumbprint only.
#[derive(Clone)]
pub struct ClientKey(Arc<Inner>);

struct Inner {
    pair: Pair,
    /// SHA-256 of the private key's DER, for deriving the fleet cache's encryption key: only
    /// holders of the private key can compute it (ring does not hand the key's bytes out).
    secret_digest: Secret,
    /// The RFC 7638 members of the public JWK, in its order: `{"e":..,"kty":"RSA","n":..}`.
    members: String,
    thumbprint: String,
    kind: String,
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientKey({}, thumbprint {})", self.0.kind, self.0.thumbprint)
    }
}

impl ClientKey {
    /// Reads a private key from PEM text: `PRIVATE KEY` (PKCS#8: RSA or EC P-256),
    /// `RSA PRIVATE KEY` (PKCS#1) or `EC PRIVATE KEY` (SEC1, P-256). Other blocks (a
    /// certificate, EC parameters) may surround it. Fails with INVALID_ARGUMENT saying why.
    pub fn from_pem(pem: &str) -> Result<ClientKey> {
        Self::parse(pem.as_bytes()).map_err(|why| Error::invalid_argument(format!("client key: {why}")))
    }

    /// A new EC P-256 key (what `raptoken keygen` writes), and its PKCS#8 PEM.
    pub fn generate() -> Result<(ClientKey, Zeroizing<String>)> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| Error::config("the system's random number generator failed"))?;
        let pem = pem_encode("PRIVATE KEY", doc.as_ref());
        let key = Self::parse(pem.as_bytes()).map_err(Error::config)?;
        Ok((key, pem))
    }

    /// The reason is phrased to follow "client key: " or "client key file PATH: ".
    pub(crate) fn parse(bytes: &[u8]) -> std::result::Result<ClientKey, String> {
        if bytes.len() as u64 > MAX_PEM_BYTES {
            return Err(format!("it is larger than {} KB, too large for a key", MAX_PEM_BYTES / 1024));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| {
            "it is not PEM text (binary DER? convert it: openssl pkey -inform DER -in KEY -out KEY.pem)".to_string()
        })?;
        let blocks = pem_blocks(text)?;
        let keys: Vec<&Block> = blocks.iter().filter(|b| b.label.ends_with("PRIVATE KEY")).collect();
        let block = match keys.as_slice() {
            [one] => *one,
            [] if blocks.is_empty() => return Err("it is not PEM: there is no -----BEGIN PRIVATE KEY----- line".into()),
            [] => {
                let mut found: Vec<&str> = Vec::new();
                for label in blocks.iter().map(|b| shown_label(b.label)) {
                    if !found.contains(&label) && found.len() < 4 {
                        found.push(label);
                    }
                }
                return Err(format!("it holds no private key, only {}", found.join(", ")));
            }
            many => return Err(format!("it holds {} private keys; keep only the one registered for this client", many.len())),
        };
        if block.encrypted || block.label == "ENCRYPTED PRIVATE KEY" {
            return Err("the key is encrypted with a passphrase; store it decrypted in a file only its owner can read \
                        (openssl pkey -in KEY -out PLAIN.pem; chmod 600 PLAIN.pem)"
                .into());
        }
        let der = base64_decode_pem(block.body).ok_or("the PEM block's base64 is damaged")?;
        let pair = match block.label {
            "PRIVATE KEY" => pkcs8(&der)?,
            "RSA PRIVATE KEY" => Pair::Rsa(RsaKeyPair::from_der(&der).map_err(rejected)?),
            "EC PRIVATE KEY" => sec1(&der)?,
            "OPENSSH PRIVATE KEY" => {
                return Err("it is in OpenSSH's own format; convert a copy to PKCS#8: ssh-keygen -p -m PKCS8 -f COPY".into())
            }
            other => return Err(format!("a {} block is not a supported private key", shown_label(other))),
        };
        let key = Self::new(pair, &der);
        // ring does not check every RSA CRT value when it reads a key, but checks each signature
        // it makes: a damaged key would fail every token request. One signature now says so here
        // (0.5 ms, once per client).
        if matches!(key.0.pair, Pair::Rsa(_)) && key.sign(SigningAlgorithm::Rs256, b"raptoken key check").is_err() {
            return Err(DAMAGED.into());
        }
        Ok(key)
    }

    fn new(pair: Pair, private_der: &[u8]) -> ClientKey {
        let (members, kind) = match &pair {
            Pair::Rsa(k) => {
                // ring's public key is the DER RSAPublicKey: SEQUENCE { INTEGER n, INTEGER e }.
                fn int(d: &[u8]) -> Option<(String, &[u8])> {
                    der(d).map(|(_, v, rest)| (base64url(v.strip_prefix(&[0]).unwrap_or(v)), rest))
                }
                let (n, e) = der(k.public().as_ref())
                    .and_then(|(_, seq, _)| int(seq))
                    .and_then(|(n, rest)| Some((n, int(rest)?.0)))
                    .unwrap_or_default();
                (format!(r#""e":"{e}","kty":"RSA","n":"{n}""#), format!("RSA {}-bit", k.public().modulus_len() * 8))
            }
            Pair::Ec(k) => {
                // An uncompressed point: 0x04, then x and y, 32 bytes each.
                let p = k.public_key().as_ref();
                let members = format!(r#""crv":"P-256","kty":"EC","x":"{}","y":"{}""#, base64url(&p[1..33]), base64url(&p[33..65]));
                (members, "EC P-256".to_string())
            }
        };
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(b"raptoken-client-key-secret\0");
        ctx.update(private_der);
        let secret_digest = Secret::new(base64url(ctx.finish().as_ref()));
        ClientKey(Arc::new(Inner { thumbprint: thumbprint(&members), members, kind, pair, secret_digest }))
    }

    /// A secret only holders of the private key can compute (a digest of it), for keying what
    /// must be readable by them alone (the fleet cache's entries).
    pub(crate) fn secret_digest(&self) -> Secret {
        self.0.secret_digest.clone()
    }

    /// `RSA 2048-bit` or `EC P-256`.
    pub fn kind(&self) -> &str {
        &self.0.kind
    }

    /// The JWK SHA-256 thumbprint (RFC 7638), base64url: names the public key without showing it.
    pub fn thumbprint(&self) -> &str {
        &self.0.thumbprint
    }

    /// What the key signs with unless told otherwise: RS256 for RSA, ES256 for EC.
    pub fn default_algorithm(&self) -> SigningAlgorithm {
        match self.0.pair {
            Pair::Rsa(_) => SigningAlgorithm::Rs256,
            Pair::Ec(_) => SigningAlgorithm::Es256,
        }
    }

    pub fn can_sign(&self, alg: SigningAlgorithm) -> bool {
        matches!(
            (&self.0.pair, alg),
            (Pair::Rsa(_), SigningAlgorithm::Rs256 | SigningAlgorithm::Ps256) | (Pair::Ec(_), SigningAlgorithm::Es256)
        )
    }

    /// The public key as a JWK to register with the authorization server: `use` `sig`, `alg`,
    /// and `kid` when given.
    pub fn public_jwk(&self, alg: SigningAlgorithm, kid: Option<&str>) -> String {
        let kid = kid.map(|k| format!(r#","kid":{}"#, json_string(k))).unwrap_or_default();
        format!(r#"{{{},"use":"sig","alg":"{}"{kid}}}"#, self.0.members, alg.as_str())
    }

    /// A JWS signature of `message` (for ES256 the fixed-size `r || s` JWS wants).
    pub(crate) fn sign(&self, alg: SigningAlgorithm, message: &[u8]) -> Result<Vec<u8>> {
        let rng = SystemRandom::new();
        let failed = || Error::config(format!("signing the client assertion with {} failed", alg.as_str()));
        match (&self.0.pair, alg) {
            (Pair::Rsa(k), SigningAlgorithm::Rs256 | SigningAlgorithm::Ps256) => {
                let padding: &'static dyn signature::RsaEncoding =
                    if alg == SigningAlgorithm::Rs256 { &signature::RSA_PKCS1_SHA256 } else { &signature::RSA_PSS_SHA256 };
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(padding, &rng, message, &mut sig).map_err(|_| failed())?;
                Ok(sig)
            }
            (Pair::Ec(k), SigningAlgorithm::Es256) => Ok(k.sign(&rng, message).map_err(|_| failed())?.as_ref().to_vec()),
            _ => Err(Error::config(format!("a {} key cannot sign {}", self.0.kind, alg.as_str()))),
        }
    }
}

/// RFC 7638: SHA-256 over the required members, in lexicographic order and without spaces.
fn thumbprint(members: &str) -> String {
    base64url(ring::digest::digest(&ring::digest::SHA256, format!("{{{members}}}").as_bytes()).as_ref())
}

/// A JSON string literal (quotes and escapes, RFC 8259 §7) for a value we put into a JWT or
/// JWK.
pub(crate) fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

// PEM (RFC 7468): labelled base64 blocks; text around them is ignored, as OpenSSL does.

struct Block<'a> {
    label: &'a str,
    body: &'a str,
    /// An RFC 1421 `Proc-Type: 4,ENCRYPTED` header (OpenSSL's legacy encrypted keys).
    encrypted: bool,
}

fn pem_blocks(text: &str) -> std::result::Result<Vec<Block<'_>>, String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("-----BEGIN ") {
        let after = &rest[at + 11..];
        let label = after.find("-----").map(|e| &after[..e]).filter(|l| !l.contains('\n')).ok_or("a -----BEGIN line is not closed by -----")?;
        let body_start = &after[label.len() + 5..];
        let end_line = format!("-----END {label}-----");
        let end = body_start.find(&end_line).ok_or_else(|| format!("the {} block has no END line", shown_label(label)))?;
        let mut body = &body_start[..end];
        let mut encrypted = false;
        // Headers (`Name: value` lines) end with an empty line.
        if body.trim_start().lines().next().is_some_and(|l| l.contains(':')) {
            let trimmed = body.trim_start_matches(['\r', '\n']);
            let split = trimmed.find("\n\n").or_else(|| trimmed.find("\r\n\r\n")).ok_or("the PEM headers are not followed by an empty line")?;
            encrypted = trimmed[..split].contains("ENCRYPTED");
            body = &trimmed[split..];
        }
        blocks.push(Block { label, body, encrypted });
        rest = &body_start[end + end_line.len()..];
    }
    Ok(blocks)
}

/// A PEM label for a message: only one of the labels tools write (never arbitrary text from
/// the input, which might be key material).
fn shown_label(label: &str) -> &str {
    // One string rather than a table of them: no relocation per entry in the shared library.
    const KNOWN: &str = "PRIVATE KEY|RSA PRIVATE KEY|EC PRIVATE KEY|ENCRYPTED PRIVATE KEY|OPENSSH PRIVATE KEY|DSA PRIVATE KEY|\
                         PUBLIC KEY|RSA PUBLIC KEY|CERTIFICATE|TRUSTED CERTIFICATE|EC PARAMETERS|CERTIFICATE REQUEST|X509 CRL|PKCS7";
    KNOWN.split('|').find(|k| *k == label).unwrap_or("unknown")
}

// Just enough DER to tell which key a PKCS#8 or SEC1 document holds; ring checks the rest.

/// One element: its tag, its contents and what follows it.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)), &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const OID: u8 = 0x06;
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// A PKCS#8 `PrivateKeyInfo`: the algorithm decides which ring key type reads it.
fn pkcs8(doc: &[u8]) -> std::result::Result<Pair, String> {
    let algorithm = (|| {
        let (SEQUENCE, info, _) = der(doc)? else { return None };
        let (_version, _, rest) = der(info)?;
        let (SEQUENCE, alg, _) = der(rest)? else { return None };
        let (OID, oid, params) = der(alg)? else { return None };
        Some((oid, der(params).filter(|p| p.0 == OID).map(|p| p.1)))
    })();
    match algorithm {
        Some((OID_RSA, _)) => Ok(Pair::Rsa(RsaKeyPair::from_pkcs8(doc).map_err(rejected)?)),
        Some((OID_EC, Some(OID_P256))) => {
            let rng = SystemRandom::new();
            Ok(Pair::Ec(EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, doc, &rng).map_err(rejected)?))
        }
        Some((OID_EC, curve)) => Err(unsupported_curve(curve)),
        Some((oid, _)) => Err(format!("it is {} key; use an RSA (2048 bits or more) or EC P-256 key", algorithm_name(oid))),
        None => Err("the key is not a valid PKCS#8 structure (damaged or truncated?)".into()),
    }
}

/// A SEC1 `ECPrivateKey` (`openssl ecparam -genkey`): the private scalar and the public point.
fn sec1(doc: &[u8]) -> std::result::Result<Pair, String> {
    let parts = (|| {
        let (SEQUENCE, body, _) = der(doc)? else { return None };
        let (0x02, _version, rest) = der(body)? else { return None };
        let (0x04, private, mut rest) = der(rest)? else { return None };
        let (mut curve, mut public) = (None, None);
        while let Some((tag, inner, next)) = der(rest) {
            match (tag, der(inner)) {
                (0xa0, Some((OID, oid, _))) => curve = Some(oid),
                // A BIT STRING whose first byte counts unused bits (0 for a point).
                (0xa1, Some((0x03, [0, point @ ..], _))) => public = Some(point),
                _ => {}
            }
            rest = next;
        }
        Some((private, curve, public))
    })();
    match parts {
        None => Err("the key is not a valid EC PRIVATE KEY structure (damaged or truncated?)".into()),
        Some((_, curve, _)) if curve != Some(OID_P256) => Err(unsupported_curve(curve)),
        Some((_, _, None)) => Err(format!("the EC key lacks its public part; {AGAIN}")),
        Some((private, _, Some(public))) => {
            let rng = SystemRandom::new();
            EcdsaKeyPair::from_private_key_and_public_key(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, private, public, &rng)
                .map(Pair::Ec)
                .map_err(rejected)
        }
    }
}

fn unsupported_curve(curve: Option<&[u8]>) -> String {
    let name = match curve {
        Some([0x2b, 0x81, 0x04, 0x00, 0x22]) => "P-384",
        Some([0x2b, 0x81, 0x04, 0x00, 0x23]) => "P-521",
        Some([0x2b, 0x81, 0x04, 0x00, 0x0a]) => "secp256k1",
        Some(_) => "a curve other than P-256",
        None => "no named curve",
    };
    format!("it is an EC key on {name}; only P-256 (prime256v1) keys are supported")
}

fn algorithm_name(oid: &[u8]) -> &'static str {
    match oid {
        [0x2b, 0x65, 0x70] => "an Ed25519",
        [0x2b, 0x65, 0x71] => "an Ed448",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a] => "an RSA-PSS-restricted",
        [0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01] => "a DSA",
        _ => "an unsupported",
    }
}

const DAMAGED: &str = "the key's parts do not fit together (a damaged key?)";
const AGAIN: &str = "write it out again: openssl pkey -in KEY -out NEW.pem";

/// ring's reason, in words that say what to do.
fn rejected(e: ring::error::KeyRejected) -> String {
    match e.to_string().as_str() {
        "TooSmall" | "TooLarge" | "PrivateModulusLenNotMultipleOf512Bits" => {
            "the RSA key must be 2048, 3072 or 4096 bits; make one of 2048 or 3072 bits".into()
        }
        "InconsistentComponents" | "InvalidComponent" => DAMAGED.into(),
        "PublicKeyIsMissing" => format!("the EC key lacks its public part; {AGAIN}"),
        "VersionNotSupported" => format!("the key's format version is not supported; {AGAIN}"),
        _ => "the key is not valid DER (damaged or truncated?)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_signs_and_reads_back() {
        let (key, pem) = ClientKey::generate().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n") && pem.ends_with("-----END PRIVATE KEY-----\n"));
        let again = ClientKey::from_pem(&pem).unwrap();
        assert_eq!((again.thumbprint(), again.kind()), (key.thumbprint(), "EC P-256"));
        assert_eq!(key.thumbprint().len(), 43);
        assert_eq!(key.default_algorithm(), SigningAlgorithm::Es256);
        assert!(key.can_sign(SigningAlgorithm::Es256) && !key.can_sign(SigningAlgorithm::Rs256));
        assert_eq!(key.sign(SigningAlgorithm::Es256, b"x").unwrap().len(), 64);
        assert!(key.sign(SigningAlgorithm::Ps256, b"x").is_err());
        let jwk: serde_json::Value = serde_json::from_str(&key.public_jwk(SigningAlgorithm::Es256, Some("k\"1"))).unwrap();
        assert_eq!((jwk["kty"].as_str(), jwk["crv"].as_str(), jwk["kid"].as_str()), (Some("EC"), Some("P-256"), Some("k\"1")));
        assert!(jwk.get("d").is_none(), "a public JWK");
        let debug = format!("{key:?}");
        assert!(debug.contains("EC P-256") && !debug.contains(&pem[30..60]), "{debug}");
    }

    #[test]
    fn json_strings_escape_what_json_requires() {
        for s in ["plain", "q\"uote", "back\\slash", "tab\tnl\n\u{1}", "ünï €"] {
            assert_eq!(serde_json::from_str::<String>(&json_string(s)).unwrap(), s);
        }
    }

    #[test]
    fn rfc7638_thumbprint_of_the_rfc_example() {
        // RFC 7638 §3.1: the example RSA key, as `new` writes its members.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(thumbprint(&format!(r#""e":"AQAB","kty":"RSA","n":"{n}""#)), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn pem_mistakes_get_reasons_that_say_what_to_do() {
        let (_, pem) = ClientKey::generate().unwrap();
        let cases: &[(&str, &str)] = &[
            ("", "no -----BEGIN PRIVATE KEY-----"),
            ("just text", "not PEM"),
            ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "only PUBLIC KEY"),
            ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "encrypted"),
            ("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n", "encrypted"),
            ("-----BEGIN PRIVATE KEY-----\nAAAA\n", "no END line"),
            ("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", "base64"),
            ("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n", "PKCS#8"),
            ("-----BEGIN EC PRIVATE KEY-----\nMAA=\n-----END EC PRIVATE KEY-----\n", "EC PRIVATE KEY"),
            ("-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n", "DER"),
            // Ed25519 (RFC 8410 §10.3's example).
            ("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n", "Ed25519"),
        ];
        for (input, want) in cases {
            let why = ClientKey::parse(input.as_bytes()).err().unwrap_or_default();
            assert!(why.contains(want), "{input:?}: {why}");
        }
        let two = format!("{}{}", *pem, *pem);
        assert!(ClientKey::parse(two.as_bytes()).unwrap_err().contains("2 private keys"));
        assert!(ClientKey::parse(&[0x30, 0x82, 0xff]).unwrap_err().contains("DER"));
        // Surrounding text and blocks are skipped, CRLF line ends are fine.
        let framed = format!("Bag Attributes\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n{}", pem.replace('\n', "\r\n"));
        assert!(ClientKey::parse(framed.as_bytes()).is_ok());
    }
}
