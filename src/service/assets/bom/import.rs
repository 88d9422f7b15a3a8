//! Importing a CycloneDX ML-BOM: all or nothing in one transaction, keyed by the BOM's serial
//! number and each component's key, with a bounded number of statements (docs/cyclonedx.md).

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
};
use serde::Serialize;
use serde_json::json;

use super::{IN_CHUNK, bom_error};
use crate::{
    domain::{
        asset::{AssetKind, AssetStatus, Classification},
        cyclonedx::{self, Bom, Component},
        principal::Principal,
        role::Action,
        supplier::SupplierKind,
        webhook::EventType,
    },
    error::{Result, ResultExt},
    service::{
        self,
        assets::{EXTERNAL_REF_TAKEN, locations_json},
        audit::{self, AuditRecord, Changes},
        authz, changes,
    },
    store::{self, db},
};
use entity::{asset as asset_row, asset_derivation};

/// How many assets one insert carries (24 values each).
const ASSET_CHUNK: usize = 400;
/// How many derivation links one insert carries.
const LINK_CHUNK: usize = 2000;

/// Assets of one outcome: how many and which.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub count: usize,
    pub ids: Vec<String>,
}

impl Outcome {
    fn push(&mut self, id: &str) {
        self.count += 1;
        self.ids.push(id.to_owned());
    }
}

/// A supplier the import created.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedSupplier {
    pub id: String,
    pub name: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    pub serial_number: String,
    pub created: Outcome,
    pub updated: Outcome,
    pub retired: Outcome,
    pub unchanged: Outcome,
    pub skipped: usize,
    pub suppliers_created: Vec<CreatedSupplier>,
}

/// Imports the BOM in `bytes` (editors, admins): creates the assets of new components,
/// updates changed ones, retires those that left the BOM and leaves the rest alone, all in one
/// transaction, rolled back when `dry_run`. Every problem of the BOM is answered at once (422)
/// and nothing is written.
pub async fn import(
    db_conn: &DatabaseConnection,
    principal: &Principal,
    org_id: &str,
    bytes: &[u8],
    dry_run: bool,
) -> Result<ImportReport> {
    // A reader learns of its role before the BOM's problems.
    authz::authorize(db_conn, principal, org_id, Action::ChangeRisks).await?;
    let bom = cyclonedx::parse(bytes).map_err(bom_error)?;
    let txn = db::begin_write(db_conn).await?;
    authz::authorize(&*txn, principal, org_id, Action::ChangeRisks).await?;
    store::assets::lock_lineage(&*txn, org_id).await?;
    let report = apply(&*txn, principal, org_id, &bom, dry_run).await?;
    if dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    Ok(report)
}

/// What the organization holds of the BOM before the import.
struct Before {
    /// Its assets from this BOM, by key.
    by_key: HashMap<String, asset_row::Model>,
    /// What each of them is derived from, sorted.
    sources: HashMap<String, Vec<String>>,
    /// The holders of the external references the BOM names, by reference.
    holders: HashMap<String, String>,
}

async fn before<C: ConnectionTrait>(conn: &C, org_id: &str, bom: &Bom) -> Result<Before> {
    let rows = asset_row::Entity::find()
        .filter(asset_row::Column::OrganizationId.eq(org_id))
        .filter(asset_row::Column::SourceBom.eq(bom.serial_number.as_str()))
        .all(conn)
        .await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut sources: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let edges: Vec<(String, String)> = asset_derivation::Entity::find()
            .select_only()
            .column(asset_derivation::Column::AssetId)
            .column(asset_derivation::Column::SourceId)
            .filter(asset_derivation::Column::AssetId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(conn)
            .await?;
        for (asset, source) in edges {
            sources.entry(asset).or_default().push(source);
        }
    }
    sources.values_mut().for_each(|s| s.sort());
    let mut refs: Vec<String> = bom
        .components
        .iter()
        .filter_map(|c| c.external_ref.clone())
        .collect();
    refs.sort();
    refs.dedup();
    let mut holders = HashMap::new();
    for chunk in refs.chunks(IN_CHUNK) {
        let held: Vec<(String, Option<String>)> = asset_row::Entity::find()
            .select_only()
            .column(asset_row::Column::Id)
            .column(asset_row::Column::ExternalRef)
            .filter(asset_row::Column::OrganizationId.eq(org_id))
            .filter(asset_row::Column::ExternalRef.is_in(chunk.to_vec()))
            .into_tuple()
            .all(conn)
            .await?;
        holders.extend(held.into_iter().filter_map(|(id, r)| r.map(|r| (r, id))));
    }
    let by_key = rows
        .into_iter()
        .filter_map(|r| r.source_ref.clone().map(|k| (k, r)))
        .collect();
    Ok(Before {
        by_key,
        sources,
        holders,
    })
}

