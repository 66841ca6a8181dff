//! Versioned migrations of the replica file. Each is embedded SQL named by the time it was
//! written, applied once, in order, in its own transaction, and recorded in
//! `schema_migrations`, so a counter PC that skipped releases catches up in one open.

use rusqlite::{Connection, TransactionBehavior};

use super::ReplicaError;

pub(crate) struct Migration {
    pub version: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($version:literal) => {
        Migration {
            version: $version,
            sql: include_str!(concat!("migrations/", $version, ".sql")),
        }
    };
}

/// Append only, in version order: a released migration is never edited.
pub(crate) const MIGRATIONS: &[Migration] = &[
    migration!("20261124_0900_rows_and_history"),
    migration!("20261124_0930_project_view"),
    migration!("20261125_0900_outbox"),
    migration!("20261125_1000_integrity"),
    migration!("20261125_1100_row_digests"),
    migration!("20261125_1200_digest_index"),
    migration!("20261125_1300_undigested_index"),
    migration!("20261126_0900_snapshot_load"),
    migration!("20261127_0900_alerts"),
    migration!("20261128_0900_documents"),
    migration!("20261206_0900_escalation_deadlines"),
];

/// Brings the file to the newest schema; returns how many migrations it applied.
pub(crate) fn migrate(conn: &mut Connection) -> Result<usize, ReplicaError> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Applies the first `count` migrations only: how tests make a file at an older schema.
pub(crate) fn migrate_to(conn: &mut Connection, count: usize) -> Result<usize, ReplicaError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
    )?;
    let applied = applied_versions(conn)?;
    if let Some(unknown) = applied
        .iter()
        .find(|v| !MIGRATIONS.iter().any(|m| m.version == v.as_str()))
    {
        return Err(ReplicaError::SchemaTooNew(unknown.clone()));
    }
    let mut ran = 0;
    for migration in MIGRATIONS.iter().take(count) {
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
        tracing::info!(version = migration.version, "replica migration applied");
        ran += 1;
    }
    Ok(ran)
}

pub(crate) fn applied_versions(conn: &Connection) -> Result<Vec<String>, ReplicaError> {
    let mut stmt = conn.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
    let versions = stmt.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
    Ok(versions)
}

/// Runs `load` with the indexes of `table` dropped, then builds them again, inside the
/// caller's transaction: building an index once over all its keys is far cheaper than
/// keeping it up to date through millions of inserts in arbitrary order. A key the
/// load repeated fails the rebuilt unique index.
pub(crate) fn without_indexes<T>(
    conn: &Connection,
    table: &str,
    load: impl FnOnce() -> Result<T, ReplicaError>,
) -> Result<T, ReplicaError> {
    let indexes: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL")?
        .query_map([table], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (name, _) in &indexes {
        conn.execute(&format!("DROP INDEX \"{name}\""), [])?;
    }
    let loaded = load()?;
    for (_, sql) in &indexes {
        conn.execute(sql, [])?;
    }
    Ok(loaded)
}
