//! Copies the facts the readiness aggregates read (evidence review, validity and archival;
//! finding status and type) onto the link rows, so that per-control aggregates scan one
//! covering index in order instead of probing the evidence and findings tables once per link.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn index(name: &str, table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(Alias::new(table));
    for column in columns {
        stmt.col(Alias::new(*column));
    }
    stmt.to_owned()
}

async fn add_column(
    manager: &SchemaManager<'_>,
    table: &str,
    column: ColumnDef,
) -> Result<(), DbErr> {
    // One column per statement: SQLite alters one at a time.
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .add_column(column)
                .to_owned(),
        )
        .await
}

async fn drop_index(manager: &SchemaManager<'_>, name: &str, table: &str) -> Result<(), DbErr> {
    manager
        .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            (
                "control_evidence",
                string_len(ControlEvidence::EvidenceReviewStatus, 20)
                    .default("")
                    .to_owned(),
            ),
            (
                "control_evidence",
                timestamp_with_time_zone_null(ControlEvidence::EvidenceValidUntil),
            ),
            (
                "control_evidence",
                timestamp_with_time_zone_null(ControlEvidence::EvidenceArchivedAt),
            ),
            (
                "finding_controls",
                string_len(FindingControls::FindingStatus, 20)
                    .default("")
                    .to_owned(),
            ),
            (
                "finding_controls",
                string_len(FindingControls::FindingType, 40)
                    .default("")
                    .to_owned(),
            ),
        ] {
            add_column(manager, table, column).await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE control_evidence SET \
             evidence_review_status = (SELECT e.review_status FROM evidence e WHERE e.id = control_evidence.evidence_id), \
             evidence_valid_until = (SELECT e.valid_until FROM evidence e WHERE e.id = control_evidence.evidence_id), \
             evidence_archived_at = (SELECT e.archived_at FROM evidence e WHERE e.id = control_evidence.evidence_id)",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE finding_controls SET \
             finding_status = (SELECT f.status FROM findings f WHERE f.id = finding_controls.finding_id), \
             finding_type = (SELECT f.type FROM findings f WHERE f.id = finding_controls.finding_id)",
        )
        .await?;
        // The wider covering indexes replace the narrow ones and the per-row fact indexes.
        drop_index(manager, "ix_control_evidence_org", "control_evidence").await?;
        drop_index(manager, "ix_finding_controls_org", "finding_controls").await?;
        drop_index(manager, "ix_evidence_facts", "evidence").await?;
        drop_index(manager, "ix_findings_facts", "findings").await?;
        manager
            .create_index(index(
                "ix_control_evidence_facts",
                "control_evidence",
                &[
                    "organization_id",
                    "control_id",
                    "evidence_archived_at",
                    "evidence_review_status",
                    "evidence_valid_until",
                    "evidence_id",
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_finding_controls_facts",
                "finding_controls",
                &[
                    "organization_id",
                    "control_id",
                    "finding_status",
                    "finding_type",
                    "finding_id",
                ],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, "ix_control_evidence_facts", "control_evidence").await?;
        drop_index(manager, "ix_finding_controls_facts", "finding_controls").await?;
        for (table, column) in [
            ("control_evidence", "evidence_review_status"),
            ("control_evidence", "evidence_valid_until"),
            ("control_evidence", "evidence_archived_at"),
            ("finding_controls", "finding_status"),
            ("finding_controls", "finding_type"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        for (name, table, columns) in [
            (
                "ix_control_evidence_org",
                "control_evidence",
                &["organization_id", "control_id", "evidence_id"][..],
            ),
            (
                "ix_finding_controls_org",
                "finding_controls",
                &["organization_id", "control_id", "finding_id"][..],
            ),
            (
                "ix_evidence_facts",
                "evidence",
                &["id", "archived_at", "review_status", "valid_until"][..],
            ),
            (
                "ix_findings_facts",
                "findings",
                &["id", "status", "type"][..],
            ),
        ] {
            manager.create_index(index(name, table, columns)).await?;
        }
        Ok(())
    }
}

/// The copied columns are named after the row they copy from.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum ControlEvidence {
    EvidenceReviewStatus,
    EvidenceValidUntil,
    EvidenceArchivedAt,
}

#[derive(DeriveIden)]
enum FindingControls {
    FindingStatus,
    FindingType,
}
