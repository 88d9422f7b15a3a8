//! The shipped catalog: three frameworks and their mappings as JSON data files embedded in the
//! binary, checked on load and written to the database at start-up (idempotently).

use std::collections::{BTreeMap, HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, Statement, sea_query::OnConflict,
};
use serde::Deserialize;

use crate::{crypto::sha256_hex, error::AppError, store::db};

/// The data files, in the order frameworks are listed.
const FRAMEWORK_FILES: [(&str, &str); 3] = [
    (
        "iso27001-2022.json",
        include_str!("data/iso27001-2022.json"),
    ),
    (
        "iso42001-2023.json",
        include_str!("data/iso42001-2023.json"),
    ),
    (
        "ai-audit-checklist.json",
        include_str!("data/ai-audit-checklist.json"),
    ),
];
const MAPPINGS_FILE: &str = include_str!("data/mappings.json");

/// The requirement kinds.
pub const KINDS: [&str; 3] = ["clause", "control", "checklist_item"];
/// The mapping relationships (contract §3).
pub const RELATIONSHIPS: [&str; 5] = [
    "equivalent",
    "subset_of",
    "superset_of",
    "intersects",
    "related",
];
/// ISO/IEC 27002:2022 attribute keys and their vocabularies.
pub const ATTRIBUTES: [(&str, &[&str]); 5] = [
    ("control_type", &["preventive", "detective", "corrective"]),
    (
        "security_properties",
        &["confidentiality", "integrity", "availability"],
    ),
    (
        "cybersecurity_concepts",
        &["identify", "protect", "detect", "respond", "recover"],
    ),
    (
        "operational_capabilities",
        &[
            "governance",
            "asset_management",
            "information_protection",
            "human_resource_security",
            "physical_security",
            "system_and_network_security",
            "application_security",
            "secure_configuration",
            "identity_and_access_management",
            "threat_and_vulnerability_management",
            "continuity",
            "supplier_relationships_security",
            "legal_and_compliance",
            "information_security_event_management",
            "information_security_assurance",
        ],
    ),
    (
        "security_domains",
        &[
            "governance_and_ecosystem",
            "protection",
            "defence",
            "resilience",
        ],
    ),
];
/// How many requirements each shipped framework has.
pub const EXPECTED_COUNTS: [(&str, usize); 3] = [
    ("iso27001-2022", 123),
    ("iso42001-2023", 70),
    ("ai-audit-checklist", 95),
];

/// A group of requirements (a clause, an Annex A theme, a checklist heading).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GroupData {
    pub key: String,
    pub title: String,
}

/// One requirement as written in a data file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementData {
    #[serde(rename = "ref")]
    pub reference: String,
    pub title: String,
    pub group: String,
    #[serde(default)]
    pub section: Option<String>,
    pub kind: String,
    pub description: String,
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, Vec<String>>>,
}

/// One framework data file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkData {
    pub key: String,
    pub name: String,
    pub title: String,
    pub publisher: String,
    pub version: String,
    pub data_version: i32,
    pub description: String,
    pub groups: Vec<GroupData>,
    pub requirements: Vec<RequirementData>,
}

/// One mapping between two requirements.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingData {
    pub from_framework: String,
    pub from_ref: String,
    pub to_framework: String,
    pub to_ref: String,
    pub relationship: String,
    pub rationale: String,
}

/// The whole shipped catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub frameworks: Vec<FrameworkData>,
    pub mappings: Vec<MappingData>,
    /// SHA-256 of the data files: when unchanged since the last load, loading is skipped.
    pub digest: String,
}

impl Catalog {
    /// Parses the embedded data files and checks them; any error names the file and the fault.
    pub fn embedded() -> Result<Self, String> {
        let mut frameworks = Vec::new();
        let mut hashed = String::new();
        for (file, text) in FRAMEWORK_FILES {
            hashed.push_str(text);
            frameworks.push(
                serde_json::from_str::<FrameworkData>(text).map_err(|e| format!("{file}: {e}"))?,
            );
        }
        hashed.push_str(MAPPINGS_FILE);
        let mappings = serde_json::from_str::<Vec<MappingData>>(MAPPINGS_FILE)
            .map_err(|e| format!("mappings.json: {e}"))?;
        let catalog = Self {
            frameworks,
            mappings,
            digest: sha256_hex(hashed.as_bytes()),
        };
        catalog.validate()?;
        Ok(catalog)
    }

