//! The shipped catalog of AI risk scenarios (docs/risk-templates.md): embedded JSON, parsed once,
//! checked against the frameworks' refs when the catalog is checked at start-up.

use std::{collections::HashSet, sync::LazyLock};

use entity::values::AssetKind;
use serde::{Deserialize, Serialize};

use super::Catalog;

/// The data file.
const DATA: &str = include_str!("data/risk-templates.json");

/// The frameworks a suggested control may name.
pub const FRAMEWORKS: [&str; 3] = ["iso27001-2022", "iso42001-2023", "ai-audit-checklist"];
/// How many templates are shipped, at least.
pub const MIN_TEMPLATES: usize = 24;
/// The scale of `default_likelihood` and `default_impact`: the default 5×5 risk matrix.
pub const SCALE: std::ops::RangeInclusive<u8> = 1..=5;

/// What kind of harm a scenario is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskCategory {
    /// Confidentiality or integrity of models, data or systems, against an attacker.
    Security,
    /// Personal data exposed or misused.
    Privacy,
    /// Harm to the people who use or are affected by an AI system's outputs.
    Safety,
    /// Unfair or discriminatory outcomes.
    Fairness,
    /// The AI service failing, degrading or becoming unavailable.
    Reliability,
    /// Suppliers, dependencies and third-party models or services.
    SupplyChain,
    /// Laws, regulations, licences and contracts.
    Compliance,
    /// Oversight, accountability and traceability of AI work.
    Governance,
}

/// A control that treats a scenario: a requirement of a shipped framework.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuggestedControl {
    /// The framework's key (`iso27001-2022`, `iso42001-2023`, `ai-audit-checklist`).
    pub framework: String,
    /// The requirement's ref in that framework (`A.8.28`, `6.1.2`, `A12-7`).
    pub r#ref: String,
}

/// One AI risk scenario, ready to be turned into a risk of the register.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskTemplate {
    /// Stable kebab-case key (`training-data-poisoning`).
    pub key: String,
    /// Short name.
    pub title: String,
    /// The scenario, in a few sentences.
    pub description: String,
    /// What kind of harm it is about.
    pub category: RiskCategory,
    /// Who or what causes it.
    pub threat: String,
    /// The weakness it exploits.
    pub vulnerability: String,
    /// The kinds of asset it applies to (at least one).
    pub asset_kinds: Vec<AssetKind>,
    /// A starting likelihood on the default 5×5 matrix (1–5).
    pub default_likelihood: u8,
    /// A starting impact on the default 5×5 matrix (1–5).
    pub default_impact: u8,
    /// Controls that treat it (2–6), from the shipped frameworks.
    pub suggested_controls: Vec<SuggestedControl>,
    /// The MITRE ATLAS technique id, where one exists (`AML.T0020`, `AML.T0051.001`).
    pub atlas: Option<String>,
    /// The OWASP Top 10 id, where one exists (`LLM01:2025`, `ML02:2023`).
    pub owasp: Option<String>,
}

/// The parsed data file, or why it does not parse.
static TEMPLATES: LazyLock<Result<Vec<RiskTemplate>, String>> =
    LazyLock::new(|| serde_json::from_str(DATA).map_err(|e| format!("risk-templates.json: {e}")));

/// Every shipped template, in file order. Empty only if the data file is broken, which the
/// start-up check ([`check`]) refuses to run with.
pub fn all() -> &'static [RiskTemplate] {
    match &*TEMPLATES {
        Ok(templates) => templates,
        Err(_) => &[],
    }
}

/// The template with this key.
pub fn find(key: &str) -> Option<&'static RiskTemplate> {
    all().iter().find(|t| t.key == key)
}

/// The data check, run with the catalog's (`Catalog::embedded`): the file parses, there are
/// enough templates, and each is sound ([`validate`]).
pub fn check(catalog: &Catalog) -> Result<(), String> {
    let templates = TEMPLATES.as_ref().map_err(Clone::clone)?;
    validate(templates, catalog)
}