fn json_text(value: &serde_json::Value) -> String {
    value.to_string()
}

/// One asset event of the import, written after its rows.
struct Event {
    id: String,
    action: &'static str,
    changes: Changes,
}

/// The import's writes, gathered before they are made.
#[derive(Default)]
struct Writes {
    inserts: Vec<asset_row::ActiveModel>,
    updates: Vec<asset_row::ActiveModel>,
    /// Assets whose lineage is replaced, and the new links.
    relinked: Vec<String>,
    links: Vec<(String, String)>,
    events: Vec<Event>,
}

async fn apply<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    bom: &Bom,
    dry_run: bool,
) -> Result<ImportReport> {
    let before = before(conn, org_id, bom).await?;
    let ids: HashMap<&str, String> = bom
        .components
        .iter()
        .map(|c| {
            let id = before
                .by_key
                .get(&c.key)
                .map(|a| a.id.clone())
                .unwrap_or_else(db::new_id);
            (c.key.as_str(), id)
        })
        .collect();
    let mut report = ImportReport {
        dry_run,
        serial_number: bom.serial_number.clone(),
        created: Outcome::default(),
        updated: Outcome::default(),
        retired: Outcome::default(),
        unchanged: Outcome::default(),
        skipped: bom.skipped,
        suppliers_created: Vec::new(),
    };
    let suppliers = suppliers(conn, principal, org_id, bom, &mut report).await?;
    let now = db::now();
    let mut writes = Writes::default();
    let mut given: HashSet<&str> = HashSet::new();
    for c in &bom.components {
        let id = &ids[c.key.as_str()];
        let mut sources: Vec<String> = c.sources.iter().map(|k| ids[k.as_str()].clone()).collect();
        sources.sort();
        // The reference goes to the asset when no other asset has it.
        let external_ref = c.external_ref.as_deref().filter(|r| {
            before.holders.get(*r).is_none_or(|holder| holder == id) && given.insert(r)
        });
        let supplier_id = c.supplier.as_ref().and_then(|n| suppliers.get(n)).cloned();
        match before.by_key.get(&c.key) {
            None => {
                let new = NewRow {
                    id,
                    org_id,
                    serial: &bom.serial_number,
                    external_ref,
                    supplier_id,
                    sources: &sources,
                };
                create(c, new, now, &mut writes)?;
                writes
                    .links
                    .extend(sources.iter().map(|s| (id.clone(), s.clone())));
                report.created.push(id);
            }
            Some(old) => {
                let old_sources = before.sources.get(id).cloned().unwrap_or_default();
                if update(
                    c,
                    old,
                    external_ref,
                    supplier_id,
                    &old_sources,
                    &sources,
                    now,
                    &mut writes,
                ) {
                    if old_sources != sources {
                        writes.relinked.push(id.clone());
                        writes
                            .links
                            .extend(sources.iter().map(|s| (id.clone(), s.clone())));
                    }
                    report.updated.push(id);
                } else {
                    report.unchanged.push(id);
                }
            }
        }
    }
    let keys: HashSet<&str> = bom.components.iter().map(|c| c.key.as_str()).collect();
    let mut gone: Vec<&asset_row::Model> = before
        .by_key
        .iter()
        .filter(|(k, a)| !keys.contains(k.as_str()) && a.status == AssetStatus::Active)
        .map(|(_, a)| a)
        .collect();
    gone.sort_by(|a, b| a.id.cmp(&b.id));
    for old in gone {
        let mut am = old.clone().into_active_model();
        am.status = Set(AssetStatus::Retired);
        am.version = Set(old.version + 1);
        am.updated_at = Set(now);
        writes.updates.push(am);
        writes.events.push(Event {
            id: old.id.clone(),
            action: "asset.updated",
            changes: Changes::new().field("status", &old.status, &AssetStatus::Retired),
        });
        report.retired.push(&old.id);
    }
    write(conn, principal, org_id, writes).await?;
    let summary = json!({
        "serial_number": report.serial_number,
        "created": report.created.count,
        "updated": report.updated.count,
        "retired": report.retired.count,
        "unchanged": report.unchanged.count,
        "skipped": report.skipped,
        "suppliers_created": report.suppliers_created.len(),
    });
    changes::record(
        conn,
        principal,
        AuditRecord {
            organization_id: Some(org_id),
            action: "assets.imported",
            entity_type: "bom",
            entity_id: &bom.serial_number,
            changes: Changes::new()
                .created("created", &report.created.count)
                .created("updated", &report.updated.count)
                .created("retired", &report.retired.count)
                .created("unchanged", &report.unchanged.count)
                .created("skipped", &report.skipped),
        },
        EventType::AssetsImported,
        &summary,
    )
    .await?;
    Ok(report)
}

