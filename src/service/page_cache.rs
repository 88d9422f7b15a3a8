//! Rendered list pages of an organization, served again while its data version and clock hold.
//!
//! A page is keyed by organization, list and query string, and stored with the organization's
//! data version (read with the request's principal) and the time it stops being true (the next
//! evidence expiry, at most [`crate::service::stats`]' maximum age). Every change to the
//! organization's data moves its data version, in the change's own transaction, so a replica
//! never serves a page older than the data version it has just read. Memory is bounded by a byte
//! budget; the least recently used pages go first.

use std::{collections::HashMap, sync::Mutex};

use bytes::Bytes;
use chrono::{DateTime, Utc};

/// The default budget: 8 MiB, about 128 pages of 100 controls.
pub const DEFAULT_BUDGET_BYTES: usize = 8 << 20;

/// Bookkeeping counted per page besides its body, link and key.
const ENTRY_OVERHEAD: usize = 128;

/// A rendered page: its JSON body and its `Link` header, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPage {
    pub body: Bytes,
    pub link: Option<String>,
}

impl CachedPage {
    fn size(&self, key: &str) -> usize {
        self.body.len() + self.link.as_ref().map_or(0, String::len) + key.len() + ENTRY_OVERHEAD
    }
}

struct Entry {
    page: CachedPage,
    fresh_until: DateTime<Utc>,
    last_used: u64,
    size: usize,
}

/// One organization's pages, all of one data version.
struct OrgPages {
    data_version: i64,
    pages: HashMap<String, Entry>,
}

struct Inner {
    orgs: HashMap<String, OrgPages>,
    bytes: usize,
    clock: u64,
}

/// Rendered pages per organization (see the module documentation).
pub struct PageCache {
    budget: usize,
    inner: Mutex<Inner>,
}

impl Default for PageCache {
    fn default() -> Self {
        Self::new(DEFAULT_BUDGET_BYTES)
    }
}

impl PageCache {
    /// A cache holding at most `budget` bytes of pages (0 disables it).
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            inner: Mutex::new(Inner {
                orgs: HashMap::new(),
                bytes: 0,
                clock: 0,
            }),
        }
    }

    /// The page stored under `key` for the organization at `data_version`, if still true at `now`.
    pub fn get(
        &self,
        org_id: &str,
        key: &str,
        data_version: i64,
        now: DateTime<Utc>,
    ) -> Option<CachedPage> {
        let mut inner = self.inner.lock().ok()?;
        let inner = &mut *inner;
        inner.clock += 1;
        let org = inner.orgs.get_mut(org_id)?;
        if org.data_version != data_version {
            return None;
        }
        let entry = org.pages.get_mut(key)?;
        if now >= entry.fresh_until {
            let size = entry.size;
            org.pages.remove(key);
            inner.bytes -= size;
            return None;
        }
        entry.last_used = inner.clock;
        Some(entry.page.clone())
    }

    /// Stores a page rendered from data at `data_version`, true until `fresh_until`. A page of an
    /// older data version than the organization's newest stored one is dropped; a newer one
    /// drops the organization's older pages.
    pub fn put(
        &self,
        org_id: &str,
        key: &str,
        data_version: i64,
        fresh_until: DateTime<Utc>,
        page: CachedPage,
    ) {
        let size = page.size(key) + org_id.len();
        if size > self.budget / 4 {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let inner = &mut *inner;
        inner.clock += 1;
        let org = inner
            .orgs
            .entry(org_id.to_owned())
            .or_insert_with(|| OrgPages {
                data_version,
                pages: HashMap::new(),
            });
        if data_version < org.data_version {
            return;
        }
        if data_version > org.data_version {
            inner.bytes -= org.pages.values().map(|e| e.size).sum::<usize>();
            org.pages.clear();
            org.data_version = data_version;
        }
        let entry = Entry {
            page,
            fresh_until,
            last_used: inner.clock,
            size,
        };
        if let Some(old) = org.pages.insert(key.to_owned(), entry) {
            inner.bytes -= old.size;
        }
        inner.bytes += size;
        while inner.bytes > self.budget {
            inner.evict_least_recently_used();
        }
    }

    /// Bytes held (for tests and diagnostics).
    pub fn bytes(&self) -> usize {
        self.inner.lock().map_or(0, |inner| inner.bytes)
    }
}

