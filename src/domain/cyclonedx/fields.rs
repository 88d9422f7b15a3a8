//! The mapping of single CycloneDX fields: classification words, sensitive data, hashes and
//! external references (docs/cyclonedx.md, "Mapping").

use serde_json::{Map, Value, json};

use super::Problem;
use crate::domain::asset::Classification;

/// The hash algorithms of CycloneDX 1.6 (`hash-alg`); others are refused so that the
/// inventory exports as a valid 1.6 BOM.
pub const HASH_ALGORITHMS: [&str; 12] = [
    "MD5",
    "SHA-1",
    "SHA-256",
    "SHA-384",
    "SHA-512",
    "SHA3-256",
    "SHA3-384",
    "SHA3-512",
    "BLAKE2b-256",
    "BLAKE2b-384",
    "BLAKE2b-512",
    "BLAKE3",
];

/// The external reference types of CycloneDX 1.6; an exported reference of another type
/// (a 1.7 one) is written as `other`.
pub const REFERENCE_TYPES: [&str; 43] = [
    "vcs",
    "issue-tracker",
    "website",
    "advisories",
    "bom",
    "mailing-list",
    "social",
    "chat",
    "documentation",
    "support",
    "source-distribution",
    "distribution",
    "distribution-intake",
    "license",
    "build-meta",
    "build-system",
    "release-notes",
    "security-contact",
    "model-card",
    "log",
    "configuration",
    "evidence",
    "formulation",
    "attestation",
    "threat-model",
    "adversary-model",
    "risk-assessment",
    "vulnerability-assertion",
    "exploitability-statement",
    "pentest-report",
    "static-analysis-report",
    "dynamic-analysis-report",
    "runtime-analysis-report",
    "component-analysis-report",
    "maturity-report",
    "certification-report",
    "codified-infrastructure",
    "quality-metrics",
    "poam",
    "electronic-signature",
    "digital-signature",
    "rfc-9116",
    "other",
];

/// The classification a free-text CycloneDX `classification` names (case and surrounding
/// space ignored), `None` for a text Annexa does not know.
pub fn classification_of(text: &str) -> Option<Classification> {
    let text = text.trim().to_lowercase().replace(['_', '-'], " ");
    match text.as_str() {
        "public" | "open" | "unclassified" => Some(Classification::Public),
        "internal" | "internal use" | "internal only" => Some(Classification::Internal),
        "confidential" | "sensitive" | "private" | "pii" | "personal" | "personal data" => {
            Some(Classification::Confidential)
        }
        "restricted" | "secret" | "strictly confidential" | "highly confidential" => {
            Some(Classification::Restricted)
        }
        _ => None,
    }
}

/// What a component's `data` entries (`componentData`) say: the strictest classification
/// they name, and whether any lists sensitive data. `None`s when it has no `data`.
pub fn data_labels(
    pointer: &str,
    data: Option<&Value>,
    problems: &mut Vec<Problem>,
) -> (Option<Classification>, Option<bool>) {
    let Some(data) = data else {
        return (None, None);
    };
    let Some(entries) = data.as_array() else {
        problems.push(Problem::new(format!("{pointer}/data"), "must be an array"));
        return (None, None);
    };
    let mut classification = None;
    let mut sensitive = false;
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("{pointer}/data/{i}");
        if let Some(text) = entry.get("classification") {
            match text.as_str().map(|t| (t, classification_of(t))) {
                Some((_, Some(found))) => classification = classification.max(Some(found)),
                Some((t, None)) => problems.push(Problem::new(
                    format!("{at}/classification"),
                    format!(
                        "`{t}` is not a classification Annexa knows: use public, internal, \
                         confidential or restricted (docs/cyclonedx.md)"
                    ),
                )),
                None => problems.push(Problem::new(
                    format!("{at}/classification"),
                    "must be a string",
                )),
            }
        }
        match entry.get("sensitiveData") {
            None => {}
            Some(Value::Array(items)) => {
                for (j, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) if !s.trim().is_empty() => sensitive = true,
                        Some(_) => {}
                        None => problems.push(Problem::new(
                            format!("{at}/sensitiveData/{j}"),
                            "must be a string",
                        )),
                    }
                }
            }
            Some(_) => problems.push(Problem::new(
                format!("{at}/sensitiveData"),
                "must be an array of strings",
            )),
        }
    }
    if sensitive {
        // Sensitive data is personal data, and at least confidential.
        classification = classification.max(Some(Classification::Confidential));
    }
    (classification, Some(sensitive))
}

