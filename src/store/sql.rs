//! Hand-written SQL for aggregates, portable across SQLite and PostgreSQL (`?` placeholders
//! are renumbered to `$n` for PostgreSQL).

use sea_orm::{DbBackend, Statement, Value};

/// A statement from SQL written with `?` placeholders.
pub fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => {
            let mut out = String::with_capacity(sql.len() + 16);
            let mut n = 0;
            for ch in sql.chars() {
                if ch == '?' {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push(ch);
                }
            }
            out
        }
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_renumbered_for_postgres() {
        let stmt = statement(
            DbBackend::Postgres,
            "a = ? AND b IN (?, ?)",
            vec![1.into(), 2.into(), 3.into()],
        );
        assert_eq!(stmt.sql, "a = $1 AND b IN ($2, $3)");
        let stmt = statement(DbBackend::Sqlite, "a = ?", vec![1.into()]);
        assert_eq!(stmt.sql, "a = ?");
    }
}
