//! Moves the organizations' data version to its own table, which no foreign key references.
//!
//! Every change to an organization's data bumps its data version, while every new row of its
//! data takes a key-share lock on the organization's row (the foreign key check). On PostgreSQL,
//! an update of a row that others have key-share locked leaves a multixact on the old version:
//! each read of the organization's row then walked its dead versions and looked every multixact
//! up, once per request, until a vacuum. A row that nothing references is never key-share locked.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrganizationVersions {
    Table,
    OrganizationId,
    DataVersion,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OrganizationVersions::Table)
                    .if_not_exists()
                    .col(string_len(OrganizationVersions::OrganizationId, 36).primary_key())
                    // Bumped by every change to the organization's data: caches key on it.
                    .col(big_integer(OrganizationVersions::DataVersion).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_organization_versions_organization")
                            .from(
                                OrganizationVersions::Table,
                                OrganizationVersions::OrganizationId,
                            )
                            .to(Alias::new("organizations"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO organization_versions (organization_id, data_version) \
             SELECT id, data_version FROM organizations",
        )
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("organizations"))
                    .drop_column(Alias::new("data_version"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("organizations"))
                    .add_column(big_integer(Alias::new("data_version")).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE organizations SET data_version = COALESCE((SELECT v.data_version \
                 FROM organization_versions v WHERE v.organization_id = organizations.id), 0)",
            )
            .await?;
        manager
            .drop_table(Table::drop().table(OrganizationVersions::Table).to_owned())
            .await
    }
}
