//! The seeded risk register: an asset inventory (AI models, datasets and pipelines among them,
//! with lineage) and risks drawn from the shipped templates, rated, treated and some accepted.

use chrono::Duration;
use rand::{Rng, rngs::StdRng};
use sea_orm::DatabaseConnection;

use super::{SeedSpec, dataset::Members, naming::Naming};
use crate::{
    catalog::risk_templates,
    error::Result,
    service::{
        assets::{self, NewAsset},
        risks::{self, NewRisk, Rating, acceptance::NewAcceptance},
    },
    store::db,
};
use entity::values::{AssetKind, AssetStatus, Classification, RiskTreatment};

/// Assets and risks created per transaction.
const BATCH: usize = 100;

/// One asset of the demo's inventory: name, kind, classification, personal data, version, and
/// the positions of the entries it derives from.
type DemoAsset = (
    &'static str,
    AssetKind,
    Classification,
    bool,
    Option<&'static str>,
    &'static [usize],
);

/// The demo's inventory.
const DEMO_ASSETS: [DemoAsset; 8] = [
    (
        "Customer support tickets 2024–2026",
        AssetKind::Dataset,
        Classification::Confidential,
        true,
        Some("2026-10"),
        &[],
    ),
    (
        "Filtered public web crawl",
        AssetKind::Dataset,
        Classification::Public,
        false,
        Some("v4"),
        &[],
    ),
    (
        "Aurora-Chat 7B",
        AssetKind::MlModel,
        Classification::Confidential,
        false,
        Some("2.3.0"),
        &[0, 1],
    ),
    (
        "Aurora-Chat API",
        AssetKind::InferenceEndpoint,
        Classification::Internal,
        false,
        None,
        &[2],
    ),
    (
        "Nightly fine-tuning pipeline",
        AssetKind::DataPipeline,
        Classification::Internal,
        false,
        None,
        &[],
    ),
    (
        "GPU cluster eu-west",
        AssetKind::Compute,
        Classification::Internal,
        false,
        None,
        &[],
    ),
    (
        "Experiment tracker",
        AssetKind::MlPlatform,
        Classification::Internal,
        false,
        None,
        &[],
    ),
    (
        "Support chat widget",
        AssetKind::Application,
        Classification::Internal,
        false,
        Some("5.1"),
        &[3],
    ),
];

fn asset(name: String, kind: AssetKind, classification: Classification) -> NewAsset {
    NewAsset {
        name,
        kind,
        description: None,
        owner_id: None,
        classification,
        personal_data: false,
        confidentiality: 2,
        integrity: 2,
        availability: 1,
        asset_version: None,
        derived_from: Vec::new(),
        locations: Vec::new(),
        external_ref: None,
        in_scope: true,
        status: AssetStatus::Active,
        supplier_id: None,
    }
}

/// Registers the spec's assets as the editor: the demo's fixed inventory, or numbered assets
/// of every kind where every third one past the first few derives from an earlier one.
async fn add_assets(
    db_conn: &DatabaseConnection,
    rng: &mut StdRng,
    members: &Members,
    org_id: &str,
    spec: &SeedSpec,
) -> Result<Vec<(String, AssetKind)>> {
    let mut made: Vec<(String, AssetKind)> = Vec::new();
    let count = match spec.naming {
        Naming::AiCompany => DEMO_ASSETS.len().min(spec.assets),
        Naming::Numbered => spec.assets,
    };
    for batch in 0..count.div_ceil(BATCH) {
        let txn = db::begin_write(db_conn).await?;
        for i in (batch * BATCH)..((batch + 1) * BATCH).min(count) {
            let new = match spec.naming {
                Naming::AiCompany => {
                    let (name, kind, classification, personal, version, from) = DEMO_ASSETS[i];
                    NewAsset {
                        personal_data: personal,
                        asset_version: version.map(str::to_owned),
                        derived_from: from.iter().map(|&j| made[j].0.clone()).collect(),
                        locations: vec!["DE".to_owned(), "IE".to_owned()],
                        ..asset(name.to_owned(), kind, classification)
                    }
                }
                Naming::Numbered => {
                    let kind = AssetKind::ALL[i % AssetKind::ALL.len()];
                    let classification = Classification::ALL[rng.gen_range(0..4)];
                    let derived_from = if i >= 3 && i % 3 == 0 {
                        vec![made[rng.gen_range(0..i)].0.clone()]
                    } else {
                        Vec::new()
                    };
                    NewAsset {
                        derived_from,
                        in_scope: rng.gen_bool(0.9),
                        ..asset(format!("Seeded asset #{i}"), kind, classification)
                    }
                }
            };
            let kind = new.kind;
            let view = assets::create(&txn, &members.editor.principal, org_id, new).await?;
            made.push((view.asset.id, kind));
        }
        txn.commit().await?;
    }
    Ok(made)
}

