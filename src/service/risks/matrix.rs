//! The organization's risk matrix: the default until it is changed, its replacement (admins),
//! and the recomputation of every risk's stored levels in the same transaction.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{CaseStatement, Expr, ExprTrait, LockType},
};

use crate::{
    domain::{
        principal::Principal,
        risk::{RiskLevel, RiskMatrix, ScaleLevel, risk_ref},
        role::Action,
    },
    error::{AppError, Result},
    service::{
        audit::{self, AuditRecord, Changes},
        authz,
        version::{self, IfMatch},
    },
    store::{self, db},
};
use entity::{organization, risk, risk_matrix};

/// The matrix with its version and when it last changed.
#[derive(Debug, Clone)]
pub struct MatrixView {
    pub matrix: RiskMatrix,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(AppError::internal)
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| AppError::internal(format!("stored risk matrix: {e}")))
}

fn matrix_of(row: &risk_matrix::Model) -> Result<RiskMatrix> {
    Ok(RiskMatrix {
        likelihood_levels: parse(&row.likelihood_levels)?,
        impact_levels: parse(&row.impact_levels)?,
        risk_levels: parse(&row.risk_levels)?,
        grid: parse(&row.grid)?,
        appetite: row.appetite,
    })
}

async fn stored<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    lock: bool,
) -> Result<Option<risk_matrix::Model>> {
    let mut query = risk_matrix::Entity::find_by_id(org_id.to_owned());
    if lock {
        query = query.lock(LockType::NoKeyUpdate);
    }
    Ok(query.one(conn).await?)
}

/// The organization's matrix: its own once changed, else the default.
pub async fn current<C: ConnectionTrait>(conn: &C, org_id: &str) -> Result<RiskMatrix> {
    match stored(conn, org_id, false).await? {
        Some(row) => matrix_of(&row),
        None => Ok(RiskMatrix::default()),
    }
}

/// The matrix as shown: a default matrix is version 1, as old as the organization.
async fn view<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    row: Option<&risk_matrix::Model>,
) -> Result<MatrixView> {
    if let Some(row) = row {
        return Ok(MatrixView {
            matrix: matrix_of(row)?,
            version: row.version,
            updated_at: row.updated_at,
        });
    }
    let org = organization::Entity::find_by_id(org_id.to_owned())
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("organization"))?;
    Ok(MatrixView {
        matrix: RiskMatrix::default(),
        version: 1,
        updated_at: org.created_at,
    })
}

/// The organization's matrix (everyone in it).
pub async fn get(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
) -> Result<MatrixView> {
    authz::authorize(db_conn, principal, org_id, Action::Read).await?;
    let row = stored(db_conn, org_id, false).await?;
    view(db_conn, org_id, row.as_ref()).await
}

/// Names trimmed, as stored.
fn normalized(mut matrix: RiskMatrix) -> RiskMatrix {
    let trim = |l: &mut ScaleLevel| {
        l.name = l.name.trim().to_owned();
        l.description = l.description.trim().to_owned();
    };
    matrix.likelihood_levels.iter_mut().for_each(trim);
    matrix.impact_levels.iter_mut().for_each(trim);
    matrix
        .risk_levels
        .iter_mut()
        .for_each(|l: &mut RiskLevel| l.name = l.name.trim().to_owned());
    matrix
}

/// Replaces the matrix (admins; honours `If-Match`). 422 for an invalid matrix; 409
/// `rating-orphaned` naming the risks whose rating would fall outside it. Every risk's levels
/// are recomputed in the same transaction.
pub async fn replace(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    if_match: Option<&IfMatch>,
    matrix: RiskMatrix,
) -> Result<MatrixView> {
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&txn, principal, org_id, Action::Administer).await?;
    // Serializes the first change of a default matrix, which has no row to lock yet.
    store::organizations::lock(&txn, org_id).await?;
    let row = stored(&txn, org_id, true).await?;
    let current = view(&txn, org_id, row.as_ref()).await?;
    version::check(if_match, current.version)?;
    let matrix = normalized(matrix);
    matrix
        .validate()
        .map_err(|(field, message)| AppError::invalid(&field, message))?;
    if matrix == current.matrix {
        txn.commit().await?;
        return Ok(current);
    }
    refuse_orphans(&txn, org_id, &matrix).await?;
    recompute_levels(&txn, org_id, &current.matrix, &matrix).await?;
    let now = db::now();
    let active = risk_matrix::ActiveModel {
        organization_id: Set(org_id.to_owned()),
        likelihood_levels: Set(json(&matrix.likelihood_levels)?),
        impact_levels: Set(json(&matrix.impact_levels)?),
        risk_levels: Set(json(&matrix.risk_levels)?),
        grid: Set(json(&matrix.grid)?),
        appetite: Set(matrix.appetite),
        version: Set(current.version + 1),
        updated_at: Set(now),
    };
    let saved = if row.is_some() {
        active.update(&txn).await?
    } else {
        active.insert(&txn).await?
    };
    let (old, new) = (&current.matrix, &matrix);
    let changes = Changes::new()
        .field(
            "likelihood_levels",
            &old.likelihood_levels,
            &new.likelihood_levels,
        )
        .field("impact_levels", &old.impact_levels, &new.impact_levels)
        .field("risk_levels", &old.risk_levels, &new.risk_levels)
        .field("grid", &old.grid, &new.grid)
        .field("appetite", &old.appetite, &new.appetite);
    audit::record(
        &txn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "risk_matrix.updated",
            entity_type: "risk_matrix",
            entity_id: org_id,
            changes,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(MatrixView {
        matrix,
        version: saved.version,
        updated_at: saved.updated_at,
    })
}

