//! Integration tests: the real server on 127.0.0.1:0, a fresh database per test (SQLite, or
//! PostgreSQL when `ANNEXA_TEST_DATABASE_URL` is set), talking HTTP with reqwest.

// Tests may panic on broken expectations: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod architecture;
mod assets;
mod audit_chain;
mod authz;
mod backup;
mod bom;
mod catalog;
mod controls;
mod demo;
mod durability;
mod evidence;
mod findings;
mod foundation;
mod helpers;
mod identity;
mod key_rotation;
mod openapi;
mod rate_limits;
mod readiness;
mod risk_readiness;
mod risk_templates;
mod risks;
mod supplier_readiness;
mod suppliers;
mod webhooks;
