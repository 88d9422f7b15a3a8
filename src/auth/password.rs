//! Argon2id password hashing on a small dedicated thread pool: hashing never blocks the async
//! runtime, and since each hash takes 9 MiB, a fixed set of threads (with their allocator
//! arenas) bounds the memory a burst of logins can take.

use std::sync::{LazyLock, Mutex, mpsc};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::oneshot;

use crate::error::AppError;

/// Threads that hash; requests beyond them wait in the queue.
const HASHING_THREADS: usize = 2;

/// Argon2id cost of new hashes: 9 MiB, 4 passes, 1 lane. OWASP's password storage guidance
/// lists it among the configurations of equal strength to the crate's default (19 MiB, 2
/// passes), trading memory for passes: about the same CPU time per hash, less than half the
/// memory (two logins hashing at once took 38 MiB of the server's resident set, now 18 MiB).
/// Stored hashes carry their own parameters, so hashes made with other costs still verify (and
/// are replaced at the next successful login, see [`needs_rehash`]).
const MEMORY_KIB: u32 = 9 * 1024;
const PASSES: u32 = 4;
const LANES: u32 = 1;

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
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).map_err(AppError::internal)?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

/// Verifies with the costs stored in `hash` (whatever they are), not this module's.
fn verify_blocking(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Whether `hash` was made otherwise than new hashes are (another algorithm, version or costs):
/// a successful login then stores a new hash of the password in its place.
pub fn needs_rehash(hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return true;
    };
    let current = parsed.algorithm.as_str() == "argon2id"
        && parsed.version == Some(Version::V0x13 as u32)
        && Params::try_from(&parsed).is_ok_and(|params| {
            params.m_cost() == MEMORY_KIB && params.t_cost() == PASSES && params.p_cost() == LANES
        });
    !current
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

    /// Asserts that `hashed` accepts "correct horse battery" and rejects another password.
    async fn assert_verifies_only_its_password(hashed: &str) {
        assert!(
            verify("correct horse battery", Some(hashed))
                .await
                .unwrap_or(false)
        );
        assert!(
            !verify("wrong horse battery", Some(hashed))
                .await
                .unwrap_or(true)
        );
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_fail() {
        let hashed = hash("correct horse battery").await.unwrap_or_default();
        assert!(hashed.starts_with("$argon2id$"));
        assert_verifies_only_its_password(&hashed).await;
        assert!(!verify("correct horse battery", None).await.unwrap_or(true));
    }

    #[tokio::test]
    async fn new_hashes_use_the_module_costs_and_older_costs_still_verify() {
        let hashed = hash("correct horse battery").await.unwrap_or_default();
        assert!(
            hashed.starts_with("$argon2id$v=19$m=9216,t=4,p=1$"),
            "{hashed}"
        );
        // A hash made with the crate's default costs (19 MiB, 2 passes), as stored before.
        let salt = SaltString::generate(&mut OsRng);
        let older = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(
            older.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{older}"
        );
        assert!(needs_rehash(&older));
        assert!(!needs_rehash(&hashed));
        assert!(needs_rehash("not a PHC string"));
        assert_verifies_only_its_password(&older).await;
    }
}
