//! The planning department's database, captured from its write-ahead log: PostgreSQL
//! logical replication (pgoutput) of the `planning_approval` table (schema.sql) into the
//! hub, as connector `planning-cdc`.
//!
//! - **First start.** The hub creates its replication slot with an exported snapshot,
//!   reads the table inside that snapshot and delivers it in chunks, then streams from the
//!   slot's consistent point: no change is missed between the copy and the stream, and
//!   none is seen twice.
//! - **Stream.** Inserts and updates become upserts, deletes withdraw the approval. Each
//!   source transaction is delivered whole (a few that are already waiting go together),
//!   with its commit LSN as the connector's position, in the hub's one delivery
//!   transaction; PostgreSQL is told the LSN only after that transaction committed. A row
//!   that cannot be mapped is quarantined with its LSN and never holds up the rows after it.
//! - **Restart.** The stream resumes from the hub's stored position. What PostgreSQL sends
//!   again (delivered but not yet confirmed when the hub stopped) changes nothing, because
//!   a delivery of unchanged records appends nothing.
//! - **Interrupted snapshot.** An exported snapshot dies with its session, so a snapshot
//!   the hub did not finish is redone from a new slot. The same happens, with a red alert
//!   input, when the slot has gone (dropped, or invalidated by `max_slot_wal_keep_size`).
//!   Because the hub was already mirroring this table, approvals it holds that the new
//!   snapshot lacks were deleted meanwhile, and are withdrawn.
//! - **TRUNCATE** of the approvals table is not applied: approvals are revoked one by one,
//!   and withdrawing all of them at once (fees assessed on them, some paid) is never what
//!   a clean-up at the department means. It is quarantined as one entry and reported as a
//!   failure, for the operators to reconcile with [`verify`].
//! - **Idle source.** Between transactions the server's keepalive position is stored and
//!   confirmed, so WAL written for other tables is not held back by an idle approvals
//!   table. A heartbeat records the slot's unconfirmed WAL; past the alarm limit it is
//!   reported as a failure, the input of the red "connector down" alert.
//! - **Hub behind its slot.** Every position is stored before it is confirmed, so a slot
//!   confirmed past the hub's position means the hub's database lost committed work (an
//!   older backup restored): the snapshot is redone as for a lost slot.

pub(crate) mod record;

pub(crate) use record::record_from_raw;
mod source;
mod stream;
mod verify;

use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio_util::sync::CancellationToken;

pub use source::SourceError;
pub use verify::{Verification, verify};

use super::{Connector, ConnectorKind};
use crate::error::HubError;
use crate::hub::Hub;
use crate::store::StoreError;

pub const CONNECTOR: &str = "planning-cdc";
pub const DEFAULT_SLOT: &str = "yizhan_planning";
pub const DEFAULT_PUBLICATION: &str = "yizhan_planning";
/// WAL the slot may hold unconfirmed before the connector reports it. A reading hub
/// confirms within seconds (keepalives included, whatever the other tables write), so
/// this much means it has stopped reading or cannot write.
pub const DEFAULT_LAG_ALARM_BYTES: i64 = 512 * 1024 * 1024;
/// The DDL of the table the connector reads, for the department to apply.
pub const SCHEMA_SQL: &str = include_str!("schema.sql");

/// How often the slot's lag is recorded while streaming.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// A session that ran this long worked: the next failure starts the backoff afresh.
const STABLE: Duration = Duration::from_secs(60);
/// How often the source table is compared with the hub (two-way verification).
const VERIFY_EVERY: Duration = Duration::from_secs(3600);

/// Where the connector reads and when it raises the alarm.
#[derive(Debug, Clone)]
pub struct CdcConfig {
    source: source::Source,
    slot: String,
    publication: String,
    lag_alarm_bytes: i64,
    heartbeat: Duration,
}

