//! How seeded evidence and findings are titled: numbered for benchmarks, or as an AI company's
//! ISMS would title them, for a person looking at the demo.

/// The titles of seeded evidence and findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Naming {
    /// `Seeded evidence #12`, `Seeded finding #3`: plain to tell apart in benchmark data.
    #[default]
    Numbered,
    /// Titles from an AI company's audit preparation, repeated with a number past the list.
    AiCompany,
}

const AI_EVIDENCE: [&str; 20] = [
    "Information security policy, approved by the board",
    "AI policy and acceptable use of generative models",
    "Statement of Applicability sign-off",
    "Risk register export with AI-specific risks",
    "AI system impact assessment: support chatbot",
    "Model card: fraud-scoring model v3",
    "Training data provenance record for the vision dataset",
    "Quarterly access review of the GPU cluster",
    "MFA enforcement settings in the identity provider",
    "Cloud security posture report (production account)",
    "Vulnerability scan summary for the inference API",
    "Penetration test report: model-serving platform",
    "Prompt-injection red-team exercise results",
    "Model evaluation report: bias and robustness metrics",
    "Backup and restore test of the feature store",
    "Incident response tabletop: model data leak scenario",
    "Supplier assessment of the foundation-model provider",
    "Security awareness training completion report",
    "Change approval log for model deployments",
    "Logging and monitoring dashboard for model drift",
];

const AI_FINDINGS: [&str; 15] = [
    "Training datasets lack documented provenance",
    "Former contractors still have access to the model registry",
    "No impact assessment for the recommendation model",
    "Model deployments bypass change approval",
    "Prompt logs keep personal data beyond the retention period",
    "Supplier contract with the model provider lacks security clauses",
    "Drift alerts are not routed to an owner",
    "Restore of the feature store was never tested",
    "Secrets for the inference API are kept in a notebook",
    "Human oversight of automated decisions is not described",
    "AI incidents are not part of the incident procedure",
    "Awareness training does not cover generative AI use",
    "Risk owners are missing for three AI risks",
    "Evaluation thresholds are not approved before release",
    "The acceptable use policy has not been reviewed this year",
];

/// `list[i]`, with a number once the list has been used up (`… (2)`).
fn from_list(list: &[&str], i: usize) -> String {
    let (round, at) = (i / list.len(), i % list.len());
    match round {
        0 => list[at].to_owned(),
        n => format!("{} ({})", list[at], n + 1),
    }
}

impl Naming {
    /// The title of evidence item `i`.
    pub fn evidence(self, i: usize) -> String {
        match self {
            Self::Numbered => format!("Seeded evidence #{i}"),
            Self::AiCompany => from_list(&AI_EVIDENCE, i),
        }
    }

    /// The title of finding `i`.
    pub fn finding(self, i: usize) -> String {
        match self {
            Self::Numbered => format!("Seeded finding #{i}"),
            Self::AiCompany => from_list(&AI_FINDINGS, i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Naming;

    #[test]
    fn titles_stay_distinct_past_the_list() {
        assert_eq!(Naming::Numbered.evidence(7), "Seeded evidence #7");
        assert_eq!(Naming::Numbered.finding(3), "Seeded finding #3");
        let first = Naming::AiCompany.evidence(0);
        assert_eq!(Naming::AiCompany.evidence(20), format!("{first} (2)"));
        let titles: std::collections::HashSet<String> =
            (0..45).map(|i| Naming::AiCompany.finding(i)).collect();
        assert_eq!(titles.len(), 45);
    }
}
