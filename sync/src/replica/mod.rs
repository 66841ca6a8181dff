//! The counter's local copy of the hub's state, in one SQLite file (WAL, so the app reads
//! through its own connections while the sync client writes).
//!
//! [`Replica`] is the single writer: the sync client owns it and feeds it snapshots
//! ([`Replica::bootstrap`]) and change batches ([`Replica::apply`]). [`ReplicaReader`] is a
//! read-only connection for the app's queries; open as many as there are threads reading.

mod alert_queue;
mod alert_view;
mod alerts;
mod apply;
mod audit_trail;
mod bootstrap;
mod documents;
mod enrolment;
mod outbox;
mod query;
mod reconcile;
mod schema;
mod sign_ins;
mod view;

use std::path::Path;
use std::time::Duration;

use rusqlite::types::Type;
use rusqlite::{Connection, OpenFlags, Row};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use yizhan_core::clock::Clock;
use yizhan_core::entity::EntityKind;
use yizhan_core::serde_date::DATE_FORMAT;

use crate::integrity::{ChainHash, HubKey};
use crate::protocol::SnapshotRow;

pub use alert_queue::{AlertTrend, AlertTrendDay, MAX_TREND_DAYS};
pub use alerts::CounterLink;
pub use audit_trail::CounterAudit;
pub use bootstrap::BootstrapReport;
pub use enrolment::{HubAddress, wipe};
pub use documents::{Issued, LOW_SERIALS, PendingFile, SerialsLeft, ToIssue};
pub use reconcile::RangeRepair;
pub use sign_ins::KeptSignIn;
pub use outbox::{HUB_ERROR, Issuer, OutboxEntry, OutboxState, Outgoing};
pub use query::{
    Approval, DetailProject, DocumentLine, Fee, FinalCheckLine, MAX_PAGE, NoteLine, PaymentLine, ProjectDetail, ProjectPage, ProjectQuery, ProjectRow,
    PermitLine, ProjectStage, StatusCounts, TrackedReason, TaxClearanceLine, TimelineEntry,
};

/// The sync client's side of the replica: the only connection that writes.
pub struct Replica {
    conn: Connection,
    clock: Clock,
}

/// A read-only connection for the app's queries.
pub struct ReplicaReader {
    conn: Connection,
    /// What "now" is for deadlines shown (an alert's time left).
    clock: Clock,
}

