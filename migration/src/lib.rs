//! Annexa's database migrations: one module per step, the same history for SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_foundation;
mod m20261126_000002_identity;
mod m20261126_000003_catalog;
mod m20261126_000004_controls;
mod m20261126_000005_readiness;
mod m20261126_000006_webhooks;
mod m20261126_000007_link_facts;
mod m20261126_000008_organization_versions;
mod m20261126_000009_audit_moves_version;
mod m20261204_000010_risk_register;
mod m20261204_000011_audit_chain;
mod m20261204_000012_suppliers;

/// The ordered list of migrations applied by `annexa migrate` and at `serve` start-up.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_foundation::Migration),
            Box::new(m20261126_000002_identity::Migration),
            Box::new(m20261126_000003_catalog::Migration),
            Box::new(m20261126_000004_controls::Migration),
            Box::new(m20261126_000005_readiness::Migration),
            Box::new(m20261126_000006_webhooks::Migration),
            Box::new(m20261126_000007_link_facts::Migration),
            Box::new(m20261126_000008_organization_versions::Migration),
            Box::new(m20261126_000009_audit_moves_version::Migration),
            Box::new(m20261204_000010_risk_register::Migration),
            Box::new(m20261204_000011_audit_chain::Migration),
            Box::new(m20261204_000012_suppliers::Migration),
        ]
    }
}
