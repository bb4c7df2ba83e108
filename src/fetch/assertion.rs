//! The client assertion of private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9): a JWT the
//! client signs with its key, fresh for every token request, in place of a shared secret.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::rand::SecureRandom;

use super::key::{json_string, ClientKey, SigningAlgorithm};
use crate::util::encoding::base64url;
use crate::util::error::{Error, Result};
use crate::util::secret::Secret;

/// The `client_assertion_type` of a JWT assertion (RFC 7523 §2.2).
pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// `exp - iat`: long enough for a slow request to a server whose clock is a little behind, short
/// enough that an assertion caught in transit is soon worth nothing (servers also refuse a
/// `jti` seen before).
pub(crate) const LIFETIME: Duration = Duration::from_secs(60);

/// Signs the assertions of one client.
#[derive(Debug, Clone)]
pub(crate) struct AssertionSigner {
    pub key: ClientKey,
    pub algorithm: SigningAlgorithm,
    /// The JWS `kid` header, if the server needs it to pick the key.
    pub key_id: Option<String>,
    /// The `aud` claim; `None`: the token endpoint the request goes to.
    pub audience: Option<String>,
}

impl AssertionSigner {
    /// A new assertion for `client_id`, issued `now`: `iss` = `sub` = the client id, a random
    /// 128-bit `jti`, `exp` 60 s after `iat`.
    pub fn sign(&self, client_id: &str, token_endpoint: &str, now: SystemTime) -> Result<Secret> {
        let mut jti = [0u8; 16];
        ring::rand::SystemRandom::new()
            .fill(&mut jti)
            .map_err(|_| Error::config("the system's random number generator failed"))?;
        let iat = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let kid = self.key_id.as_deref().map(|k| format!(r#","kid":{}"#, json_string(k))).unwrap_or_default();
        let header = format!(r#"{{"alg":"{}","typ":"JWT"{kid}}}"#, self.algorithm.as_str());
        let id = json_string(client_id);
        let claims = format!(
            r#"{{"iss":{id},"sub":{id},"aud":{},"jti":"{}","iat":{iat},"exp":{}}}"#,
            json_string(self.audience.as_deref().unwrap_or(token_endpoint)),
            base64url(&jti),
            iat + LIFETIME.as_secs(),
        );
        let mut jwt = format!("{}.{}", base64url(header.as_bytes()), base64url(claims.as_bytes()));
        let signature = self.key.sign(self.algorithm, jwt.as_bytes())?;
        jwt.push('.');
        jwt.push_str(&base64url(&signature));
        Ok(Secret::new(jwt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::encoding::base64url_decode;

    fn part(jwt: &str, i: usize) -> serde_json::Value {
        serde_json::from_slice(&base64url_decode(jwt.split('.').nth(i).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn claims_header_and_a_verifiable_signature() {
        let (key, _) = ClientKey::generate().unwrap();
        let signer = AssertionSigner { key: key.clone(), algorithm: SigningAlgorithm::Es256, key_id: Some("k1".into()), audience: None };
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let a = signer.sign("my \"client\"", "https://auth.example/connect/token", now).unwrap();
        let jwt = a.expose();
        assert_eq!(part(jwt, 0), serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": "k1"}));
        let c = part(jwt, 1);
        assert_eq!((c["iss"].as_str(), c["sub"].as_str()), (Some("my \"client\""), Some("my \"client\"")));
        assert_eq!(c["aud"], "https://auth.example/connect/token");
        assert_eq!((c["iat"].as_u64(), c["exp"].as_u64()), (Some(1_700_000_000), Some(1_700_000_060)));
        assert_eq!(c["jti"].as_str().unwrap().len(), 22);
        // The signature verifies with the public key, over the first two parts.
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let jwk = part(&format!("x.{}", base64url(key.public_jwk(SigningAlgorithm::Es256, None).as_bytes())), 1);
        let point = [vec![4u8], base64url_decode(jwk["x"].as_str().unwrap()).unwrap().to_vec(), base64url_decode(jwk["y"].as_str().unwrap()).unwrap().to_vec()].concat();
        let public = ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, point);
        assert!(public.verify(input.as_bytes(), &base64url_decode(sig).unwrap()).is_ok());

        let other = signer.sign("c", "https://t", now).unwrap();
        assert_ne!(part(other.expose(), 1)["jti"], c["jti"], "a fresh jti every time");
        let with_aud = AssertionSigner { audience: Some("https://auth.example/".into()), key_id: None, ..signer };
        let a = with_aud.sign("c", "https://t", now).unwrap();
        assert_eq!(part(a.expose(), 1)["aud"], "https://auth.example/");
        assert!(part(a.expose(), 0).get("kid").is_none());
        assert!(!format!("{with_aud:?}").contains("BEGIN"));
    }
}