/// Where the replica stands with the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicaMeta {
    /// The last applied seq; `None` until a snapshot has been loaded.
    pub cursor: Option<u64>,
    pub snapshot_as_of: Option<u64>,
    /// The hub the rows came from; a client pointed at another hub starts over.
    pub hub_url: Option<String>,
    /// The Asia/Shanghai date the project views were computed for.
    #[serde(with = "opt_date")]
    pub view_date: Option<Date>,
    /// The hub's chain value at the cursor: the next batch must continue from it.
    pub chain: Option<ChainHash>,
    /// The key the hub's batches must be sealed with.
    pub hub_key: Option<HubKey>,
    /// Who this counter is to the hub: made when the file is first opened.
    pub device_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    #[error("本地副本数据库出错：{0}。请重启程序；如仍出现，请联系技术人员。")]
    Sqlite(#[from] rusqlite::Error),
    #[error("本地副本由更新版本的程序建立（数据库版本 {0}），请升级本程序。")]
    SchemaTooNew(String),
    #[error("本地副本尚未建立，请先启动同步。")]
    NotCreated,
    #[error("本地副本尚未从数据中心取得全量数据，请等待首次同步完成。")]
    NotBootstrapped,
    #[error(
        "同步批次顺序不符：本地已同步到第 {cursor} 号变更，批次却从第 {after} 号之后开始；本批未应用，将重新请求。"
    )]
    OutOfOrder { cursor: u64, after: u64 },
    #[error("同步批次内容有误：{0}；本批未应用，将重新请求。")]
    BadBatch(String),
    /// A batch or snapshot failed its integrity check: nothing of it was applied.
    #[error("数据完整性校验失败：{0}。本批未应用，将从数据中心重新核对。")]
    Integrity(String),
    #[error("数据中心发来的 {entity} 记录 {key} 无法解析：{source}。请联系技术人员。")]
    Payload {
        entity: &'static str,
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("全量数据第 {line} 行格式错误：{source}。将从中断处继续下载。")]
    Snapshot {
        line: u64,
        #[source]
        source: serde_json::Error,
    },
    #[error("全量数据传输中断：应有 {expected} 行，已收到 {received} 行。将从中断处继续下载。")]
    SnapshotIncomplete { expected: u64, received: u64 },
    /// What arrived cannot continue the load under way; what was staged is dropped.
    #[error("全量数据无法续传：{0}。将重新下载。")]
    SnapshotMismatch(String),
    /// The command breaks a rule; nothing was queued. The reason is for the clerk.
    #[error("{}", .0.reason)]
    Refused(yizhan_core::command::Rejection),
    #[error("待处理冲突中没有指令 {0}（可能已被处理），请刷新列表。")]
    NoSuchConflict(yizhan_core::id::CommandId),
    #[error("本地副本记录的本机终端编号{0}。请联系技术人员。")]
    DeviceId(#[from] yizhan_core::id::IdError),
    #[error("本机保存的登录记录无法读取：{0}。请联网登录一次，以重新保存。")]
    KeptSignIn(String),
    #[error("本机审计记录有误：{0}。请联系技术人员。")]
    AuditTrail(String),
    #[error("本机的终端登记信息无法读取：{0}。请联系系统管理员重新登记本终端。")]
    Enrolment(String),
    #[error("读取全量数据失败：{0}。将从中断处继续下载。")]
    Io(#[from] std::io::Error),
    #[error("本地副本文件无法设为仅本机账户可读写：{0}。请检查数据目录的权限。")]
    Private(#[source] std::io::Error),
}

impl From<crate::migrate::MigrateError> for ReplicaError {
    fn from(e: crate::migrate::MigrateError) -> ReplicaError {
        match e {
            crate::migrate::MigrateError::Sqlite(e) => ReplicaError::Sqlite(e),
            crate::migrate::MigrateError::SchemaTooNew(version) => ReplicaError::SchemaTooNew(version),
        }
    }
}

impl ReplicaError {
    /// What the hub sent does not continue the replica whole and unaltered: a missing,
    /// repeated, reordered or altered batch, or a bad seal.
    pub fn is_integrity(&self) -> bool {
        matches!(
            self,
            ReplicaError::Integrity(_) | ReplicaError::OutOfOrder { .. } | ReplicaError::BadBatch(_)
        )
    }
}

impl From<yizhan_core::records::RecordError> for ReplicaError {
    fn from(e: yizhan_core::records::RecordError) -> ReplicaError {
        ReplicaError::Payload {
            entity: e.entity,
            key: e.key,
            source: e.source,
        }
    }
}

impl Replica {
    /// Opens (creating when missing) and migrates the replica file. A migration that changed
    /// the project views leaves them to be rebuilt here, which takes seconds on a big replica.
    pub fn open(path: impl AsRef<Path>) -> Result<Replica, ReplicaError> {
        Replica::open_with_clock(path, Clock::system())
    }

    /// [`Replica::open`] with the clock that says what today is and stamps commands.
    pub fn open_with_clock(path: impl AsRef<Path>, clock: Clock) -> Result<Replica, ReplicaError> {
        crate::sql::keep_private(path.as_ref()).map_err(ReplicaError::Private)?;
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        schema::migrate(&mut conn)?;
        reconcile::digest_undigested(&mut conn)?;
        outbox::device_id(&conn)?;
        let mut replica = Replica { conn, clock };
        let meta = replica.meta()?;
        if meta.cursor.is_some() && meta.view_date.is_none() {
            replica.roll_day(replica.clock.today())?;
        }
        Ok(replica)
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn meta(&self) -> Result<ReplicaMeta, ReplicaError> {
        read_meta(&self.conn)
    }

    /// Recomputes every project view when `today` (Asia/Shanghai) is not the date they were
    /// computed for, since "overdue" moves with the date. Returns whether it did.
    pub fn roll_day(&mut self, today: Date) -> Result<bool, ReplicaError> {
        let meta = self.meta()?;
        if meta.cursor.is_none() || meta.view_date == Some(today) {
            return Ok(false);
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        view::rebuild_all(&tx, &alerts::Evaluation::new(&tx, today, self.clock.now())?)?;
        tx.commit()?;
        Ok(true)
    }

    /// Evaluates the deadline rules over every project now (what the day's turn and new
    /// rules from the hub do); returns how many of this counter's alerts changed.
    pub fn evaluate_alerts(&mut self) -> Result<u64, ReplicaError> {
        let today = self.meta()?.view_date.unwrap_or_else(|| self.clock.today());
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let changed = alerts::evaluate_all(&tx, &alerts::Evaluation::new(&tx, today, self.clock.now())?)?;
        tx.commit()?;
        Ok(changed)
    }

    /// Evaluates the deadline rules on one project from its view, as every applied change
    /// to it does.
    pub fn evaluate_project_alerts(&mut self, project_code: &str) -> Result<(), ReplicaError> {
        let today = self.meta()?.view_date.unwrap_or_else(|| self.clock.today());
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let eval = alerts::Evaluation::new(&tx, today, self.clock.now())?;
        let dues = alerts::view_dues(&tx, project_code)?;
        alerts::evaluate_project(&tx, &eval, project_code, &dues)?;
        tx.commit()?;
        Ok(())
    }

    /// The counter's own alert rules on how it stands with the hub (`link`), and every
    /// deadline of the alerts it raised itself: run on the sync client's every step, so
    /// they fire while the hub is out of reach. Returns the projects whose alerts changed
    /// ("" for the counter's own).
    pub fn tick_alerts(&mut self, link: CounterLink) -> Result<Vec<String>, ReplicaError> {
        let meta = self.meta()?;
        if meta.cursor.is_none() {
            return Ok(Vec::new());
        }
        let device = outbox::device_id(&self.conn)?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let eval = alerts::Evaluation::new(&tx, meta.view_date.unwrap_or_else(|| self.clock.today()), self.clock.now())?;
        let signal = link.signal(device.as_str(), alerts::serials_signal(&tx)?);
        let changed = alerts::evaluate_counter(&tx, &eval, device.as_str(), &signal)?;
        tx.commit()?;
        Ok(changed)
    }
}

impl ReplicaReader {
    /// Opens a read-only connection to a replica the writer has already created.
    pub fn open(path: impl AsRef<Path>) -> Result<ReplicaReader, ReplicaError> {
        ReplicaReader::open_with_clock(path, Clock::system())
    }

    /// [`ReplicaReader::open`] judging deadlines by `clock`.
    pub fn open_with_clock(path: impl AsRef<Path>, clock: Clock) -> Result<ReplicaReader, ReplicaError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::CannotOpen) => ReplicaError::NotCreated,
            _ => ReplicaError::from(e),
        })?;
        configure(&conn)?;
        // Read-write flags with query_only rather than a read-only open: a read-only
        // connection cannot create the WAL index when it is the first one after a crash.
        conn.pragma_update(None, "query_only", true)?;
        let applied = schema::applied_versions(&conn).map_err(|_| ReplicaError::NotCreated)?;
        if applied.len() < schema::MIGRATIONS.len() {
            return Err(ReplicaError::NotCreated);
        }
        Ok(ReplicaReader { conn, clock })
    }

    pub fn meta(&self) -> Result<ReplicaMeta, ReplicaError> {
        read_meta(&self.conn)
    }

    /// Every replicated row in (entity, key) order, as the hub's snapshot would carry it:
    /// for diagnostics and for checking a replica against its hub.
    pub fn for_each_row(&self, mut f: impl FnMut(SnapshotRow)) -> Result<(), ReplicaError> {
        let mut stmt = self.conn.prepare(
            "SELECT entity, key, project_code, version, seq, committed_at, payload FROM rows ORDER BY entity, key",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let entity = entity_at(row, 0)?;
            let key: String = row.get(1)?;
            let payload = serde_json::from_str(text(row, 6)?).map_err(|source| ReplicaError::Payload {
                entity: entity.as_str(),
                key: key.clone(),
                source,
            })?;
            f(SnapshotRow {
                entity,
                key,
                project_code: row.get(2)?,
                version: row.get(3)?,
                seq: row.get(4)?,
                committed_at: get_time(row, 5)?,
                payload,
            });
        }
        Ok(())
    }
}

