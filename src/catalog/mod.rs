//! The shipped catalog: three frameworks and their mappings as JSON data files embedded in the
//! binary, parsed and checked here (`check`), written to the database at start-up (`sync`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::crypto::sha256_hex;

mod check;
pub mod risk_templates;
mod sync;

pub use sync::load;

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
/// The mapping relationships: how far one requirement covers another.
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
