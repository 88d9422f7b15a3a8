//! Readiness snapshots: the history of a framework's score, one scheduled snapshot per period.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReadinessSnapshots::Table)
                    .if_not_exists()
                    .col(string_len(ReadinessSnapshots::Id, 36).primary_key())
                    .col(string_len(ReadinessSnapshots::OrganizationId, 36))
                    .col(string_len(ReadinessSnapshots::FrameworkKey, 64))
                    .col(double(ReadinessSnapshots::Score))
                    .col(string_len(ReadinessSnapshots::Level, 20))
                    .col(integer(ReadinessSnapshots::FormulaVersion))
                    .col(text(ReadinessSnapshots::Details))
                    .col(string_len(ReadinessSnapshots::Trigger, 20))
                    .col(string_len_null(ReadinessSnapshots::Period, 40))
                    .col(string_len(ReadinessSnapshots::CreatedBy, 80))
                    .col(timestamp_with_time_zone(ReadinessSnapshots::ComputedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_readiness_snapshots_org")
                            .from(
                                ReadinessSnapshots::Table,
                                ReadinessSnapshots::OrganizationId,
                            )
                            .to(Alias::new("organizations"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_readiness_snapshots_history")
                    .table(ReadinessSnapshots::Table)
                    .col(ReadinessSnapshots::OrganizationId)
                    .col(ReadinessSnapshots::FrameworkKey)
                    .col(ReadinessSnapshots::ComputedAt)
                    .to_owned(),
            )
            .await?;
        // One scheduled snapshot per organization, framework and period, whatever the replicas.
        manager
            .create_index(
                Index::create()
                    .name("uq_readiness_snapshots_period")
                    .table(ReadinessSnapshots::Table)
                    .col(ReadinessSnapshots::OrganizationId)
                    .col(ReadinessSnapshots::FrameworkKey)
                    .col(ReadinessSnapshots::Period)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ReadinessSnapshots::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ReadinessSnapshots {
    Table,
    Id,
    OrganizationId,
    FrameworkKey,
    Score,
    Level,
    FormulaVersion,
    Details,
    Trigger,
    Period,
    CreatedBy,
    ComputedAt,
}
