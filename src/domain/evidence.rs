//! Evidence rules: kinds, review states, the segregation of duties and safe file names.

pub use entity::values::{EvidenceKind, ReviewStatus};

use crate::domain::wire::wire_enum;

wire_enum!(
    /// A reviewer's decision.
    ReviewDecision {
        Accepted => "accepted",
        Rejected => "rejected",
    }
);

impl ReviewDecision {
    /// The review status the decision leads to.
    pub fn status(self) -> ReviewStatus {
        match self {
            Self::Accepted => ReviewStatus::Accepted,
            Self::Rejected => ReviewStatus::Rejected,
        }
    }
}

/// Segregation of duties (ISO 27001 A.5.3): nobody reviews evidence they submitted.
pub fn may_review(reviewer: &str, submitted_by: &str) -> bool {
    reviewer != submitted_by
}

/// The review status after the content or validity of evidence changes: accepted evidence
/// goes back to pending, so that it is reviewed again.
pub fn status_after_change(current: ReviewStatus) -> ReviewStatus {
    match current {
        ReviewStatus::Accepted => ReviewStatus::Pending,
        other => other,
    }
}

/// A safe stored file name: the last path component, without control characters, quotes or
/// separators, at most 255 bytes; `None` when nothing usable remains.
pub fn sanitize_filename(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let mut cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '"' | '\\' | '/' | ';' | '\u{2028}' | '\u{2029}')
        })
        .collect();
    cleaned = cleaned.trim().trim_start_matches('.').trim().to_owned();
    while cleaned.len() > 255 {
        cleaned.pop();
    }
    (!cleaned.is_empty()).then_some(cleaned)
}

/// An ASCII-only fallback of a file name for the plain `filename=` parameter.
pub fn ascii_filename(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_sanitized() {
        let cases = [
            ("report.pdf", Some("report.pdf")),
            ("../../etc/passwd", Some("passwd")),
            ("C:\\Users\\me\\policy.docx", Some("policy.docx")),
            ("evil\r\nSet-Cookie: x.txt", Some("evilSet-Cookie: x.txt")),
            ("quote\"d;name.txt", Some("quotedname.txt")),
            ("...hidden", Some("hidden")),
            ("/", None),
            ("\u{0}\u{7}", None),
            ("relatório é.pdf", Some("relatório é.pdf")),
        ];
        for (raw, expected) in cases {
            assert_eq!(sanitize_filename(raw).as_deref(), expected, "{raw:?}");
        }
        assert_eq!(
            sanitize_filename(&"a".repeat(400)).map(|s| s.len()),
            Some(255)
        );
        assert_eq!(ascii_filename("relatório é.pdf"), "relat_rio _.pdf");
    }

    #[test]
    fn review_rules() {
        assert!(!may_review("user:1", "user:1"));
        assert!(may_review("user:2", "user:1"));
        assert_eq!(
            status_after_change(ReviewStatus::Accepted),
            ReviewStatus::Pending
        );
        assert_eq!(
            status_after_change(ReviewStatus::Rejected),
            ReviewStatus::Rejected
        );
        assert_eq!(
            status_after_change(ReviewStatus::Pending),
            ReviewStatus::Pending
        );
        assert_eq!(ReviewDecision::Rejected.status(), ReviewStatus::Rejected);
        assert_eq!(EvidenceKind::parse("log"), Some(EvidenceKind::Log));
        assert_eq!(ReviewStatus::parse("maybe"), None);
    }
}
