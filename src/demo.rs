//! A realistic dataset for demos and benchmarks, created through the service layer (the same
//! code paths as the API): an organization with frameworks, members, control statuses,
//! exclusions, evidence in every review state and findings of every type and status.

use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};

use crate::{
    auth::password,
    domain::principal::{Principal, Subject},
    domain::{
        control::{ControlKind, ControlStatus},
        evidence::{EvidenceKind, ReviewDecision},
        finding::{FindingSource, FindingStatus, FindingType},
        role::Role,
    },
    error::{AppError, Result},
    service::{
        controls::{self, ControlPatch},
        evidence::{self, NewEvidence},
        findings::{self, ExternalRef, FindingPatch, NewFinding},
        identity::{self, NewUser, UserRef},
    },
    store::db,
};

/// How big an organization to create.
#[derive(Debug, Clone)]
pub struct SeedSpec {
    pub frameworks: Vec<String>,
    pub evidence: usize,
    pub findings: usize,
}

impl SeedSpec {
    /// All three shipped frameworks, 5,000 evidence items and 1,000 findings, times `scale`.
    pub fn standard(scale: usize) -> Self {
        Self {
            frameworks: vec![
                "iso27001-2022".into(),
                "iso42001-2023".into(),
                "ai-audit-checklist".into(),
            ],
            evidence: 5_000 * scale,
            findings: 1_000 * scale,
        }
    }
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

fn user_principal(user: &entity::user::Model) -> Principal {
    Principal {
        subject: Subject::User {
            id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            is_platform_admin: user.is_platform_admin,
        },
        jti: String::new(),
        request_id: None,
        org_access: None,
    }
}

async fn new_user(
    db_conn: &DatabaseConnection,
    email: &str,
    password_hash: &str,
    platform_admin: bool,
) -> Result<entity::user::Model> {
    let txn = db::begin_write(db_conn).await?;
    let user = identity::insert_user(
        &txn,
        "system:seed",
        None,
        NewUser {
            email: email.to_owned(),
            name: email.to_owned(),
            password_hash: password_hash.to_owned(),
            is_platform_admin: platform_admin,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// Creates one organization per `spec`; `password` is every seeded user's password.
pub async fn seed_organization(
    db_conn: &DatabaseConnection,
    name: &str,
    spec: &SeedSpec,
    password_text: &str,
    seed: u64,
) -> Result<SeededOrg> {
    let mut rng = StdRng::seed_from_u64(seed);
    let hash = password::hash(password_text).await?;
    let tag = db::new_id();
    let admin = new_user(db_conn, &format!("admin-{tag}@seed.example"), &hash, true).await?;
    let editor = new_user(db_conn, &format!("editor-{tag}@seed.example"), &hash, false).await?;
    let auditor = new_user(
        db_conn,
        &format!("auditor-{tag}@seed.example"),
        &hash,
        false,
    )
    .await?;
    let (admin_p, editor_p, auditor_p) = (
        user_principal(&admin),
        user_principal(&editor),
        user_principal(&auditor),
    );

    let txn = db::begin_write(db_conn).await?;
    let org = identity::create_organization(&txn, &admin_p, name).await?;
    identity::add_member(
        &txn,
        &admin_p,
        &org.id,
        UserRef::Id(admin.id.clone()),
        Role::Admin,
    )
    .await?;
    identity::add_member(
        &txn,
        &admin_p,
        &org.id,
        UserRef::Id(editor.id.clone()),
        Role::Editor,
    )
    .await?;
    identity::add_member(
        &txn,
        &admin_p,
        &org.id,
        UserRef::Id(auditor.id.clone()),
        Role::Auditor,
    )
    .await?;
    for key in &spec.frameworks {
        controls::adopt_in(&txn, &admin_p, &org.id, key).await?;
    }
    txn.commit().await?;

    let all_controls = entity::control::Entity::find()
        .filter(entity::control::Column::OrganizationId.eq(org.id.as_str()))
        .order_by_asc(entity::control::Column::Id)
        .all(db_conn)
        .await?;
    for c in &all_controls {
        let roll: f64 = rng.r#gen();
        let status = match roll {
            r if r < 0.45 => ControlStatus::Implemented,
            r if r < 0.65 => ControlStatus::InProgress,
            r if r < 0.80 => ControlStatus::Planned,
            _ => ControlStatus::NotStarted,
        };
        let exclude = c.kind != ControlKind::Clause.as_str() && rng.gen_bool(0.03);
        let patch = ControlPatch {
            status: Some(status),
            applicable: exclude.then_some(false),
            justification: exclude
                .then(|| Some("Out of scope for this organization (seeded)".to_owned())),
            owner: Some(Some(format!("owner{}@seed.example", rng.gen_range(1..=12)))),
            ..Default::default()
        };
        controls::update(db_conn, &editor_p, &org.id, &c.id, None, patch).await?;
    }
    let control_ids: Vec<String> = all_controls.iter().map(|c| c.id.clone()).collect();
    let pick = |rng: &mut StdRng, n: usize| -> Vec<String> {
        (0..n)
            .map(|_| control_ids[rng.gen_range(0..control_ids.len())].clone())
            .collect()
    };

    let now = chrono::Utc::now();
    let kinds = [
        EvidenceKind::Document,
        EvidenceKind::Screenshot,
        EvidenceKind::Log,
        EvidenceKind::Configuration,
        EvidenceKind::Report,
        EvidenceKind::Attestation,
    ];
    let mut to_review = Vec::new();
    for batch in 0..spec.evidence.div_ceil(500) {
        let txn = db::begin_write(db_conn).await?;
        for i in (batch * 500)..((batch + 1) * 500).min(spec.evidence) {
            let validity: f64 = rng.r#gen();
            let valid_until = match validity {
                v if v < 0.15 => Some(now - chrono::Duration::days(rng.gen_range(1..400))),
                v if v < 0.25 => Some(now + chrono::Duration::days(rng.gen_range(1..30))),
                v if v < 0.60 => Some(now + chrono::Duration::days(rng.gen_range(30..700))),
                _ => None,
            };
            let links = rng.gen_range(1..=3);
            let view = evidence::create(
                &txn,
                &editor_p,
                &org.id,
                NewEvidence {
                    title: format!("Seeded evidence #{i}"),
                    description: Some(
                        "Exported from the system of record by the seeding tool.".to_owned(),
                    ),
                    kind: kinds[rng.gen_range(0..kinds.len())],
                    url: None,
                    collected_at: Some(
                        valid_until.unwrap_or(now).min(now)
                            - chrono::Duration::days(rng.gen_range(1..365)),
                    ),
                    valid_until,
                    control_ids: pick(&mut rng, links),
                },
            )
            .await?;
            let decision: f64 = rng.r#gen();
            if decision < 0.70 {
                to_review.push((view.evidence.id, ReviewDecision::Accepted));
            } else if decision < 0.80 {
                to_review.push((view.evidence.id, ReviewDecision::Rejected));
            }
        }
        txn.commit().await?;
    }
    for (id, decision) in to_review {
        evidence::review(
            db_conn,
            &auditor_p,
            &org.id,
            &id,
            decision,
            Some("Checked against the source system".to_owned()),
        )
        .await?;
    }

    let types = [
        (FindingType::MajorNonconformity, 0.05),
        (FindingType::MinorNonconformity, 0.35),
        (FindingType::Observation, 0.75),
        (FindingType::OpportunityForImprovement, 1.0),
    ];
    let mut to_move = Vec::new();
    for batch in 0..spec.findings.div_ceil(250) {
        let txn = db::begin_write(db_conn).await?;
        for i in (batch * 250)..((batch + 1) * 250).min(spec.findings) {
            let roll: f64 = rng.r#gen();
            let finding_type = types
                .iter()
                .find(|(_, p)| roll < *p)
                .map_or(FindingType::Observation, |(t, _)| *t);
            let links = rng.gen_range(1..=2);
            let view = findings::create(
                &txn,
                &auditor_p,
                &org.id,
                NewFinding {
                    title: format!("Seeded finding #{i}"),
                    description: Some("Raised by the seeding tool.".to_owned()),
                    finding_type,
                    source: FindingSource::InternalAudit,
                    control_ids: pick(&mut rng, links),
                    owner: Some("owner@seed.example".to_owned()),
                    due_date: Some(
                        (now + chrono::Duration::days(rng.gen_range(-60..120))).date_naive(),
                    ),
                    root_cause: None,
                    corrective_action: None,
                    external_ref: Some(ExternalRef {
                        system: "jira".to_owned(),
                        key: format!("SEED-{i}"),
                        url: None,
                        status: Some("To Do".to_owned()),
                    }),
                },
            )
            .await?;
            to_move.push(view.finding.id);
        }
        txn.commit().await?;
    }
    for id in to_move {
        let roll: f64 = rng.r#gen();
        let path: &[(FindingStatus, &Principal)] = match roll {
            r if r < 0.40 => &[],
            r if r < 0.60 => &[(FindingStatus::InProgress, &editor_p)],
            r if r < 0.75 => &[(FindingStatus::Resolved, &editor_p)],
            _ => &[
                (FindingStatus::Resolved, &editor_p),
                (FindingStatus::Closed, &auditor_p),
            ],
        };
        for (status, who) in path {
            let patch = FindingPatch {
                status: Some(*status),
                ..Default::default()
            };
            findings::update(db_conn, who, &org.id, &id, None, patch).await?;
        }
    }
    if control_ids.is_empty() {
        return Err(AppError::internal("no controls were created"));
    }
    // Fresh planner statistics, as a database in service would have.
    db_conn.execute_unprepared("ANALYZE").await?;
    Ok(SeededOrg {
        org_id: org.id,
        admin_user_id: admin.id,
        editor_user_id: editor.id,
        editor_email: editor.email,
        auditor_user_id: auditor.id,
        auditor_email: auditor.email,
        control_ids,
    })
}
