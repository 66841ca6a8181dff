//! Loading a full snapshot: the stream is read row by row (never held in memory) into
//! ONE transaction, so a crash or a cut stream leaves the replica as it was (for a first
//! start: empty, and the client loads the snapshot again).

use std::borrow::Cow;
use std::io::BufRead;

use rusqlite::{Transaction, TransactionBehavior, params};
use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use yizhan_core::entity::EntityKind;

use super::{Replica, ReplicaError, format_time, schema, today, view};
use super::apply::RowFields;
use crate::integrity::HubKey;
use crate::protocol::SnapshotHeader;
use crate::status::BootstrapProgress;

/// How often the progress callback hears of received rows.
const PROGRESS_EVERY: u64 = 10_000;

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

impl Replica {
    /// Replaces everything the replica holds with the snapshot in `reader` (NDJSON,
    /// decompressed: a `SnapshotHeader` line, then `SnapshotRow` lines) taken from
    /// `hub_url`, builds every project view, and sets the cursor to the snapshot's `as_of`.
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
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch("DELETE FROM project_view; DELETE FROM history; DELETE FROM rows;")?;
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
            .verify_snapshot(header.as_of, header.rows, seal)
            .map_err(|e| ReplicaError::Integrity(format!("全量数据头{e}")))?;
        progress(BootstrapProgress {
            received: 0,
            total: header.rows,
        });

        let received = schema::without_indexes(&tx, "rows", || {
            load_rows(&tx, &mut reader, &mut line, header.rows, &mut progress)
        })?;
        if received != header.rows {
            return Err(ReplicaError::SnapshotIncomplete {
                expected: header.rows,
                received,
            });
        }
        let projects = view::rebuild_all(&tx, today())?;
        tx.execute(
            "UPDATE meta SET cursor = ?1, snapshot_as_of = ?1, hub_url = ?2, bootstrapped_at = ?3, chain = ?4, hub_key = ?5",
            params![
                header.as_of,
                hub_url,
                format_time(OffsetDateTime::now_utc()),
                seal.chain.to_hex(),
                seal.hub_key.to_hex()
            ],
        )?;
        tx.commit()?;
        progress(BootstrapProgress {
            received,
            total: header.rows,
        });
        // The whole snapshot went through the WAL; fold it into the main file now rather
        // than leave a WAL as large as the database until the next automatic checkpoint.
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        Ok(BootstrapReport {
            as_of: header.as_of,
            rows: received,
            projects,
        })
    }
}

fn load_rows(
    tx: &Transaction<'_>,
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    total: u64,
    progress: &mut impl FnMut(BootstrapProgress),
) -> Result<u64, ReplicaError> {
    let mut insert = tx.prepare(
        "INSERT INTO rows (entity, key, project_code, version, seq, committed_at, payload, digest_hi, digest_lo) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut received = 0;
    loop {
        line.clear();
        if reader.read_until(b'\n', line)? == 0 {
            return Ok(received);
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        let row: RowLine<'_> = serde_json::from_slice(line).map_err(|source| ReplicaError::Snapshot {
            line: received + 2,
            source,
        })?;
        RowFields {
            entity: row.entity.as_str(),
            key: &row.key,
            project_code: &row.project_code,
            version: row.version,
            seq: row.seq,
            committed_at: row.committed_at,
            payload: row.payload.get(),
        }
        .write(&mut insert)?;
        received += 1;
        if received % PROGRESS_EVERY == 0 {
            progress(BootstrapProgress { received, total });
        }
    }
}
