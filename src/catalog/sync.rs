//! Writing the checked catalog to the database: frameworks, requirements and mappings, idempotently.

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, sea_query::OnConflict,
};

use super::{Catalog, FrameworkData, RequirementData};
use crate::domain::control::ControlKind;
use crate::{
    error::AppError,
    store::{self, db},
};

/// The setting that holds the digest of the last catalog loaded.
const DIGEST_SETTING: &str = "catalog_digest";

/// Requirement ids by (framework key, ref): the mappings name requirements by ref.
type RequirementIds = HashMap<(String, String), String>;

type Now = chrono::DateTime<chrono::Utc>;

/// Writes the catalog to the database in one transaction: new requirements are added, changed
/// ones updated, requirements gone from the data kept but marked withdrawn (never deleted),
/// organizations' data untouched. Skipped when the data files have not changed.
pub async fn load(db_conn: &DatabaseConnection, catalog: &Catalog) -> Result<bool, AppError> {
    if is_loaded(db_conn, &catalog.digest).await? {
        return Ok(false);
    }
    let txn = db::begin_write(db_conn).await?;
    store::catalog::lock_against_other_replicas(&txn).await?;
    let now = db::now();
    let mut ids = RequirementIds::new();
    for (position, fw) in catalog.frameworks.iter().enumerate() {
        upsert_framework(&txn, fw, position, now).await?;
        load_requirements(&txn, fw, now, &mut ids).await?;
    }
    load_mappings(&txn, catalog, &ids).await?;
    record_digest(&txn, &catalog.digest, now).await?;
    txn.commit().await?;
    Ok(true)
}

/// Whether the catalog with this digest is the one last loaded.
async fn is_loaded(db_conn: &DatabaseConnection, digest: &str) -> Result<bool, AppError> {
    let current = entity::setting::Entity::find_by_id(DIGEST_SETTING.to_owned())
        .one(db_conn)
        .await?;
    Ok(current.is_some_and(|s| s.value == digest))
}

