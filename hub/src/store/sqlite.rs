//! The embedded backend: one SQLite file in WAL mode. One writer connection behind a
//! mutex (SQLite has one writer anyway; the mutex makes seq assignment race-free), and a
//! small pool of read connections so snapshots and long-polls never wait for a write.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{mpsc, oneshot, watch};
use yizhan_core::alert::AlertLevel;
use yizhan_core::document::{DocumentKind, Segment};
use yizhan_core::entity::EntityKind;
use yizhan_sync::integrity::{ChainHash, RowDigest};
use yizhan_sync::protocol::{
    KeyRange, Op, QuarantineState, RangeSum, RowPosition, SourceComparison,
};

use yizhan_sync::protocol::CommandEnvelope;

use super::log;
use super::prelude::*;

use super::{
    CommandAudit, CommandRun, ConnectorKind, ConnectorRecord, Decider, Delivered, Delivery, ImportedFile, KeptReport, LoggedChange, QuarantineClosing, QuarantineRecord, Notification, OpenAlerts, RowWrite, Snapshot, SnapshotPosition, StateRow,
    StoreError, Updater, WriteOutcome,
};

mod accounts;
mod connectors;
mod devices;
mod documents;
mod tx;

use tx::SqliteTx;
use yizhan_sync::migrate::{MigrateError, Migration, migrate_to};

/// Timestamped migrations, in version order; append only: a released one is never edited.
const MIGRATIONS: &[Migration] = &[
    Migration { version: "20261124000000_init", sql: include_str!("sqlite/migrations/20261124000000_init.sql") },
    Migration { version: "20261125000000_commands", sql: include_str!("sqlite/migrations/20261125000000_commands.sql") },
    Migration { version: "20261125010000_integrity", sql: include_str!("sqlite/migrations/20261125010000_integrity.sql") },
    Migration { version: "20261125020000_row_digests", sql: include_str!("sqlite/migrations/20261125020000_row_digests.sql") },
    Migration { version: "20261125030000_log_horizon", sql: include_str!("sqlite/migrations/20261125030000_log_horizon.sql") },
    Migration { version: "20261125040000_counter_reports", sql: include_str!("sqlite/migrations/20261125040000_counter_reports.sql") },
    Migration { version: "20261125050000_digest_index", sql: include_str!("sqlite/migrations/20261125050000_digest_index.sql") },
    Migration { version: "20261125060000_unfilled_indexes", sql: include_str!("sqlite/migrations/20261125060000_unfilled_indexes.sql") },
    Migration { version: "20261126000000_connectors", sql: include_str!("sqlite/migrations/20261126000000_connectors.sql") },
    Migration { version: "20261126010000_source_verification", sql: include_str!("sqlite/migrations/20261126010000_source_verification.sql") },
    Migration { version: "20261128000000_documents", sql: include_str!("sqlite/migrations/20261128000000_documents.sql") },
    Migration { version: "20261206120000_alert_columns", sql: include_str!("sqlite/migrations/20261206120000_alert_columns.sql") },
    Migration { version: "20261207000000_accounts", sql: include_str!("sqlite/migrations/20261207000000_accounts.sql") },
    Migration { version: "20261208000000_standing_history", sql: include_str!("sqlite/migrations/20261208000000_standing_history.sql") },
    Migration { version: "20261209000000_counter_audit_held", sql: include_str!("sqlite/migrations/20261209000000_counter_audit_held.sql") },
    Migration { version: "20261210000000_devices", sql: include_str!("sqlite/migrations/20261210000000_devices.sql") },
];

/// Page cache of the writer connection: 256 MiB (SQLite reads a negative size as KiB).
const WRITER_CACHE_SIZE: i64 = -256 * 1024;
/// Idle read connections kept open; more are opened under load and closed after.
const IDLE_READERS: usize = 8;
/// Rows per message from the snapshot reader: large enough that channel overhead is
/// negligible, small enough that a few chunks in flight stay a few MB.
const SNAPSHOT_CHUNK: usize = 2_000;
const SNAPSHOT_CHUNKS_IN_FLIGHT: usize = 4;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Backend(Box::new(e))
    }
}

impl From<rusqlite::types::FromSqlError> for StoreError {
    fn from(e: rusqlite::types::FromSqlError) -> StoreError {
        StoreError::Backend(Box::new(e))
    }
}

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    readers: ReadPool,
    head: watch::Sender<u64>,
}

struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    /// Blocking: call it at start-up or from `spawn_blocking`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        yizhan_sync::sql::keep_private(path).map_err(|e| StoreError::Backend(Box::new(e)))?;
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        configure(&conn)?;
        // Upserts land at random places of the key indexes; with SQLite's default 2 MB
        // cache a large state is re-read from the OS for nearly every row.
        conn.pragma_update(None, "cache_size", WRITER_CACHE_SIZE)?;
        migrate(&mut conn)?;
        chain_unchained(&mut conn)?;
        digest_undigested(&mut conn)?;
        let head = read_head(&conn)?;
        let (head_tx, _) = watch::channel(head);
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                writer: Mutex::new(conn),
                readers: ReadPool {
                    path: path.to_owned(),
                    idle: Mutex::new(Vec::new()),
                },
                head: head_tx,
            }),
        })
    }

    /// The signing key an older hub kept in this database (`hub_secrets`), if it is still
    /// there: to be handed to the [`crate::keys::KeyProvider`] and then forgotten. Blocking.
    pub fn legacy_signing_key(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(lock(&self.inner.writer)
            .query_row("SELECT value FROM hub_secrets WHERE name = 'sm2_signing_key'", [], |r| r.get(0))
            .optional()?)
    }

    /// Removes the key an older hub kept here so that no copy of the file made from now on
    /// holds it: the row's bytes are overwritten in place (`secure_delete`) and the WAL,
    /// which may still hold the page as first written, is emptied. Blocking.
    pub fn forget_legacy_signing_key(&self) -> Result<(), StoreError> {
        let conn = lock(&self.inner.writer);
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.execute("DELETE FROM hub_secrets WHERE name = 'sm2_signing_key'", [])?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        conn.pragma_update(None, "secure_delete", "OFF")?;
        tracing::info!("旧版保存在数据库中的签名密钥已移出并清除");
        Ok(())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))?
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    // NORMAL in WAL mode: a commit survives a process crash; only an OS crash or power
    // loss can lose the last transactions, never corrupt the file.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let ran = migrate_to(conn, MIGRATIONS, MIGRATIONS.len()).map_err(|e| match e {
        MigrateError::Sqlite(e) => StoreError::from(e),
        MigrateError::SchemaTooNew(version) => StoreError::SchemaTooNew(version),
    })?;
    if ran > 0 {
        tracing::info!(ran, "数据库迁移已应用");
    }
    Ok(())
}

fn now_text() -> String {
    time_text(OffsetDateTime::now_utc())
}

fn time_text(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .expect("a UTC time formats as RFC 3339")
}

/// Chains the changes a hub logged before it kept the chain, in one transaction. The log
/// refuses updates, so its guard is lifted for exactly this and put back.
fn chain_unchained(conn: &mut Connection) -> Result<(), StoreError> {
    let unchained: i64 = conn.query_row(
        "SELECT count(*) FROM changes WHERE chain IS NULL",
        [],
        |r| r.get(0),
    )?;
    if unchained == 0 {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let guard: String = tx.query_row(
        "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = 'changes_refuse_update'",
        [],
        |r| r.get(0),
    )?;
    tx.execute_batch("DROP TRIGGER changes_refuse_update")?;
    {
        let mut read = tx.prepare(&format!("SELECT {CHANGE_COLUMNS} FROM changes ORDER BY seq"))?;
        let mut write = tx.prepare("UPDATE changes SET chain = ?2 WHERE seq = ?1")?;
        let mut rows = read.query([])?;
        let mut chain = ChainHash::ZERO;
        while let Some(r) = rows.next()? {
            let change = logged_change(r)?;
            chain = chain.link(&change.frame());
            write.execute(params![to_i64(change.seq), chain.0.as_slice()])?;
        }
    }
    tx.execute_batch(&guard)?;
    tx.commit()?;
    tracing::info!(changes = unchained, "变更日志哈希链已补齐");
    Ok(())
}

/// Fills the digests of rows written before the hub kept them, in one transaction.
fn digest_undigested(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut filled = 0;
    {
        let mut read = tx.prepare(
            "SELECT entity, key, project_code, version, payload FROM state WHERE digest_hi IS NULL",
        )?;
        let mut write =
            tx.prepare("UPDATE state SET digest_hi = ?3, digest_lo = ?4 WHERE entity = ?1 AND key = ?2")?;
        let mut rows = read.query([])?;
        while let Some(r) = rows.next()? {
            let (entity, key): (String, String) = (r.get(0)?, r.get(1)?);
            let digest = RowDigest::of(
                &entity,
                &key,
                r.get_ref(2)?.as_str()?,
                to_u64(r.get(3)?)?,
                r.get_ref(4)?.as_str()?,
            );
            write.execute(params![entity, key, digest.hi, digest.lo])?;
            filled += 1;
        }
    }
    tx.commit()?;
    if filled > 0 {
        tracing::info!(rows = filled, "行摘要已补齐");
    }
    Ok(())
}

const CHANGE_COLUMNS: &str =
    "seq, entity, key, project_code, version, op, payload, origin, committed_at, chain";

/// Reads a change selected with `CHANGE_COLUMNS`; a change not yet chained reads as
/// chained to zero (only `chain_unchained` sees those).
fn logged_change(r: &rusqlite::Row<'_>) -> Result<LoggedChange, StoreError> {
    let op = match r.get_ref(5)?.as_str()? {
        "upsert" => Op::Upsert,
        "delete" => Op::Delete,
        other => return Err(StoreError::Corrupt(format!("未知的变更类型 {other:?}"))),
    };
    let chain = match r.get_ref(9)?.as_blob_or_null()? {
        Some(bytes) => ChainHash::from_slice(bytes)
            .ok_or_else(|| StoreError::Corrupt("哈希链值长度不是 32 字节".into()))?,
        None => ChainHash::ZERO,
    };
    Ok(LoggedChange {
        seq: to_u64(r.get(0)?)?,
        entity: parse_entity(r.get_ref(1)?.as_str()?)?,
        key: r.get(2)?,
        project_code: r.get(3)?,
        version: to_u64(r.get(4)?)?,
        op,
        payload: r.get(6)?,
        origin: r.get(7)?,
        committed_at: parse_time(r.get_ref(8)?.as_str()?)?,
        chain,
    })
}

fn read_chain(conn: &Connection, seq: u64) -> Result<ChainHash, StoreError> {
    if seq == 0 {
        return Ok(ChainHash::ZERO);
    }
    let horizon: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT through, chain FROM log_horizon")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((through, chain)) = horizon
        && to_u64(through)? == seq
    {
        return ChainHash::from_slice(&chain)
            .ok_or_else(|| StoreError::Corrupt("压缩水位的哈希链值长度不是 32 字节".into()));
    }
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT chain FROM changes WHERE seq = ?1")?
        .query_row([to_i64(seq)], |r| r.get(0))
        .optional()?
        .flatten();
    let bytes = bytes.ok_or_else(|| StoreError::Corrupt(format!("第 {seq} 号变更没有哈希链值")))?;
    ChainHash::from_slice(&bytes).ok_or_else(|| StoreError::Corrupt("哈希链值长度不是 32 字节".into()))
}

fn read_head(conn: &Connection) -> Result<u64, StoreError> {
    // A log compacted to its last change is empty: the horizon is then the head.
    let head: i64 = conn.query_row(
        "SELECT max(COALESCE((SELECT MAX(seq) FROM changes), 0), COALESCE((SELECT through FROM log_horizon), 0))",
        [],
        |r| r.get(0),
    )?;
    to_u64(head)
}

/// The highest seq compacted away, 0 when none.
fn read_horizon(conn: &Connection) -> Result<u64, StoreError> {
    let through: Option<i64> = conn
        .query_row("SELECT through FROM log_horizon", [], |r| r.get(0))
        .optional()?;
    to_u64(through.unwrap_or(0))
}

fn to_u64(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("序号或版本为负数：{n}")))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).expect("seq and version stay far below i64::MAX")
}

