//! Every hand-written SQL statement and every SQLite/PostgreSQL difference, one module per
//! resource: services call these typed functions and never format SQL.

pub mod assets;
pub mod audit;
pub mod authn;
pub mod backup;
pub mod catalog;
pub mod counters;
pub mod db;
pub mod organizations;
pub mod readiness;
pub mod sql;
pub mod stats;
pub mod webhooks;
