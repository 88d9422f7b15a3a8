//! The risk register: assets (AI models, datasets and pipelines among them) with their lineage,
//! each organization's risk matrix, risks with their assets and treating controls, and the
//! per-organization counters that number risks (`R-1`, `R-2`…) without ever reusing a number.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from: (&str, &str), to: (&str, &str)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{}_{}", from.0, from.1))
        .from(Alias::new(from.0), Alias::new(from.1))
        .to(Alias::new(to.0), Alias::new(to.1))
        .on_delete(ForeignKeyAction::Cascade)
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
        manager
            .create_table(
                Table::create()
                    .table(Assets::Table)
                    .if_not_exists()
                    .col(string_len(Assets::Id, 36).primary_key())
                    .col(string_len(Assets::OrganizationId, 36))
                    .col(text(Assets::Name))
                    .col(string_len(Assets::Kind, 40))
                    .col(text_null(Assets::Description))
                    .col(string_len_null(Assets::OwnerId, 36))
                    .col(string_len(Assets::Classification, 20))
                    .col(boolean(Assets::PersonalData).default(false))
                    .col(small_integer(Assets::Confidentiality).default(0))
                    .col(small_integer(Assets::Integrity).default(0))
                    .col(small_integer(Assets::Availability).default(0))
                    .col(string_len_null(Assets::AssetVersion, 200))
                    // ISO 3166-1 alpha-2 codes as a JSON array of strings.
                    .col(text(Assets::Locations))
                    .col(string_len_null(Assets::ExternalRef, 1000))
                    .col(boolean(Assets::InScope).default(true))
                    .col(string_len(Assets::Status, 20))
                    .col(integer(Assets::Version).default(1))
                    .col(timestamp_with_time_zone(Assets::CreatedAt))
                    .col(timestamp_with_time_zone(Assets::UpdatedAt))
                    .foreign_key(&mut fk(
                        ("assets", "organization_id"),
                        ("organizations", "id"),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            ("ix_assets_org_id", &["organization_id", "id"][..], false),
            (
                "ix_assets_org_updated",
                &["organization_id", "updated_at"][..],
                false,
            ),
            (
                "uq_assets_org_external_ref",
                &["organization_id", "external_ref"][..],
                true,
            ),
        ] {
            manager
                .create_index(index(name, "assets", columns, unique))
                .await?;
        }

        // `asset_id` is derived from `source_id` (a model trained on a dataset…).
        manager
            .create_table(
                Table::create()
                    .table(AssetDerivations::Table)
                    .if_not_exists()
                    .col(string_len(AssetDerivations::AssetId, 36))
                    .col(string_len(AssetDerivations::SourceId, 36))
                    .col(string_len(AssetDerivations::OrganizationId, 36))
                    .primary_key(
                        Index::create()
                            .col(AssetDerivations::AssetId)
                            .col(AssetDerivations::SourceId),
                    )
                    .foreign_key(&mut fk(("asset_derivations", "asset_id"), ("assets", "id")))
                    .foreign_key(&mut fk(
                        ("asset_derivations", "source_id"),
                        ("assets", "id"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_asset_derivations_org_source",
                "asset_derivations",
                &["organization_id", "source_id"],
                false,
            ))
            .await?;

        // One row per organization once its matrix has been changed; until then the default
        // matrix applies. The levels and the grid are JSON documents (read and written whole).
        manager
            .create_table(
                Table::create()
                    .table(RiskMatrices::Table)
                    .if_not_exists()
                    .col(string_len(RiskMatrices::OrganizationId, 36).primary_key())
                    .col(text(RiskMatrices::LikelihoodLevels))
                    .col(text(RiskMatrices::ImpactLevels))
                    .col(text(RiskMatrices::RiskLevels))
                    .col(text(RiskMatrices::Grid))
                    .col(small_integer(RiskMatrices::Appetite))
                    .col(integer(RiskMatrices::Version).default(1))
                    .col(timestamp_with_time_zone(RiskMatrices::UpdatedAt))
                    .foreign_key(&mut fk(
                        ("risk_matrices", "organization_id"),
                        ("organizations", "id"),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Risks::Table)
                    .if_not_exists()
                    .col(string_len(Risks::Id, 36).primary_key())
                    .col(string_len(Risks::OrganizationId, 36))
                    .col(integer(Risks::RefNumber))
                    .col(text(Risks::Title))
                    .col(text_null(Risks::Description))
                    .col(text_null(Risks::Threat))
                    .col(text_null(Risks::Vulnerability))
                    .col(string_len_null(Risks::OwnerId, 36))
                    .col(string_len_null(Risks::Template, 80))
                    .col(small_integer(Risks::InherentLikelihood))
                    .col(small_integer(Risks::InherentImpact))
                    .col(small_integer(Risks::InherentLevel))
                    .col(small_integer(Risks::ResidualLikelihood))
                    .col(small_integer(Risks::ResidualImpact))
                    .col(small_integer(Risks::ResidualLevel))
                    .col(string_len(Risks::Treatment, 20))
                    .col(text_null(Risks::TreatmentPlan))
                    .col(date_null(Risks::TreatmentDue))
                    .col(date_null(Risks::AssessedAt))
                    .col(date_null(Risks::ReviewDue))
                    .col(string_len(Risks::Status, 20))
                    .col(text_null(Risks::AcceptanceJustification))
                    .col(date_null(Risks::AcceptanceExpiresOn))
                    .col(string_len_null(Risks::AcceptedBy, 80))
                    .col(timestamp_with_time_zone_null(Risks::AcceptedAt))
                    .col(integer(Risks::Version).default(1))
                    .col(timestamp_with_time_zone(Risks::CreatedAt))
                    .col(timestamp_with_time_zone(Risks::UpdatedAt))
                    .foreign_key(&mut fk(
                        ("risks", "organization_id"),
                        ("organizations", "id"),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            (
                "uq_risks_org_ref",
                &["organization_id", "ref_number"][..],
                true,
            ),
            ("ix_risks_org_id", &["organization_id", "id"][..], false),
            (
                "ix_risks_org_updated",
                &["organization_id", "updated_at"][..],
                false,
            ),
        ] {
            manager
                .create_index(index(name, "risks", columns, unique))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RiskAssets::Table)
                    .if_not_exists()
                    .col(string_len(RiskAssets::RiskId, 36))
                    .col(string_len(RiskAssets::AssetId, 36))
                    .col(string_len(RiskAssets::OrganizationId, 36))
                    .primary_key(
                        Index::create()
                            .col(RiskAssets::RiskId)
                            .col(RiskAssets::AssetId),
                    )
                    .foreign_key(&mut fk(("risk_assets", "risk_id"), ("risks", "id")))
                    .foreign_key(&mut fk(("risk_assets", "asset_id"), ("assets", "id")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_risk_assets_org_asset",
                "risk_assets",
                &["organization_id", "asset_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RiskControls::Table)
                    .if_not_exists()
                    .col(string_len(RiskControls::RiskId, 36))
                    .col(string_len(RiskControls::ControlId, 36))
                    .col(string_len(RiskControls::OrganizationId, 36))
                    .col(string_len(RiskControls::Role, 20))
                    .primary_key(
                        Index::create()
                            .col(RiskControls::RiskId)
                            .col(RiskControls::ControlId),
                    )
                    .foreign_key(&mut fk(("risk_controls", "risk_id"), ("risks", "id")))
                    .foreign_key(&mut fk(("risk_controls", "control_id"), ("controls", "id")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_risk_controls_org_control",
                "risk_controls",
                &["organization_id", "control_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrganizationCounters::Table)
                    .if_not_exists()
                    .col(string_len(OrganizationCounters::OrganizationId, 36))
                    .col(string_len(OrganizationCounters::Name, 40))
                    .col(big_integer(OrganizationCounters::Value).default(0))
                    .primary_key(
                        Index::create()
                            .col(OrganizationCounters::OrganizationId)
                            .col(OrganizationCounters::Name),
                    )
                    .foreign_key(&mut fk(
                        ("organization_counters", "organization_id"),
                        ("organizations", "id"),
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "organization_counters",
            "risk_controls",
            "risk_assets",
            "risks",
            "risk_matrices",
            "asset_derivations",
            "assets",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Assets {
    Table,
    Id,
    OrganizationId,
    Name,
    Kind,
    Description,
    OwnerId,
    Classification,
    PersonalData,
    Confidentiality,
    Integrity,
    Availability,
    AssetVersion,
    Locations,
    ExternalRef,
    InScope,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AssetDerivations {
    Table,
    AssetId,
    SourceId,
    OrganizationId,
}

#[derive(DeriveIden)]
enum RiskMatrices {
    Table,
    OrganizationId,
    LikelihoodLevels,
    ImpactLevels,
    RiskLevels,
    Grid,
    Appetite,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Risks {
    Table,
    Id,
    OrganizationId,
    RefNumber,
    Title,
    Description,
    Threat,
    Vulnerability,
    OwnerId,
    Template,
    InherentLikelihood,
    InherentImpact,
    InherentLevel,
    ResidualLikelihood,
    ResidualImpact,
    ResidualLevel,
    Treatment,
    TreatmentPlan,
    TreatmentDue,
    AssessedAt,
    ReviewDue,
    Status,
    AcceptanceJustification,
    AcceptanceExpiresOn,
    AcceptedBy,
    AcceptedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RiskAssets {
    Table,
    RiskId,
    AssetId,
    OrganizationId,
}

#[derive(DeriveIden)]
enum RiskControls {
    Table,
    RiskId,
    ControlId,
    OrganizationId,
    Role,
}

#[derive(DeriveIden)]
enum OrganizationCounters {
    Table,
    OrganizationId,
    Name,
    Value,
}
