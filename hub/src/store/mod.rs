//! Where the hub keeps the current state and the append-only change log.
//!
//! The HTTP layer, ingest, the alert desk and the demo seeder speak to [`Store`], so a
//! PostgreSQL backend (for the domestic PostgreSQL-compatible databases data centres run)
//! stands in for the embedded SQLite one without touching them. The rules of the log —
//! seq, versions, identical payloads, row digests, the chain, commands run once, a
//! connector's delivery, number segments — are written once in [`log`], over the small
//! transaction traits a backend implements; the `conformance` suite tests the whole contract
//! against every backend.
//!
//! Every backend keeps this contract:
//! - **Payload bytes as written.** A payload is stored, compared, logged and sent exactly as
//!   the caller gave it: never parsed and re-encoded (JSON columns would reorder keys and
//!   change bytes, and with them digests and the chain). "Identical" means byte-identical.
//! - **Bytewise key order.** Keys and entities compare as their UTF-8 bytes (SQLite's
//!   `BINARY`, PostgreSQL's `COLLATE "C"`): snapshots, key ranges and reconciliation
//!   bisect the same ranges on the hub and on the counters.
//! - **Gap-free `seq`.** Each committed change takes the head + 1, read inside its own write
//!   transaction, and writers are serialised, so clients never see a hole or a seq that
//!   a later commit fills in; a failed transaction uses up nothing.
//! - **One transaction.** State, log and whatever records an action (a command's outcome,
//!   a connector's position and tallies, a segment) commit together or not at all, and
//!   `subscribe` wakes long-polls only after a commit that appended changes.

mod accounts;
#[cfg(test)]
pub(crate) mod conformance;
mod connectors;
mod devices;
mod documents;
pub(crate) mod log;
mod sqlite;

pub use accounts::{
    AccountStore, AuditBuilder, CounterAuditBuilder, AuditCheckpoint, AuditQuery, AuditRecord, AuditStore, AuditTail, GrantRecord,
    LoginFailure, RoleRecord, SessionRecord, Standing, UserRecord, UserStatus,
};
pub use connectors::{ConnectorKind, ConnectorRecord, Delivered, Delivery, QuarantineClosing, QuarantineItem, QuarantineRecord};
pub use devices::{DeviceRecord, DeviceState, DeviceStore, DeviceToken};
pub use documents::{Notification, NotificationState};

use std::collections::HashSet;
use std::path::PathBuf;

use futures_util::stream::BoxStream;
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::watch;
use yizhan_core::alert::AlertLevel;
use yizhan_core::command::Rejection;
use yizhan_core::document::{DocumentKind, Segment};
use yizhan_core::entity::EntityKind;
use yizhan_core::records::ProjectRecords;
use yizhan_sync::integrity::{ChainHash, ChangeFrame};
use yizhan_sync::protocol::{
    Change, CommandEnvelope, KeyRange, Op, QuarantineState, RangeSum, SourceComparison,
    RowPosition, SnapshotRow,
};

pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库访问失败：{0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("数据库中的数据无法读取：{0}")]
    Corrupt(String),
    #[error("数据库由更新版本的数据中心程序建立（迁移 {0}），本程序不能打开：请换用新版 yizhan-hub")]
    SchemaTooNew(String),
    /// The changes after `after` are partly compacted away.
    #[error("第 {after} 号之后的变更已被压缩（保留自第 {horizon} 号之后）")]
    BelowHorizon { after: u64, horizon: u64 },
}

/// One row to upsert: `payload` is the canonical JSON of the entity (`RowWrite::upsert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowWrite {
    pub entity: EntityKind,
    pub key: String,
    pub project_code: String,
    pub payload: String,
}

impl RowWrite {
    /// Canonical JSON is serde_json's rendering of the entity struct: fields in
    /// declaration order, no whitespace, so equal entities give equal bytes.
    pub fn upsert<T: Serialize>(
        entity: EntityKind,
        key: String,
        project_code: &str,
        value: &T,
    ) -> RowWrite {
        let payload = serde_json::to_string(value)
            .expect("entities serialise to JSON: plain structs, string keys");
        RowWrite {
            entity,
            key,
            project_code: project_code.to_owned(),
            payload,
        }
    }
}

