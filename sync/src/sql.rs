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