/// Unique kebab-case keys, text present, asset kinds and controls in bounds, every control's
/// ref in the catalog, likelihood and impact on the scale, ATLAS and OWASP ids well formed.
pub fn validate(templates: &[RiskTemplate], catalog: &Catalog) -> Result<(), String> {
    let refs: HashSet<(&str, &str)> = catalog
        .frameworks
        .iter()
        .flat_map(|fw| {
            fw.requirements
                .iter()
                .map(|r| (fw.key.as_str(), r.reference.as_str()))
        })
        .collect();
    let mut errors = Vec::new();
    if templates.len() < MIN_TEMPLATES {
        errors.push(format!(
            "risk templates: {} shipped, at least {MIN_TEMPLATES} expected",
            templates.len()
        ));
    }
    let mut keys = HashSet::new();
    for t in templates {
        if !keys.insert(t.key.as_str()) {
            errors.push(format!("risk template {}: duplicate key", t.key));
        }
        check_template(t, &refs, &mut errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn check_template(t: &RiskTemplate, refs: &HashSet<(&str, &str)>, errors: &mut Vec<String>) {
    let mut fault = |what: String| errors.push(format!("risk template {}: {what}", t.key));
    if !is_kebab_case(&t.key) || t.key.len() > 80 {
        fault("key is not kebab-case (at most 80 characters)".to_owned());
    }
    for (field, text) in [
        ("title", &t.title),
        ("description", &t.description),
        ("threat", &t.threat),
        ("vulnerability", &t.vulnerability),
    ] {
        if text.trim().is_empty() {
            fault(format!("empty {field}"));
        }
    }
    let kinds: HashSet<AssetKind> = t.asset_kinds.iter().copied().collect();
    if kinds.is_empty() || kinds.len() != t.asset_kinds.len() {
        fault("asset_kinds must be at least one, without repeats".to_owned());
    }
    let controls: HashSet<&SuggestedControl> = t.suggested_controls.iter().collect();
    if !(2..=6).contains(&controls.len()) || controls.len() != t.suggested_controls.len() {
        fault("suggested_controls must be 2 to 6, without repeats".to_owned());
    }
    for c in &t.suggested_controls {
        if !FRAMEWORKS.contains(&c.framework.as_str()) {
            fault(format!("unknown framework `{}`", c.framework));
        } else if !refs.contains(&(c.framework.as_str(), c.r#ref.as_str())) {
            fault(format!("unknown ref `{}` in `{}`", c.r#ref, c.framework));
        }
    }
    if !SCALE.contains(&t.default_likelihood) || !SCALE.contains(&t.default_impact) {
        fault("default_likelihood and default_impact must be 1 to 5".to_owned());
    }
    if let Some(id) = &t.atlas
        && !is_atlas_id(id)
    {
        fault(format!("malformed ATLAS id `{id}`"));
    }
    if let Some(id) = &t.owasp
        && !is_owasp_id(id)
    {
        fault(format!("malformed OWASP id `{id}`"));
    }
}

/// `a-b-c`: lowercase letters and digits in words joined by single hyphens.
fn is_kebab_case(key: &str) -> bool {
    !key.is_empty()
        && key.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// A MITRE ATLAS technique (`AML.T0051`) or sub-technique (`AML.T0051.001`).
fn is_atlas_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("AML.T") else {
        return false;
    };
    match rest.split_once('.') {
        Some((technique, sub)) => is_digits(technique, 4) && is_digits(sub, 3),
        None => is_digits(rest, 4),
    }
}

/// An item of the OWASP Top 10 for LLM Applications 2025 (`LLM01:2025`) or the Machine
/// Learning Security Top 10 2023 (`ML01:2023`), 01 to 10.
fn is_owasp_id(id: &str) -> bool {
    let number = if let Some(rest) = id.strip_prefix("LLM") {
        rest.strip_suffix(":2025")
    } else {
        id.strip_prefix("ML")
            .and_then(|rest| rest.strip_suffix(":2023"))
    };
    number.is_some_and(|n| is_digits(n, 2) && matches!(n.parse::<u8>(), Ok(1..=10)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::embedded().unwrap_or_else(|e| panic!("catalog invalid: {e}"))
    }

    #[test]
    fn the_shipped_templates_are_valid() {
        let catalog = catalog();
        assert!(all().len() >= MIN_TEMPLATES, "{} templates", all().len());
        assert_eq!(check(&catalog), Ok(()));
        for t in all() {
            assert!(!t.asset_kinds.is_empty(), "{}", t.key);
            assert!(t.suggested_controls.len() >= 2, "{}", t.key);
        }
    }

    #[test]
    fn templates_are_found_by_key() {
        let first = &all()[0];
        assert_eq!(find(&first.key).map(|t| &t.title), Some(&first.title));
        assert!(find("no-such-template").is_none());
    }

    #[test]
    fn the_check_catches_faults() {
        let catalog = catalog();
        let mut templates = all().to_vec();
        templates[1].key = templates[0].key.clone();
        templates[2].key = "Not_Kebab".to_owned();
        templates[3].asset_kinds.clear();
        templates[4].suggested_controls.truncate(1);
        templates[5].suggested_controls[0].r#ref = "A.99.1".to_owned();
        templates[6].suggested_controls[0].framework = "nist-ai-rmf".to_owned();
        templates[7].atlas = Some("AML.20".to_owned());
        templates[8].owasp = Some("LLM11:2025".to_owned());
        templates[9].default_impact = 6;
        templates[10].threat = " ".to_owned();
        let err = validate(&templates, &catalog).err().unwrap_or_default();
        for fault in [
            "duplicate key",
            "not kebab-case",
            "asset_kinds",
            "suggested_controls",
            "unknown ref `A.99.1`",
            "unknown framework",
            "malformed ATLAS",
            "malformed OWASP",
            "1 to 5",
            "empty threat",
        ] {
            assert!(err.contains(fault), "{fault} not reported in: {err}");
        }
        assert!(validate(&templates[..3], &catalog).is_err_and(|e| e.contains("at least 24")));
    }

    #[test]
    fn ids_are_checked_for_form() {
        for (id, ok) in [
            ("AML.T0020", true),
            ("AML.T0051.001", true),
            ("AML.T20", false),
            ("AML.T0051.1", false),
            ("aml.t0020", false),
        ] {
            assert_eq!(is_atlas_id(id), ok, "{id}");
        }
        for (id, ok) in [
            ("LLM01:2025", true),
            ("LLM10:2025", true),
            ("ML10:2023", true),
            ("LLM00:2025", false),
            ("LLM11:2025", false),
            ("LLM01:2023", false),
            ("ML01:2025", false),
            ("ML1:2023", false),
        ] {
            assert_eq!(is_owasp_id(id), ok, "{id}");
        }
        for (key, ok) in [
            ("data-poisoning", true),
            ("gpu-outage-2", true),
            ("-x", false),
            ("a--b", false),
            ("A-b", false),
        ] {
            assert_eq!(is_kebab_case(key), ok, "{key}");
        }
    }
}