/// What one `write` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The newest seq after the write (unchanged when nothing was written).
    pub head: u64,
    /// For each row written, in order: the seq it was logged under, or `None` when it was
    /// identical to the stored row.
    pub seqs: Vec<Option<u64>>,
}

impl WriteOutcome {
    pub fn changed(&self) -> usize {
        self.seqs.iter().filter(|s| s.is_some()).count()
    }

    pub fn unchanged(&self) -> usize {
        self.seqs.len() - self.changed()
    }
}

/// Which backend holds the hub's data, as its URL names it: `sqlite://hub.sqlite3`
/// (`sqlite:///srv/yizhan/hub.sqlite3` for an absolute path), or a plain file path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(PathBuf),
}

impl std::str::FromStr for StoreUrl {
    type Err = String;

    fn from_str(url: &str) -> Result<StoreUrl, String> {
        let url = url.trim();
        match url.split_once("://") {
            Some(("sqlite", path)) if !path.is_empty() => Ok(StoreUrl::Sqlite(PathBuf::from(path))),
            Some(("sqlite", _)) => Err("sqlite:// 之后应写数据库文件路径，如 sqlite:///srv/yizhan/hub.sqlite3".into()),
            Some(("postgres" | "postgresql", _)) => {
                Err("本版本的数据中心只提供嵌入式 SQLite 存储：请使用 sqlite://文件路径（PostgreSQL 存储在后续版本提供）".into())
            }
            Some((scheme, _)) => Err(format!("不认识的存储地址类型 {scheme}://：应为 sqlite://文件路径")),
            None if url.is_empty() => Err("存储地址不能为空".into()),
            None => Ok(StoreUrl::Sqlite(PathBuf::from(url))),
        }
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
        }
    }
}

/// A counter's latest report as kept: when it came, and the report as it sent it (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptReport {
    pub reported_at: OffsetDateTime,
    pub report: String,
}

/// An imported export file, kept whole so it can be compared with the hub again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFile {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// How many active alerts stand at one level in one department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAlerts {
    pub level: AlertLevel,
    pub department: String,
    pub count: u64,
}

/// One current row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRow {
    pub entity: EntityKind,
    pub key: String,
    pub project_code: String,
    pub version: u64,
    pub seq: u64,
    pub committed_at: OffsetDateTime,
    /// Canonical JSON of the entity.
    pub payload: String,
}

impl StateRow {
    pub fn to_snapshot_row(&self) -> Result<SnapshotRow, StoreError> {
        Ok(SnapshotRow {
            entity: self.entity,
            key: self.key.clone(),
            project_code: self.project_code.clone(),
            version: self.version,
            seq: self.seq,
            committed_at: self.committed_at,
            payload: serde_json::from_str(&self.payload).map_err(|e| {
                StoreError::Corrupt(format!(
                    "{} {} 的内容不是 JSON：{e}",
                    self.entity.as_str(),
                    self.key
                ))
            })?,
        })
    }

    /// Appends the row as one NDJSON `SnapshotRow` line.
    pub fn write_ndjson(&self, out: &mut Vec<u8>) {
        #[derive(Serialize)]
        struct Head<'a> {
            entity: EntityKind,
            key: &'a str,
            project_code: &'a str,
            version: u64,
            seq: u64,
            #[serde(with = "time::serde::rfc3339")]
            committed_at: OffsetDateTime,
        }
        let head = Head {
            entity: self.entity,
            key: &self.key,
            project_code: &self.project_code,
            version: self.version,
            seq: self.seq,
            committed_at: self.committed_at,
        };
        write_with_payload(&head, Some(&self.payload), out);
        out.push(b'\n');
    }
}

/// One entry of the change log as stored, its payload still the canonical JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedChange {
    pub seq: u64,
    pub entity: EntityKind,
    pub key: String,
    pub project_code: String,
    pub version: u64,
    pub op: Op,
    /// Canonical JSON of the entity; `None` for a delete.
    pub payload: Option<String>,
    pub origin: String,
    pub committed_at: OffsetDateTime,
    /// The chain value after this change.
    pub chain: ChainHash,
}