/// 409 naming the risks rated outside `matrix`'s scales (one query).
async fn refuse_orphans<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    matrix: &RiskMatrix,
) -> Result<()> {
    let likelihoods = i16::try_from(matrix.likelihood_levels.len()).unwrap_or(i16::MAX);
    let impacts = i16::try_from(matrix.impact_levels.len()).unwrap_or(i16::MAX);
    let orphaned: Vec<i32> = risk::Entity::find()
        .select_only()
        .column(risk::Column::RefNumber)
        .filter(risk::Column::OrganizationId.eq(org_id))
        .filter(
            Condition::any()
                .add(risk::Column::InherentLikelihood.gt(likelihoods))
                .add(risk::Column::InherentImpact.gt(impacts))
                .add(risk::Column::ResidualLikelihood.gt(likelihoods))
                .add(risk::Column::ResidualImpact.gt(impacts)),
        )
        .order_by_asc(risk::Column::RefNumber)
        .into_tuple()
        .all(conn)
        .await?;
    if orphaned.is_empty() {
        return Ok(());
    }
    Err(AppError::conflict_with_risks(
        "rating-orphaned",
        "the new matrix has no level for the rating of these risks; re-rate them first",
        orphaned.into_iter().map(risk_ref).collect(),
    ))
}

/// Sets the stored levels that `new` changes. Every risk's stored level is `old`'s value of its
/// cell, so only the cells present in both matrices whose value changed have risks to update:
/// one UPDATE whatever the number of risks, setting each rating's level by a `CASE` over those
/// cells. Each updated risk gets its next version, so an integration polling `updated_since`
/// sees it.
async fn recompute_levels<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    old: &RiskMatrix,
    new: &RiskMatrix,
) -> Result<()> {
    let rows = i16::try_from(old.likelihood_levels.len().min(new.likelihood_levels.len()));
    let columns = i16::try_from(old.impact_levels.len().min(new.impact_levels.len()));
    let (rows, columns) = (rows.unwrap_or(0), columns.unwrap_or(0));
    let changed: Vec<(i16, i16, i16)> = (1..=rows)
        .flat_map(|l| (1..=columns).map(move |i| (l, i)))
        .filter_map(|(l, i)| {
            let level = new.level(l, i)?;
            (old.level(l, i) != Some(level)).then_some((l, i, level))
        })
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let cell = |likelihood: risk::Column, impact: risk::Column, l: i16, i: i16| {
        Condition::all().add(likelihood.eq(l)).add(impact.eq(i))
    };
    let level = |likelihood: risk::Column, impact: risk::Column, stored: risk::Column| {
        let mut case = CaseStatement::new();
        for &(l, i, value) in &changed {
            case = case.case(cell(likelihood, impact, l, i), Expr::value(value));
        }
        case.finally(Expr::col(stored))
    };
    let mut touched = Condition::any();
    for &(l, i, _) in &changed {
        touched = touched
            .add(cell(
                risk::Column::InherentLikelihood,
                risk::Column::InherentImpact,
                l,
                i,
            ))
            .add(cell(
                risk::Column::ResidualLikelihood,
                risk::Column::ResidualImpact,
                l,
                i,
            ));
    }
    risk::Entity::update_many()
        .col_expr(
            risk::Column::InherentLevel,
            level(
                risk::Column::InherentLikelihood,
                risk::Column::InherentImpact,
                risk::Column::InherentLevel,
            )
            .into(),
        )
        .col_expr(
            risk::Column::ResidualLevel,
            level(
                risk::Column::ResidualLikelihood,
                risk::Column::ResidualImpact,
                risk::Column::ResidualLevel,
            )
            .into(),
        )
        .col_expr(
            risk::Column::Version,
            Expr::col(risk::Column::Version).add(1),
        )
        .col_expr(risk::Column::UpdatedAt, Expr::value(db::now()))
        .filter(risk::Column::OrganizationId.eq(org_id))
        .filter(touched)
        .exec(conn)
        .await?;
    Ok(())
}