/// The supplier of a component's kind, when its name is new.
fn supplier_kind(kind: AssetKind) -> SupplierKind {
    match kind {
        AssetKind::MlModel => SupplierKind::AiModelProvider,
        AssetKind::Dataset => SupplierKind::DataProvider,
        AssetKind::MlPlatform => SupplierKind::MlPlatform,
        _ => SupplierKind::Other,
    }
}

/// The ids of the components' suppliers by name: found by name, or created (of the kind of
/// the first component naming them) and listed in the report. One lookup per distinct name.
async fn suppliers<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    bom: &Bom,
    report: &mut ImportReport,
) -> Result<HashMap<String, String>> {
    let mut ids = HashMap::new();
    for c in &bom.components {
        let Some(name) = c.supplier.as_ref().filter(|n| !ids.contains_key(*n)) else {
            continue;
        };
        let (supplier, created) = service::suppliers::find_or_create_by_name(
            conn,
            principal,
            org_id,
            name,
            supplier_kind(c.kind),
        )
        .await?;
        if created {
            report.suppliers_created.push(CreatedSupplier {
                id: supplier.id.clone(),
                name: supplier.name.clone(),
            });
        }
        ids.insert(name.clone(), supplier.id);
    }
    Ok(ids)
}

/// Where a new asset belongs and what it links to.
struct NewRow<'a> {
    id: &'a str,
    org_id: &'a str,
    serial: &'a str,
    external_ref: Option<&'a str>,
    supplier_id: Option<String>,
    sources: &'a [String],
}

