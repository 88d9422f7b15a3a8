//! Controls (the Statement of Applicability), evidence with content blobs and control links,
//! findings with control links: the organization's own records.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    name: &str,
    from: (&str, &str),
    to: (&str, &str),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(Alias::new(from.0), Alias::new(from.1))
        .to(Alias::new(to.0), Alias::new(to.1))
        .on_delete(on_delete)
        .to_owned()
}

fn index(name: &str, table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(Alias::new(table));
    for column in columns {
        stmt.col(Alias::new(*column));
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};
        manager
            .create_table(
                Table::create()
                    .table(OrganizationFrameworks::Table)
                    .if_not_exists()
                    .col(string_len(OrganizationFrameworks::Id, 36).primary_key())
                    .col(string_len(OrganizationFrameworks::OrganizationId, 36))
                    .col(string_len(OrganizationFrameworks::FrameworkKey, 64))
                    .col(string_len(OrganizationFrameworks::AdoptedBy, 80))
                    .col(timestamp_with_time_zone(OrganizationFrameworks::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_org_frameworks_org",
                        ("organization_frameworks", "organization_id"),
                        ("organizations", "id"),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_org_frameworks_framework",
                        ("organization_frameworks", "framework_key"),
                        ("frameworks", "key"),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "uq_org_frameworks",
                "organization_frameworks",
                &["organization_id", "framework_key"],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Controls::Table)
                    .if_not_exists()
                    .col(string_len(Controls::Id, 36).primary_key())
                    .col(string_len(Controls::OrganizationId, 36))
                    .col(string_len(Controls::FrameworkKey, 64))
                    .col(string_len_null(Controls::RequirementId, 36))
                    .col(string_len(Controls::Ref, 40))
                    .col(text(Controls::Title))
                    .col(string_len(Controls::GroupKey, 40))
                    .col(string_len(Controls::Kind, 20))
                    .col(boolean(Controls::Custom).default(false))
                    .col(text_null(Controls::Description))
                    .col(boolean(Controls::Applicable).default(true))
                    .col(text_null(Controls::Justification))
                    .col(string_len(Controls::Status, 20))
                    .col(string_len_null(Controls::Owner, 320))
                    .col(date_null(Controls::DueDate))
                    .col(text_null(Controls::Notes))
                    .col(integer(Controls::Version).default(1))
                    .col(timestamp_with_time_zone(Controls::CreatedAt))
                    .col(timestamp_with_time_zone(Controls::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_controls_org",
                        ("controls", "organization_id"),
                        ("organizations", "id"),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_controls_requirement",
                        ("controls", "requirement_id"),
                        ("requirements", "id"),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "uq_controls_org_framework_ref",
                "controls",
                &["organization_id", "framework_key", "ref"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_controls_org_id",
                "controls",
                &["organization_id", "id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_controls_org_updated",
                "controls",
                &["organization_id", "updated_at"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EvidenceBlobs::Table)
                    .if_not_exists()
                    .col(string_len(EvidenceBlobs::Sha256, 64).primary_key())
                    .col(big_integer(EvidenceBlobs::Size))
                    .col(blob(EvidenceBlobs::Data))
                    .col(timestamp_with_time_zone(EvidenceBlobs::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Evidence::Table)
                    .if_not_exists()
                    .col(string_len(Evidence::Id, 36).primary_key())
                    .col(string_len(Evidence::OrganizationId, 36))
                    .col(text(Evidence::Title))
                    .col(text_null(Evidence::Description))
                    .col(string_len(Evidence::Kind, 20))
                    .col(text_null(Evidence::Url))
                    .col(timestamp_with_time_zone_null(Evidence::CollectedAt))
                    .col(timestamp_with_time_zone_null(Evidence::ValidUntil))
                    .col(string_len(Evidence::ReviewStatus, 20))
                    .col(text_null(Evidence::ReviewComment))
                    .col(string_len_null(Evidence::ReviewedBy, 80))
                    .col(timestamp_with_time_zone_null(Evidence::ReviewedAt))
                    .col(string_len(Evidence::SubmittedBy, 80))
                    .col(string_len_null(Evidence::ContentSha256, 64))
                    .col(big_integer_null(Evidence::ContentSize))
                    .col(string_len_null(Evidence::ContentMediaType, 255))
                    .col(string_len_null(Evidence::ContentFilename, 255))
                    .col(timestamp_with_time_zone_null(Evidence::ArchivedAt))
                    .col(integer(Evidence::Version).default(1))
                    .col(timestamp_with_time_zone(Evidence::CreatedAt))
                    .col(timestamp_with_time_zone(Evidence::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_evidence_org",
                        ("evidence", "organization_id"),
                        ("organizations", "id"),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_evidence_blob",
                        ("evidence", "content_sha256"),
                        ("evidence_blobs", "sha256"),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_evidence_org_id",
                "evidence",
                &["organization_id", "id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_evidence_org_updated",
                "evidence",
                &["organization_id", "updated_at"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ControlEvidence::Table)
                    .if_not_exists()
                    .col(string_len(ControlEvidence::ControlId, 36))
                    .col(string_len(ControlEvidence::EvidenceId, 36))
                    .col(string_len(ControlEvidence::OrganizationId, 36))
                    .col(timestamp_with_time_zone(ControlEvidence::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(ControlEvidence::ControlId)
                            .col(ControlEvidence::EvidenceId),
                    )
                    .foreign_key(&mut fk(
                        "fk_control_evidence_control",
                        ("control_evidence", "control_id"),
                        ("controls", "id"),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_control_evidence_evidence",
                        ("control_evidence", "evidence_id"),
                        ("evidence", "id"),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_control_evidence_evidence",
                "control_evidence",
                &["evidence_id"],
                false,
            ))
            .await?;
        // Covering indexes for the readiness aggregates: links by organization and control, and
        // the evidence facts the formula reads, without touching the wide evidence rows.
        manager
            .create_index(index(
                "ix_control_evidence_org",
                "control_evidence",
                &["organization_id", "control_id", "evidence_id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_evidence_facts",
                "evidence",
                &["id", "archived_at", "review_status", "valid_until"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Findings::Table)
                    .if_not_exists()
                    .col(string_len(Findings::Id, 36).primary_key())
                    .col(string_len(Findings::OrganizationId, 36))
                    .col(text(Findings::Title))
                    .col(text_null(Findings::Description))
                    .col(string_len(Findings::Type, 40))
                    .col(string_len(Findings::Source, 40))
                    .col(string_len(Findings::Status, 20))
                    .col(string_len_null(Findings::Owner, 320))
                    .col(date_null(Findings::DueDate))
                    .col(text_null(Findings::RootCause))
                    .col(text_null(Findings::CorrectiveAction))
                    .col(text_null(Findings::ResolutionNotes))
                    .col(text_null(Findings::RiskAcceptance))
                    .col(string_len_null(Findings::ExternalSystem, 64))
                    .col(string_len_null(Findings::ExternalKey, 255))
                    .col(text_null(Findings::ExternalUrl))
                    .col(string_len_null(Findings::ExternalStatus, 100))
                    .col(timestamp_with_time_zone_null(Findings::ClosedAt))
                    .col(integer(Findings::Version).default(1))
                    .col(timestamp_with_time_zone(Findings::CreatedAt))
                    .col(timestamp_with_time_zone(Findings::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_findings_org",
                        ("findings", "organization_id"),
                        ("organizations", "id"),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_findings_org_id",
                "findings",
                &["organization_id", "id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "uq_findings_external_ref",
                "findings",
                &["organization_id", "external_system", "external_key"],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FindingControls::Table)
                    .if_not_exists()
                    .col(string_len(FindingControls::FindingId, 36))
                    .col(string_len(FindingControls::ControlId, 36))
                    .col(string_len(FindingControls::OrganizationId, 36))
                    .primary_key(
                        Index::create()
                            .col(FindingControls::FindingId)
                            .col(FindingControls::ControlId),
                    )
                    .foreign_key(&mut fk(
                        "fk_finding_controls_finding",
                        ("finding_controls", "finding_id"),
                        ("findings", "id"),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_finding_controls_control",
                        ("finding_controls", "control_id"),
                        ("controls", "id"),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_finding_controls_control",
                "finding_controls",
                &["control_id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_finding_controls_org",
                "finding_controls",
                &["organization_id", "control_id", "finding_id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_findings_facts",
                "findings",
                &["id", "status", "type"],
                false,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "finding_controls",
            "findings",
            "control_evidence",
            "evidence",
            "evidence_blobs",
            "controls",
            "organization_frameworks",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum OrganizationFrameworks {
    Table,
    Id,
    OrganizationId,
    FrameworkKey,
    AdoptedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Controls {
    Table,
    Id,
    OrganizationId,
    FrameworkKey,
    RequirementId,
    Ref,
    Title,
    GroupKey,
    Kind,
    Custom,
    Description,
    Applicable,
    Justification,
    Status,
    Owner,
    DueDate,
    Notes,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum EvidenceBlobs {
    Table,
    Sha256,
    Size,
    Data,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Evidence {
    Table,
    Id,
    OrganizationId,
    Title,
    Description,
    Kind,
    Url,
    CollectedAt,
    ValidUntil,
    ReviewStatus,
    ReviewComment,
    ReviewedBy,
    ReviewedAt,
    SubmittedBy,
    ContentSha256,
    ContentSize,
    ContentMediaType,
    ContentFilename,
    ArchivedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ControlEvidence {
    Table,
    ControlId,
    EvidenceId,
    OrganizationId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Findings {
    Table,
    Id,
    OrganizationId,
    Title,
    Description,
    Type,
    Source,
    Status,
    Owner,
    DueDate,
    RootCause,
    CorrectiveAction,
    ResolutionNotes,
    RiskAcceptance,
    ExternalSystem,
    ExternalKey,
    ExternalUrl,
    ExternalStatus,
    ClosedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FindingControls {
    Table,
    FindingId,
    ControlId,
    OrganizationId,
}