    /// The data check: counts, unique refs, declared groups, kinds, attribute vocabularies,
    /// mapping ends and relationships, and every checklist item mapped to ISO 27001.
    pub fn validate(&self) -> Result<(), String> {
        let mut errors = Vec::new();
        let mut refs: HashMap<&str, HashSet<&str>> = HashMap::new();
        for fw in &self.frameworks {
            let groups: HashSet<&str> = fw.groups.iter().map(|g| g.key.as_str()).collect();
            if groups.len() != fw.groups.len() {
                errors.push(format!("{}: duplicate group keys", fw.key));
            }
            let set = refs.entry(fw.key.as_str()).or_default();
            for req in &fw.requirements {
                let at = format!("{} {}", fw.key, req.reference);
                if !set.insert(req.reference.as_str()) {
                    errors.push(format!("{at}: duplicate ref"));
                }
                if !groups.contains(req.group.as_str()) {
                    errors.push(format!("{at}: undeclared group `{}`", req.group));
                }
                if !KINDS.contains(&req.kind.as_str()) {
                    errors.push(format!("{at}: unknown kind `{}`", req.kind));
                }
                if req.title.trim().is_empty() || req.description.trim().is_empty() {
                    errors.push(format!("{at}: empty title or description"));
                }
                if let Some(attributes) = &req.attributes {
                    for (key, values) in attributes {
                        match ATTRIBUTES.iter().find(|(k, _)| k == key) {
                            None => errors.push(format!("{at}: unknown attribute `{key}`")),
                            Some((_, vocabulary)) => {
                                if values.is_empty() {
                                    errors.push(format!("{at}: `{key}` is empty"));
                                }
                                for value in values {
                                    if !vocabulary.contains(&value.as_str()) {
                                        errors.push(format!(
                                            "{at}: `{key}` has unknown value `{value}`"
                                        ));
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if let Some((_, expected)) = EXPECTED_COUNTS.iter().find(|(k, _)| *k == fw.key)
                && fw.requirements.len() != *expected
            {
                errors.push(format!(
                    "{}: {} requirements, expected {expected}",
                    fw.key,
                    fw.requirements.len()
                ));
            }
        }
        let exists = |fw: &str, r: &str| refs.get(fw).is_some_and(|set| set.contains(r));
        let mut pairs = HashSet::new();
        let mut mapped_to_27001 = HashSet::new();
        for m in &self.mappings {
            let at = format!(
                "mapping {}:{} -> {}:{}",
                m.from_framework, m.from_ref, m.to_framework, m.to_ref
            );
            if !exists(&m.from_framework, &m.from_ref) {
                errors.push(format!("{at}: unknown `from`"));
            }
            if !exists(&m.to_framework, &m.to_ref) {
                errors.push(format!("{at}: unknown `to`"));
            }
            if !RELATIONSHIPS.contains(&m.relationship.as_str()) {
                errors.push(format!("{at}: unknown relationship `{}`", m.relationship));
            }
            if !pairs.insert((&m.from_framework, &m.from_ref, &m.to_framework, &m.to_ref)) {
                errors.push(format!("{at}: duplicate"));
            }
            if m.from_framework == "ai-audit-checklist" && m.to_framework == "iso27001-2022" {
                mapped_to_27001.insert(m.from_ref.as_str());
            }
        }
        if let Some(checklist) = self
            .frameworks
            .iter()
            .find(|f| f.key == "ai-audit-checklist")
        {
            for req in &checklist.requirements {
                if !mapped_to_27001.contains(req.reference.as_str()) {
                    errors.push(format!(
                        "ai-audit-checklist {}: not mapped to iso27001-2022",
                        req.reference
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

const DIGEST_SETTING: &str = "catalog_digest";

/// Writes the catalog to the database in one transaction: new requirements are added, changed
/// ones updated, requirements gone from the data kept but marked withdrawn (never deleted),
/// organizations' data untouched. Skipped when the data files have not changed.
pub async fn load(db_conn: &DatabaseConnection, catalog: &Catalog) -> Result<bool, AppError> {
    let current = entity::setting::Entity::find_by_id(DIGEST_SETTING.to_owned())
        .one(db_conn)
        .await?;
    if current.is_some_and(|s| s.value == catalog.digest) {
        return Ok(false);
    }
    let txn = db::begin_write(db_conn).await?;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // Replicas starting together load one after the other.
        txn.execute_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock(7404001)",
        ))
        .await?;
    }
    let now = db::now();
    let mut ids: HashMap<(String, String), String> = HashMap::new();
    for (position, fw) in catalog.frameworks.iter().enumerate() {
        let groups = serde_json::to_string(&fw.groups).map_err(AppError::internal)?;
        entity::framework::Entity::insert(entity::framework::ActiveModel {
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
            OnConflict::column(entity::framework::Column::Key)
                .update_columns([
                    entity::framework::Column::Name,
                    entity::framework::Column::Title,
                    entity::framework::Column::Publisher,
                    entity::framework::Column::Version,
                    entity::framework::Column::Description,
                    entity::framework::Column::DataVersion,
                    entity::framework::Column::Groups,
                    entity::framework::Column::Position,
                    entity::framework::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        load_requirements(&txn, fw, now, &mut ids).await?;
    }
    load_mappings(&txn, catalog, &ids).await?;
    entity::setting::Entity::insert(entity::setting::ActiveModel {
        key: Set(DIGEST_SETTING.to_owned()),
        value: Set(catalog.digest.clone()),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(entity::setting::Column::Key)
            .update_column(entity::setting::Column::Value)
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(true)
}

fn attributes_json(req: &RequirementData) -> Option<String> {
    req.attributes
        .as_ref()
        .and_then(|a| serde_json::to_string(a).ok())
}

async fn load_requirements<C: ConnectionTrait>(
    conn: &C,
    fw: &FrameworkData,
    now: chrono::DateTime<chrono::Utc>,
    ids: &mut HashMap<(String, String), String>,
) -> Result<(), AppError> {
    use entity::{requirement, requirement_attribute};
    let existing: HashMap<String, requirement::Model> = requirement::Entity::find()
        .filter(requirement::Column::FrameworkKey.eq(fw.key.as_str()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.reference.clone(), r))
        .collect();
    let mut inserts = Vec::new();
    let mut refreshed_ids = Vec::new();
    let mut attribute_rows = Vec::new();
    for (position, req) in fw.requirements.iter().enumerate() {
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        let wanted = |id: String| requirement::Model {
            id,
            framework_key: fw.key.clone(),
            reference: req.reference.clone(),
            title: req.title.clone(),
            group_key: req.group.clone(),
            section: req.section.clone(),
            kind: req.kind.clone(),
            description: req.description.clone(),
            attributes: attributes_json(req),
            position,
            withdrawn: false,
            updated_at: now,
        };
        let id = match existing.get(&req.reference) {
            Some(old) => {
                let new = wanted(old.id.clone());
                let same = requirement::Model {
                    updated_at: old.updated_at,
                    ..new.clone()
                } == *old;
                if !same {
                    requirement::Entity::update(requirement::ActiveModel::from(new).reset_all())
                        .exec(conn)
                        .await?;
                    refreshed_ids.push(old.id.clone());
                } else {
                    ids.insert((fw.key.clone(), req.reference.clone()), old.id.clone());
                    continue;
                }
                old.id.clone()
            }
            None => {
                let id = db::new_id();
                inserts.push(requirement::ActiveModel::from(wanted(id.clone())));
                id
            }
        };
        for (attribute, values) in req.attributes.iter().flatten() {
            for value in values {
                attribute_rows.push(requirement_attribute::ActiveModel {
                    requirement_id: Set(id.clone()),
                    attribute: Set(attribute.clone()),
                    value: Set(value.clone()),
                });
            }
        }
        ids.insert((fw.key.clone(), req.reference.clone()), id);
    }
    let wanted_refs: HashSet<&str> = fw
        .requirements
        .iter()
        .map(|r| r.reference.as_str())
        .collect();
    let withdrawn: Vec<String> = existing
        .values()
        .filter(|r| !wanted_refs.contains(r.reference.as_str()) && !r.withdrawn)
        .map(|r| r.id.clone())
        .collect();
    if !withdrawn.is_empty() {
        requirement::Entity::update_many()
            .col_expr(
                requirement::Column::Withdrawn,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(requirement::Column::Id.is_in(withdrawn))
            .exec(conn)
            .await?;
    }
    for chunk in inserts.chunks(100) {
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
    for chunk in attribute_rows.chunks(200) {
        requirement_attribute::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

async fn load_mappings<C: ConnectionTrait>(
    conn: &C,
    catalog: &Catalog,
    ids: &HashMap<(String, String), String>,
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
                mapping::Entity::update(mapping::ActiveModel {
                    id: Set(old.id.clone()),
                    from_requirement_id: Set(from.clone()),
                    to_requirement_id: Set(to.clone()),
                    relationship: Set(m.relationship.clone()),
                    rationale: Set(m.rationale.clone()),
                    position: Set(position),
                })
                .exec(conn)
                .await?;
            }
            None => inserts.push(mapping::ActiveModel {
                id: Set(db::new_id()),
                from_requirement_id: Set(from.clone()),
                to_requirement_id: Set(to.clone()),
                relationship: Set(m.relationship.clone()),
                rationale: Set(m.rationale.clone()),
                position: Set(position),
            }),
        }
    }
    let stale: Vec<String> = existing
        .iter()
        .filter(|(pair, _)| !keep.contains(*pair))
        .map(|(_, m)| m.id.clone())
        .collect();
    if !stale.is_empty() {
        mapping::Entity::delete_many()
            .filter(mapping::Column::Id.is_in(stale))
            .exec(conn)
            .await?;
    }
    for chunk in inserts.chunks(200) {
        mapping::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalog_is_valid() {
        let catalog = Catalog::embedded().unwrap_or_else(|e| panic!("catalog invalid: {e}"));
        assert_eq!(catalog.frameworks.len(), 3);
        assert!(catalog.mappings.len() >= 95);
    }

    #[test]
    fn the_data_check_catches_faults() {
        let mut catalog = Catalog::embedded().unwrap_or_else(|e| panic!("{e}"));
        let fw = &mut catalog.frameworks[0];
        fw.requirements[1].reference = fw.requirements[0].reference.clone();
        fw.requirements[2].group = "nope".to_owned();
        fw.requirements[3].kind = "thing".to_owned();
        catalog.mappings[0].to_ref = "A.99.1".to_owned();
        catalog.mappings[1].relationship = "same".to_owned();
        let err = catalog.validate().err().unwrap_or_default();
        for fault in [
            "duplicate ref",
            "undeclared group",
            "unknown kind",
            "unknown `to`",
            "unknown relationship",
        ] {
            assert!(err.contains(fault), "{fault} not reported in: {err}");
        }
    }
}