fn create(
    c: &Component,
    new: NewRow<'_>,
    now: chrono::DateTime<chrono::Utc>,
    writes: &mut Writes,
) -> Result<()> {
    let NewRow {
        id,
        org_id,
        serial,
        external_ref,
        supplier_id,
        sources,
    } = new;
    let classification = c.classification.unwrap_or(Classification::Internal);
    let personal_data = c.personal_data.unwrap_or(false);
    writes.events.push(Event {
        id: id.to_owned(),
        action: "asset.created",
        changes: Changes::new()
            .created("name", &c.name)
            .created("kind", &c.kind)
            .created("classification", &classification)
            .created("personal_data", &personal_data)
            .created("asset_version", &c.version)
            .created("derived_from", &sources)
            .created("external_ref", &external_ref)
            .created("supplier_id", &supplier_id)
            .created("source_bom", &serial)
            .created("source_ref", &c.key)
            .created("status", &AssetStatus::Active),
    });
    writes.inserts.push(asset_row::ActiveModel {
        id: Set(id.to_owned()),
        organization_id: Set(org_id.to_owned()),
        name: Set(c.name.clone()),
        kind: Set(c.kind),
        description: Set(c.description.clone()),
        owner_id: Set(None),
        classification: Set(classification),
        personal_data: Set(personal_data),
        confidentiality: Set(0),
        integrity: Set(0),
        availability: Set(0),
        asset_version: Set(c.version.clone()),
        locations: Set(locations_json(&[])?),
        external_ref: Set(external_ref.map(str::to_owned)),
        in_scope: Set(true),
        status: Set(AssetStatus::Active),
        supplier_id: Set(supplier_id),
        source_bom: Set(Some(serial.to_owned())),
        source_ref: Set(Some(c.key.clone())),
        hashes: Set(json_text(&c.hashes)),
        external_references: Set(json_text(&c.external_references)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    });
    Ok(())
}

/// Gathers the update of `old` to what the BOM says of it (fields the BOM does not state stay
/// as they are); whether anything changes.
#[allow(clippy::too_many_arguments)]
fn update(
    c: &Component,
    old: &asset_row::Model,
    external_ref: Option<&str>,
    supplier_id: Option<String>,
    old_sources: &[String],
    sources: &[String],
    now: chrono::DateTime<chrono::Utc>,
    writes: &mut Writes,
) -> bool {
    let mut am = old.clone().into_active_model();
    let mut changes = Changes::new();
    macro_rules! apply {
        ($field:ident, $name:literal, $new:expr) => {{
            let new = $new;
            if old.$field != new {
                changes.track($name, &old.$field, &new);
                am.$field = Set(new);
            }
        }};
    }
    apply!(name, "name", c.name.clone());
    apply!(kind, "kind", c.kind);
    apply!(asset_version, "asset_version", c.version.clone());
    apply!(status, "status", AssetStatus::Active);
    apply!(hashes, "hashes", json_text(&c.hashes));
    apply!(
        external_references,
        "external_references",
        json_text(&c.external_references)
    );
    if let Some(description) = &c.description {
        apply!(description, "description", Some(description.clone()));
    }
    if let Some(classification) = c.classification {
        apply!(classification, "classification", classification);
    }
    if let Some(personal_data) = c.personal_data {
        apply!(personal_data, "personal_data", personal_data);
    }
    if let Some(external_ref) = external_ref {
        apply!(external_ref, "external_ref", Some(external_ref.to_owned()));
    }
    if supplier_id.is_some() {
        apply!(supplier_id, "supplier_id", supplier_id);
    }
    changes.track("derived_from", &old_sources, &sources);
    if changes.is_empty() {
        return false;
    }
    am.version = Set(old.version + 1);
    am.updated_at = Set(now);
    writes.updates.push(am);
    writes.events.push(Event {
        id: old.id.clone(),
        action: "asset.updated",
        changes,
    });
    true
}

/// Makes the gathered writes: inserts and link changes in chunks, one update per changed asset,
/// and every asset event chained in one go.
async fn write<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    org_id: &str,
    writes: Writes,
) -> Result<()> {
    let mut inserts = writes.inserts.into_iter().peekable();
    while inserts.peek().is_some() {
        let chunk: Vec<_> = inserts.by_ref().take(ASSET_CHUNK).collect();
        asset_row::Entity::insert_many(chunk)
            .exec_without_returning(conn)
            .await
            .on_unique(EXTERNAL_REF_TAKEN.0, EXTERNAL_REF_TAKEN.1)?;
    }
    for am in writes.updates {
        am.update(conn)
            .await
            .on_unique(EXTERNAL_REF_TAKEN.0, EXTERNAL_REF_TAKEN.1)?;
    }
    for chunk in writes.relinked.chunks(IN_CHUNK) {
        asset_derivation::Entity::delete_many()
            .filter(asset_derivation::Column::AssetId.is_in(chunk.to_vec()))
            .exec(conn)
            .await?;
    }
    for chunk in writes.links.chunks(LINK_CHUNK) {
        asset_derivation::Entity::insert_many(chunk.iter().map(|(asset, source)| {
            asset_derivation::ActiveModel {
                asset_id: Set(asset.clone()),
                source_id: Set(source.clone()),
                organization_id: Set(org_id.to_owned()),
            }
        }))
        .exec_without_returning(conn)
        .await?;
    }
    let events = writes
        .events
        .iter()
        .map(|e| AuditRecord {
            organization_id: Some(org_id),
            action: e.action,
            entity_type: "asset",
            entity_id: &e.id,
            changes: e.changes.clone(),
        })
        .collect();
    audit::record_many(conn, principal, org_id, events).await
}
