//! Concurrent lookups share one statement, and none is answered from a statement older than it.
//!
//! A caller joins the batch that has not started yet. A batch starts when none is running (at
//! once for a lone caller), so every answer comes from a statement that began after its caller
//! arrived: whatever was committed before a request arrived is seen, exactly as if it had run
//! its own statement. One batch runs at a time; callers arriving meanwhile, whatever their keys,
//! share the next one, which covers at most [`MAX_KEYS`] distinct keys and is taken once the
//! worker's other ready tasks (requests it has received) have had their turn.

use std::{
    collections::HashMap,
    future::Future,
    hash::Hash,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use tokio::sync::oneshot;

/// The most distinct keys one statement looks up; callers beyond them wait for the next batch.
pub const MAX_KEYS: usize = 128;

/// The caller's batch ended without an answer for it (the lookup panicked or its runtime stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abandoned;

/// Batches lookups of keys `K` answered with `V` (see the module docs). Shared by all workers.
pub struct Batcher<K, V> {
    inner: Mutex<Inner<K, V>>,
}

struct Inner<K, V> {
    /// Whether a batch is running.
    running: bool,
    /// The callers of the batch that has not started yet, in arrival order.
    waiting: Vec<(K, oneshot::Sender<V>)>,
}

impl<K, V> Default for Batcher<K, V> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                running: false,
                waiting: Vec::new(),
            }),
        }
    }
}

impl<K, V> Batcher<K, V>
where
    K: Hash + Eq + Clone + 'static,
    V: Clone + 'static,
{
    /// The answer for `key` from a batch that begins after this call. `lookup` answers a batch:
    /// one value per key, in the keys' order; it runs on this thread's runtime when this call
    /// starts the batches (it is dropped otherwise).
    pub async fn get<F, Fut>(self: &Arc<Self>, key: K, lookup: F) -> Result<V, Abandoned>
    where
        F: Fn(Vec<K>) -> Fut + 'static,
        Fut: Future<Output = Vec<V>> + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        let start = {
            let mut inner = self.lock();
            inner.waiting.push((key, sender));
            !std::mem::replace(&mut inner.running, true)
        };
        if start {
            actix_web::rt::spawn(Arc::clone(self).drive(lookup));
        }
        receiver.await.map_err(|_| Abandoned)
    }

    fn lock(&self) -> MutexGuard<'_, Inner<K, V>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs batches until no caller waits.
    async fn drive<F, Fut>(self: Arc<Self>, lookup: F)
    where
        F: Fn(Vec<K>) -> Fut,
        Fut: Future<Output = Vec<V>>,
    {
        // Should the lookup panic or the runtime drop this task, the next caller starts anew.
        let running = Running(&self);
        loop {
            let (keys, callers) = {
                let mut inner = self.lock();
                if inner.waiting.is_empty() {
                    inner.running = false;
                    std::mem::forget(running);
                    return;
                }
                take_batch(&mut inner.waiting)
            };
            let values = lookup(keys).await;
            for (index, sender) in callers {
                if let Some(value) = values.get(index) {
                    // A caller that went away no longer needs its answer.
                    let _ = sender.send(value.clone());
                }
            }
            // Let this worker's other ready tasks run before the next batch is taken: requests
            // it has already received join that batch instead of the one after, so more callers
            // share a statement under load (measured in bench/README.md, "The caller lookup").
            tokio::task::yield_now().await;
        }
    }
}

/// Resets a batcher whose batches ended abnormally: its waiting callers are told so.
struct Running<'a, K, V>(&'a Batcher<K, V>);

impl<K, V> Drop for Running<'_, K, V> {
    fn drop(&mut self) {
        let mut inner = self.0.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.running = false;
        inner.waiting.clear();
    }
}

/// Takes the first [`MAX_KEYS`] distinct keys' callers off `waiting`: the keys, and each caller
/// with the index of its key.
fn take_batch<K: Hash + Eq + Clone, V>(
    waiting: &mut Vec<(K, oneshot::Sender<V>)>,
) -> (Vec<K>, Vec<(usize, oneshot::Sender<V>)>) {
    let mut index: HashMap<K, usize> = HashMap::new();
    let mut keys = Vec::new();
    let mut callers = Vec::new();
    let mut rest = Vec::new();
    for (key, sender) in waiting.drain(..) {
        let next = keys.len();
        match index.get(&key) {
            Some(&i) => callers.push((i, sender)),
            None if next < MAX_KEYS => {
                index.insert(key.clone(), next);
                keys.push(key);
                callers.push((next, sender));
            }
            None => rest.push((key, sender)),
        }
    }
    *waiting = rest;
    (keys, callers)
}