/// Inserts the framework's row or refreshes it from the data file.
async fn upsert_framework<C: ConnectionTrait>(
    conn: &C,
    fw: &FrameworkData,
    position: usize,
    now: Now,
) -> Result<(), AppError> {
    use entity::framework::{ActiveModel, Column, Entity};
    let groups = serde_json::to_string(&fw.groups).map_err(AppError::internal)?;
    Entity::insert(ActiveModel {
        key: Set(fw.key.clone()),
        name: Set(fw.name.clone()),
        title: Set(fw.title.clone()),
        publisher: Set(fw.publisher.clone()),
        version: Set(fw.version.clone()),
        description: Set(fw.description.clone()),
        data_version: Set(fw.data_version),
        groups: Set(groups),
        position: Set(i32::try_from(position).unwrap_or(0)),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(Column::Key)
            .update_columns([
                Column::Name,
                Column::Title,
                Column::Publisher,
                Column::Version,
                Column::Description,
                Column::DataVersion,
                Column::Groups,
                Column::Position,
                Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Remembers the digest of the catalog just written, so that the next start skips loading.
async fn record_digest<C: ConnectionTrait>(
    conn: &C,
    digest: &str,
    now: Now,
) -> Result<(), AppError> {
    entity::setting::Entity::insert(entity::setting::ActiveModel {
        key: Set(DIGEST_SETTING.to_owned()),
        value: Set(digest.to_owned()),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(entity::setting::Column::Key)
            .update_column(entity::setting::Column::Value)
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

fn attributes_json(req: &RequirementData) -> Option<String> {
    req.attributes
        .as_ref()
        .and_then(|a| serde_json::to_string(a).ok())
}

/// The writes that bring one framework's requirements in line with its data file.
#[derive(Default)]
struct RequirementChanges {
    /// Existing requirements whose data changed (or that return after a withdrawal).
    updates: Vec<entity::requirement::Model>,
    /// Requirements new in the data file.
    inserts: Vec<entity::requirement::ActiveModel>,
    /// Existing requirements gone from the data file: kept, marked withdrawn.
    withdrawn: Vec<String>,
    /// The attribute rows of every updated or new requirement (updated ones lose their old rows).
    attribute_rows: Vec<entity::requirement_attribute::ActiveModel>,
}

/// The requirement row a data-file entry describes.
fn requirement_row(
    fw: &FrameworkData,
    req: &RequirementData,
    position: usize,
    id: String,
    now: Now,
) -> Result<entity::requirement::Model, AppError> {
    // The kinds were checked with the rest of the data (`check`).
    let kind = ControlKind::parse(&req.kind)
        .ok_or_else(|| AppError::internal(format!("unknown kind `{}`", req.kind)))?;
    Ok(entity::requirement::Model {
        id,
        framework_key: fw.key.clone(),
        reference: req.reference.clone(),
        title: req.title.clone(),
        group_key: req.group.clone(),
        section: req.section.clone(),
        kind,
        description: req.description.clone(),
        attributes: attributes_json(req),
        position: i32::try_from(position).unwrap_or(i32::MAX),
        withdrawn: false,
        updated_at: now,
    })
}

/// One row per attribute value of a requirement.
fn attribute_rows(
    id: &str,
    req: &RequirementData,
) -> impl Iterator<Item = entity::requirement_attribute::ActiveModel> {
    req.attributes
        .iter()
        .flatten()
        .flat_map(move |(attribute, values)| {
            values
                .iter()
                .map(move |value| entity::requirement_attribute::ActiveModel {
                    requirement_id: Set(id.to_owned()),
                    attribute: Set(attribute.clone()),
                    value: Set(value.clone()),
                })
        })
}

/// Compares the data file with the stored requirements (by ref) and lists the writes needed;
/// records every requirement's id in `ids`. Unchanged requirements need no write.
fn plan_requirements(
    fw: &FrameworkData,
    existing: &HashMap<String, entity::requirement::Model>,
    now: Now,
    ids: &mut RequirementIds,
) -> Result<RequirementChanges, AppError> {
    let mut changes = RequirementChanges::default();
    for (position, req) in fw.requirements.iter().enumerate() {
        let id = match existing.get(&req.reference) {
            Some(old) => {
                let new = requirement_row(fw, req, position, old.id.clone(), now)?;
                let same = entity::requirement::Model {
                    updated_at: old.updated_at,
                    ..new.clone()
                } == *old;
                if same {
                    ids.insert((fw.key.clone(), req.reference.clone()), old.id.clone());
                    continue;
                }
                changes.updates.push(new);
                old.id.clone()
            }
            None => {
                let id = db::new_id();
                let row = requirement_row(fw, req, position, id.clone(), now)?;
                changes.inserts.push(row.into());
                id
            }
        };
        changes.attribute_rows.extend(attribute_rows(&id, req));
        ids.insert((fw.key.clone(), req.reference.clone()), id);
    }
    let wanted_refs: HashSet<&str> = fw
        .requirements
        .iter()
        .map(|r| r.reference.as_str())
        .collect();
    changes.withdrawn = existing
        .values()
        .filter(|r| !wanted_refs.contains(r.reference.as_str()) && !r.withdrawn)
        .map(|r| r.id.clone())
        .collect();
    Ok(changes)
}

/// Brings one framework's requirements and their attribute rows in line with its data file.
async fn load_requirements<C: ConnectionTrait>(
    conn: &C,
    fw: &FrameworkData,
    now: Now,
    ids: &mut RequirementIds,
) -> Result<(), AppError> {
    use entity::requirement;
    let existing: HashMap<String, requirement::Model> = requirement::Entity::find()
        .filter(requirement::Column::FrameworkKey.eq(fw.key.as_str()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.reference.clone(), r))
        .collect();
    let changes = plan_requirements(fw, &existing, now, ids)?;
    apply_requirement_changes(conn, changes).await
}

/// Writes the planned requirement changes: updates, withdrawals, inserts, then attribute rows.
async fn apply_requirement_changes<C: ConnectionTrait>(
    conn: &C,
    changes: RequirementChanges,
) -> Result<(), AppError> {
    use entity::{requirement, requirement_attribute};
    let refreshed_ids: Vec<String> = changes.updates.iter().map(|r| r.id.clone()).collect();
    for row in changes.updates {
        requirement::Entity::update(requirement::ActiveModel::from(row).reset_all())
            .exec(conn)
            .await?;
    }
    if !changes.withdrawn.is_empty() {
        requirement::Entity::update_many()
            .col_expr(
                requirement::Column::Withdrawn,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(requirement::Column::Id.is_in(changes.withdrawn))
            .exec(conn)
            .await?;
    }
    for chunk in changes.inserts.chunks(100) {
        requirement::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    if !refreshed_ids.is_empty() {
        requirement_attribute::Entity::delete_many()
            .filter(requirement_attribute::Column::RequirementId.is_in(refreshed_ids))
            .exec(conn)
            .await?;
    }
    for chunk in changes.attribute_rows.chunks(200) {
        requirement_attribute::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The mapping row for one data-file mapping between two stored requirements.
fn mapping_row(
    id: String,
    from: &str,
    to: &str,
    m: &super::MappingData,
    position: i32,
) -> entity::mapping::ActiveModel {
    entity::mapping::ActiveModel {
        id: Set(id),
        from_requirement_id: Set(from.to_owned()),
        to_requirement_id: Set(to.to_owned()),
        relationship: Set(m.relationship.clone()),
        rationale: Set(m.rationale.clone()),
        position: Set(position),
    }
}

/// Brings the mappings in line with the data file: changed ones updated, new ones added, those
/// gone from the file deleted (mappings carry no organization data).
async fn load_mappings<C: ConnectionTrait>(
    conn: &C,
    catalog: &Catalog,
    ids: &RequirementIds,
) -> Result<(), AppError> {
    use entity::mapping;
    let existing: HashMap<(String, String), mapping::Model> = mapping::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|m| {
            (
                (m.from_requirement_id.clone(), m.to_requirement_id.clone()),
                m,
            )
        })
        .collect();
    let mut keep = HashSet::new();
    let mut inserts = Vec::new();
    for (position, m) in catalog.mappings.iter().enumerate() {
        let (Some(from), Some(to)) = (
            ids.get(&(m.from_framework.clone(), m.from_ref.clone())),
            ids.get(&(m.to_framework.clone(), m.to_ref.clone())),
        ) else {
            return Err(AppError::internal(
                "catalog mapping names an unknown requirement",
            ));
        };
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        keep.insert((from.clone(), to.clone()));
        match existing.get(&(from.clone(), to.clone())) {
            Some(old)
                if old.relationship == m.relationship
                    && old.rationale == m.rationale
                    && old.position == position => {}
            Some(old) => {
                mapping::Entity::update(mapping_row(old.id.clone(), from, to, m, position))
                    .exec(conn)
                    .await?;
            }
            None => inserts.push(mapping_row(db::new_id(), from, to, m, position)),
        }
    }
    let stale: Vec<String> = existing
        .iter()
        .filter(|(pair, _)| !keep.contains(*pair))
        .map(|(_, m)| m.id.clone())
        .collect();
    delete_mappings(conn, stale).await?;
    for chunk in inserts.chunks(200) {
        mapping::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Deletes the mappings with these ids (none: no query).
async fn delete_mappings<C: ConnectionTrait>(conn: &C, ids: Vec<String>) -> Result<(), AppError> {
    if !ids.is_empty() {
        entity::mapping::Entity::delete_many()
            .filter(entity::mapping::Column::Id.is_in(ids))
            .exec(conn)
            .await?;
    }
    Ok(())
}
