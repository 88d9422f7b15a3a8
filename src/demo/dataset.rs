//! The seeding steps: members, the organization and its frameworks, control statuses, evidence
//! and its reviews, findings and their progress. Each step draws from the same random generator
//! in a fixed order, so that a seed always yields the same data.

use rand::{Rng, rngs::StdRng};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::{People, SeedSpec};
use crate::{
    domain::{
        control::{ControlKind, ControlStatus},
        evidence::{EvidenceKind, ReviewDecision},
        finding::{FindingSource, FindingStatus, FindingType},
        principal::{Principal, Subject},
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

type Now = chrono::DateTime<chrono::Utc>;

/// Evidence items created per transaction.
const EVIDENCE_BATCH: usize = 500;
/// Findings raised per transaction.
const FINDING_BATCH: usize = 250;

/// A seeded member and the principal it acts as.
pub(super) struct Member {
    pub id: String,
    pub email: String,
    pub principal: Principal,
}

/// The organization's three seeded members.
pub(super) struct Members {
    pub admin: Member,
    pub editor: Member,
    pub auditor: Member,
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

/// The user with this email, created (with `password_hash`) when there is none.
async fn user(
    db_conn: &DatabaseConnection,
    email: &str,
    password_hash: &str,
    platform_admin: bool,
) -> Result<Member> {
    let existing = entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq(email))
        .one(db_conn)
        .await?;
    let user = match existing {
        Some(user) => user,
        None => {
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
            user
        }
    };
    Ok(Member {
        principal: user_principal(&user),
        id: user.id,
        email: user.email,
    })
}

/// The three members' users; the admin is a platform admin, as creating an organization needs.
pub(super) async fn users(
    db_conn: &DatabaseConnection,
    people: &People<'_>,
    password_hash: &str,
) -> Result<Members> {
    Ok(Members {
        admin: user(db_conn, people.admin, password_hash, true).await?,
        editor: user(db_conn, people.editor, password_hash, false).await?,
        auditor: user(db_conn, people.auditor, password_hash, false).await?,
    })
}

/// Creates the organization with its three members and adopts the frameworks, in one transaction.
pub(super) async fn organization(
    db_conn: &DatabaseConnection,
    members: &Members,
    name: &str,
    frameworks: &[String],
) -> Result<entity::organization::Model> {
    let admin = &members.admin.principal;
    let txn = db::begin_write(db_conn).await?;
    let org = identity::create_organization(&txn, admin, name).await?;
    for (member, role) in [
        (&members.admin, Role::Admin),
        (&members.editor, Role::Editor),
        (&members.auditor, Role::Auditor),
    ] {
        identity::add_member(&txn, admin, &org.id, UserRef::Id(member.id.clone()), role).await?;
    }
    for key in frameworks {
        controls::adopt_in(&txn, admin, &org.id, key).await?;
    }
    txn.commit().await?;
    Ok(org)
}

/// Gives every control of the organization a status and an owner (about 3% of the non-clause
/// controls excluded with a justification), as the editor; returns the control ids in id order.
pub(super) async fn set_control_statuses(
    db_conn: &DatabaseConnection,
    rng: &mut StdRng,
    members: &Members,
    org_id: &str,
) -> Result<Vec<String>> {
    let all_controls = entity::control::Entity::find()
        .filter(entity::control::Column::OrganizationId.eq(org_id))
        .order_by_asc(entity::control::Column::Id)
        .all(db_conn)
        .await?;
    if all_controls.is_empty() {
        return Err(AppError::internal("no controls were created"));
    }
    for c in &all_controls {
        let patch = control_patch(rng, c);
        controls::update(
            db_conn,
            &members.editor.principal,
            org_id,
            &c.id,
            None,
            patch,
        )
        .await?;
    }
    Ok(all_controls.into_iter().map(|c| c.id).collect())
}

/// A status drawn for one control: 45% implemented, 20% in progress, 15% planned, the rest not
/// started. Clauses are never excluded: ISO 27001 allows excluding Annex A controls only.
fn control_patch(rng: &mut StdRng, c: &entity::control::Model) -> ControlPatch {
    let roll: f64 = rng.r#gen();
    let status = match roll {
        r if r < 0.45 => ControlStatus::Implemented,
        r if r < 0.65 => ControlStatus::InProgress,
        r if r < 0.80 => ControlStatus::Planned,
        _ => ControlStatus::NotStarted,
    };
    let exclude = c.kind != ControlKind::Clause && rng.gen_bool(0.03);
    ControlPatch {
        status: Some(status),
        applicable: exclude.then_some(false),
        justification: exclude
            .then(|| Some("Out of scope for this organization (seeded)".to_owned())),
        owner: Some(Some(format!("owner{}@seed.example", rng.gen_range(1..=12)))),
        ..Default::default()
    }
}

/// `n` control ids drawn at random (repeats possible: the services ignore duplicate links).
fn pick(rng: &mut StdRng, control_ids: &[String], n: usize) -> Vec<String> {
    (0..n)
        .map(|_| control_ids[rng.gen_range(0..control_ids.len())].clone())
        .collect()
}

/// Creates the spec's evidence items as the editor, each linked to one to three controls; returns
/// the decisions the auditor will make (70% accepted, 10% rejected, the rest left pending).
pub(super) async fn add_evidence(
    db_conn: &DatabaseConnection,
    rng: &mut StdRng,
    members: &Members,
    org_id: &str,
    control_ids: &[String],
    spec: &SeedSpec,
    now: Now,
) -> Result<Vec<(String, ReviewDecision)>> {
    let (count, naming) = (spec.evidence, spec.naming);
    let mut to_review = Vec::new();
    for batch in 0..count.div_ceil(EVIDENCE_BATCH) {
        let txn = db::begin_write(db_conn).await?;
        for i in (batch * EVIDENCE_BATCH)..((batch + 1) * EVIDENCE_BATCH).min(count) {
            let new = new_evidence(rng, naming.evidence(i), control_ids, now);
            let view = evidence::create(&txn, &members.editor.principal, org_id, new).await?;
            let decision: f64 = rng.r#gen();
            if decision < 0.70 {
                to_review.push((view.evidence.id, ReviewDecision::Accepted));
            } else if decision < 0.80 {
                to_review.push((view.evidence.id, ReviewDecision::Rejected));
            }
        }
        txn.commit().await?;
    }
    Ok(to_review)
}

/// An evidence item of any kind; 15% expired, 10% expiring within a month, 35% valid for
/// longer, the rest without an end date.
fn new_evidence(rng: &mut StdRng, title: String, control_ids: &[String], now: Now) -> NewEvidence {
    const KINDS: [EvidenceKind; 6] = [
        EvidenceKind::Document,
        EvidenceKind::Screenshot,
        EvidenceKind::Log,
        EvidenceKind::Configuration,
        EvidenceKind::Report,
        EvidenceKind::Attestation,
    ];
    let validity: f64 = rng.r#gen();
    let valid_until = match validity {
        v if v < 0.15 => Some(now - chrono::Duration::days(rng.gen_range(1..400))),
        v if v < 0.25 => Some(now + chrono::Duration::days(rng.gen_range(1..30))),
        v if v < 0.60 => Some(now + chrono::Duration::days(rng.gen_range(30..700))),
        _ => None,
    };
    let links = rng.gen_range(1..=3);
    // The draws below keep the order of the fields as first written, so seeds keep their data.
    let kind = KINDS[rng.gen_range(0..KINDS.len())];
    let collected_at =
        valid_until.unwrap_or(now).min(now) - chrono::Duration::days(rng.gen_range(1..365));
    NewEvidence {
        title,
        description: Some("Exported from the system of record by the seeding tool.".to_owned()),
        kind,
        url: None,
        collected_at: Some(collected_at),
        valid_until,
        control_ids: pick(rng, control_ids, links),
    }
}

/// The auditor's reviews, one request each (as reviews arrive in practice).
pub(super) async fn review_evidence(
    db_conn: &DatabaseConnection,
    members: &Members,
    org_id: &str,
    to_review: Vec<(String, ReviewDecision)>,
) -> Result<()> {
    for (id, decision) in to_review {
        evidence::review(
            db_conn,
            &members.auditor.principal,
            org_id,
            &id,
            decision,
            Some("Checked against the source system".to_owned()),
        )
        .await?;
    }
    Ok(())
}

/// Raises the spec's findings as the auditor, each on one or two controls and tracked in Jira;
/// returns their ids.
pub(super) async fn raise_findings(
    db_conn: &DatabaseConnection,
    rng: &mut StdRng,
    members: &Members,
    org_id: &str,
    control_ids: &[String],
    spec: &SeedSpec,
    now: Now,
) -> Result<Vec<String>> {
    let (count, naming) = (spec.findings, spec.naming);
    let mut raised = Vec::new();
    for batch in 0..count.div_ceil(FINDING_BATCH) {
        let txn = db::begin_write(db_conn).await?;
        for i in (batch * FINDING_BATCH)..((batch + 1) * FINDING_BATCH).min(count) {
            let new = new_finding(rng, i, naming.finding(i), control_ids, now);
            let view = findings::create(&txn, &members.auditor.principal, org_id, new).await?;
            raised.push(view.finding.id);
        }
        txn.commit().await?;
    }
    Ok(raised)
}

/// Finding `i` (its Jira key `SEED-i`): 5% major and 30% minor nonconformities, 40% observations, the rest
/// opportunities for improvement; due between two months ago and four months ahead.
fn new_finding(
    rng: &mut StdRng,
    i: usize,
    title: String,
    control_ids: &[String],
    now: Now,
) -> NewFinding {
    const TYPES: [(FindingType, f64); 4] = [
        (FindingType::MajorNonconformity, 0.05),
        (FindingType::MinorNonconformity, 0.35),
        (FindingType::Observation, 0.75),
        (FindingType::OpportunityForImprovement, 1.0),
    ];
    let roll: f64 = rng.r#gen();
    let finding_type = TYPES
        .iter()
        .find(|(_, p)| roll < *p)
        .map_or(FindingType::Observation, |(t, _)| *t);
    let links = rng.gen_range(1..=2);
    // The controls are drawn before the due date, as first written, so seeds keep their data.
    let control_ids = pick(rng, control_ids, links);
    let due_date = (now + chrono::Duration::days(rng.gen_range(-60..120))).date_naive();
    NewFinding {
        title,
        description: Some("Raised by the seeding tool.".to_owned()),
        finding_type,
        source: FindingSource::InternalAudit,
        control_ids,
        owner: Some("owner@seed.example".to_owned()),
        due_date: Some(due_date),
        root_cause: None,
        corrective_action: None,
        external_ref: Some(ExternalRef {
            system: "jira".to_owned(),
            key: format!("SEED-{i}"),
            url: None,
            status: Some("To Do".to_owned()),
        }),
    }
}

/// Moves the findings along: 40% stay open, 20% in progress, 15% resolved by the editor, the
/// rest resolved and then closed by the auditor (who verifies the fix).
pub(super) async fn move_findings(
    db_conn: &DatabaseConnection,
    rng: &mut StdRng,
    members: &Members,
    org_id: &str,
    finding_ids: Vec<String>,
) -> Result<()> {
    let (editor, auditor) = (&members.editor.principal, &members.auditor.principal);
    for id in finding_ids {
        let roll: f64 = rng.r#gen();
        let path: &[(FindingStatus, &Principal)] = match roll {
            r if r < 0.40 => &[],
            r if r < 0.60 => &[(FindingStatus::InProgress, editor)],
            r if r < 0.75 => &[(FindingStatus::Resolved, editor)],
            _ => &[
                (FindingStatus::Resolved, editor),
                (FindingStatus::Closed, auditor),
            ],
        };
        for (status, who) in path {
            let patch = FindingPatch {
                status: Some(*status),
                ..Default::default()
            };
            findings::update(db_conn, who, org_id, &id, None, patch).await?;
        }
    }
    Ok(())
}