fn configure(conn: &Connection) -> Result<(), ReplicaError> {
    // The writer holds its lock for a whole batch or snapshot; readers only need it to
    // checkpoint, so they wait rather than fail.
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

fn read_meta(conn: &Connection) -> Result<ReplicaMeta, ReplicaError> {
    let meta = conn.query_row(
        "SELECT cursor, snapshot_as_of, hub_url, view_date, chain, hub_key, device_id FROM meta",
        [],
        |row| {
            let unreadable = |idx: usize, what: &str| {
                rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, format!("meta.{what} unreadable").into())
            };
            Ok(ReplicaMeta {
                cursor: row.get(0)?,
                snapshot_as_of: row.get(1)?,
                hub_url: row.get(2)?,
                view_date: row
                    .get::<_, Option<String>>(3)?
                    .map(|d| parse_date(&d, 3))
                    .transpose()?,
                chain: row
                    .get::<_, Option<String>>(4)?
                    .map(|c| ChainHash::from_hex(&c).ok_or_else(|| unreadable(4, "chain")))
                    .transpose()?,
                hub_key: row
                    .get::<_, Option<String>>(5)?
                    .map(|k| HubKey::from_hex(&k).map_err(|_| unreadable(5, "hub_key")))
                    .transpose()?,
                device_id: row.get(6)?,
            })
        },
    )?;
    Ok(meta)
}