/// Registers the spec's risks as the editor, each from a template (cycling through them) on one
/// or two assets of a kind the template applies to, rated around the template's defaults, with
/// a spread of treatments; a third of the retained ones are accepted by the admin.
pub(super) async fn add_register(
    db_conn: &DatabaseConnection,
    rng: &mut StdRng,
    members: &Members,
    org_id: &str,
    spec: &SeedSpec,
    today: chrono::NaiveDate,
) -> Result<()> {
    let assets = add_assets(db_conn, rng, members, org_id, spec).await?;
    let templates = risk_templates::all();
    if templates.is_empty() {
        return Ok(());
    }
    let mut retained = Vec::new();
    for batch in 0..spec.risks.div_ceil(BATCH) {
        let txn = db::begin_write(db_conn).await?;
        for i in (batch * BATCH)..((batch + 1) * BATCH).min(spec.risks) {
            let template = &templates[i % templates.len()];
            let fitting: Vec<&String> = assets
                .iter()
                .filter(|(_, kind)| template.asset_kinds.contains(kind))
                .map(|(id, _)| id)
                .collect();
            let mut asset_ids: Vec<String> = Vec::new();
            for _ in 0..rng.gen_range(1..=2) {
                if !fitting.is_empty() {
                    asset_ids.push(fitting[rng.gen_range(0..fitting.len())].clone());
                }
            }
            let around =
                |rng: &mut StdRng, v: u8| (i16::from(v) + rng.gen_range(-1..=1)).clamp(1, 5);
            let inherent = Rating {
                likelihood: around(rng, template.default_likelihood),
                impact: around(rng, template.default_impact),
            };
            let treatment = [
                RiskTreatment::Modify,
                RiskTreatment::Modify,
                RiskTreatment::Retain,
                RiskTreatment::Undecided,
                RiskTreatment::Share,
                RiskTreatment::Avoid,
            ][rng.gen_range(0..6)];
            let residual = (treatment == RiskTreatment::Modify).then(|| Rating {
                likelihood: (inherent.likelihood - 1).max(1),
                impact: inherent.impact,
            });
            let new = NewRisk {
                template: Some(template.key.clone()),
                title: None,
                description: None,
                threat: None,
                vulnerability: None,
                asset_ids,
                supplier_ids: Vec::new(),
                owner_id: Some(members.editor.id.clone()),
                inherent: Some(inherent),
                residual,
                treatment: Some(treatment),
                treatment_plan: (treatment == RiskTreatment::Modify)
                    .then(|| "Implement the planned controls".to_owned()),
                treatment_due: Some(today + Duration::days(rng.gen_range(-30..180))),
                controls: Vec::new(),
                assessed_at: Some(today - Duration::days(rng.gen_range(0..420))),
                review_due: Some(today + Duration::days(rng.gen_range(-10..365))),
                status: None,
            };
            let view = risks::create(&txn, &members.editor.principal, org_id, new).await?;
            if treatment == RiskTreatment::Retain && i % 3 == 0 {
                retained.push(view.risk.id);
            }
        }
        txn.commit().await?;
    }
    for risk_id in retained {
        let acceptance = NewAcceptance {
            justification: "Within the budget agreed by the management review.".to_owned(),
            expires_on: today + Duration::days(365),
        };
        risks::acceptance::accept(
            db_conn,
            &members.admin.principal,
            org_id,
            &risk_id,
            acceptance,
        )
        .await?;
    }
    Ok(())
}