impl LoggedChange {
    pub fn frame(&self) -> ChangeFrame<'_> {
        ChangeFrame {
            seq: self.seq,
            entity: self.entity.as_str(),
            key: &self.key,
            project_code: &self.project_code,
            version: self.version,
            op: self.op.as_str(),
            payload: self.payload.as_deref(),
            origin: &self.origin,
            committed_at_nanos: self.committed_at.unix_timestamp_nanos(),
        }
    }

    pub fn to_change(&self) -> Result<Change, StoreError> {
        let payload = self
            .payload
            .as_deref()
            .map(|text| serde_json::value::RawValue::from_string(text.to_owned()))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("变更 {} 的内容不是 JSON：{e}", self.seq)))?;
        Ok(Change {
            seq: self.seq,
            entity: self.entity,
            key: self.key.clone(),
            project_code: self.project_code.clone(),
            version: self.version,
            op: self.op,
            payload,
            origin: self.origin.clone(),
            committed_at: self.committed_at,
        })
    }

    /// Appends the change as one JSON `Change` object.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        #[derive(Serialize)]
        struct Head<'a> {
            seq: u64,
            entity: EntityKind,
            key: &'a str,
            project_code: &'a str,
            version: u64,
            op: Op,
            origin: &'a str,
            #[serde(with = "time::serde::rfc3339")]
            committed_at: OffsetDateTime,
        }
        let head = Head {
            seq: self.seq,
            entity: self.entity,
            key: &self.key,
            project_code: &self.project_code,
            version: self.version,
            op: self.op,
            origin: &self.origin,
            committed_at: self.committed_at,
        };
        write_with_payload(&head, self.payload.as_deref(), out);
    }
}

/// Writes `head` as a JSON object with a last field `payload` spliced in as text. Stored
/// payloads are canonical JSON already: splicing sends every client the same bytes the
/// hub compared and stored (a `serde_json::Value` would reorder the fields), and spares
/// parsing and re-serialising millions of payloads per snapshot.
fn write_with_payload<T: Serialize>(head: &T, payload: Option<&str>, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, head).expect("writing JSON into a Vec cannot fail");
    debug_assert_eq!(out.last(), Some(&b'}'));
    out.pop();
    out.extend_from_slice(b",\"payload\":");
    out.extend_from_slice(payload.unwrap_or("null").as_bytes());
    out.push(b'}');
}

/// One project's rows read as its records.
pub fn project_records(rows: &[StateRow]) -> Result<ProjectRecords, StoreError> {
    let mut records = ProjectRecords::default();
    for row in rows {
        records
            .add(row.entity, &row.key, row.payload.as_bytes())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    Ok(records)
}

/// Where a snapshot stands: its seq, its row count and the chain value at that seq.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPosition {
    pub as_of: u64,
    pub rows: u64,
    pub chain: ChainHash,
}

/// The state as of one seq: where it stands, then the rows in chunks. The rows are
/// produced while the consumer reads, through a bounded channel, so memory stays flat
/// whatever the size of the state; dropping the stream stops the producer.
pub struct Snapshot {
    pub position: SnapshotPosition,
    pub rows: BoxStream<'static, Result<Vec<StateRow>, StoreError>>,
}

/// How a clerk command is decided: from its project's current rows (read inside the
/// command's write transaction, so nothing changes between the decision and its effect)
/// to the rows it writes, or the reason it is refused.
pub type Decider = Box<
    dyn FnOnce(&[StateRow]) -> Result<Result<Vec<RowWrite>, Rejection>, StoreError> + Send,
>;

/// What the alert evaluation makes of one project's current rows (read inside the write
/// transaction): the rows to write.
pub type Updater = Box<dyn FnMut(&str, &[StateRow]) -> Result<Vec<RowWrite>, StoreError> + Send>;

