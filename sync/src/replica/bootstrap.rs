//! Loading a snapshot. Its rows go to a staging table, committed every `PART_ROWS`
//! rows with the position reached, so a stream that is cut off costs only the rows since
//! the last commit: the next request asks the hub for the rest (`?after_entity=&after_key=`)
//! and the load goes on from there. The rows the clerk sees are replaced by the staged ones
//! in ONE transaction once the whole snapshot is in, so a crash or a cut never shows half
//! a snapshot.

use super::alerts::Evaluation;
use std::borrow::Cow;
use std::io::BufRead;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use yizhan_core::clock::Clock;
use yizhan_core::entity::EntityKind;

use super::{Replica, ReplicaError, format_time, view};
use super::apply::RowFields;
use crate::integrity::{ChainHash, HubKey};
use crate::protocol::{RowPosition, SnapshotHeader};
use crate::status::BootstrapProgress;

/// How often the progress callback hears of received rows.
const PROGRESS_EVERY: u64 = 10_000;

/// Rows committed to the staging table at a time: what a cut-off load loses at most.
const PART_ROWS: u64 = 20_000;

/// What a finished bootstrap loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapReport {
    pub as_of: u64,
    pub rows: u64,
    pub projects: u64,
}

/// `protocol::SnapshotRow` read without copying: the payload is stored as the hub wrote
/// it, which spares parsing and re-serialising millions of JSON objects.
#[derive(Deserialize)]
struct RowLine<'a> {
    entity: EntityKind,
    #[serde(borrow)]
    key: Cow<'a, str>,
    #[serde(borrow)]
    project_code: Cow<'a, str>,
    version: u64,
    seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    committed_at: OffsetDateTime,
    #[serde(borrow)]
    payload: &'a RawValue,
}

/// The `snapshot_load` row: a load begun and not yet finished.
struct Load {
    hub_url: String,
    hub_key: HubKey,
    as_of: u64,
    chain: ChainHash,
    received: u64,
    last: Option<RowPosition>,
}

impl Replica {
    /// Where a snapshot load from `hub_url` that was cut off goes on: after this row.
    pub fn snapshot_resume_point(&self, hub_url: &str) -> Result<Option<RowPosition>, ReplicaError> {
        Ok(read_load(&self.conn)?
            .filter(|load| load.hub_url == hub_url)
            .and_then(|load| load.last))
    }

    /// Drops a load under way: the next snapshot is loaded whole.
    pub fn abandon_snapshot_load(&mut self) -> Result<(), ReplicaError> {
        discard_load(&self.conn)
    }

    /// Replaces everything the replica holds with the snapshot in `reader` (NDJSON,
    /// decompressed: a `SnapshotHeader` line, then `SnapshotRow` lines) taken from
    /// `hub_url`, builds every project view, and sets the cursor to the snapshot's `as_of`.
    /// A header with `after` continues the load cut off at that row (see
    /// [`Replica::snapshot_resume_point`]); the cursor is then the first part's `as_of`.
    ///
    /// The snapshot's seal must verify with the key it names, and that key must be
    /// `pinned` when the counter was installed with one; the replica then checks every
    /// later batch against that key, from the chain value the seal gives.
    pub fn bootstrap(
        &mut self,
        hub_url: &str,
        pinned: Option<&HubKey>,
        mut reader: impl BufRead,
        mut progress: impl FnMut(BootstrapProgress),
    ) -> Result<BootstrapReport, ReplicaError> {
        let mut line = Vec::with_capacity(4096);
        reader.read_until(b'\n', &mut line)?;
        let header: SnapshotHeader =
            serde_json::from_slice(&line).map_err(|source| ReplicaError::Snapshot { line: 1, source })?;
        let seal = &header.seal;
        if pinned.is_some_and(|key| *key != seal.hub_key) {
            return Err(ReplicaError::Integrity(
                "全量数据的签名密钥不是本机配置的数据中心公钥：可能连到了错误的数据中心".into(),
            ));
        }
        seal.hub_key
            .verify_snapshot(header.as_of, header.rows, header.after.as_ref(), seal)
            .map_err(|e| ReplicaError::Integrity(format!("全量数据头{e}")))?;
        let mut load = match &header.after {
            None => begin_load(&mut self.conn, hub_url, &header, self.clock.now())?,
            Some(after) => match read_load(&self.conn)? {
                Some(load)
                    if load.hub_url == hub_url
                        && load.hub_key == seal.hub_key
                        && load.last.as_ref() == Some(after) =>
                {
                    load
                }
                _ => {
                    discard_load(&self.conn)?;
                    return Err(ReplicaError::SnapshotMismatch(
                        "续传部分与本机已接收的部分不衔接".into(),
                    ));
                }
            },
        };
        let total = load.received + header.rows;
        progress(BootstrapProgress { received: load.received, total });
        let received = load_rows(&self.conn, &mut reader, &mut line, &mut load, total, &mut progress)?;
        if received != header.rows {
            return Err(ReplicaError::SnapshotIncomplete {
                expected: total,
                received: load.received,
            });
        }
        let projects = match finish_load(&mut self.conn, &load, &self.clock) {
            Ok(projects) => projects,
            Err(error) => {
                // A key the parts repeated fails the rebuilt unique index: these parts do
                // not make one snapshot.
                discard_load(&self.conn)?;
                return Err(error);
            }
        };
        progress(BootstrapProgress { received: load.received, total });
        // The whole snapshot went through the WAL; fold it into the main file now rather
        // than leave a WAL as large as the database until the next automatic checkpoint.
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        Ok(BootstrapReport {
            as_of: load.as_of,
            rows: load.received,
            projects,
        })
    }
}

