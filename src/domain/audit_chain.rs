//! The audit trail's hash chain: an event's canonical form and hash, and the check of a chain
//! read in order (docs/audit-events.md, "The hash chain").

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::wire::wire_enum;

/// The `prev_hash` of a chain's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of one event that its hash covers, as stored.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub id: &'a str,
    pub organization_id: Option<&'a str>,
    pub chain_seq: i64,
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    /// The stored `changes` text (JSON).
    pub changes: &'a str,
    pub request_id: Option<&'a str>,
    pub prev_hash: &'a str,
}

/// `at` as the canonical form writes it: RFC 3339, UTC, exactly six fractional digits.
pub fn canonical_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The canonical form: a JSON object of the link's fields, keys sorted, no whitespace,
/// `changes` as canonical JSON too (text that is not JSON counts as a JSON string).
pub fn canonical(link: &Link<'_>) -> String {
    let changes = serde_json::from_str::<Value>(link.changes)
        .unwrap_or_else(|_| Value::String(link.changes.to_owned()));
    let text = |s: &str| Value::String(s.to_owned());
    let optional = |s: Option<&str>| s.map_or(Value::Null, text);
    let mut object = serde_json::Map::new();
    object.insert("action".into(), text(link.action));
    object.insert("actor".into(), text(link.actor));
    object.insert("at".into(), Value::String(canonical_time(link.at)));
    object.insert("chain_seq".into(), Value::from(link.chain_seq));
    object.insert("changes".into(), changes);
    object.insert("entity_id".into(), text(link.entity_id));
    object.insert("entity_type".into(), text(link.entity_type));
    object.insert("id".into(), text(link.id));
    object.insert("organization_id".into(), optional(link.organization_id));
    object.insert("prev_hash".into(), text(link.prev_hash));
    object.insert("request_id".into(), optional(link.request_id));
    canonical_json(&Value::Object(object))
}

/// JSON with every object's keys sorted (by code point) and no whitespace.
pub fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical_json(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", parts.join(","))
        }
        other => other.to_string(),
    }
}

/// SHA-256 (lowercase hex) of the link's canonical form.
pub fn hash(link: &Link<'_>) -> String {
    Sha256::digest(canonical(link).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

wire_enum! {
    /// Why a chain is broken at an event.
    BreakReason {
        /// The event's stored hash is not the hash of its fields: the row was edited.
        HashMismatch => "hash_mismatch",
        /// The position before this event is empty: an event was deleted.
        Missing => "missing",
        /// The event's `prev_hash` is not its predecessor's hash: an event was inserted or
        /// the events were reordered.
        PrevMismatch => "prev_mismatch",
    }
}

/// The first broken link of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub chain_seq: i64,
    pub event_id: String,
    pub reason: BreakReason,
}

/// One stored event as the check sees it: its link (with the stored `chain_seq` and
/// `prev_hash`) and its stored hash.
#[derive(Debug, Clone, Copy)]
pub struct Stored<'a> {
    pub link: Link<'a>,
    pub hash: &'a str,
}

/// A chain checked event by event, in `chain_seq` order.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    /// Events read.
    pub length: i64,
    /// The stored hash of the last event read.
    pub head_hash: Option<String>,
    /// The first broken link, if any.
    pub broken: Option<Break>,
}

impl Default for ChainCheck {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainCheck {
    /// An empty chain (which verifies).
    pub fn new() -> Self {
        Self {
            length: 0,
            head_hash: None,
            broken: None,
        }
    }

    /// Checks the next event. Once a link is broken, later events are only counted.
    pub fn push(&mut self, event: Stored<'_>) {
        let expected_seq = self.length + 1;
        let prev = self.head_hash.as_deref().unwrap_or(GENESIS);
        if self.broken.is_none() {
            let reason = if event.link.chain_seq > expected_seq {
                Some((expected_seq, BreakReason::Missing))
            } else if hash(&event.link) != event.hash {
                Some((event.link.chain_seq, BreakReason::HashMismatch))
            } else if event.link.chain_seq < expected_seq || event.link.prev_hash != prev {
                Some((event.link.chain_seq, BreakReason::PrevMismatch))
            } else {
                None
            };
            self.broken = reason.map(|(chain_seq, reason)| Break {
                chain_seq,
                event_id: event.link.id.to_owned(),
                reason,
            });
        }
        self.length = self.length.max(event.link.chain_seq).max(expected_seq);
        self.head_hash = Some(event.hash.to_owned());
    }

    /// Whether no link is broken.
    pub fn ok(&self) -> bool {
        self.broken.is_none()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn link<'a>(seq: i64, prev: &'a str, changes: &'a str) -> Link<'a> {
        Link {
            id: "0193a1b2-0000-7000-8000-000000000001",
            organization_id: Some("org"),
            chain_seq: seq,
            at: Utc
                .with_ymd_and_hms(2026, 12, 4, 10, 0, 0)
                .single()
                .unwrap_or_default(),
            actor: "user:1",
            action: "control.updated",
            entity_type: "control",
            entity_id: "c1",
            changes,
            request_id: None,
            prev_hash: prev,
        }
    }

    #[test]
    fn the_canonical_form_is_sorted_and_compact() {
        let l = link(
            1,
            GENESIS,
            r#"{"z": [1, "é"], "a": {"y": null, "b": true}}"#,
        );
        assert_eq!(
            canonical(&l),
            format!(
                "{{\"action\":\"control.updated\",\"actor\":\"user:1\",\
                 \"at\":\"2026-12-04T10:00:00.000000Z\",\"chain_seq\":1,\
                 \"changes\":{{\"a\":{{\"b\":true,\"y\":null}},\"z\":[1,\"é\"]}},\
                 \"entity_id\":\"c1\",\"entity_type\":\"control\",\
                 \"id\":\"0193a1b2-0000-7000-8000-000000000001\",\"organization_id\":\"org\",\
                 \"prev_hash\":\"{GENESIS}\",\"request_id\":null}}"
            )
        );
        assert_eq!(hash(&l).len(), 64);
    }

    #[test]
    fn a_chain_reports_its_first_broken_link() {
        let h1 = hash(&link(1, GENESIS, "{}"));
        let h2 = hash(&link(2, &h1, "{}"));
        let h3 = hash(&link(3, &h2, "{}"));
        let run = |events: &[(Link<'_>, &str)]| {
            let mut check = ChainCheck::new();
            for (l, h) in events {
                check.push(Stored { link: *l, hash: h });
            }
            check
        };
        let good = run(&[
            (link(1, GENESIS, "{}"), &h1),
            (link(2, &h1, "{}"), &h2),
            (link(3, &h2, "{}"), &h3),
        ]);
        assert!(good.ok());
        assert_eq!((good.length, good.head_hash.as_deref()), (3, Some(&*h3)));

        let reason = |check: ChainCheck| check.broken.map(|b| (b.chain_seq, b.reason));
        let edited = run(&[
            (link(1, GENESIS, "{\"x\":1}"), &h1),
            (link(2, &h1, "{}"), &h2),
        ]);
        assert_eq!(reason(edited), Some((1, BreakReason::HashMismatch)));
        let deleted = run(&[(link(1, GENESIS, "{}"), &h1), (link(3, &h2, "{}"), &h3)]);
        assert_eq!(reason(deleted), Some((2, BreakReason::Missing)));
        let forged_prev = hash(&link(2, GENESIS, "{}"));
        let inserted = run(&[
            (link(1, GENESIS, "{}"), &h1),
            (link(2, GENESIS, "{}"), &forged_prev),
        ]);
        assert_eq!(reason(inserted), Some((2, BreakReason::PrevMismatch)));
    }
}