fn parse_entity(text: &str) -> Result<EntityKind, StoreError> {
    EntityKind::parse(text).ok_or_else(|| StoreError::Corrupt(format!("未知的实体类型 {text:?}")))
}

fn parse_time(text: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| StoreError::Corrupt(format!("提交时间 {text:?} 无法解析：{e}")))
}

fn opt_time(text: Option<String>) -> Result<Option<OffsetDateTime>, StoreError> {
    text.as_deref().map(parse_time).transpose()
}

const STATE_COLUMNS: &str = "entity, key, project_code, version, seq, committed_at, payload";

/// Reads a row selected with `STATE_COLUMNS`. Text is decoded later (`StateRow::try_from`)
/// so that this closure only does what rusqlite's error type can express.
type RawStateRow = (String, String, String, i64, i64, String, String);

fn raw_state_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawStateRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn state_row(raw: RawStateRow) -> Result<StateRow, StoreError> {
    let (entity, key, project_code, version, seq, committed_at, payload) = raw;
    Ok(StateRow {
        entity: parse_entity(&entity)?,
        key,
        project_code,
        version: to_u64(version)?,
        seq: to_u64(seq)?,
        committed_at: parse_time(&committed_at)?,
        payload,
    })
}

/// Every current row of one project, ordered by entity and key.
fn project_state(conn: &Connection, project_code: &str) -> Result<Vec<StateRow>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {STATE_COLUMNS} FROM state WHERE project_code = ?1 ORDER BY entity, key"
    ))?
    .query_map([project_code], raw_state_row)?
    .map(|raw| state_row(raw?))
    .collect()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the writer happens inside a transaction, which rolls back on
    // drop: the connection is still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ReadPool {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = lock(&self.idle).pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = Connection::open(&self.path)?;
                configure(&conn)?;
                conn.pragma_update(None, "query_only", true)?;
                conn
            }
        };
        let result = f(&mut conn);
        let mut idle = lock(&self.idle);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