/// The change log and the state it leads to: writes, the feed, snapshots and reconciliation.
#[async_trait::async_trait]
pub trait ChangeLog: Send + Sync + 'static {
    /// The newest committed seq; 0 for an empty log.
    async fn head(&self) -> Result<u64, StoreError>;

    /// Follows the head: the value is bumped after every commit that appended changes, so
    /// long-polls wake on commit instead of polling the database.
    fn subscribe(&self) -> watch::Receiver<u64>;

    /// Upserts `rows` in order, in one transaction with their change-log entries, tagged
    /// with `origin`. A later row may overwrite an earlier row of the same call.
    async fn write(&self, origin: &str, rows: Vec<RowWrite>) -> Result<WriteOutcome, StoreError>;

    /// Reads the rows of each of `project_codes` and writes what `update` makes of them, all
    /// in one transaction tagged `origin`: nothing written meanwhile (a clerk's answer to an
    /// alert) is overwritten by a decision taken on older rows.
    async fn update_projects(
        &self,
        origin: &str,
        project_codes: Vec<String>,
        update: Updater,
    ) -> Result<WriteOutcome, StoreError>;

    /// The checksum of each range (row count and digest sums), for reconciliation.
    async fn range_sums(&self, ranges: Vec<KeyRange>) -> Result<Vec<RangeSum>, StoreError>;

    /// At most `limit` rows of `range`, in key order.
    async fn range_rows(&self, range: KeyRange, limit: usize) -> Result<Vec<StateRow>, StoreError>;

    /// The chain value of the change at `seq` ([`ChainHash::ZERO`] at 0).
    async fn chain_at(&self, seq: u64) -> Result<ChainHash, StoreError>;

    /// Removes the log up to and including `through` (at most the head), keeping its chain
    /// value as the horizon; returns the horizon. The state is untouched: new counters load
    /// it as a snapshot, and a counter behind the horizon is told to.
    async fn compact(&self, through: u64) -> Result<u64, StoreError>;

    /// The highest seq compacted away (0 when none).
    async fn horizon(&self) -> Result<u64, StoreError>;

    /// At most `limit` changes with `seq > after`, in seq order; `BelowHorizon` when some
    /// of them were compacted away.
    async fn changes_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LoggedChange>, StoreError>;

    /// The state as of the head at the time of the call, read in one consistent read
    /// transaction, in (entity, key) order: the whole of it, or the rows `after` one (the
    /// rest of a snapshot a counter was cut off from).
    async fn snapshot(&self, after: Option<RowPosition>) -> Result<Snapshot, StoreError>;

    async fn get(&self, entity: EntityKind, key: &str) -> Result<Option<StateRow>, StoreError>;

    /// Every current row of one project, ordered by entity and key.
    async fn project_rows(&self, project_code: &str) -> Result<Vec<StateRow>, StoreError>;

    /// Those of `codes` that the hub holds a project row for.
    async fn known_projects(&self, codes: Vec<String>) -> Result<HashSet<String>, StoreError>;

    async fn project_exists(&self, project_code: &str) -> Result<bool, StoreError> {
        Ok(!self
            .known_projects(vec![project_code.to_owned()])
            .await?
            .is_empty())
    }
}

/// What a command came to: the seq its effect was logged at (none when it changed
/// nothing), or why it was refused.
pub type Outcome = Result<Option<u64>, Rejection>;

/// A command's outcome, and whether it had been run before under its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRun {
    pub outcome: Outcome,
    pub repeated: bool,
}

/// Builds the audit record of a command's run from the trail's tail, inside the command's
/// transaction: a command whose record cannot be written does not run.
pub type CommandAudit = Box<dyn FnOnce(&CommandRun, &AuditTail) -> AuditRecord + Send>;

/// Clerk commands, each run once per id.
#[async_trait::async_trait]
pub trait CommandStore: Send + Sync + 'static {
    /// Runs a clerk command exactly once per `command_id`: decides it, writes its effect
    /// and records the outcome in one transaction. A command already run gets its first
    /// outcome again, marked `repeated`; another command under a used id is refused.
    async fn run_command(
        &self,
        envelope: CommandEnvelope,
        decide: Decider,
        audit: CommandAudit,
    ) -> Result<CommandRun, StoreError>;
}

/// What the alert desk reads beyond the rows themselves.
#[async_trait::async_trait]
pub trait AlertStore: Send + Sync + 'static {
    /// The projects ("" for the system) of the active alerts a clock tick must look at: those
    /// about something other than a project's fees (a feed, a quarantined record), and
    /// those the clock alone changes by `now` (unanswered past their deadline below red).
    async fn alert_projects_to_tick(&self, now: OffsetDateTime) -> Result<Vec<String>, StoreError>;

    /// Active alerts counted by level and department.
    async fn open_alert_counts(&self) -> Result<Vec<OpenAlerts>, StoreError>;
}