pub(crate) fn format_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .expect("an OffsetDateTime within years 0..=9999 formats as RFC 3339")
}

pub(crate) fn format_date(d: Date) -> String {
    d.format(DATE_FORMAT).expect("a Date formats as YYYY-MM-DD")
}

pub(crate) fn get_time(row: &Row<'_>, idx: usize) -> rusqlite::Result<OffsetDateTime> {
    let text: String = row.get(idx)?;
    OffsetDateTime::parse(&text, &Rfc3339)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

fn parse_date(text: &str, idx: usize) -> rusqlite::Result<Date> {
    Date::parse(text, DATE_FORMAT).map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

pub(crate) fn text<'r>(row: &'r Row<'_>, idx: usize) -> rusqlite::Result<&'r str> {
    Ok(row.get_ref(idx)?.as_str()?)
}

pub(crate) fn bytes<'r>(row: &'r Row<'_>, idx: usize) -> rusqlite::Result<&'r [u8]> {
    Ok(row.get_ref(idx)?.as_bytes()?)
}

pub(crate) fn entity_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<EntityKind> {
    let name = text(row, idx)?;
    EntityKind::parse(name).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, format!("unknown entity {name:?}").into())
    })
}

/// `Option<Date>` as `YYYY-MM-DD` or null, like `yizhan_core::serde_date` for `Date`.
pub(crate) mod opt_date {
    use serde::Serializer;
    use time::Date;

    pub fn serialize<S: Serializer>(date: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(date) => yizhan_core::serde_date::serialize(date, s),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests;
