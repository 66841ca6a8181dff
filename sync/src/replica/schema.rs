//! Versioned migrations of the replica file, run by the runner the hub shares
//! (`crate::migrate`), so a counter PC that skipped releases catches up in one open.

use rusqlite::Connection;

use super::ReplicaError;
use crate::migrate::Migration;

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
    migration!("20261207_0900_kept_sign_ins"),
    migration!("20261208_0900_audit_trail"),
    migration!("20261210_0900_enrolment"),
    migration!("20261212_0900_hub_link"),
];

/// Brings the file to the newest schema; returns how many migrations it applied.
pub(crate) fn migrate(conn: &mut Connection) -> Result<usize, ReplicaError> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Applies the first `count` migrations only: how tests make a file at an older schema.
pub(crate) fn migrate_to(conn: &mut Connection, count: usize) -> Result<usize, ReplicaError> {
    let ran = crate::migrate::migrate_to(conn, MIGRATIONS, count)?;
    if ran > 0 {
        tracing::info!(ran, "replica migrations applied");
    }
    Ok(ran)
}

pub(crate) fn applied_versions(conn: &Connection) -> Result<Vec<String>, ReplicaError> {
    Ok(crate::migrate::applied_versions(conn)?)
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