impl CdcConfig {
    /// `conninfo` is a URL (`postgres://user:password@host:5432/planning`) or key=value
    /// pairs (`host=… port=… user=… password=… dbname=…`); the role needs the REPLICATION
    /// attribute and SELECT on the table.
    pub fn new(conninfo: &str, slot: &str, publication: &str) -> Result<CdcConfig, SourceError> {
        let valid_slot = !slot.is_empty()
            && slot.len() <= 63
            && slot
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid_slot {
            return Err(SourceError::Config(format!(
                "复制槽名 {slot:?} 不合法：只能用小写字母、数字和下划线，最长63个字符"
            )));
        }
        if publication.is_empty() || publication.contains([',', ' ']) {
            return Err(SourceError::Config(format!(
                "发布名 {publication:?} 不合法：不能为空，也不能含逗号或空格"
            )));
        }
        Ok(CdcConfig {
            source: source::Source::parse(conninfo)?,
            slot: slot.to_owned(),
            publication: publication.to_owned(),
            lag_alarm_bytes: DEFAULT_LAG_ALARM_BYTES,
            heartbeat: HEARTBEAT,
        })
    }

    pub fn with_lag_alarm_bytes(mut self, bytes: i64) -> CdcConfig {
        self.lag_alarm_bytes = bytes;
        self
    }

    pub fn with_heartbeat(mut self, every: Duration) -> CdcConfig {
        self.heartbeat = every;
        self
    }

    /// What the audit trail keeps of this configuration: all of it but the password.
    pub fn on_record(&self) -> serde_json::Value {
        serde_json::json!({
            "source": self.source.to_string(),
            "slot": self.slot,
            "publication": self.publication,
            "lag_alarm_bytes": self.lag_alarm_bytes,
        })
    }
}

/// Why a session with the source ended. Each message says what happened and what to do.
#[derive(Debug, thiserror::Error)]
pub enum CdcError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("逻辑复制连接出错：{0}。将自动重连，并从数据中心已确认的位置继续")]
    Replication(pgwire_replication::PgWireError),
    #[error("规划库结束了复制流（数据库重启或连接被终止）。将自动重连")]
    StreamEnded,
    #[error(
        "无法解析规划库送来的变更（pgoutput）：{0}。该事务未确认，重连后会重新送达；若反复出现请联系技术人员"
    )]
    Decode(#[from] pg_walstream::ReplicationError),
    #[error("数据中心写入失败：{0}。该事务未向规划库确认，恢复后会重新送达")]
    Hub(#[from] HubError),
}

impl From<StoreError> for CdcError {
    fn from(error: StoreError) -> CdcError {
        CdcError::Hub(HubError::from(error))
    }
}

impl From<pgwire_replication::PgWireError> for CdcError {
    /// A login without the REPLICATION attribute is refused with insufficient_privilege:
    /// that wants the DBA, not a reconnect.
    fn from(error: pgwire_replication::PgWireError) -> CdcError {
        match &error {
            pgwire_replication::PgWireError::Server(message)
                if message.contains("SQLSTATE 42501") =>
            {
                CdcError::Source(SourceError::NoReplication(message.clone()))
            }
            _ => CdcError::Replication(error),
        }
    }
}

fn connector() -> Connector {
    Connector::new(CONNECTOR, ConnectorKind::PostgresCdc)
}

/// Captures the planning database until `shutdown`: each session runs until it fails,
/// the failure is recorded for the operators, and a new session starts after a backoff.
pub async fn run(hub: Hub, config: CdcConfig, shutdown: CancellationToken) {
    tracing::info!(source = %config.source, slot = %config.slot, publication = %config.publication, "规划库变更捕获已启动");
    let backoff = || {
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_secs(1))
            .with_max_delay(Duration::from_secs(60))
            .with_jitter()
            .without_max_times()
            .build()
    };
    let mut delays = backoff();
    let stop_verifying = shutdown.child_token();
    let verifying = tokio::spawn(verify::verify_every(hub.clone(), config.clone(), VERIFY_EVERY, stop_verifying.clone()));
    while !shutdown.is_cancelled() {
        let started = Instant::now();
        match stream::session(&hub, &config, &shutdown).await {
            Ok(()) => break,
            Err(error) => {
                let message = error.to_string();
                tracing::error!(error = %message, "规划库变更捕获中断");
                let kind = ConnectorKind::PostgresCdc;
                if let Err(e) = hub
                    .store()
                    .connector_failed(CONNECTOR, kind, &message)
                    .await
                {
                    tracing::error!(error = %e, "无法记录连接器故障");
                }
            }
        }
        if started.elapsed() >= STABLE {
            delays = backoff();
        }
        let delay = delays.next().unwrap_or(Duration::from_secs(60));
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.cancelled() => break,
        }
    }
    stop_verifying.cancel();
    let _ = verifying.await;
    tracing::info!("规划库变更捕获已停止");
}
