//! The one cache of values computed from an organization's data (control stats, readiness
//! reports, rendered pages), served while the organization's data version is unchanged and the
//! value's expiry has not passed, within one byte budget.
//!
//! Every change to an organization's data moves its data version in the change's own
//! transaction (ARCHITECTURE.md), and a reader passes the version it has just read: a replica
//! never serves a value older than that. An organization's values all belong to one version;
//! storing a newer one drops the older ones. Over the budget, the least recently used values go
//! first; a value over a quarter of the budget is not kept; a budget of 0 keeps nothing.

use std::{
    any::Any,
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use chrono::{DateTime, Utc};

/// A value the cache can hold. Each type has its own namespace, so keys of different types
/// never meet.
pub trait Cached: Any + Send + Sync {
    /// The namespace of this type's keys.
    const NAMESPACE: &'static str;

    /// About how many bytes the value holds (counted against the budget).
    fn weight(&self) -> usize;
}

/// Bookkeeping counted per entry besides its value and key.
const ENTRY_OVERHEAD: usize = 128;

struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    fresh_until: DateTime<Utc>,
    last_used: u64,
    size: usize,
}

/// One organization's values, all of one data version.
struct OrgEntries {
    data_version: i64,
    /// By namespace, then key (a lookup by `&str` allocates nothing).
    entries: HashMap<&'static str, HashMap<String, Entry>>,
}

#[derive(Default)]
struct Inner {
    orgs: HashMap<String, OrgEntries>,
    bytes: usize,
    clock: u64,
}

/// Values per organization and data version (see the module documentation). Shared by all
/// workers.
pub struct Cache {
    budget: usize,
    inner: Mutex<Inner>,
    /// One computation per namespace at a time: concurrent misses wait for it and then find
    /// its value, instead of all computing the same thing.
    computing: Mutex<HashMap<&'static str, Arc<tokio::sync::Mutex<()>>>>,
}

impl Cache {
    /// A cache holding at most `budget` bytes (0 keeps nothing).
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            inner: Mutex::default(),
            computing: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value stored under `key` for the organization at `data_version`, if still true at `now`.
    pub fn get<V: Cached>(
        &self,
        org_id: &str,
        key: &str,
        data_version: i64,
        now: DateTime<Utc>,
    ) -> Option<Arc<V>> {
        let mut inner = self.lock();
        let inner = &mut *inner;
        inner.clock += 1;
        let org = inner.orgs.get_mut(org_id)?;
        if org.data_version != data_version {
            return None;
        }
        let entries = org.entries.get_mut(V::NAMESPACE)?;
        let entry = entries.get_mut(key)?;
        if now >= entry.fresh_until {
            let size = entry.size;
            entries.remove(key);
            inner.bytes -= size;
            return None;
        }
        entry.last_used = inner.clock;
        Arc::clone(&entry.value).downcast::<V>().ok()
    }

    /// Stores a value computed from data at `data_version`, true until `fresh_until`. A value of
    /// an older data version than the organization's newest stored one is dropped; a newer one
    /// drops the organization's older values.
    pub fn put<V: Cached>(
        &self,
        org_id: &str,
        key: &str,
        data_version: i64,
        fresh_until: DateTime<Utc>,
        value: Arc<V>,
    ) {
        let size = value.weight() + key.len() + org_id.len() + ENTRY_OVERHEAD;
        if size > self.budget / 4 {
            return;
        }
        let mut inner = self.lock();
        let inner = &mut *inner;
        inner.clock += 1;
        let org = inner
            .orgs
            .entry(org_id.to_owned())
            .or_insert_with(|| OrgEntries {
                data_version,
                entries: HashMap::new(),
            });
        if data_version < org.data_version {
            return;
        }
        if data_version > org.data_version {
            inner.bytes -= org
                .entries
                .values()
                .flatten()
                .map(|(_, e)| e.size)
                .sum::<usize>();
            org.entries.clear();
            org.data_version = data_version;
        }
        let entry = Entry {
            value,
            fresh_until,
            last_used: inner.clock,
            size,
        };
        let entries = org.entries.entry(V::NAMESPACE).or_default();
        if let Some(old) = entries.insert(key.to_owned(), entry) {
            inner.bytes -= old.size;
        }
        inner.bytes += size;
        while inner.bytes > self.budget {
            inner.evict_least_recently_used();
        }
    }

    /// The stored value when it still holds, else the one `compute` makes (with the time it
    /// stops being true), stored. Concurrent misses of one namespace wait for each other.
    pub async fn get_or_compute<V: Cached, E>(
        &self,
        org_id: &str,
        key: &str,
        data_version: i64,
        compute: impl AsyncFnOnce() -> Result<(V, DateTime<Utc>), E>,
    ) -> Result<Arc<V>, E> {
        if let Some(hit) = self.get(org_id, key, data_version, Utc::now()) {
            return Ok(hit);
        }
        let turn = {
            let mut computing = self
                .computing
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            Arc::clone(computing.entry(V::NAMESPACE).or_default())
        };
        let _turn = turn.lock().await;
        if let Some(hit) = self.get(org_id, key, data_version, Utc::now()) {
            return Ok(hit);
        }
        let (value, fresh_until) = compute().await?;
        let value = Arc::new(value);
        self.put(org_id, key, data_version, fresh_until, Arc::clone(&value));
        Ok(value)
    }

