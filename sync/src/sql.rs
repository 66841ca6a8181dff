//! SQL shared by the two SQLite stores that hold rows by (entity, key): the hub's `state`
//! and the replica's `rows`. Kept out of the wire protocol, which says what a range is,
//! not how a database finds it.

use crate::protocol::KeyRange;

/// The condition selecting `range` from a table with `entity` and `key` columns, bound as
/// ?1 entity, ?2 after, ?3 upto. Only the bounds the range has are compared with `key`, so
/// the index on (entity, key) is searched for the range rather than scanned through.
pub fn key_range_filter(range: &KeyRange) -> &'static str {
    match (&range.after, &range.upto) {
        (None, None) => "entity = ?1 AND ?2 IS NULL AND ?3 IS NULL",
        (Some(_), None) => "entity = ?1 AND key > ?2 AND ?3 IS NULL",
        (None, Some(_)) => "entity = ?1 AND ?2 IS NULL AND key <= ?3",
        (Some(_), Some(_)) => "entity = ?1 AND key > ?2 AND key <= ?3",
    }
}

/// A text column read back into the type it was written from, so a value broken on disk
/// surfaces as a conversion error naming the column rather than as a bad value later.
#[cfg(feature = "sqlite")]
pub fn parsed<T>(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = row.get(index)?;
    text.parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e)))
}

/// Makes the SQLite database at `path` readable and writable by its owner only, before
/// SQLite opens it: a missing file is created empty with mode 0600 (SQLite gives the -wal
/// and -shm files it makes the database file's mode), and an existing database, with its
/// -wal and -shm files, is narrowed to 0600. The files hold people's names, phone numbers
/// and the audit trail; another account on the machine has no business reading them.
#[cfg(feature = "sqlite")]
pub fn keep_private(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !suffix.is_empty() => {}
                other => other?,
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix, feature = "sqlite"))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::keep_private;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_database_and_its_wal_are_the_owners_only_and_an_old_one_is_narrowed() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("new.sqlite3");
        keep_private(&db).unwrap();
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
        for file in ["new.sqlite3", "new.sqlite3-wal", "new.sqlite3-shm"] {
            assert_eq!(mode(&dir.path().join(file)), 0o600, "{file}");
        }
        drop(conn);

        let old = dir.path().join("old.sqlite3");
        rusqlite::Connection::open(&old).unwrap().execute_batch("CREATE TABLE t (x);").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        keep_private(&old).unwrap();
        assert_eq!(mode(&old), 0o600);
        let kept: i64 = rusqlite::Connection::open(&old).unwrap().query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).unwrap();
        assert_eq!(kept, 1, "narrowing the mode keeps what the database holds");
    }
}