impl Inner {
    fn write(&self, origin: &str, rows: &[RowWrite]) -> Result<WriteOutcome, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let written = log::write_rows(&mut SqliteTx(&tx), origin, rows)?;
        tx.commit()?;
        self.published(written.head);
        Ok(written)
    }

    /// Called after a commit, still under the writer lock, so watchers see heads in
    /// commit order.
    fn published(&self, head: u64) {
        self.head
            .send_if_modified(|h| std::mem::replace(h, head) != head);
    }

    fn run_command(&self, envelope: &CommandEnvelope, decide: Decider, audit: CommandAudit) -> Result<CommandRun, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (head, result) = log::run_command(&mut SqliteTx(&tx), envelope, decide)?;
        accounts::insert_audit(&tx, &audit(&result, &accounts::read_tail(&tx)?))?;
        tx.commit()?;
        self.published(head);
        Ok(result)
    }

    fn compact(&self, through: u64) -> Result<u64, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head = read_head(&tx)?;
        let current = read_horizon(&tx)?;
        let through = through.min(head);
        if through <= current {
            return Ok(current);
        }
        let chain = read_chain(&tx, through)?;
        let guard: String = tx.query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = 'changes_refuse_delete'",
            [],
            |r| r.get(0),
        )?;
        tx.execute_batch("DROP TRIGGER changes_refuse_delete")?;
        let removed = tx.execute("DELETE FROM changes WHERE seq <= ?1", [to_i64(through)])?;
        tx.execute_batch(&guard)?;
        tx.execute(
            "INSERT INTO log_horizon (id, through, chain) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET through = excluded.through, chain = excluded.chain",
            params![to_i64(through), chain.0.as_slice()],
        )?;
        tx.commit()?;
        tracing::info!(through, removed, "变更日志已压缩");
        Ok(through)
    }

    fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<LoggedChange>, StoreError> {
        self.readers.with(|conn| {
            let horizon = read_horizon(conn)?;
            if after < horizon {
                return Err(StoreError::BelowHorizon { after, horizon });
            }
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {CHANGE_COLUMNS} FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut rows = stmt.query(params![to_i64(after), limit])?;
            let mut changes = Vec::new();
            while let Some(r) = rows.next()? {
                changes.push(logged_change(r)?);
            }
            Ok(changes)
        })
    }

    /// Runs on a blocking thread for the whole stream. The header and all rows come from
    /// one read transaction, so they are exactly the state as of `as_of` even while
    /// writes go on.
    fn stream_snapshot(
        &self,
        after: Option<RowPosition>,
        header_tx: oneshot::Sender<Result<SnapshotPosition, StoreError>>,
        rows_tx: mpsc::Sender<Result<Vec<StateRow>, StoreError>>,
    ) {
        let mut header_tx = Some(header_tx);
        // Row values compare as (entity, key) does, through the primary key's index.
        let (filter, bounds) = match &after {
            Some(row) => ("WHERE (entity, key) > (?1, ?2)", vec![row.entity.as_str(), row.key.as_str()]),
            None => ("", Vec::new()),
        };
        let result = self.readers.with(|conn| {
            let tx = conn.transaction()?;
            let as_of = read_head(&tx)?;
            let rows: i64 = tx.query_row(
                &format!("SELECT COUNT(*) FROM state {filter}"),
                rusqlite::params_from_iter(&bounds),
                |r| r.get(0),
            )?;
            let header = SnapshotPosition {
                as_of,
                rows: to_u64(rows)?,
                chain: read_chain(&tx, as_of)?,
            };
            if header_tx
                .take()
                .is_some_and(|h| h.send(Ok(header)).is_err())
            {
                return Ok(());
            }
            let mut stmt = tx.prepare(&format!(
                "SELECT {STATE_COLUMNS} FROM state {filter} ORDER BY entity, key"
            ))?;
            let mut raw_rows = stmt.query(rusqlite::params_from_iter(&bounds))?;
            let mut chunk = Vec::with_capacity(SNAPSHOT_CHUNK);
            while let Some(r) = raw_rows.next()? {
                chunk.push(state_row(raw_state_row(r)?)?);
                if chunk.len() == SNAPSHOT_CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(SNAPSHOT_CHUNK));
                    if rows_tx.blocking_send(Ok(full)).is_err() {
                        return Ok(()); // the client went away
                    }
                }
            }
            if !chunk.is_empty() {
                let _ = rows_tx.blocking_send(Ok(chunk));
            }
            Ok(())
        });
        if let Err(e) = result {
            match header_tx.take() {
                Some(h) => {
                    let _ = h.send(Err(e));
                }
                None => {
                    let _ = rows_tx.blocking_send(Err(e));
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl ChangeLog for SqliteStore {
    async fn head(&self) -> Result<u64, StoreError> {
        self.blocking(|inner| inner.readers.with(|conn| read_head(conn)))
            .await
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.head.subscribe()
    }

    async fn write(&self, origin: &str, rows: Vec<RowWrite>) -> Result<WriteOutcome, StoreError> {
        let origin = origin.to_owned();
        self.blocking(move |inner| inner.write(&origin, &rows))
            .await
    }

    async fn update_projects(
        &self,
        origin: &str,
        project_codes: Vec<String>,
        update: Updater,
    ) -> Result<WriteOutcome, StoreError> {
        let origin = origin.to_owned();
        self.blocking(move |inner| {
            let mut conn = lock(&inner.writer);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let written = log::update_projects(&mut SqliteTx(&tx), &origin, &project_codes, update)?;
            tx.commit()?;
            inner.published(written.head);
            Ok(written)
        })
        .await
    }

    async fn changes_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LoggedChange>, StoreError> {
        self.blocking(move |inner| inner.changes_after(after, limit))
            .await
    }

    async fn range_sums(&self, ranges: Vec<KeyRange>) -> Result<Vec<RangeSum>, StoreError> {
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                ranges
                    .iter()
                    .map(|range| {
                        let mut stmt = conn.prepare_cached(&format!(
                            "SELECT count(*), coalesce(sum(digest_hi), 0), coalesce(sum(digest_lo), 0)
                             FROM state WHERE {}",
                            yizhan_sync::sql::key_range_filter(range)
                        ))?;
                        let (count, hi, lo): (i64, i64, i64) = stmt.query_row(
                            params![range.entity.as_str(), range.after, range.upto],
                            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                        )?;
                        Ok(RangeSum {
                            count: to_u64(count)?,
                            hi,
                            lo,
                        })
                    })
                    .collect()
            })
        })
        .await
    }

    async fn range_rows(&self, range: KeyRange, limit: usize) -> Result<Vec<StateRow>, StoreError> {
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                conn.prepare_cached(&format!(
                    "SELECT {STATE_COLUMNS} FROM state WHERE {} ORDER BY key LIMIT ?4",
                    yizhan_sync::sql::key_range_filter(&range)
                ))?
                .query_map(
                    params![
                        range.entity.as_str(),
                        range.after,
                        range.upto,
                        i64::try_from(limit).unwrap_or(i64::MAX)
                    ],
                    raw_state_row,
                )?
                .map(|raw| state_row(raw?))
                .collect()
            })
        })
        .await
    }

    async fn compact(&self, through: u64) -> Result<u64, StoreError> {
        self.blocking(move |inner| inner.compact(through)).await
    }

    async fn horizon(&self) -> Result<u64, StoreError> {
        self.blocking(|inner| inner.readers.with(|conn| read_horizon(conn)))
            .await
    }

    async fn chain_at(&self, seq: u64) -> Result<ChainHash, StoreError> {
        self.blocking(move |inner| inner.readers.with(|conn| read_chain(conn, seq)))
            .await
    }

    async fn snapshot(&self, after: Option<RowPosition>) -> Result<Snapshot, StoreError> {
        let (header_tx, header_rx) = oneshot::channel();
        let (rows_tx, mut rows_rx) = mpsc::channel(SNAPSHOT_CHUNKS_IN_FLIGHT);
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.stream_snapshot(after, header_tx, rows_tx));
        let header = header_rx
            .await
            .map_err(|_| StoreError::Corrupt("快照读取任务意外结束".into()))??;
        // poll_fn over the receiver keeps answering `None` once done: the compression
        // layer polls a finished body again, which an `unfold` stream panics on.
        let rows = futures_util::stream::poll_fn(move |cx| rows_rx.poll_recv(cx));
        Ok(Snapshot {
            position: header,
            rows: rows.boxed(),
        })
    }

    async fn get(&self, entity: EntityKind, key: &str) -> Result<Option<StateRow>, StoreError> {
        let key = key.to_owned();
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                conn.prepare_cached(&format!(
                    "SELECT {STATE_COLUMNS} FROM state WHERE entity = ?1 AND key = ?2"
                ))?
                .query_row(params![entity.as_str(), key], raw_state_row)
                .optional()?
                .map(state_row)
                .transpose()
            })
        })
        .await
    }

    async fn project_rows(&self, project_code: &str) -> Result<Vec<StateRow>, StoreError> {
        let code = project_code.to_owned();
        self.blocking(move |inner| inner.readers.with(|conn| project_state(conn, &code)))
            .await
    }

    async fn known_projects(&self, codes: Vec<String>) -> Result<HashSet<String>, StoreError> {
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM state WHERE entity = 'project' AND key = ?1)",
                )?;
                let mut known = HashSet::new();
                for code in codes {
                    if stmt.query_row([&code], |r| r.get::<_, bool>(0))? {
                        known.insert(code);
                    }
                }
                Ok(known)
            })
        })
        .await
    }
}

