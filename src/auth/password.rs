//! Argon2id password hashing, run off the async runtime and bounded in concurrency (19 MiB per hash).

use std::sync::{Arc, LazyLock};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

use crate::error::AppError;

/// At most this many hashes run at once, so a burst of logins cannot exhaust memory.
const CONCURRENT_HASHES: usize = 4;

static HASHING: LazyLock<Arc<Semaphore>> =
    LazyLock::new(|| Arc::new(Semaphore::new(CONCURRENT_HASHES)));

/// A hash of a random password, verified against when the user does not exist so that
/// unknown and known usernames take the same time.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking("dummy password for timing").unwrap_or_default());

fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

async fn run_bounded<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let _permit = HASHING
        .clone()
        .acquire_owned()
        .await
        .map_err(AppError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(AppError::internal)
}

/// Hashes a password with Argon2id (PHC string).
pub async fn hash(password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    run_bounded(move || hash_blocking(&password)).await?
}

/// Verifies a password against a stored hash; with `None`, spends the same time and fails.
pub async fn verify(password: &str, stored: Option<&str>) -> Result<bool, AppError> {
    let password = password.to_owned();
    let known = stored.is_some();
    let stored = stored.map(str::to_owned);
    run_bounded(move || {
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        verify_blocking(&password, &hash) && known
    })
    .await
}
