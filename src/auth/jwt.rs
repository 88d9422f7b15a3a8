//! Access tokens: HS256 JWTs with `iss`, `aud`, `sub`, `exp`, `iat`, `jti`; nothing else is accepted.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
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

/// Signs and verifies access tokens with one HS256 key.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: i64,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(<redacted>)")
    }
}

impl JwtKeys {
    /// Keys from the UTF-8 bytes of the secret.
    pub fn new(secret: &str, ttl_seconds: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECONDS;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            ttl_seconds: i64::try_from(ttl_seconds).unwrap_or(900),
        }
    }

    /// The lifetime of new tokens, in seconds.
    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    /// Issues a token for `sub`; returns it with its claims.
    pub fn issue(&self, sub: String) -> Result<(String, Claims), jsonwebtoken::errors::Error> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub,
            exp: now + self.ttl_seconds,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims))
    }

    /// Verifies signature, algorithm, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        decode::<Claims>(token, &self.decoding, &self.validation).map(|data| data.claims)
    }

    /// Verifies everything but expiry (used to revoke a token that may have expired).
    pub fn verify_ignoring_expiry(
        &self,
        token: &str,
    ) -> Result<Claims, jsonwebtoken::errors::Error> {
        let mut validation = self.validation.clone();
        validation.validate_exp = false;
        decode::<Claims>(token, &self.decoding, &validation).map(|data| data.claims)
    }
}