#[async_trait::async_trait]
impl CommandStore for SqliteStore {
    async fn run_command(
        &self,
        envelope: CommandEnvelope,
        decide: Decider,
        audit: CommandAudit,
    ) -> Result<CommandRun, StoreError> {
        self.blocking(move |inner| inner.run_command(&envelope, decide, audit))
            .await
    }
}

#[async_trait::async_trait]
impl AlertStore for SqliteStore {
    async fn alert_projects_to_tick(&self, now: OffsetDateTime) -> Result<Vec<String>, StoreError> {
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT DISTINCT project_code FROM state INDEXED BY state_active_alerts \
                         WHERE entity = 'alert' AND alert_active = 1 AND (alert_system = 1 OR alert_escalates_at <= ?1)",
                    )?
                    .query_map([now.unix_timestamp()], |row| row.get(0))?
                    .collect::<Result<_, _>>()?)
            })
        })
        .await
    }

    async fn open_alert_counts(&self) -> Result<Vec<OpenAlerts>, StoreError> {
        self.blocking(|inner| {
            inner.readers.with(|conn| {
                let counts: Vec<(String, String, i64)> = conn
                    .prepare_cached(
                        "SELECT alert_level, alert_department, count(*) FROM state INDEXED BY state_active_alerts \
                         WHERE entity = 'alert' AND alert_active = 1 GROUP BY 1, 2",
                    )?
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                    .collect::<Result<_, _>>()?;
                counts
                    .into_iter()
                    .map(|(level, department, count)| {
                        let level = AlertLevel::parse(&level).ok_or_else(|| StoreError::Corrupt(format!("未知的预警级别 {level:?}")))?;
                        Ok(OpenAlerts { level, department, count: to_u64(count)? })
                    })
                    .collect()
            })
        })
        .await
    }
}

