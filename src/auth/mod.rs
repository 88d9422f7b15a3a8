//! Authentication primitives: access tokens (JWT) and password hashing.

pub mod jwt;
pub mod password;