fn is_hex_digest(content: &str) -> bool {
    matches!(content.len(), 32 | 40 | 64 | 96 | 128)
        && content.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The component's `hashes` as `[{alg, content}]`, each checked.
pub fn hashes(pointer: &str, value: Option<&Value>, problems: &mut Vec<Problem>) -> Value {
    let Some(value) = value else {
        return json!([]);
    };
    let Some(items) = value.as_array() else {
        problems.push(Problem::new(
            format!("{pointer}/hashes"),
            "must be an array",
        ));
        return json!([]);
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{pointer}/hashes/{i}");
        let alg = item.get("alg").and_then(Value::as_str);
        let content = item.get("content").and_then(Value::as_str);
        match (alg, content) {
            (Some(alg), _) if !HASH_ALGORITHMS.contains(&alg) => problems.push(Problem::new(
                format!("{at}/alg"),
                format!("`{alg}` is not a CycloneDX 1.6 hash algorithm"),
            )),
            (Some(_), Some(content)) if !is_hex_digest(content) => problems.push(Problem::new(
                format!("{at}/content"),
                "must be a hexadecimal digest of 32, 40, 64, 96 or 128 digits",
            )),
            (Some(alg), Some(content)) => out.push(json!({"alg": alg, "content": content})),
            _ => problems.push(Problem::new(at, "needs `alg` and `content` strings")),
        }
    }
    Value::Array(out)
}

/// The component's `externalReferences` as `[{type, url, comment?}]`, each checked.
pub fn external_references(
    pointer: &str,
    value: Option<&Value>,
    problems: &mut Vec<Problem>,
) -> Value {
    let Some(value) = value else {
        return json!([]);
    };
    let Some(items) = value.as_array() else {
        problems.push(Problem::new(
            format!("{pointer}/externalReferences"),
            "must be an array",
        ));
        return json!([]);
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{pointer}/externalReferences/{i}");
        let kind = item.get("type").and_then(Value::as_str);
        let url = item.get("url").and_then(Value::as_str).map(str::trim);
        match (kind, url) {
            (Some(kind), Some(url)) if !url.is_empty() && url.chars().count() <= 2000 => {
                let mut reference = Map::new();
                reference.insert("type".into(), kind.into());
                reference.insert("url".into(), url.into());
                if let Some(comment) = item.get("comment").and_then(Value::as_str) {
                    reference.insert("comment".into(), comment.into());
                }
                out.push(Value::Object(reference));
            }
            (Some(_), Some(_)) => {
                problems.push(Problem::new(
                    format!("{at}/url"),
                    "must be 1 to 2000 characters",
                ));
            }
            _ => problems.push(Problem::new(at, "needs `type` and `url` strings")),
        }
    }
    Value::Array(out)
}

/// The reference type written on export: a 1.6 type as it is, another as `other`.
pub fn export_reference_type(kind: &str) -> &str {
    if REFERENCE_TYPES.contains(&kind) {
        kind
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_words() {
        let cases = [
            ("Public", Some(Classification::Public)),
            (" internal ", Some(Classification::Internal)),
            ("Internal-Use", Some(Classification::Internal)),
            ("CONFIDENTIAL", Some(Classification::Confidential)),
            ("PII", Some(Classification::Confidential)),
            ("strictly_confidential", Some(Classification::Restricted)),
            ("restricted", Some(Classification::Restricted)),
            ("top secret-ish", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(classification_of(text), expected, "{text:?}");
        }
    }

    #[test]
    fn sensitive_data_is_personal_and_at_least_confidential() {
        let mut problems = Vec::new();
        let cases = [
            (
                json!([{"type": "dataset", "classification": "public", "sensitiveData": ["email"]}]),
                (Some(Classification::Confidential), Some(true)),
            ),
            (
                json!([{"type": "dataset", "classification": "restricted", "sensitiveData": ["x"]}]),
                (Some(Classification::Restricted), Some(true)),
            ),
            (
                json!([{"type": "dataset", "classification": "public"}]),
                (Some(Classification::Public), Some(false)),
            ),
            (
                json!([{"type": "dataset", "sensitiveData": [" "]}]),
                (None, Some(false)),
            ),
            (
                json!([{"type": "dataset", "classification": "internal"}, {"type": "dataset", "classification": "confidential"}]),
                (Some(Classification::Confidential), Some(false)),
            ),
        ];
        for (data, expected) in cases {
            assert_eq!(
                data_labels("/c", Some(&data), &mut problems),
                expected,
                "{data}"
            );
        }
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(data_labels("/c", None, &mut problems), (None, None));
    }

    #[test]
    fn unknown_classification_and_bad_hashes_are_problems() {
        let mut problems = Vec::new();
        data_labels(
            "/components/0",
            Some(&json!([{"type": "dataset", "classification": "whatever"}])),
            &mut problems,
        );
        let hashes = hashes(
            "/components/0",
            Some(&json!([
                {"alg": "SHA-256", "content": "ab".repeat(32)},
                {"alg": "CRC32", "content": "abcd"},
                {"alg": "SHA-1", "content": "xyz"},
                {"alg": "SHA-1"},
            ])),
            &mut problems,
        );
        assert_eq!(hashes.as_array().map(Vec::len), Some(1));
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/components/0/data/0/classification",
                "/components/0/hashes/1/alg",
                "/components/0/hashes/2/content",
                "/components/0/hashes/3",
            ]
        );
    }

    #[test]
    fn references_keep_type_url_and_comment() {
        let mut problems = Vec::new();
        let refs = external_references(
            "/c",
            Some(
                &json!([{"type": "model-card", "url": " https://x/card ", "comment": "c", "hashes": []}, {"url": "u"}]),
            ),
            &mut problems,
        );
        assert_eq!(
            refs,
            json!([{"type": "model-card", "url": "https://x/card", "comment": "c"}])
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(export_reference_type("model-card"), "model-card");
        assert_eq!(export_reference_type("future-kind"), "other");
    }
}