#[async_trait::async_trait]
impl ConnectorStore for SqliteStore {
    async fn deliver(&self, delivery: Delivery) -> Result<Delivered, StoreError> {
        self.blocking(move |inner| inner.deliver(&delivery)).await
    }

    async fn connector_heartbeat(
        &self,
        name: &str,
        kind: ConnectorKind,
        source_lag_bytes: Option<i64>,
    ) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.blocking(move |inner| inner.connector_heartbeat(&name, kind, source_lag_bytes))
            .await
    }

    async fn connector_failed(&self, name: &str, kind: ConnectorKind, error: &str) -> Result<(), StoreError> {
        let (name, error) = (name.to_owned(), error.to_owned());
        self.blocking(move |inner| inner.connector_failed(&name, kind, &error))
            .await
    }

    async fn connector_position(&self, name: &str) -> Result<Option<String>, StoreError> {
        let name = name.to_owned();
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                Ok(conn
                    .prepare_cached("SELECT position FROM connectors WHERE name = ?1")?
                    .query_row([name], |r| r.get(0))
                    .optional()?
                    .flatten())
            })
        })
        .await
    }

    async fn connectors(&self) -> Result<Vec<ConnectorRecord>, StoreError> {
        self.blocking(|inner| inner.readers.with(|conn| connectors::connectors(conn)))
            .await
    }

    async fn quarantine(
        &self,
        state: Option<QuarantineState>,
        connector: Option<String>,
        limit: usize,
    ) -> Result<Vec<QuarantineRecord>, StoreError> {
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                connectors::quarantine(conn, state, connector.as_deref(), limit)
            })
        })
        .await
    }

    async fn quarantined(&self, id: u64) -> Result<Option<QuarantineRecord>, StoreError> {
        self.blocking(move |inner| inner.readers.with(|conn| connectors::quarantined(conn, id)))
            .await
    }

    async fn close_quarantine(&self, id: u64, closing: QuarantineClosing, by: &str, note: &str) -> Result<bool, StoreError> {
        let (by, note) = (by.to_owned(), note.to_owned());
        self.blocking(move |inner| inner.close_quarantine(id, closing.state(), &by, &note))
            .await
    }

    async fn record_verification(&self, connector: &str, kind: ConnectorKind, comparison: SourceComparison) -> Result<(), StoreError> {
        let connector = connector.to_owned();
        self.blocking(move |inner| inner.record_verification(&connector, kind, &comparison))
            .await
    }
}

#[async_trait::async_trait]
impl ImportStore for SqliteStore {
    async fn imported_file(&self, checksum: &str) -> Result<Option<String>, StoreError> {
        let checksum = checksum.to_owned();
        self.blocking(move |inner| {
            inner.readers.with(|conn| connectors::imported_file(conn, &checksum))
        })
        .await
    }

    async fn record_import(
        &self,
        checksum: &str,
        connector: &str,
        file_name: &str,
        report: String,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        let (checksum, connector, file_name) =
            (checksum.to_owned(), connector.to_owned(), file_name.to_owned());
        self.blocking(move |inner| inner.record_import(&checksum, &connector, &file_name, &report, &bytes))
            .await
    }

    async fn last_import(&self, connector: &str) -> Result<Option<ImportedFile>, StoreError> {
        let connector = connector.to_owned();
        self.blocking(move |inner| inner.readers.with(|conn| connectors::last_import(conn, &connector)))
            .await
    }
}

#[async_trait::async_trait]
impl CounterReports for SqliteStore {
    async fn record_counter(&self, device_id: &str, report: String) -> Result<(), StoreError> {
        let device_id = device_id.to_owned();
        self.blocking(move |inner| {
            lock(&inner.writer).execute(
                "INSERT INTO counter_reports (device_id, reported_at, report) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device_id) DO UPDATE SET reported_at = excluded.reported_at, report = excluded.report",
                params![device_id, now_text(), report],
            )?;
            Ok(())
        })
        .await
    }

    async fn counters(&self) -> Result<Vec<KeptReport>, StoreError> {
        self.blocking(|inner| {
            inner.readers.with(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT reported_at, report FROM counter_reports ORDER BY device_id",
                )?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                rows.into_iter()
                    .map(|(at, report)| Ok(KeptReport { reported_at: parse_time(&at)?, report }))
                    .collect()
            })
        })
        .await
    }
}