/// The department feeds: deliveries, health, the quarantine and source comparisons.
#[async_trait::async_trait]
pub trait ConnectorStore: Send + Sync + 'static {
    /// Writes a connector's delivery in one transaction: rows, removals, quarantine
    /// entries, its tallies (received, applied, quarantined) and position.
    async fn deliver(&self, delivery: Delivery) -> Result<Delivered, StoreError>;

    /// Marks a connector alive (registering it on first call), with its source's backlog.
    async fn connector_heartbeat(
        &self,
        name: &str,
        kind: ConnectorKind,
        source_lag_bytes: Option<i64>,
    ) -> Result<(), StoreError>;

    /// Keeps the connector's last error, for the operators.
    async fn connector_failed(&self, name: &str, kind: ConnectorKind, error: &str) -> Result<(), StoreError>;

    /// Where the connector stood after its last delivery.
    async fn connector_position(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// Every connector, by name.
    async fn connectors(&self) -> Result<Vec<ConnectorRecord>, StoreError>;

    /// Quarantined records, newest first, filtered by state and connector.
    async fn quarantine(
        &self,
        state: Option<QuarantineState>,
        connector: Option<String>,
        limit: usize,
    ) -> Result<Vec<QuarantineRecord>, StoreError>;

    async fn quarantined(&self, id: u64) -> Result<Option<QuarantineRecord>, StoreError>;

    /// Closes an open entry; false when it was not open.
    async fn close_quarantine(&self, id: u64, closing: QuarantineClosing, by: &str, note: &str) -> Result<bool, StoreError>;

    /// Keeps the last comparison of the connector's source with the hub.
    async fn record_verification(&self, connector: &str, kind: ConnectorKind, comparison: SourceComparison) -> Result<(), StoreError>;
}

/// Imported export files.
#[async_trait::async_trait]
pub trait ImportStore: Send + Sync + 'static {
    /// The report of the import of the file with this checksum, if it was imported.
    async fn imported_file(&self, checksum: &str) -> Result<Option<String>, StoreError>;

    /// Keeps the import of a file, with its bytes as the connector's last file (the bytes
    /// of its earlier files are dropped).
    async fn record_import(
        &self,
        checksum: &str,
        connector: &str,
        file_name: &str,
        report: String,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError>;

    /// The connector's last imported file.
    async fn last_import(&self, connector: &str) -> Result<Option<ImportedFile>, StoreError>;
}

/// What each counter last reported of itself.
#[async_trait::async_trait]
pub trait CounterReports: Send + Sync + 'static {
    /// Keeps `report` (a counter's `CounterReport`, JSON) as that counter's latest.
    async fn record_counter(&self, device_id: &str, report: String) -> Result<(), StoreError>;

    /// Every counter's latest report with when it came, by device id.
    async fn counters(&self) -> Result<Vec<KeptReport>, StoreError>;
}

/// Number segments and the documents' PDF files.
#[async_trait::async_trait]
pub trait DocumentStore: Send + Sync + 'static {
    /// Hands `device_id` the next `size` serials of `kind`, after every serial handed out
    /// before.
    async fn allocate_segment(&self, device_id: &str, kind: DocumentKind, size: u64) -> Result<Segment, StoreError>;

    /// The counter a serial was handed to, if any.
    async fn segment_owner(&self, kind: DocumentKind, serial: u64) -> Result<Option<String>, StoreError>;

    /// Keeps a document's PDF under its SM3; `false` when it was kept already.
    async fn put_document_file(&self, number: &str, pdf_sm3: &str, bytes: Vec<u8>) -> Result<bool, StoreError>;

    async fn document_file(&self, pdf_sm3: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Messages to applicants, queued once and tried until sent or given up.
#[async_trait::async_trait]
pub trait NotificationStore: Send + Sync + 'static {
    /// Queues a message once per `event_key`.
    async fn queue_notification(&self, event_key: &str, project_code: &str, recipient: &str, message: &str) -> Result<(), StoreError>;

    /// Pending messages, oldest first.
    async fn pending_notifications(&self, limit: usize) -> Result<Vec<Notification>, StoreError>;

    /// Records a delivery attempt: sent, or failed with the channel's error (`failed`
    /// for good after `give_up_after` attempts).
    async fn notification_attempted(&self, id: u64, error: Option<String>, give_up_after: u32) -> Result<(), StoreError>;

    async fn notifications(&self, project_code: &str) -> Result<Vec<Notification>, StoreError>;
}

