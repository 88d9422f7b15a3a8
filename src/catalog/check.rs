//! The data check run on the parsed catalog before anything is written to the database.

use std::collections::{HashMap, HashSet};

use super::{
    ATTRIBUTES, Catalog, EXPECTED_COUNTS, FrameworkData, KINDS, RELATIONSHIPS, RequirementData,
};

/// Each framework's refs, to resolve the mappings' ends.
type Refs<'a> = HashMap<&'a str, HashSet<&'a str>>;

impl Catalog {
    /// The data check: counts, unique refs, declared groups, kinds, attribute vocabularies,
    /// mapping ends and relationships, and every checklist item mapped to ISO 27001.
    pub fn validate(&self) -> Result<(), String> {
        let mut errors = Vec::new();
        let mut refs = Refs::new();
        for fw in &self.frameworks {
            check_framework(fw, refs.entry(fw.key.as_str()).or_default(), &mut errors);
        }
        let mapped_to_27001 = check_mappings(self, &refs, &mut errors);
        check_checklist_mapped(self, &mapped_to_27001, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// One framework: unique group keys and refs, each requirement sound, the expected count.
/// Its refs are added to `refs`.
fn check_framework<'a>(
    fw: &'a FrameworkData,
    refs: &mut HashSet<&'a str>,
    errors: &mut Vec<String>,
) {
    let groups: HashSet<&str> = fw.groups.iter().map(|g| g.key.as_str()).collect();
    if groups.len() != fw.groups.len() {
        errors.push(format!("{}: duplicate group keys", fw.key));
    }
    for req in &fw.requirements {
        let at = format!("{} {}", fw.key, req.reference);
        if !refs.insert(req.reference.as_str()) {
            errors.push(format!("{at}: duplicate ref"));
        }
        check_requirement(&at, req, &groups, errors);
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

/// One requirement: a declared group, a known kind, a title and description, known attributes.
fn check_requirement(
    at: &str,
    req: &RequirementData,
    groups: &HashSet<&str>,
    errors: &mut Vec<String>,
) {
    if !groups.contains(req.group.as_str()) {
        errors.push(format!("{at}: undeclared group `{}`", req.group));
    }
    if !KINDS.contains(&req.kind.as_str()) {
        errors.push(format!("{at}: unknown kind `{}`", req.kind));
    }
    if req.title.trim().is_empty() || req.description.trim().is_empty() {
        errors.push(format!("{at}: empty title or description"));
    }
    for (key, values) in req.attributes.iter().flatten() {
        check_attribute(at, key, values, errors);
    }
}

/// One attribute: a known key, at least one value, every value from its vocabulary.
fn check_attribute(at: &str, key: &str, values: &[String], errors: &mut Vec<String>) {
    let Some((_, vocabulary)) = ATTRIBUTES.iter().find(|(k, _)| *k == key) else {
        errors.push(format!("{at}: unknown attribute `{key}`"));
        return;
    };
    if values.is_empty() {
        errors.push(format!("{at}: `{key}` is empty"));
    }
    for value in values {
        if !vocabulary.contains(&value.as_str()) {
            errors.push(format!("{at}: `{key}` has unknown value `{value}`"));
        }
    }
}

/// The mappings: both ends exist, a known relationship, no duplicates. Returns the checklist
/// refs mapped to ISO 27001.
fn check_mappings<'a>(
    catalog: &'a Catalog,
    refs: &Refs<'_>,
    errors: &mut Vec<String>,
) -> HashSet<&'a str> {
    let exists = |fw: &str, r: &str| refs.get(fw).is_some_and(|set| set.contains(r));
    let mut pairs = HashSet::new();
    let mut mapped_to_27001 = HashSet::new();
    for m in &catalog.mappings {
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
    mapped_to_27001
}

/// Every AI audit checklist item maps to at least one ISO 27001 requirement: the checklist is
/// meant to be worked through alongside an ISMS, never on its own.
fn check_checklist_mapped(
    catalog: &Catalog,
    mapped_to_27001: &HashSet<&str>,
    errors: &mut Vec<String>,
) {
    let Some(checklist) = catalog
        .frameworks
        .iter()
        .find(|f| f.key == "ai-audit-checklist")
    else {
        return;
    };
    for req in &checklist.requirements {
        if !mapped_to_27001.contains(req.reference.as_str()) {
            errors.push(format!(
                "ai-audit-checklist {}: not mapped to iso27001-2022",
                req.reference
            ));
        }
    }
}
