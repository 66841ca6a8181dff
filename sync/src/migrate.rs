//! The migration runner the hub's SQLite store and the counter's replica share. Each
//! migration is embedded SQL named by the time it was written, applied once, in order, in
//! its own transaction, and recorded in `schema_migrations`; a file that records a
//! migration this program does not know was made by a newer release and is left alone.

use rusqlite::{Connection, TransactionBehavior};

pub struct Migration {
    pub version: &'static str,
    pub sql: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The file records this migration, which this release does not know.
    #[error("数据库由更新版本的程序建立（数据库版本 {0}）")]
    SchemaTooNew(String),
}

/// Applies the first `count` of `migrations` not applied yet; returns how many it applied.
/// `count` below the total is how tests make a file at an older schema.
pub fn migrate_to(conn: &mut Connection, migrations: &[Migration], count: usize) -> Result<usize, MigrateError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
    )?;
    let applied = applied_versions(conn)?;
    // A newer release's schema is not ours to write to: its tables may mean what this
    // program does not know.
    if let Some(unknown) = applied.iter().find(|v| !migrations.iter().any(|m| m.version == v.as_str())) {
        return Err(MigrateError::SchemaTooNew(unknown.clone()));
    }
    let mut ran = 0;
    for migration in migrations.iter().take(count) {
        if applied.iter().any(|v| v == migration.version) {
            continue;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(migration.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
            [migration.version],
        )?;
        tx.commit()?;
        ran += 1;
    }
    Ok(ran)
}

pub fn applied_versions(conn: &Connection) -> Result<Vec<String>, rusqlite::Error> {
    let mut stmt = conn.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
    let versions = stmt.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
    Ok(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIGRATIONS: &[Migration] = &[
        Migration { version: "20260101000000_a", sql: "CREATE TABLE a (x INTEGER)" },
        Migration { version: "20260102000000_b", sql: "CREATE TABLE b (x INTEGER)" },
    ];

    #[test]
    fn each_migration_runs_once_in_order_and_a_newer_file_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate_to(&mut conn, MIGRATIONS, 1).unwrap(), 1);
        assert_eq!(migrate_to(&mut conn, MIGRATIONS, 2).unwrap(), 1, "only the one not yet applied");
        assert_eq!(migrate_to(&mut conn, MIGRATIONS, 2).unwrap(), 0);
        assert_eq!(applied_versions(&conn).unwrap(), ["20260101000000_a", "20260102000000_b"]);
        let older_release = &MIGRATIONS[..1];
        match migrate_to(&mut conn, older_release, 1) {
            Err(MigrateError::SchemaTooNew(version)) => assert_eq!(version, "20260102000000_b"),
            other => panic!("a file from a newer release must be refused, got {other:?}"),
        }
    }

    #[test]
    fn a_failing_migration_leaves_nothing_of_itself() {
        let broken = &[Migration { version: "20260101000000_broken", sql: "CREATE TABLE c (x); CREATE TABLE c (y);" }];
        let mut conn = Connection::open_in_memory().unwrap();
        assert!(migrate_to(&mut conn, broken, 1).is_err());
        assert!(applied_versions(&conn).unwrap().is_empty());
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema WHERE name = 'c'", [], |r| r.get(0)).unwrap();
        assert_eq!(tables, 0);
    }
}
