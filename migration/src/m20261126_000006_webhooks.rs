//! Webhooks: endpoints, the outbox of events, per-endpoint deliveries and their attempts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn org_fk(
    name: &str,
    table: impl IntoIden + 'static,
    col: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Alias::new("organizations"), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .if_not_exists()
                    .col(string_len(WebhookEndpoints::Id, 36).primary_key())
                    .col(string_len(WebhookEndpoints::OrganizationId, 36))
                    .col(string_len(WebhookEndpoints::Url, 2048))
                    .col(string_len_null(WebhookEndpoints::Description, 500))
                    .col(text(WebhookEndpoints::Events))
                    .col(boolean(WebhookEndpoints::Enabled))
                    .col(string_len_null(WebhookEndpoints::DisabledReason, 500))
                    .col(string_len(WebhookEndpoints::Secret, 120))
                    .col(string_len_null(WebhookEndpoints::PreviousSecret, 120))
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoints::PreviousSecretExpiresAt,
                    ))
                    .col(integer(WebhookEndpoints::Version))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                    .foreign_key(&mut org_fk(
                        "fk_webhook_endpoints_org",
                        WebhookEndpoints::Table,
                        WebhookEndpoints::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_endpoints_org")
                    .table(WebhookEndpoints::Table)
                    .col(WebhookEndpoints::OrganizationId)
                    .col(WebhookEndpoints::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookEvents::Table)
                    .if_not_exists()
                    .col(string_len(WebhookEvents::Id, 40).primary_key())
                    .col(string_len(WebhookEvents::OrganizationId, 36))
                    .col(string_len(WebhookEvents::EventType, 64))
                    .col(text(WebhookEvents::Payload))
                    .col(timestamp_with_time_zone(WebhookEvents::CreatedAt))
                    .foreign_key(&mut org_fk(
                        "fk_webhook_events_org",
                        WebhookEvents::Table,
                        WebhookEvents::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .if_not_exists()
                    .col(string_len(WebhookDeliveries::Id, 36).primary_key())
                    .col(string_len(WebhookDeliveries::OrganizationId, 36))
                    .col(string_len(WebhookDeliveries::EndpointId, 36))
                    .col(string_len(WebhookDeliveries::EventId, 40))
                    .col(string_len(WebhookDeliveries::EventType, 64))
                    .col(string_len(WebhookDeliveries::Status, 20))
                    .col(integer(WebhookDeliveries::Attempts))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::NextAttemptAt,
                    ))
                    .col(string_len_null(WebhookDeliveries::LeaseOwner, 36))
                    .col(timestamp_with_time_zone_null(WebhookDeliveries::LeaseUntil))
                    .col(integer_null(WebhookDeliveries::LastStatusCode))
                    .col(string_len_null(WebhookDeliveries::LastError, 500))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookDeliveries::UpdatedAt))
                    .foreign_key(&mut org_fk(
                        "fk_webhook_deliveries_org",
                        WebhookDeliveries::Table,
                        WebhookDeliveries::OrganizationId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_endpoint")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                            .to(WebhookEndpoints::Table, WebhookEndpoints::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_event")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::EventId)
                            .to(WebhookEvents::Table, WebhookEvents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The workers' queue: due pending deliveries, oldest due first.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Status)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        // An endpoint's delivery log, paged by id.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_endpoint")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::OrganizationId)
                    .col(WebhookDeliveries::EndpointId)
                    .col(WebhookDeliveries::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_event")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::EventId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .if_not_exists()
                    .col(string_len(WebhookAttempts::Id, 36).primary_key())
                    .col(string_len(WebhookAttempts::DeliveryId, 36))
                    .col(integer(WebhookAttempts::Number))
                    .col(string_len(WebhookAttempts::Worker, 36))
                    .col(timestamp_with_time_zone(WebhookAttempts::StartedAt))
                    .col(integer_null(WebhookAttempts::StatusCode))
                    .col(integer(WebhookAttempts::DurationMs))
                    .col(string_len_null(WebhookAttempts::Error, 500))
                    .col(string_len_null(WebhookAttempts::ResponseExcerpt, 1024))
                    .col(timestamp_with_time_zone_null(
                        WebhookAttempts::NextAttemptAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_attempts_delivery")
                            .from(WebhookAttempts::Table, WebhookAttempts::DeliveryId)
                            .to(WebhookDeliveries::Table, WebhookDeliveries::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_webhook_attempts_number")
                    .table(WebhookAttempts::Table)
                    .col(WebhookAttempts::DeliveryId)
                    .col(WebhookAttempts::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The last scores announced per organization, so that only real changes fire.
        manager
            .create_table(
                Table::create()
                    .table(WebhookReadinessState::Table)
                    .if_not_exists()
                    .col(string_len(WebhookReadinessState::OrganizationId, 36).primary_key())
                    .col(text(WebhookReadinessState::Scores))
                    .col(timestamp_with_time_zone(WebhookReadinessState::UpdatedAt))
                    .foreign_key(&mut org_fk(
                        "fk_webhook_readiness_state_org",
                        WebhookReadinessState::Table,
                        WebhookReadinessState::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        // The expiry sweep walks evidence by validity end.
        manager
            .create_index(
                Index::create()
                    .name("ix_evidence_valid_until")
                    .table(Alias::new("evidence"))
                    .col(Alias::new("valid_until"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_evidence_valid_until")
                    .table(Alias::new("evidence"))
                    .to_owned(),
            )
            .await?;
        for table in [
            WebhookReadinessState::Table.into_iden(),
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            WebhookEvents::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    OrganizationId,
    Url,
    Description,
    Events,
    Enabled,
    DisabledReason,
    Secret,
    PreviousSecret,
    PreviousSecretExpiresAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookEvents {
    Table,
    Id,
    OrganizationId,
    EventType,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    OrganizationId,
    EndpointId,
    EventId,
    EventType,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseOwner,
    LeaseUntil,
    LastStatusCode,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    Number,
    Worker,
    StartedAt,
    StatusCode,
    DurationMs,
    Error,
    ResponseExcerpt,
    NextAttemptAt,
}

#[derive(DeriveIden)]
enum WebhookReadinessState {
    Table,
    OrganizationId,
    Scores,
    UpdatedAt,
}
