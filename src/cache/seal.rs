//! Entries only the holders of a client's credentials can read or forge: AES-256-GCM with a
//! key derived by HKDF-SHA256 from the client secret (or private key) and the cache key, all
//! from ring, which rustls already links in. Used where entries leave this user's files: the
//! fleet cache in Redis.
//!
//! Sealed form: `version (1) | nonce (12) | ciphertext | tag (16)`; the associated data binds
//! it to its purpose and its Redis key, so an entry copied to another key does not open.

// Without the fleet store only the credential tag is used.
#![cfg_attr(not(feature = "fleet"), allow(dead_code))]

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf::{KeyType, Salt, HKDF_SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

const VERSION: u8 = 1;
const SALT: &[u8] = b"raptoken fleet cache v1";

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// A one-way tag of a credential for one cache key: equal for processes with the same secret,
/// useless for finding it (HKDF of a high-entropy secret). Names the credential a failure
/// record or a Redis key belongs to.
pub(crate) fn credential_tag(material: &[u8], cache_key: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let info = [b"credential tag\0".as_slice(), cache_key.as_bytes()];
    // `fill` fails only for lengths above 255 * 32.
    let prk = Salt::new(HKDF_SHA256, SALT).extract(material);
    let _ = prk.expand(&info, Len(16)).and_then(|okm| okm.fill(&mut out));
    out
}

/// The key that seals one cache key's entries.
pub(crate) struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl Sealer {
    pub(crate) fn new(material: &[u8], cache_key: &str) -> Sealer {
        let info = [b"entry key\0".as_slice(), cache_key.as_bytes()];
        let prk = Salt::new(HKDF_SHA256, SALT).extract(material);
        let okm = prk.expand(&info, &AES_256_GCM).expect("32 bytes is a valid HKDF length");
        Sealer { key: LessSafeKey::new(UnboundKey::from(okm)), rng: SystemRandom::new() }
    }

    /// Encrypts and authenticates `plain` for `context` (what it is and where it is stored).
    pub(crate) fn seal(&self, plain: &[u8], context: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plain.len() + AES_256_GCM.tag_len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        let mut body = plain.to_vec();
        self.key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut body).ok()?;
        out.extend_from_slice(&body);
        // The plaintext copy held the token: wipe it.
        drop(Zeroizing::new(body));
        Some(out)
    }

    /// The plaintext, if `sealed` was sealed by this key for `context` and not altered.
    pub(crate) fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, &'static str> {
        let head = 1 + NONCE_LEN;
        if sealed.len() < head + AES_256_GCM.tag_len() {
            return Err("too short to be a sealed entry (truncated or not ours)");
        }
        if sealed[0] != VERSION {
            return Err("not a sealed raptoken entry (unknown format)");
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed[1..head]).map_err(|_| "bad nonce")?;
        let mut body = Zeroizing::new(sealed[head..].to_vec());
        let plain_len = self
            .key
            .open_in_place(nonce, Aad::from(context), &mut body)
            .map_err(|_| "it does not authenticate with this client's credentials (tampered with, truncated, or written with another secret)")?
            .len();
        body.truncate(plain_len);
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_entries_open_only_with_the_same_secret_key_and_context() {
        let s = Sealer::new(b"secret", "k1");
        let sealed = s.seal(b"{\"access_token\":\"tok\"}", b"token:k1").unwrap();
        assert!(!sealed.windows(3).any(|w| w == b"tok"), "the token is not in clear");
        assert_eq!(&*s.open(&sealed, b"token:k1").unwrap(), b"{\"access_token\":\"tok\"}");
        assert_ne!(sealed, s.seal(b"{\"access_token\":\"tok\"}", b"token:k1").unwrap(), "a fresh nonce each time");
        assert!(Sealer::new(b"other secret", "k1").open(&sealed, b"token:k1").is_err(), "another secret");
        assert!(Sealer::new(b"secret", "k2").open(&sealed, b"token:k1").is_err(), "another cache key");
        assert!(s.open(&sealed, b"failure:k1").is_err(), "another purpose or Redis key");
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(s.open(&flipped, b"token:k1").is_err(), "tampered");
        assert!(s.open(&sealed[..sealed.len() - 1], b"token:k1").is_err(), "truncated");
        assert!(s.open(b"", b"token:k1").is_err());
        assert!(s.open(b"\x02garbage-garbage-garbage-garbage", b"token:k1").unwrap_err().contains("unknown format"));
    }

    #[test]
    fn credential_tags_are_pinned_and_differ_per_secret_and_key() {
        let t = credential_tag(b"secret", "k1");
        assert_eq!(t, credential_tag(b"secret", "k1"));
        assert_ne!(t, credential_tag(b"secret2", "k1"));
        assert_ne!(t, credential_tag(b"secret", "k2"));
        // Pinned (RFC 5869 HKDF-SHA256, checked independently): library versions sharing one
        // Redis must derive the same tags, hence the same keys.
        let hex: String = t.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "8c2956558c38155e5805689993747c59");
    }
}
