//! Risk templates shipped with the service: common information-security and AI risks with the
//! controls that usually treat them. (A minimal local version: the full catalog replaces it.)

use std::sync::LazyLock;

use entity::values::AssetKind;

/// A risk to start from: its wording and the controls that usually treat it.
#[derive(Debug, Clone)]
pub struct RiskTemplate {
    pub key: String,
    pub title: String,
    pub description: String,
    pub threat: String,
    pub vulnerability: String,
    pub asset_kinds: Vec<AssetKind>,
    pub suggested_controls: Vec<SuggestedControl>,
    /// The MITRE ATLAS technique, where one applies.
    pub atlas: Option<String>,
    /// The OWASP (LLM / ML) Top 10 entry, where one applies.
    pub owasp: Option<String>,
}

/// A catalog requirement suggested as a treating control.
#[derive(Debug, Clone)]
pub struct SuggestedControl {
    pub framework: String,
    pub r#ref: String,
}

fn suggested(pairs: &[(&str, &str)]) -> Vec<SuggestedControl> {
    pairs
        .iter()
        .map(|(framework, r)| SuggestedControl {
            framework: (*framework).to_owned(),
            r#ref: (*r).to_owned(),
        })
        .collect()
}

static TEMPLATES: LazyLock<Vec<RiskTemplate>> = LazyLock::new(|| {
    vec![
        RiskTemplate {
            key: "training-data-poisoning".to_owned(),
            title: "Poisoned training data".to_owned(),
            description: "Manipulated records in a training or fine-tuning dataset make the \
                          model behave as an attacker wants."
                .to_owned(),
            threat: "An attacker or a compromised supplier inserts crafted samples".to_owned(),
            vulnerability: "Training data sources are not verified or access controlled".to_owned(),
            asset_kinds: vec![
                AssetKind::Dataset,
                AssetKind::MlModel,
                AssetKind::DataPipeline,
            ],
            suggested_controls: suggested(&[
                ("iso27001-2022", "A.5.21"),
                ("iso27001-2022", "A.8.3"),
                ("iso42001-2023", "A.7.4"),
            ]),
            atlas: Some("AML.T0020".to_owned()),
            owasp: Some("LLM04:2025".to_owned()),
        },
        RiskTemplate {
            key: "model-weights-theft".to_owned(),
            title: "Theft of model weights".to_owned(),
            description: "The trained model's weights are copied out of the organization."
                .to_owned(),
            threat: "An outsider or insider exfiltrates the weights".to_owned(),
            vulnerability: "Weights are stored with broad access and without monitoring".to_owned(),
            asset_kinds: vec![AssetKind::MlModel, AssetKind::MlPlatform],
            suggested_controls: suggested(&[
                ("iso27001-2022", "A.5.15"),
                ("iso27001-2022", "A.8.12"),
            ]),
            atlas: Some("AML.T0048".to_owned()),
            owasp: None,
        },
    ]
});

/// Every template, in catalog order.
pub fn all() -> &'static [RiskTemplate] {
    &TEMPLATES
}

/// The template with `key`.
pub fn find(key: &str) -> Option<&'static RiskTemplate> {
    TEMPLATES.iter().find(|t| t.key == key)
}