/// Starts a load over: an empty staging table shaped as `rows` is now, and the header's
/// position to continue from once it is in.
fn begin_load(
    conn: &mut Connection,
    hub_url: &str,
    header: &SnapshotHeader,
    now: OffsetDateTime,
) -> Result<Load, ReplicaError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let rows_sql: String = tx.query_row(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'rows'",
        [],
        |r| r.get(0),
    )?;
    // The column list as `rows` has it now (migrations add columns), whatever the quoting
    // of the name before it.
    let columns = rows_sql.find('(').map(|at| &rows_sql[at..]).ok_or_else(|| {
        ReplicaError::SnapshotMismatch(format!("rows 表定义无法读取：{rows_sql}"))
    })?;
    tx.execute_batch("DROP TABLE IF EXISTS snapshot_rows; DELETE FROM snapshot_load;")?;
    tx.execute_batch(&format!("CREATE TABLE snapshot_rows {columns}"))?;
    tx.execute(
        "INSERT INTO snapshot_load (id, hub_url, hub_key, as_of, chain, received, started_at) \
         VALUES (1, ?1, ?2, ?3, ?4, 0, ?5)",
        params![
            hub_url,
            header.seal.hub_key.to_hex(),
            header.as_of,
            header.seal.chain.to_hex(),
            format_time(now)
        ],
    )?;
    tx.commit()?;
    Ok(Load {
        hub_url: hub_url.to_owned(),
        hub_key: header.seal.hub_key.clone(),
        as_of: header.as_of,
        chain: header.seal.chain,
        received: 0,
        last: None,
    })
}

fn read_load(conn: &Connection) -> Result<Option<Load>, ReplicaError> {
    let raw = conn
        .query_row(
            "SELECT hub_url, hub_key, as_of, chain, received, last_entity, last_key FROM snapshot_load",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, u64>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            },
        )
        .optional()?;
    let Some((hub_url, hub_key, as_of, chain, received, last_entity, last_key)) = raw else {
        return Ok(None);
    };
    let unreadable = |what: &str| ReplicaError::SnapshotMismatch(format!("续传记录的 {what} 无法读取"));
    let last = match (last_entity, last_key) {
        (Some(entity), Some(key)) => Some(RowPosition {
            entity: EntityKind::parse(&entity).ok_or_else(|| unreadable("last_entity"))?,
            key,
        }),
        _ => None,
    };
    Ok(Some(Load {
        hub_url,
        hub_key: HubKey::from_hex(&hub_key).map_err(|_| unreadable("hub_key"))?,
        as_of,
        chain: ChainHash::from_hex(&chain).ok_or_else(|| unreadable("chain"))?,
        received,
        last,
    }))
}

fn discard_load(conn: &Connection) -> Result<(), ReplicaError> {
    conn.execute_batch("DROP TABLE IF EXISTS snapshot_rows; DELETE FROM snapshot_load;")?;
    Ok(())
}

