//! Authentication: password and secret hashing, access tokens (JWT), and the authenticated principal.

pub mod batch;
pub mod jwt;
pub mod password;
pub mod principal;

pub use principal::{OrgAccess, Principal, Subject};

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A random secret of `bytes` bytes, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Lowercase hex SHA-256 of a string: how high-entropy secrets (refresh tokens,
/// service-account secrets) are stored.
pub fn sha256_hex(value: &[u8]) -> String {
    let digest = Sha256::digest(value);
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Constant-time comparison of two byte strings.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
