//! Concurrent lookups of the same key share one query, and none is answered from before it arrived.
//!
//! A caller joins the query of its key that has not started yet, or queues one. A queued query
//! starts once the one running for that key (if any) has ended. So every answer comes from a
//! query that began after its caller arrived: whatever was committed before a request arrived is
//! seen, exactly as if it had run its own query. At most one query per key runs at a time on a
//! thread, and callers that arrive while it runs share the next one.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    future::Future,
    hash::Hash,
    thread::LocalKey,
};

use futures_util::future::{FutureExt, LocalBoxFuture, Shared, WeakShared};

type Lookup<V> = Shared<LocalBoxFuture<'static, V>>;

/// Above this many keys, entries whose callers have all gone away are swept (then again only
/// once the map has doubled, so that many live keys do not cost a sweep per call).
const SWEEP_ABOVE: usize = 1024;

/// The queries of one thread, by key (see the module docs). Use it from a `thread_local!`.
pub struct Coalescer<K, V: Clone> {
    slots: RefCell<HashMap<K, Slot<V>>>,
    next_id: Cell<u64>,
    /// The number of keys above which the next sweep runs.
    sweep_above: Cell<usize>,
}

struct Slot<V: Clone> {
    /// The query that has started: callers arriving now may not use its answer.
    running: Option<(u64, WeakShared<LocalBoxFuture<'static, V>>)>,
    /// The query that has not started yet: callers arriving now join it.
    queued: Option<(u64, WeakShared<LocalBoxFuture<'static, V>>)>,
}

impl<V: Clone> Default for Slot<V> {
    fn default() -> Self {
        Self {
            running: None,
            queued: None,
        }
    }
}

impl<V: Clone> Slot<V> {
    /// Whether a caller still waits on one of its queries.
    fn is_alive(&self) -> bool {
        let alive = |q: &Option<(u64, WeakShared<LocalBoxFuture<'static, V>>)>| {
            q.as_ref().is_some_and(|(_, weak)| weak.upgrade().is_some())
        };
        alive(&self.running) || alive(&self.queued)
    }
}

impl<K, V> Default for Coalescer<K, V>
where
    V: Clone,
{
    fn default() -> Self {
        Self {
            slots: RefCell::new(HashMap::new()),
            next_id: Cell::new(0),
            sweep_above: Cell::new(SWEEP_ABOVE),
        }
    }
}

impl<K, V> Coalescer<K, V>
where
    K: Hash + Eq + Clone + 'static,
    V: Clone + 'static,
{
    /// The answer for `key`, from the query `query` would make or from one that began after
    /// this call, shared with the callers that join it.
    pub async fn get<F, Fut>(this: &'static LocalKey<Self>, key: K, query: F) -> V
    where
        F: FnOnce() -> Fut + 'static,
        Fut: Future<Output = V> + 'static,
    {
        let lookup = this.with(|coalescer| coalescer.join(this, key, query));
        lookup.await
    }

    fn join<F, Fut>(&self, this: &'static LocalKey<Self>, key: K, query: F) -> Lookup<V>
    where
        F: FnOnce() -> Fut + 'static,
        Fut: Future<Output = V> + 'static,
    {
        let mut slots = self.slots.borrow_mut();
        if slots.len() > self.sweep_above.get() {
            slots.retain(|_, slot| slot.is_alive());
            self.sweep_above.set(SWEEP_ABOVE.max(2 * slots.len()));
        }
        let slot = slots.entry(key.clone()).or_default();
        if let Some(queued) = slot.queued.as_ref().and_then(|(_, weak)| weak.upgrade()) {
            return queued;
        }
        let running = slot.running.as_ref().and_then(|(_, weak)| weak.upgrade());
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        let lookup = async move {
            if let Some(running) = running {
                // Its answer may predate this query's callers: wait for it to end.
                running.await;
            }
            this.with(|coalescer| coalescer.started(&key, id));
            let value = query().await;
            this.with(|coalescer| coalescer.finished(&key, id));
            value
        }
        .boxed_local()
        .shared();
        slot.queued = lookup.downgrade().map(|weak| (id, weak));
        lookup
    }

    /// The queued query `id` starts: from now on, arriving callers queue a new one.
    fn started(&self, key: &K, id: u64) {
        if let Some(slot) = self.slots.borrow_mut().get_mut(key)
            && slot
                .queued
                .as_ref()
                .is_some_and(|(queued, _)| *queued == id)
        {
            slot.running = slot.queued.take();
        }
    }

    /// The running query `id` has its answer.
    fn finished(&self, key: &K, id: u64) {
        let mut slots = self.slots.borrow_mut();
        if let Some(slot) = slots.get_mut(key) {
            if slot
                .running
                .as_ref()
                .is_some_and(|(running, _)| *running == id)
            {
                slot.running = None;
            }
            if slot.running.is_none() && slot.queued.is_none() {
                slots.remove(key);
            }
        }
    }

    /// How many keys have a query running or queued (for tests).
    #[cfg(test)]
    fn keys(&self) -> usize {
        self.slots.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use tokio::sync::oneshot;

    use super::*;

    thread_local! {
        static LOOKUPS: Coalescer<&'static str, u32> = Coalescer::default();
    }

    /// A query that counts its calls and answers what `gate` sends.
    fn gated(calls: &Rc<Cell<u32>>) -> (oneshot::Sender<u32>, impl Future<Output = u32> + 'static) {
        let (tx, rx) = oneshot::channel();
        let calls = calls.clone();
        let query = async move {
            calls.set(calls.get() + 1);
            rx.await.unwrap_or(0)
        };
        (tx, query)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn callers_share_a_query_but_never_one_that_began_before_them() {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let calls = Rc::new(Cell::new(0));
                let (first_gate, first_query) = gated(&calls);
                let (second_gate, second_query) = gated(&calls);

                // The first caller starts a query.
                let a = tokio::task::spawn_local(Coalescer::get(&LOOKUPS, "k", || first_query));
                tokio::task::yield_now().await;
                assert_eq!(calls.get(), 1, "the first query has started");

                // Two arrive while it runs: they must not get its answer, and share the next.
                let b = tokio::task::spawn_local(Coalescer::get(&LOOKUPS, "k", || second_query));
                let c = tokio::task::spawn_local(Coalescer::get(&LOOKUPS, "k", || async { 99 }));
                tokio::task::yield_now().await;
                assert_eq!(calls.get(), 1, "the next query waits for the running one");

                first_gate.send(1).unwrap_or_default();
                assert_eq!(a.await.unwrap_or_default(), 1);
                tokio::task::yield_now().await;
                assert_eq!(
                    calls.get(),
                    2,
                    "the queued query starts once the first has ended"
                );
                second_gate.send(2).unwrap_or_default();
                assert_eq!(b.await.unwrap_or_default(), 2);
                assert_eq!(
                    c.await.unwrap_or_default(),
                    2,
                    "the later caller joined the queued query"
                );
                assert_eq!(
                    LOOKUPS.with(Coalescer::keys),
                    0,
                    "finished keys are forgotten"
                );

                // Other keys never wait for each other.
                let e = Coalescer::get(&LOOKUPS, "other", || async { 7 }).await;
                assert_eq!(e, 7);
            })
            .await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_query_whose_callers_went_away_does_not_hold_up_the_key() {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let calls = Rc::new(Cell::new(0));
                let (_never, stuck) = gated(&calls);
                let abandoned =
                    tokio::task::spawn_local(Coalescer::get(&LOOKUPS, "gone", || stuck));
                tokio::task::yield_now().await;
                abandoned.abort();
                let _ = abandoned.await;
                // The running query was dropped with its only caller: the next one runs at once.
                let value = Coalescer::get(&LOOKUPS, "gone", || async { 5 }).await;
                assert_eq!(value, 5);
            })
            .await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn keys_whose_callers_all_went_away_are_swept() {
        thread_local! {
            static SWEPT: Coalescer<usize, u32> = Coalescer::default();
        }
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let mut gates = Vec::new();
                let mut callers = Vec::new();
                for key in 0..=SWEEP_ABOVE {
                    let (gate, answer) = oneshot::channel::<u32>();
                    gates.push(gate);
                    callers.push(tokio::task::spawn_local(Coalescer::get(
                        &SWEPT,
                        key,
                        move || async move { answer.await.unwrap_or(0) },
                    )));
                }
                // The local set polls a bounded number of tasks per turn: let them all start.
                for _ in 0..1000 {
                    if SWEPT.with(Coalescer::keys) > SWEEP_ABOVE {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                for caller in &callers {
                    caller.abort();
                }
                for caller in callers {
                    let _ = caller.await;
                }
                assert_eq!(SWEPT.with(Coalescer::keys), SWEEP_ABOVE + 1);
                assert_eq!(Coalescer::get(&SWEPT, usize::MAX, || async { 3 }).await, 3);
                assert_eq!(
                    SWEPT.with(Coalescer::keys),
                    0,
                    "the abandoned keys were swept"
                );
            })
            .await;
    }
}
