//! Access tokens: HS256 JWTs with `iss`, `aud`, `sub`, `exp`, `iat`, `jti` and a `kid` header
//! naming the key; the current key signs, previous keys still verify (docs/identity.md, "Key rotation").

use chrono::Utc;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
    errors::{Error, ErrorKind},
};
use serde::{Deserialize, Serialize};

/// The `iss` of every access token.
pub const ISSUER: &str = "urn:annexa";
/// The `aud` of every access token.
pub const AUDIENCE: &str = "urn:annexa:api";
/// Clock skew tolerated on `exp`, in seconds.
pub const LEEWAY_SECONDS: u64 = 30;

/// The claims of an access token. `sub` is `user:<id>` or `service_account:<id>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
}

/// Signs access tokens with the current HS256 key and verifies them with the key their `kid`
/// names: the current one or a previous one still accepted during a rotation.
#[derive(Clone)]
pub struct JwtKeys {
    kid: String,
    encoding: EncodingKey,
    /// Every key that verifies, the current one first, each with its `kid`.
    decoding: Vec<(String, DecodingKey)>,
    validation: Validation,
    ttl_seconds: i64,
}

/// The `kid` of a secret: the first 8 bytes of its SHA-256, in hex. It names the key without
/// revealing it.
pub fn key_id(secret: &str) -> String {
    let mut hex = crate::crypto::sha256_hex(secret.as_bytes());
    hex.truncate(16);
    hex
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(<redacted>)")
    }
}

impl JwtKeys {
    /// Keys from the UTF-8 bytes of the secret, which signs and verifies.
    pub fn new(secret: &str, ttl_seconds: u64) -> Self {
        Self::rotated(secret, &[], ttl_seconds)
    }

    /// Keys that sign with `secret` and also verify tokens signed with any of `previous`.
    pub fn rotated(secret: &str, previous: &[String], ttl_seconds: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECONDS;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let mut decoding = vec![(key_id(secret), DecodingKey::from_secret(secret.as_bytes()))];
        for old in previous.iter().filter(|old| !old.is_empty()) {
            let kid = key_id(old);
            if decoding.iter().all(|(known, _)| *known != kid) {
                decoding.push((kid, DecodingKey::from_secret(old.as_bytes())));
            }
        }
        Self {
            kid: key_id(secret),
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding,
            validation,
            ttl_seconds: i64::try_from(ttl_seconds).unwrap_or(900),
        }
    }

    /// The lifetime of new tokens, in seconds.
    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    /// Issues a token for `sub`; returns it with its claims.
    pub fn issue(&self, sub: String) -> Result<(String, Claims), Error> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub,
            exp: now + self.ttl_seconds,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        let token = encode(&header, &claims, &self.encoding)?;
        Ok((token, claims))
    }

    /// Verifies signature (with the key the `kid` names), algorithm, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, Error> {
        self.verify_with(token, &self.validation)
    }

    /// The key a token's `kid` names. A token without one (issued before keys had ids) is
    /// checked against the current key only; an unknown `kid` is refused.
    fn key_for(&self, token: &str) -> Result<&DecodingKey, Error> {
        let header = decode_header(token)?;
        let found = match header.kid {
            None => self.decoding.first(),
            Some(kid) => self.decoding.iter().find(|(known, _)| *known == kid),
        };
        found
            .map(|(_, key)| key)
            .ok_or_else(|| Error::from(ErrorKind::InvalidToken))
    }

    fn verify_with(&self, token: &str, validation: &Validation) -> Result<Claims, Error> {
        let key = self.key_for(token)?;
        decode::<Claims>(token, key, validation).map(|data| data.claims)
    }

    /// Verifies everything but expiry (used to revoke a token that may have expired).
    pub fn verify_ignoring_expiry(&self, token: &str) -> Result<Claims, Error> {
        let mut validation = self.validation.clone();
        validation.validate_exp = false;
        self.verify_with(token, &validation)
    }
}