/// Stages the rows that follow in `reader`, committing every `PART_ROWS` rows and at the
/// end, also when the stream breaks off: every row read whole is kept. Returns how many
/// rows this call read.
fn load_rows(
    conn: &Connection,
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    load: &mut Load,
    total: u64,
    progress: &mut impl FnMut(BootstrapProgress),
) -> Result<u64, ReplicaError> {
    let mut insert = conn.prepare(
        "INSERT INTO snapshot_rows (entity, key, project_code, version, seq, committed_at, payload, digest_hi, digest_lo) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut received: u64 = 0;
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let outcome = loop {
        line.clear();
        match reader.read_until(b'\n', line) {
            Ok(0) => break Ok(()),
            Ok(_) => {}
            Err(error) => break Err(error.into()),
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        let row: RowLine<'_> = match serde_json::from_slice(line) {
            Ok(row) => row,
            Err(source) => break Err(ReplicaError::Snapshot { line: load.received + 2, source }),
        };
        let position = RowPosition { entity: row.entity, key: row.key.clone().into_owned() };
        if load.last.as_ref().is_some_and(|last| !follows(&position, last)) {
            break Err(ReplicaError::SnapshotMismatch(format!(
                "第 {} 行（{} {}）不在应有的顺序中",
                load.received + 2,
                position.entity.as_str(),
                position.key
            )));
        }
        let written = RowFields {
            entity: row.entity.as_str(),
            key: &row.key,
            project_code: &row.project_code,
            version: row.version,
            seq: row.seq,
            committed_at: row.committed_at,
            payload: row.payload.get(),
        }
        .write(&mut insert);
        if let Err(error) = written {
            break Err(error.into());
        }
        load.received += 1;
        load.last = Some(position);
        received += 1;
        if load.received.is_multiple_of(PROGRESS_EVERY) {
            progress(BootstrapProgress { received: load.received, total });
        }
        if received.is_multiple_of(PART_ROWS)
            && let Err(error) = commit_part(conn, load).and_then(|()| Ok(conn.execute_batch("BEGIN IMMEDIATE")?))
        {
            break Err(error);
        }
    };
    if let Err(error) = commit_part(conn, load) {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(error);
    }
    match outcome {
        Err(error @ ReplicaError::SnapshotMismatch(_)) => {
            discard_load(conn)?;
            Err(error)
        }
        outcome => outcome.map(|()| received),
    }
}

/// The position reached, committed with the rows before it.
fn commit_part(conn: &Connection, load: &Load) -> Result<(), ReplicaError> {
    let last = load.last.as_ref();
    conn.execute(
        "UPDATE snapshot_load SET received = ?1, last_entity = ?2, last_key = ?3",
        params![load.received, last.map(|p| p.entity.as_str()), last.map(|p| p.key.as_str())],
    )?;
    conn.execute_batch("COMMIT")?;
    Ok(())
}

/// Rows come in (entity, key) order, as the hub's SQL compares them: entity names, then
/// keys, byte by byte.
fn follows(row: &RowPosition, last: &RowPosition) -> bool {
    (row.entity.as_str(), row.key.as_str()) > (last.entity.as_str(), last.key.as_str())
}

/// Puts the staged rows in place of the replica's, with the indexes and trigger `rows`
/// had (built once over all the keys, far cheaper than kept up through the load), and
/// rebuilds the views. Returns the number of projects.
fn finish_load(conn: &mut Connection, load: &Load, clock: &Clock) -> Result<u64, ReplicaError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let dependents: Vec<String> = tx
        .prepare("SELECT sql FROM sqlite_schema WHERE tbl_name = 'rows' AND type IN ('index', 'trigger') AND sql IS NOT NULL")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    tx.execute_batch(
        "DROP TABLE rows; ALTER TABLE snapshot_rows RENAME TO rows; DELETE FROM project_view; DELETE FROM history; DELETE FROM snapshot_load;",
    )?;
    for sql in &dependents {
        tx.execute_batch(sql)?;
    }
    let projects = view::rebuild_all(&tx, &Evaluation::new(&tx, clock.today(), clock.now())?)?;
    tx.execute(
        "UPDATE meta SET cursor = ?1, snapshot_as_of = ?1, hub_url = ?2, bootstrapped_at = ?3, chain = ?4, hub_key = ?5",
        params![
            load.as_of,
            load.hub_url,
            format_time(clock.now()),
            load.chain.to_hex(),
            load.hub_key.to_hex()
        ],
    )?;
    tx.commit()?;
    Ok(projects)
}