#[async_trait::async_trait]
impl DocumentStore for SqliteStore {
    async fn allocate_segment(&self, device_id: &str, kind: DocumentKind, size: u64) -> Result<Segment, StoreError> {
        let device_id = device_id.to_owned();
        self.blocking(move |inner| inner.allocate_segment(&device_id, kind, size)).await
    }

    async fn segment_owner(&self, kind: DocumentKind, serial: u64) -> Result<Option<String>, StoreError> {
        self.blocking(move |inner| inner.segment_owner(kind, serial)).await
    }

    async fn put_document_file(&self, number: &str, pdf_sm3: &str, bytes: Vec<u8>) -> Result<bool, StoreError> {
        let (number, pdf_sm3) = (number.to_owned(), pdf_sm3.to_owned());
        self.blocking(move |inner| inner.put_document_file(&number, &pdf_sm3, &bytes)).await
    }

    async fn document_file(&self, pdf_sm3: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let pdf_sm3 = pdf_sm3.to_owned();
        self.blocking(move |inner| inner.document_file(&pdf_sm3)).await
    }
}

#[async_trait::async_trait]
impl NotificationStore for SqliteStore {
    async fn queue_notification(&self, event_key: &str, project_code: &str, recipient: &str, message: &str) -> Result<(), StoreError> {
        let (e, p, r, m) = (event_key.to_owned(), project_code.to_owned(), recipient.to_owned(), message.to_owned());
        self.blocking(move |inner| inner.queue_notification(&e, &p, &r, &m)).await
    }

    async fn pending_notifications(&self, limit: usize) -> Result<Vec<Notification>, StoreError> {
        self.blocking(move |inner| inner.notifications_where("state = ?1", "pending".to_owned().into(), limit)).await
    }

    async fn notification_attempted(&self, id: u64, error: Option<String>, give_up_after: u32) -> Result<(), StoreError> {
        self.blocking(move |inner| inner.notification_attempted(id, error.as_deref(), give_up_after)).await
    }

