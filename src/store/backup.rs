//! The SQLite side of backups: the database file a URL names, an online copy (`VACUUM INTO`),
//! and the checks of a copy (integrity, Annexa's migration table).

use std::{path::PathBuf, str::FromStr};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement,
    sqlx::sqlite::SqliteConnectOptions,
};

use crate::store::sql;

/// The file of a `sqlite://…` URL, or `None` for an in-memory database or a bad URL.
pub fn sqlite_file(database_url: &str) -> Option<PathBuf> {
    let options = SqliteConnectOptions::from_str(database_url).ok()?;
    let file = options.get_filename();
    let name = file.to_string_lossy();
    if name.is_empty() || name == ":memory:" {
        return None;
    }
    Some(file.to_path_buf())
}

/// Writes a consistent copy of the database to `to` (which must not exist) while other
/// connections keep writing: `VACUUM INTO` reads one snapshot.
pub async fn vacuum_into(db: &DatabaseConnection, to: &str) -> Result<(), DbErr> {
    db.execute_raw(sql::statement(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        vec![to.into()],
    ))
    .await?;
    Ok(())
}

/// `PRAGMA integrity_check`: `ok`, or the problems found.
pub async fn integrity_check(db: &DatabaseConnection) -> Result<String, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await?;
    let mut lines = Vec::new();
    for row in rows {
        lines.push(row.try_get_by_index::<String>(0)?);
    }
    Ok(lines.join("; "))
}

/// The migrations recorded in the database (sea-orm's `seaql_migrations`), or `None` when the
/// table does not exist.
pub async fn applied_migrations(db: &DatabaseConnection) -> Result<Option<Vec<String>>, DbErr> {
    let exists = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'",
        ))
        .await?
        .is_some();
    if !exists {
        return Ok(None);
    }
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await?;
    let mut names = Vec::new();
    for row in rows {
        names.push(row.try_get_by_index::<String>(0)?);
    }
    Ok(Some(names))
}

/// Folds the write-ahead log into the database file, so the file alone is the database.
pub async fn checkpoint(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await?;
    Ok(())
}