impl Inner {
    fn evict_least_recently_used(&mut self) {
        let oldest = self
            .orgs
            .iter()
            .flat_map(|(org, pages)| {
                pages
                    .pages
                    .iter()
                    .map(move |(key, entry)| (entry.last_used, org, key))
            })
            .min_by_key(|(used, _, _)| *used)
            .map(|(_, org, key)| (org.clone(), key.clone()));
        let Some((org_id, key)) = oldest else {
            self.bytes = 0;
            return;
        };
        if let Some(org) = self.orgs.get_mut(&org_id) {
            if let Some(entry) = org.pages.remove(&key) {
                self.bytes -= entry.size;
            }
            if org.pages.is_empty() {
                self.orgs.remove(&org_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> CachedPage {
        CachedPage {
            body: Bytes::from(text.to_owned()),
            link: None,
        }
    }

    fn later(seconds: i64) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(seconds)
    }

    #[test]
    fn serves_a_page_only_at_its_data_version_and_before_it_expires() {
        let cache = PageCache::default();
        let now = Utc::now();
        cache.put("org", "limit=5", 3, later(60), page("a"));
        assert_eq!(cache.get("org", "limit=5", 3, now), Some(page("a")));
        assert_eq!(cache.get("org", "limit=5", 4, now), None, "newer data");
        assert_eq!(cache.get("org", "limit=6", 3, now), None, "another query");
        assert_eq!(cache.get("other", "limit=5", 3, now), None, "another org");
        assert_eq!(cache.get("org", "limit=5", 3, later(61)), None, "expired");
        assert_eq!(
            cache.get("org", "limit=5", 3, now),
            None,
            "dropped once expired"
        );
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn newer_data_replaces_older_pages_and_older_never_overwrites_newer() {
        let cache = PageCache::default();
        let now = Utc::now();
        cache.put("org", "a", 3, later(60), page("old a"));
        cache.put("org", "b", 3, later(60), page("old b"));
        cache.put("org", "a", 4, later(60), page("new a"));
        assert_eq!(cache.get("org", "b", 3, now), None);
        cache.put("org", "b", 3, later(60), page("late old b"));
        assert_eq!(cache.get("org", "b", 3, now), None);
        assert_eq!(cache.get("org", "a", 4, now), Some(page("new a")));
        assert_eq!(cache.bytes(), page("new a").size("a") + 3);
    }

    #[test]
    fn stays_within_its_budget_evicting_the_least_recently_used() {
        let body = "x".repeat(100);
        let size = page(&body).size("k0") + 3;
        let cache = PageCache::new(size * 4 + 10);
        let now = Utc::now();
        for i in 0..4 {
            cache.put("org", &format!("k{i}"), 1, later(60), page(&body));
        }
        assert!(
            cache.get("org", "k0", 1, now).is_some(),
            "k1 is now the oldest"
        );
        cache.put("org", "k4", 1, later(60), page(&body));
        assert!(cache.bytes() <= size * 4 + 10);
        assert!(cache.get("org", "k1", 1, now).is_none(), "evicted");
        for key in ["k0", "k2", "k3", "k4"] {
            assert!(cache.get("org", key, 1, now).is_some(), "{key} kept");
        }
        let huge = PageCache::new(100);
        huge.put("org", "k", 1, later(60), page(&body));
        assert_eq!(
            huge.bytes(),
            0,
            "a page over a quarter of the budget is not kept"
        );
    }
}
