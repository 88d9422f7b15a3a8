//! Annexa's sea-orm entities, one module per table; ids are UUID v7 text, times UTC.

pub mod audit_event;
pub mod control;
pub mod control_evidence;
pub mod evidence;
pub mod evidence_blob;
pub mod finding;
pub mod finding_control;
pub mod framework;
pub mod idempotency_key;
pub mod login_throttle;
pub mod mapping;
pub mod membership;
pub mod organization;
pub mod organization_framework;
pub mod readiness_snapshot;
pub mod refresh_token;
pub mod requirement;
pub mod requirement_attribute;
pub mod revoked_token;
pub mod service_account;
pub mod setting;
pub mod user;
