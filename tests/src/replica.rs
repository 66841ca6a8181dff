//! Checks of a counter's replica against its hub: a replica at cursor `c` must hold
//! exactly the rows the hub's change log describes as of `c`, nothing missing, nothing
//! extra, nothing half-applied.

use std::collections::BTreeMap;
use std::path::Path;

use yizhan_core::entity::EntityKind;
use yizhan_sync::protocol::{Change, Op, SnapshotRow};
use yizhan_sync::replica::ReplicaReader;

pub type State = BTreeMap<(EntityKind, String), SnapshotRow>;

pub fn state_of(rows: impl IntoIterator<Item = SnapshotRow>) -> State {
    rows.into_iter()
        .map(|row| ((row.entity, row.key.clone()), row))
        .collect()
}

/// The rows a replica holds, and its cursor (`None` before its first snapshot).
pub fn replica_state(path: &Path) -> (Option<u64>, State) {
    let reader = ReplicaReader::open(path).expect("open the replica for reading");
    let cursor = reader.meta().expect("replica meta").cursor;
    let mut rows = Vec::new();
    reader
        .for_each_row(|row| rows.push(row))
        .expect("read the replica's rows");
    (cursor, state_of(rows))
}

/// The state the hub's log (`changes`, the whole log in seq order) describes as of `cursor`.
pub fn state_at(changes: &[Change], cursor: u64) -> State {
    let mut state = State::new();
    for change in changes.iter().take_while(|c| c.seq <= cursor) {
        let key = (change.entity, change.key.clone());
        match (change.op, &change.payload) {
            (Op::Upsert, Some(payload)) => {
                state.insert(
                    key,
                    SnapshotRow {
                        entity: change.entity,
                        key: change.key.clone(),
                        project_code: change.project_code.clone(),
                        version: change.version,
                        seq: change.seq,
                        committed_at: change.committed_at,
                        payload: serde_json::from_str(payload.get()).expect("the hub sends JSON payloads"),
                    },
                );
            }
            _ => {
                state.remove(&key);
            }
        }
    }
    state
}

/// Fails naming the first rows that differ, rather than printing two whole states.
pub fn assert_same_state(actual: &State, expected: &State, context: &str) {
    if actual == expected {
        return;
    }
    let missing: Vec<_> = expected.keys().filter(|k| !actual.contains_key(*k)).take(5).collect();
    let extra: Vec<_> = actual.keys().filter(|k| !expected.contains_key(*k)).take(5).collect();
    let differing: Vec<_> = actual
        .iter()
        .filter(|(k, row)| expected.get(*k).is_some_and(|e| e != *row))
        .map(|(k, _)| k)
        .take(5)
        .collect();
    panic!(
        "{context}: the replica holds {} rows, {} expected; missing {missing:?}, extra {extra:?}, differing {differing:?}",
        actual.len(),
        expected.len()
    );
}

/// Asserts that the replica holds exactly the state as of its own cursor (and nothing at
/// all before its first snapshot); returns the cursor.
pub fn assert_consistent(path: &Path, log: &[Change], context: &str) -> Option<u64> {
    let (cursor, rows) = replica_state(path);
    match cursor {
        None => assert!(rows.is_empty(), "{context}: no cursor, yet {} rows", rows.len()),
        Some(cursor) => {
            assert!(
                rows.values().all(|r| r.seq <= cursor),
                "{context}: a row is newer than the cursor {cursor}"
            );
            assert_same_state(&rows, &state_at(log, cursor), &format!("{context} (cursor {cursor})"));
        }
    }
    cursor
}