    async fn notifications(&self, project_code: &str) -> Result<Vec<Notification>, StoreError> {
        let code = project_code.to_owned();
        self.blocking(move |inner| inner.notifications_where("project_code = ?1", code.into(), 1_000)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, payload: &str) -> RowWrite {
        RowWrite {
            entity: EntityKind::Payment,
            key: key.into(),
            project_code: "2025-320115-47-01-000001".into(),
            payload: payload.into(),
        }
    }

    fn open() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("hub.sqlite3")).unwrap();
        (dir, store)
    }

    crate::store::conformance::conformance_suite!(open());

    fn count(store: &SqliteStore, table: &str) -> i64 {
        lock(&store.inner.writer)
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    #[tokio::test]
    async fn a_log_from_before_the_chain_is_chained_at_open() {
        let (dir, store) = open();
        store.write("test", vec![row("a", "1"), row("b", "2")]).await.unwrap();
        store.write("test", vec![row("a", "3")]).await.unwrap();
        let log = store.changes_after(0, 100).await.unwrap();

        // A log from before the chain: no values, and the guard against updates in place.
        drop(store);
        let path = dir.path().join("hub.sqlite3");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TRIGGER changes_refuse_update; UPDATE changes SET chain = NULL;
             CREATE TRIGGER changes_refuse_update BEFORE UPDATE ON changes
             BEGIN SELECT RAISE(ABORT, 'changes is append-only: UPDATE refused'); END;",
        )
        .unwrap();
        drop(conn);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.changes_after(0, 100).await.unwrap(), log);
        let refused = lock(&store.inner.writer).execute("UPDATE changes SET origin = 'x'", []);
        assert!(refused.is_err(), "the log is append-only again");
    }

    #[tokio::test]
    async fn a_failed_write_leaves_neither_state_nor_log() {
        let (_dir, store) = open();
        store.write("test", vec![row("a", "1")]).await.unwrap();
        {
            let writer = lock(&store.inner.writer);
            writer.execute_batch("CREATE TRIGGER fail_c BEFORE INSERT ON state WHEN NEW.key = 'c' BEGIN SELECT RAISE(ABORT, 'boom'); END").unwrap();
        }
        assert!(
            store
                .write("test", vec![row("b", "2"), row("c", "3")])
                .await
                .is_err()
        );
        assert_eq!(count(&store, "changes"), 1);
        assert_eq!(count(&store, "state"), 1);
        assert_eq!(store.head().await.unwrap(), 1);
        // The failed write's seqs were not used up: the next seq is 2.
        lock(&store.inner.writer)
            .execute_batch("DROP TRIGGER fail_c")
            .unwrap();
        assert_eq!(
            store.write("test", vec![row("b", "2")]).await.unwrap().seqs,
            vec![Some(2)]
        );
    }

    #[tokio::test]
    async fn the_change_log_refuses_update_and_delete() {
        let (_dir, store) = open();
        store.write("test", vec![row("a", "1")]).await.unwrap();
        let writer = lock(&store.inner.writer);
        let update = writer
            .execute("UPDATE changes SET payload = '2' WHERE seq = 1", [])
            .unwrap_err();
        assert!(update.to_string().contains("append-only"), "{update}");
        let delete = writer.execute("DELETE FROM changes", []).unwrap_err();
        assert!(delete.to_string().contains("append-only"), "{delete}");
        let payload: String = writer
            .query_row("SELECT payload FROM changes WHERE seq = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(payload, "1");
    }

    #[tokio::test]
    async fn alerts_written_before_their_columns_existed_are_found_after_the_migration() {
        let (dir, store) = open();
        let alert = serde_json::json!({
            "rule_id": "payment-overdue", "subject": "project/P1", "project_code": "P1", "department": "收费窗口",
            "owner_role": "supervisor", "raised_level": "orange", "level": "orange", "message": "m",
            "raised_at": "2026-11-24T00:00:00Z", "respond_by": "2026-11-24T08:00:00.5Z", "state": "open",
        });
        let alert: yizhan_core::alert::Alert = serde_json::from_value(alert).unwrap();
        store.write("alerts", vec![RowWrite::upsert(EntityKind::Alert, alert.key(), "P1", &alert)]).await.unwrap();
        drop(store);
        // The file as the hub before the migration left it.
        Connection::open(dir.path().join("hub.sqlite3"))
            .unwrap()
            .execute_batch(
                "DROP INDEX state_active_alerts;
                 ALTER TABLE state DROP COLUMN alert_active; ALTER TABLE state DROP COLUMN alert_system;
                 ALTER TABLE state DROP COLUMN alert_escalates_at; ALTER TABLE state DROP COLUMN alert_level;
                 ALTER TABLE state DROP COLUMN alert_department;
                 DELETE FROM schema_migrations WHERE version = '20261206120000_alert_columns';",
            )
            .unwrap();
        let store = SqliteStore::open(&dir.path().join("hub.sqlite3")).unwrap();
        let at = |text: &str| OffsetDateTime::parse(text, &Rfc3339).unwrap();
        assert!(store.alert_projects_to_tick(at("2026-11-24T07:59:59Z")).await.unwrap().is_empty());
        assert_eq!(store.alert_projects_to_tick(at("2026-11-24T08:00:01Z")).await.unwrap(), ["P1"]);
        let counts = store.open_alert_counts().await.unwrap();
        assert_eq!((counts[0].level, counts[0].department.as_str(), counts[0].count), (AlertLevel::Orange, "收费窗口", 1));
    }

    #[tokio::test]
    async fn migrations_are_recorded_and_not_reapplied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.sqlite3");
        SqliteStore::open(&path)
            .unwrap()
            .write("test", vec![row("a", "1")])
            .await
            .unwrap();
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.head().await.unwrap(), 1);
        assert_eq!(count(&store, "schema_migrations"), MIGRATIONS.len() as i64);
    }

    #[tokio::test]
    async fn snapshot_is_the_state_as_of_its_header_even_when_writes_follow() {
        let (_dir, store) = open();
        let rows: Vec<RowWrite> = (0..(SNAPSHOT_CHUNK * 2 + 7))
            .map(|i| row(&format!("k{i}"), &i.to_string()))
            .collect();
        store.write("test", rows).await.unwrap();
        let snapshot = store.snapshot(None).await.unwrap();
        // Written after the snapshot began: must not appear in it.
        store
            .write("test", vec![row("k0", "changed"), row("late", "1")])
            .await
            .unwrap();
        assert_eq!(snapshot.position.as_of, SNAPSHOT_CHUNK as u64 * 2 + 7);
        let chunks: Vec<_> = snapshot.rows.collect().await;
        let rows: Vec<StateRow> = chunks.into_iter().flat_map(|c| c.unwrap()).collect();
        assert_eq!(rows.len() as u64, snapshot.position.rows);
        assert!(rows.iter().all(|r| r.key != "late"));
        assert_eq!(rows.iter().find(|r| r.key == "k0").unwrap().payload, "0");
    }

    #[tokio::test]
    async fn the_rest_of_a_snapshot_holds_the_rows_after_a_position_in_key_order() {
        let (_dir, store) = open();
        store
            .write("test", ["b", "d", "a", "c", "e"].map(|k| row(k, k)).into())
            .await
            .unwrap();
        let keys = |snapshot: Snapshot| async move {
            let rows: Vec<StateRow> = snapshot.rows.collect::<Vec<_>>().await.into_iter().flat_map(|c| c.unwrap()).collect();
            rows.into_iter().map(|r| r.key).collect::<Vec<_>>()
        };
        assert_eq!(keys(store.snapshot(None).await.unwrap()).await, ["a", "b", "c", "d", "e"]);
        let after = RowPosition { entity: EntityKind::Payment, key: "b".into() };
        let rest = store.snapshot(Some(after)).await.unwrap();
        assert_eq!((rest.position.as_of, rest.position.rows), (5, 3));
        assert_eq!(keys(rest).await, ["c", "d", "e"]);
        // Every row of an entity that sorts before `payment` is behind the position.
        let after = RowPosition { entity: EntityKind::Payment, key: "e".into() };
        assert_eq!(store.snapshot(Some(after)).await.unwrap().position.rows, 0);
    }
}
