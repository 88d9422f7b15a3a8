//! A realistic dataset for demos and benchmarks, created through the service layer.
//!
//! The data goes through the same code paths as the API (validation, audit trail, data
//! versions), so what a demo shows or a benchmark measures is what a real organization would
//! have. Nothing here is on the request path: only `annexa demo`, the examples and the
//! benchmarks use it.

mod dataset;
mod naming;
mod register;
mod showcase;

use rand::{SeedableRng, rngs::StdRng};
use sea_orm::{ConnectionTrait, DatabaseConnection};

pub use naming::Naming;
pub use showcase::{
    DEMO_ORG_NAME, DEMO_PASSWORD, DEMO_USERS, Demo, base_url, ensure_demo, instructions,
};

use crate::{auth::password, error::Result, store::db};

/// How big an organization to create.
#[derive(Debug, Clone)]
pub struct SeedSpec {
    /// The frameworks adopted, by key.
    pub frameworks: Vec<String>,
    /// How many evidence items to create.
    pub evidence: usize,
    /// How many findings to raise.
    pub findings: usize,
    /// How many assets to register (the demo has a fixed inventory of at most eight).
    pub assets: usize,
    /// How many risks to register, from the shipped templates.
    pub risks: usize,
    /// How evidence and findings are titled (the titles draw nothing from the random seed).
    pub naming: Naming,
}

/// The three shipped frameworks.
fn all_frameworks() -> Vec<String> {
    vec![
        "iso27001-2022".into(),
        "iso42001-2023".into(),
        "ai-audit-checklist".into(),
    ]
}

impl SeedSpec {
    /// All three shipped frameworks, 5,000 evidence items, 1,000 findings, 200 assets and 100
    /// risks, times `scale`.
    pub fn standard(scale: usize) -> Self {
        Self {
            frameworks: all_frameworks(),
            evidence: 5_000 * scale,
            findings: 1_000 * scale,
            assets: 200 * scale,
            risks: 100 * scale,
            naming: Naming::Numbered,
        }
    }

    /// The size of `annexa demo`: all three frameworks, 40 evidence items, 15 findings, an AI
    /// inventory of 8 assets and 12 risks, few enough to read through by hand and seeded in a
    /// few seconds.
    pub fn demo() -> Self {
        Self {
            frameworks: all_frameworks(),
            evidence: 40,
            findings: 15,
            assets: 8,
            risks: 12,
            naming: Naming::AiCompany,
        }
    }
}

/// The emails of an organization's three seeded members.
#[derive(Debug, Clone, Copy)]
pub struct People<'a> {
    /// A platform admin (it creates the organization) and the organization's admin.
    pub admin: &'a str,
    /// An editor: sets control statuses, adds evidence, works on findings.
    pub editor: &'a str,
    /// An auditor: reviews evidence, raises and closes findings.
    pub auditor: &'a str,
}

/// What was created.
#[derive(Debug, Clone)]
pub struct SeededOrg {
    pub org_id: String,
    pub admin_user_id: String,
    pub editor_user_id: String,
    pub editor_email: String,
    pub auditor_user_id: String,
    pub auditor_email: String,
    pub control_ids: Vec<String>,
}

/// Creates one organization per `spec` with three new members (emails made unique with a fresh
/// tag, so that any number of organizations can be seeded in one database); `password_text` is
/// every seeded user's password and `seed` makes the data reproducible.
pub async fn seed_organization(
    db_conn: &DatabaseConnection,
    name: &str,
    spec: &SeedSpec,
    password_text: &str,
    seed: u64,
) -> Result<SeededOrg> {
    let tag = db::new_id();
    let emails = ["admin", "editor", "auditor"].map(|role| format!("{role}-{tag}@seed.example"));
    let people = People {
        admin: &emails[0],
        editor: &emails[1],
        auditor: &emails[2],
    };
    seed_organization_for(db_conn, name, spec, &people, password_text, seed).await
}

/// Creates one organization per `spec` whose members are `people` (users that already exist are
/// reused as they are, password included).
pub async fn seed_organization_for(
    db_conn: &DatabaseConnection,
    name: &str,
    spec: &SeedSpec,
    people: &People<'_>,
    password_text: &str,
    seed: u64,
) -> Result<SeededOrg> {
    let mut rng = StdRng::seed_from_u64(seed);
    let hash = password::hash(password_text).await?;
    let members = dataset::users(db_conn, people, &hash).await?;
    let org = dataset::organization(db_conn, &members, name, &spec.frameworks).await?;
    let control_ids = dataset::set_control_statuses(db_conn, &mut rng, &members, &org.id).await?;
    let now = chrono::Utc::now();
    let to_review = dataset::add_evidence(
        db_conn,
        &mut rng,
        &members,
        &org.id,
        &control_ids,
        spec,
        now,
    )
    .await?;
    dataset::review_evidence(db_conn, &members, &org.id, to_review).await?;
    let raised = dataset::raise_findings(
        db_conn,
        &mut rng,
        &members,
        &org.id,
        &control_ids,
        spec,
        now,
    )
    .await?;
    dataset::move_findings(db_conn, &mut rng, &members, &org.id, raised).await?;
    register::add_register(db_conn, &mut rng, &members, &org.id, spec, now.date_naive()).await?;
    // Fresh planner statistics, as a database in service would have.
    db_conn.execute_unprepared("ANALYZE").await?;
    Ok(SeededOrg {
        org_id: org.id,
        admin_user_id: members.admin.id,
        editor_user_id: members.editor.id,
        editor_email: members.editor.email,
        auditor_user_id: members.auditor.id,
        auditor_email: members.auditor.email,
        control_ids,
    })
}