/// The store's traits, to call them on a `dyn Store`: `use crate::store::prelude::*`.
pub mod prelude {
    pub use super::{
        AccountStore, AlertStore, AuditStore, ChangeLog, CommandStore, ConnectorStore, CounterReports, DocumentStore,
        DeviceStore, ImportStore, NotificationStore,
    };
}

/// Everything the hub keeps, by concern; a backend implements each part.
pub trait Store:
    ChangeLog + CommandStore + AlertStore + ConnectorStore + ImportStore + CounterReports + DocumentStore + NotificationStore + AccountStore + AuditStore + DeviceStore
{
}

impl<
    T: ChangeLog
        + CommandStore
        + AlertStore
        + ConnectorStore
        + ImportStore
        + CounterReports
        + DocumentStore
        + NotificationStore
        + AccountStore
        + AuditStore
        + DeviceStore,
> Store for T
{
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_store_url_names_its_backend_and_a_plain_path_is_a_sqlite_file() {
        let sqlite = |path: &str| Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        assert_eq!("sqlite:///srv/yizhan/hub.sqlite3".parse(), sqlite("/srv/yizhan/hub.sqlite3"));
        assert_eq!("sqlite://hub.sqlite3".parse(), sqlite("hub.sqlite3"));
        assert_eq!(" data/hub.sqlite3 ".parse(), sqlite("data/hub.sqlite3"));
        assert_eq!(StoreUrl::Sqlite("/srv/hub.sqlite3".into()).to_string(), "sqlite:///srv/hub.sqlite3");
        for (url, says) in [("sqlite://", "文件路径"), ("postgres://yizhan@db/hub", "SQLite"), ("mysql://x", "mysql://"), ("", "不能为空")] {
            let refused = url.parse::<StoreUrl>().unwrap_err();
            assert!(refused.contains(says), "{url:?}: {refused}");
        }
    }

    #[test]
    fn ndjson_line_parses_as_the_protocol_row_with_the_payload_intact() {
        let row = StateRow {
            entity: EntityKind::Payment,
            key: "P\"1".into(),
            project_code: "2025-320115-47-01-000001".into(),
            version: 3,
            seq: 42,
            committed_at: datetime!(2026-11-24 01:02:03.5 UTC),
            payload: r#"{"a":[1,2],"b":"到账"}"#.into(),
        };
        let mut out = Vec::new();
        row.write_ndjson(&mut out);
        assert_eq!(out.last(), Some(&b'\n'));
        let parsed: SnapshotRow = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed, row.to_snapshot_row().unwrap());
        assert_eq!(
            parsed.payload,
            serde_json::json!({"a": [1, 2], "b": "到账"})
        );
    }

    #[test]
    fn change_json_parses_as_the_protocol_change_with_the_payload_bytes_kept() {
        let change = LoggedChange {
            seq: 7,
            entity: EntityKind::TaxClearance,
            key: "WS1".into(),
            project_code: "2025-320115-47-01-000001".into(),
            version: 2,
            op: Op::Upsert,
            payload: Some(r#"{"z":1,"a":"完税"}"#.into()),
            origin: "ingest:tax".into(),
            committed_at: datetime!(2026-11-24 01:02:03 UTC),
            chain: ChainHash::ZERO,
        };
        let mut out = Vec::new();
        change.write_json(&mut out);
        let parsed: Change = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed, change.to_change().unwrap());
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with(r#","payload":{"z":1,"a":"完税"}}"#),
            "{text}"
        );
        let deleted = LoggedChange {
            op: Op::Delete,
            payload: None,
            ..change
        };
        let mut out = Vec::new();
        deleted.write_json(&mut out);
        assert!(serde_json::from_slice::<Change>(&out)
            .unwrap()
            .payload
            .is_none());
    }
}