    /// Bytes held (for tests and diagnostics).
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

impl Inner {
    fn evict_least_recently_used(&mut self) {
        let oldest = self
            .orgs
            .iter()
            .flat_map(|(org, values)| {
                values.entries.iter().flat_map(move |(namespace, entries)| {
                    entries
                        .iter()
                        .map(move |(key, entry)| (entry.last_used, org, *namespace, key))
                })
            })
            .min_by_key(|(used, ..)| *used)
            .map(|(_, org, namespace, key)| (org.clone(), namespace, key.clone()));
        let Some((org_id, namespace, key)) = oldest else {
            self.bytes = 0;
            return;
        };
        if let Some(org) = self.orgs.get_mut(&org_id) {
            if let Some(entries) = org.entries.get_mut(namespace) {
                if let Some(entry) = entries.remove(&key) {
                    self.bytes -= entry.size;
                }
                if entries.is_empty() {
                    org.entries.remove(namespace);
                }
            }
            if org.entries.is_empty() {
                self.orgs.remove(&org_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Text(String);

    impl Cached for Text {
        const NAMESPACE: &'static str = "text";
        fn weight(&self) -> usize {
            self.0.len()
        }
    }

    #[derive(Debug, PartialEq)]
    struct Number(u32);

    impl Cached for Number {
        const NAMESPACE: &'static str = "number";
        fn weight(&self) -> usize {
            4
        }
    }

    fn text(value: &str) -> Arc<Text> {
        Arc::new(Text(value.to_owned()))
    }

    fn later(seconds: i64) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(seconds)
    }

    fn size(key: &str, value: &str) -> usize {
        value.len() + key.len() + "org".len() + ENTRY_OVERHEAD
    }

    const BUDGET: usize = 1 << 20;

    #[test]
    fn serves_a_value_only_at_its_data_version_and_before_it_expires() {
        let cache = Cache::new(BUDGET);
        let now = Utc::now();
        cache.put("org", "limit=5", 3, later(60), text("a"));
        assert_eq!(cache.get::<Text>("org", "limit=5", 3, now), Some(text("a")));
        assert_eq!(
            cache.get::<Text>("org", "limit=5", 4, now),
            None,
            "newer data"
        );
        assert_eq!(
            cache.get::<Text>("org", "limit=6", 3, now),
            None,
            "another key"
        );
        assert_eq!(
            cache.get::<Text>("other", "limit=5", 3, now),
            None,
            "another org"
        );
        assert_eq!(
            cache.get::<Number>("org", "limit=5", 3, now),
            None,
            "another type"
        );
        assert_eq!(
            cache.get::<Text>("org", "limit=5", 3, later(61)),
            None,
            "expired"
        );
        assert_eq!(
            cache.get::<Text>("org", "limit=5", 3, now),
            None,
            "dropped once expired"
        );
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn types_share_the_key_space_of_an_organization_without_meeting() {
        let cache = Cache::new(BUDGET);
        let now = Utc::now();
        cache.put("org", "k", 1, later(60), text("a"));
        cache.put("org", "k", 1, later(60), Arc::new(Number(7)));
        assert_eq!(cache.get::<Text>("org", "k", 1, now), Some(text("a")));
        assert_eq!(
            cache.get::<Number>("org", "k", 1, now),
            Some(Arc::new(Number(7)))
        );
    }

    #[test]
    fn newer_data_replaces_older_values_and_older_never_overwrites_newer() {
        let cache = Cache::new(BUDGET);
        let now = Utc::now();
        cache.put("org", "a", 3, later(60), text("old a"));
        cache.put("org", "b", 3, later(60), text("old b"));
        cache.put("org", "a", 4, later(60), text("new a"));
        assert_eq!(cache.get::<Text>("org", "b", 3, now), None);
        cache.put("org", "b", 3, later(60), text("late old b"));
        assert_eq!(cache.get::<Text>("org", "b", 3, now), None);
        assert_eq!(cache.get::<Text>("org", "a", 4, now), Some(text("new a")));
        assert_eq!(cache.bytes(), size("a", "new a"));
    }

    #[test]
    fn stays_within_its_budget_evicting_the_least_recently_used() {
        let body = "x".repeat(100);
        let budget = size("k0", &body) * 4 + 10;
        let cache = Cache::new(budget);
        let now = Utc::now();
        for i in 0..4 {
            cache.put("org", &format!("k{i}"), 1, later(60), text(&body));
        }
        assert!(
            cache.get::<Text>("org", "k0", 1, now).is_some(),
            "k1 is now the oldest"
        );
        cache.put("org", "k4", 1, later(60), text(&body));
        assert!(cache.bytes() <= budget);
        assert!(cache.get::<Text>("org", "k1", 1, now).is_none(), "evicted");
        for key in ["k0", "k2", "k3", "k4"] {
            assert!(
                cache.get::<Text>("org", key, 1, now).is_some(),
                "{key} kept"
            );
        }
        let small = Cache::new(100);
        small.put("org", "k", 1, later(60), text(&body));
        assert_eq!(
            small.bytes(),
            0,
            "a value over a quarter of the budget is not kept"
        );
        let off = Cache::new(0);
        off.put("org", "k", 1, later(60), text("a"));
        assert_eq!(
            off.get::<Text>("org", "k", 1, now),
            None,
            "a budget of 0 keeps nothing"
        );
    }

    #[actix_web::test]
    async fn computes_a_missing_value_once_and_serves_it_after() {
        let cache = Cache::new(BUDGET);
        let computed = std::cell::Cell::new(0);
        for _ in 0..2 {
            let value = cache
                .get_or_compute("org", "k", 1, async || {
                    computed.set(computed.get() + 1);
                    Ok::<_, ()>((Number(5), later(60)))
                })
                .await;
            assert_eq!(value, Ok(Arc::new(Number(5))));
        }
        assert_eq!(computed.get(), 1);
        let failed = cache
            .get_or_compute::<Number, _>("org", "other", 1, async || Err("no"))
            .await;
        assert_eq!(failed, Err("no"));
        assert_eq!(cache.get::<Number>("org", "other", 1, Utc::now()), None);
    }
}
