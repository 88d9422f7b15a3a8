//! Argon2id password hashing on a small dedicated thread pool: hashing never blocks the async
//! runtime, and since each hash takes 19 MiB, a fixed set of threads (with their allocator
//! arenas) bounds the memory a burst of logins can take.

use std::sync::{LazyLock, Mutex, mpsc};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::oneshot;

use crate::error::AppError;

/// Threads that hash; requests beyond them wait in the queue.
const HASHING_THREADS: usize = 2;

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    sender: Mutex<mpsc::Sender<Job>>,
}

static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = std::sync::Arc::new(Mutex::new(receiver));
    for i in 0..HASHING_THREADS {
        let receiver = receiver.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("annexa-argon2-{i}"))
            .spawn(move || {
                loop {
                    let job = match receiver.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
        if let Err(err) = spawned {
            tracing::error!(error = %err, "could not start a password-hashing thread");
        }
    }
    Pool {
        sender: Mutex::new(sender),
    }
});

/// Runs `work` on the hashing pool and waits for it without blocking the runtime.
async fn run_on_pool<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(work());
    });
    POOL.sender
        .lock()
        .map_err(|_| AppError::internal("hashing pool poisoned"))?
        .send(job)
        .map_err(|_| AppError::internal("hashing pool stopped"))?;
    rx.await
        .map_err(|_| AppError::internal("hashing job dropped"))
}

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

/// Hashes a password with Argon2id (PHC string).
pub async fn hash(password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    run_on_pool(move || hash_blocking(&password)).await?
}

/// Verifies a password against a stored hash; with `None`, spends the same time and fails.
pub async fn verify(password: &str, stored: Option<&str>) -> Result<bool, AppError> {
    let password = password.to_owned();
    let known = stored.is_some();
    let stored = stored.map(str::to_owned);
    run_on_pool(move || {
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        verify_blocking(&password, &hash) && known
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_fail() {
        let hashed = hash("correct horse battery").await.unwrap_or_default();
        assert!(hashed.starts_with("$argon2id$"));
        assert!(
            verify("correct horse battery", Some(&hashed))
                .await
                .unwrap_or(false)
        );
        assert!(
            !verify("wrong horse battery", Some(&hashed))
                .await
                .unwrap_or(true)
        );
        assert!(!verify("correct horse battery", None).await.unwrap_or(true));
    }
}