#[cfg(test)]
mod tests {
    use std::{cell::RefCell, rc::Rc, time::Duration};

    use super::*;

    type Calls = Rc<RefCell<Vec<Vec<u32>>>>;

    /// A lookup that records its batches, answers `key * 10` and holds each batch until `gate`
    /// has a permit.
    fn recording(
        calls: &Calls,
        gate: &Rc<tokio::sync::Semaphore>,
    ) -> impl Fn(Vec<u32>) -> std::pin::Pin<Box<dyn Future<Output = Vec<u32>>>> + 'static {
        let (calls, gate) = (Rc::clone(calls), Rc::clone(gate));
        move |keys: Vec<u32>| {
            calls.borrow_mut().push(keys.clone());
            let gate = Rc::clone(&gate);
            Box::pin(async move {
                if let Ok(permit) = gate.acquire().await {
                    permit.forget();
                }
                keys.iter().map(|k| k * 10).collect()
            })
        }
    }

    /// A caller of `key`, on its own task, with a [`recording`] lookup.
    fn spawn_get(
        batcher: &Arc<Batcher<u32, u32>>,
        key: u32,
        calls: &Calls,
        gate: &Rc<tokio::sync::Semaphore>,
    ) -> tokio::task::JoinHandle<Result<u32, Abandoned>> {
        let (batcher, lookup) = (Arc::clone(batcher), recording(calls, gate));
        actix_web::rt::spawn(async move { batcher.get(key, lookup).await })
    }

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    #[actix_web::test]
    async fn callers_share_a_batch_but_never_one_that_began_before_them() {
        let batcher: Arc<Batcher<u32, u32>> = Arc::default();
        let calls = Calls::default();
        let gate = Rc::new(tokio::sync::Semaphore::new(0));
        let first = spawn_get(&batcher, 1, &calls, &gate);
        settle().await;
        // The first batch runs: these three (two keys) wait for the next one.
        let later: Vec<_> = [2, 1, 2]
            .into_iter()
            .map(|key| spawn_get(&batcher, key, &calls, &gate))
            .collect();
        settle().await;
        assert_eq!(*calls.borrow(), vec![vec![1]]);
        gate.add_permits(2);
        assert_eq!(first.await.ok(), Some(Ok(10)));
        let mut answers = Vec::new();
        for handle in later {
            answers.push(handle.await.ok());
        }
        assert_eq!(answers, vec![Some(Ok(20)), Some(Ok(10)), Some(Ok(20))]);
        assert_eq!(*calls.borrow(), vec![vec![1], vec![2, 1]]);
    }

    #[actix_web::test]
    async fn a_batch_covers_at_most_max_keys() {
        let batcher: Arc<Batcher<u32, u32>> = Arc::default();
        let calls = Calls::default();
        let gate = Rc::new(tokio::sync::Semaphore::new(0));
        let handles: Vec<_> = (0..(MAX_KEYS as u32 + 2))
            .map(|key| spawn_get(&batcher, key, &calls, &gate))
            .collect();
        // All arrived before the first batch started: it takes the first MAX_KEYS, in order.
        settle().await;
        gate.add_permits(2);
        for (key, handle) in handles.into_iter().enumerate() {
            assert_eq!(handle.await.ok(), Some(Ok(key as u32 * 10)));
        }
        let sizes: Vec<usize> = calls.borrow().iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![MAX_KEYS, 2]);
        assert_eq!(
            calls.borrow()[1],
            vec![MAX_KEYS as u32, MAX_KEYS as u32 + 1]
        );
    }

    #[actix_web::test]
    async fn a_panicking_lookup_abandons_its_callers_and_the_next_caller_starts_anew() {
        let batcher: Arc<Batcher<u32, u32>> = Arc::default();
        let failing = |_: Vec<u32>| async { panic!("lookup failed") };
        let answer = batcher.get(1, failing).await;
        assert_eq!(answer, Err(Abandoned));
        let answer = batcher.get(2, |keys: Vec<u32>| async move { keys }).await;
        assert_eq!(answer, Ok(2));
    }

    #[actix_web::test]
    async fn callers_that_went_away_do_not_stop_the_batch() {
        let batcher: Arc<Batcher<u32, u32>> = Arc::default();
        let calls = Calls::default();
        let gate = Rc::new(tokio::sync::Semaphore::new(0));
        let gone = spawn_get(&batcher, 1, &calls, &gate);
        settle().await;
        gone.abort();
        gate.add_permits(2);
        let answer = batcher.get(3, recording(&calls, &gate)).await;
        assert_eq!(answer, Ok(30));
    }
}
