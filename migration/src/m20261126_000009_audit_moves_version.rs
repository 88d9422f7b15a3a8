//! Every audit event of an organization moves its data version, in the database (a trigger).
//!
//! Every mutation records an audit event; the organization's data version used to be moved by a
//! second statement of the same transaction. The trigger moves it within the insert's own
//! statement, which saves a round trip on every write (on SQLite, inside the one writer's turn).

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &str = "CREATE TRIGGER IF NOT EXISTS audit_events_move_data_version \
     AFTER INSERT ON audit_events FOR EACH ROW WHEN NEW.organization_id IS NOT NULL \
     BEGIN \
       UPDATE organization_versions SET data_version = data_version + 1 \
       WHERE organization_id = NEW.organization_id; \
     END";

const POSTGRES_UP: [&str; 3] = [
    "CREATE OR REPLACE FUNCTION audit_events_move_data_version() RETURNS trigger \
     LANGUAGE plpgsql AS $$ \
     BEGIN \
       UPDATE organization_versions SET data_version = data_version + 1 \
       WHERE organization_id = NEW.organization_id; \
       RETURN NULL; \
     END $$",
    "DROP TRIGGER IF EXISTS audit_events_move_data_version ON audit_events",
    "CREATE TRIGGER audit_events_move_data_version \
     AFTER INSERT ON audit_events FOR EACH ROW WHEN (NEW.organization_id IS NOT NULL) \
     EXECUTE FUNCTION audit_events_move_data_version()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                for sql in POSTGRES_UP {
                    db.execute_unprepared(sql).await?;
                }
            }
            _ => {
                db.execute_unprepared(SQLITE_UP).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS audit_events_move_data_version ON audit_events",
                )
                .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS audit_events_move_data_version()")
                    .await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER IF EXISTS audit_events_move_data_version")
                    .await?;
            }
        }
        Ok(())
    }
}
