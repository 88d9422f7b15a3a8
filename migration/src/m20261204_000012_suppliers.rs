//! Suppliers with their security reviews, the assets' link to their supplier and the keys of a
//! CycloneDX import, and risks' links to suppliers.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    from: (&str, &str),
    to: (&str, &str),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{}_{}", from.0, from.1))
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
        use ForeignKeyAction::{Cascade, SetNull};
        manager
            .create_table(
                Table::create()
                    .table(Suppliers::Table)
                    .if_not_exists()
                    .col(string_len(Suppliers::Id, 36).primary_key())
                    .col(string_len(Suppliers::OrganizationId, 36))
                    .col(string_len(Suppliers::Name, 200))
                    .col(string_len_null(Suppliers::Website, 1000))
                    .col(text_null(Suppliers::Services))
                    .col(string_len(Suppliers::Kind, 40))
                    .col(string_len(Suppliers::Criticality, 20))
                    // JSON arrays: data access kinds, ISO 3166-1 alpha-2 codes, and
                    // certifications `{scheme, expires_on, evidence_id}`.
                    .col(text(Suppliers::DataAccess))
                    .col(text(Suppliers::Countries))
                    .col(text(Suppliers::Certifications))
                    .col(date_null(Suppliers::DpaSignedAt))
                    .col(date_null(Suppliers::ContractEnd))
                    .col(string_len_null(Suppliers::OwnerId, 36))
                    .col(string_len(Suppliers::Status, 20))
                    // Months between reviews; null: by criticality.
                    .col(small_integer_null(Suppliers::ReviewIntervalMonths))
                    .col(integer(Suppliers::Version).default(1))
                    .col(timestamp_with_time_zone(Suppliers::CreatedAt))
                    .col(timestamp_with_time_zone(Suppliers::UpdatedAt))
                    .foreign_key(&mut fk(
                        ("suppliers", "organization_id"),
                        ("organizations", "id"),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            (
                "uq_suppliers_org_name",
                &["organization_id", "name"][..],
                true,
            ),
            ("ix_suppliers_org_id", &["organization_id", "id"][..], false),
            (
                "ix_suppliers_org_updated",
                &["organization_id", "updated_at"][..],
                false,
            ),
        ] {
            manager
                .create_index(index(name, "suppliers", columns, unique))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(SupplierReviews::Table)
                    .if_not_exists()
                    .col(string_len(SupplierReviews::Id, 36).primary_key())
                    .col(string_len(SupplierReviews::OrganizationId, 36))
                    .col(string_len(SupplierReviews::SupplierId, 36))
                    .col(date(SupplierReviews::Due))
                    .col(string_len(SupplierReviews::Status, 20))
                    .col(string_len_null(SupplierReviews::Decision, 40))
                    .col(text_null(SupplierReviews::Conditions))
                    .col(string_len_null(SupplierReviews::ReviewerId, 36))
                    // JSON array of evidence ids.
                    .col(text(SupplierReviews::EvidenceIds))
                    .col(timestamp_with_time_zone_null(SupplierReviews::CompletedAt))
                    .col(integer(SupplierReviews::Version).default(1))
                    .col(timestamp_with_time_zone(SupplierReviews::CreatedAt))
                    .col(timestamp_with_time_zone(SupplierReviews::UpdatedAt))
                    .foreign_key(&mut fk(
                        ("supplier_reviews", "supplier_id"),
                        ("suppliers", "id"),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_supplier_reviews_org_supplier",
                "supplier_reviews",
                &["organization_id", "supplier_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RiskSuppliers::Table)
                    .if_not_exists()
                    .col(string_len(RiskSuppliers::RiskId, 36))
                    .col(string_len(RiskSuppliers::SupplierId, 36))
                    .col(string_len(RiskSuppliers::OrganizationId, 36))
                    .primary_key(
                        Index::create()
                            .col(RiskSuppliers::RiskId)
                            .col(RiskSuppliers::SupplierId),
                    )
                    .foreign_key(&mut fk(
                        ("risk_suppliers", "risk_id"),
                        ("risks", "id"),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        ("risk_suppliers", "supplier_id"),
                        ("suppliers", "id"),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        // SQLite adds one column per statement.
        for column in [
            string_len_null(Assets::SupplierId, 36),
            // The CycloneDX BOM (`serialNumber`) and component (`bom-ref`, else `purl`) an
            // imported asset came from: the import's key.
            string_len_null(Assets::SourceBom, 200),
            string_len_null(Assets::SourceRef, 1000),
            // JSON arrays of CycloneDX `hashes` and `externalReferences`.
            text(Assets::Hashes).default("[]").take(),
            text(Assets::ExternalReferences).default("[]").take(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Assets::Table)
                        .add_column(column.to_owned())
                        .to_owned(),
                )
                .await?;
        }
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            manager
                .create_foreign_key(fk(("assets", "supplier_id"), ("suppliers", "id"), SetNull))
                .await?;
        }
        for (name, columns, unique) in [
            (
                "uq_assets_org_source",
                &["organization_id", "source_bom", "source_ref"][..],
                true,
            ),
            (
                "ix_assets_org_supplier",
                &["organization_id", "supplier_id"][..],
                false,
            ),
        ] {
            manager
                .create_index(index(name, "assets", columns, unique))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["uq_assets_org_source", "ix_assets_org_supplier"] {
            manager
                .drop_index(Index::drop().name(name).table(Assets::Table).to_owned())
                .await?;
        }
        for column in [
            Assets::SupplierId,
            Assets::SourceBom,
            Assets::SourceRef,
            Assets::Hashes,
            Assets::ExternalReferences,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Assets::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in ["risk_suppliers", "supplier_reviews", "suppliers"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Suppliers {
    Table,
    Id,
    OrganizationId,
    Name,
    Website,
    Services,
    Kind,
    Criticality,
    DataAccess,
    Countries,
    Certifications,
    DpaSignedAt,
    ContractEnd,
    OwnerId,
    Status,
    ReviewIntervalMonths,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SupplierReviews {
    Table,
    Id,
    OrganizationId,
    SupplierId,
    Due,
    Status,
    Decision,
    Conditions,
    ReviewerId,
    EvidenceIds,
    CompletedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RiskSuppliers {
    Table,
    RiskId,
    SupplierId,
    OrganizationId,
}

#[derive(DeriveIden)]
enum Assets {
    Table,
    SupplierId,
    SourceBom,
    SourceRef,
    Hashes,
    ExternalReferences,
}
