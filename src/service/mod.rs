//! Use cases: authorization decisions, transactions, validation by the domain rules, reads and
//! writes through sea-orm and the store, and the recording of every change.

pub mod assets;
pub mod audit;
pub mod authn;
pub mod authz;
pub mod backup;
pub mod batch;
pub mod catalog;
pub mod changes;
pub mod controls;
pub mod evidence;
pub mod findings;
pub mod idempotency;
pub mod identity;
pub mod members_check;
pub mod page;
pub mod readiness;
pub mod risk_templates;
pub mod risks;
pub mod stats;
pub mod suppliers;
pub mod tokens;
pub mod version;
pub mod webhook_worker;
pub mod webhooks;
