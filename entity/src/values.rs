//! The values stored as text that have a fixed set: statuses, kinds, roles and levels. Each is
//! a sea-orm active enum (a typed column: no string parsing after a read) and is also what the
//! API sends and documents. Their rules live in the service's `domain` module.

/// Declares a stored enum, in the same form as the domain's `wire_enum!`: each variant with its
/// stored and wire name (`Variant => "name"`). The names are taken as token trees: the derives
/// do not see through the invisible group a `literal` fragment is passed in.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            sea_orm::EnumIter, sea_orm::DeriveActiveEnum,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $wire)] #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            /// The stored / wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// Parses a stored / wire name.
            pub fn parse(value: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|v| v.as_str() == value)
            }
        }
    };
}

stored_enum!(
    /// How far a control's implementation has come.
    ControlStatus {
        NotStarted => "not_started",
        Planned => "planned",
        InProgress => "in_progress",
        Implemented => "implemented",
    }
);

stored_enum!(
    /// What a control records.
    ControlKind {
        /// A management-system clause (4–10): always applicable.
        Clause => "clause",
        /// An Annex A control or a custom control.
        Control => "control",
        /// An item of the AI audit checklist.
        ChecklistItem => "checklist_item",
    }
);

stored_enum!(
    /// What a piece of evidence is.
    EvidenceKind {
        Document => "document",
        Screenshot => "screenshot",
        Log => "log",
        Configuration => "configuration",
        Report => "report",
        Link => "link",
        Attestation => "attestation",
    }
);

stored_enum!(
    /// Where a piece of evidence stands in review.
    ReviewStatus {
        Pending => "pending",
        Accepted => "accepted",
        Rejected => "rejected",
    }
);

stored_enum!(
    /// How serious a finding is (certification-body conventions).
    FindingType {
        /// Affects the management system's ability to achieve its results; blocks certification.
        MajorNonconformity => "major_nonconformity",
        /// A lapse that does not affect that ability.
        MinorNonconformity => "minor_nonconformity",
        /// Not a nonconformity; worth watching.
        Observation => "observation",
        /// Not a nonconformity; a suggestion.
        OpportunityForImprovement => "opportunity_for_improvement",
    }
);

stored_enum!(
    /// Where a finding comes from.
    FindingSource {
        InternalAudit => "internal_audit",
        ExternalAudit => "external_audit",
        SelfAssessment => "self_assessment",
        AutomatedCheck => "automated_check",
    }
);

stored_enum!(
    /// Where a finding stands in its corrective-action lifecycle.
    FindingStatus {
        /// Raised, nothing done yet.
        Open => "open",
        /// Corrective action under way.
        InProgress => "in_progress",
        /// Corrective action done, awaiting verification.
        Resolved => "resolved",
        /// Verified by an auditor or admin. Final.
        Closed => "closed",
        /// The risk was accepted by an admin (with a written acceptance). Final.
        RiskAccepted => "risk_accepted",
    }
);

stored_enum!(
    /// A role in one organization.
    Role {
        /// Reads controls, evidence, findings, readiness and the SoA.
        Viewer => "viewer",
        /// Reads everything including audit events, reviews evidence, raises and verifies findings.
        Auditor => "auditor",
        /// Changes controls, evidence and findings.
        Editor => "editor",
        /// Everything, including members, service accounts, adoption and deletion.
        Admin => "admin",
    }
);

stored_enum!(
    /// The readiness level.
    Level {
        /// Score ≥ 85, no open major nonconformity, every clause implemented, every exclusion justified.
        Ready => "ready",
        /// Score ≥ 60.
        AtRisk => "at_risk",
        /// Below 60.
        NotReady => "not_ready",
    }
);

stored_enum!(
    /// What an asset is. AI assets (models, datasets, pipelines, endpoints, platforms) are
    /// first-class kinds.
    AssetKind {
        /// A trained machine-learning model (weights, a fine-tune, an embedding model).
        MlModel => "ml_model",
        /// A dataset: training, evaluation, fine-tuning or retrieval data.
        Dataset => "dataset",
        /// A data or training pipeline.
        DataPipeline => "data_pipeline",
        /// A deployed model serving predictions.
        InferenceEndpoint => "inference_endpoint",
        /// An ML platform or framework: a feature store, an experiment tracker, a registry.
        MlPlatform => "ml_platform",
        /// Compute: GPU clusters, training nodes.
        Compute => "compute",
        Application => "application",
        Infrastructure => "infrastructure",
        Information => "information",
        ThirdPartyService => "third_party_service",
        People => "people",
        Facility => "facility",
    }
);

stored_enum!(
    /// How an asset's information is classified.
    Classification {
        Public => "public",
        Internal => "internal",
        Confidential => "confidential",
        Restricted => "restricted",
    }
);

stored_enum!(
    /// Whether an asset is still in use.
    AssetStatus {
        Active => "active",
        /// No longer in use; kept for history and lineage.
        Retired => "retired",
    }
);

stored_enum!(
    /// How a risk is treated (ISO/IEC 27005:2022's terms).
    RiskTreatment {
        /// Not decided yet.
        Undecided => "undecided",
        /// Reduce the risk with controls.
        Modify => "modify",
        /// Keep the risk (needs a formal acceptance when above appetite).
        Retain => "retain",
        /// Stop the activity that gives rise to the risk.
        Avoid => "avoid",
        /// Share the risk (insurance, a supplier, a partner).
        Share => "share",
    }
);

stored_enum!(
    /// Whether a risk is still tracked.
    RiskStatus {
        Open => "open",
        Closed => "closed",
    }
);

stored_enum!(
    /// What a control does for a risk.
    RiskControlRole {
        /// The control is already in place and counted in the residual rating.
        Existing => "existing",
        /// The control is part of the treatment plan.
        Planned => "planned",
    }
);

stored_enum!(
    /// What a supplier provides.
    SupplierKind {
        /// Models or model APIs (an LLM provider, a model hub).
        AiModelProvider => "ai_model_provider",
        /// An ML platform (training, tracking, serving).
        MlPlatform => "ml_platform",
        Cloud => "cloud",
        /// Datasets or labelling.
        DataProvider => "data_provider",
        Saas => "saas",
        Other => "other",
    }
);

stored_enum!(
    /// How much the organization depends on a supplier.
    Criticality {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

stored_enum!(
    /// Where a supplier relationship stands.
    SupplierStatus {
        Onboarding => "onboarding",
        Active => "active",
        Offboarded => "offboarded",
    }
);

stored_enum!(
    /// Where a supplier security review stands.
    SupplierReviewStatus {
        Planned => "planned",
        InProgress => "in_progress",
        Completed => "completed",
    }
);

stored_enum!(
    /// The outcome of a completed supplier review.
    SupplierReviewDecision {
        Approved => "approved",
        ApprovedWithConditions => "approved_with_conditions",
        Rejected => "rejected",
    }
);
