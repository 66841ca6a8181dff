//! One session with the planning database: resume from the hub's position, or take the
//! initial snapshot, then follow the stream until it fails or the hub stops.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::FutureExt;
use pg_walstream::{ColumnValue, EventType, PgOutputDecoder, RowData};
use pgwire_replication::{Lsn, ReplicationClient, ReplicationEvent};
use time::OffsetDateTime;
use tokio::time::Instant;
use tokio_postgres::{Client, IsolationLevel, SimpleQueryMessage, SimpleQueryRow};
use tokio_util::sync::CancellationToken;
use yizhan_core::entity::EntityKind;
use yizhan_sync::protocol::{FieldError, KeyRange, PlanningRecord};

use super::record::{self, SourceRow, Value};
use super::source::{self, SourceError, Table};
use super::{CONNECTOR, CdcConfig, CdcError, connector};
use crate::connectors::{ConnectorKind, SourceChange};
use crate::hub::Hub;
use crate::ingest::IngestRecord;
use crate::store::{Delivery, StateRow};

/// The hub's position while a snapshot is being delivered: not an LSN, so a restart sees
/// that the snapshot is unfinished and redoes it.
const SNAPSHOT_UNDER_WAY: &str = "snapshot";
/// Where a snapshot row came from, for the quarantine. Not tied to the slot, so a row
/// that is bad in two snapshots is listed once.
const SNAPSHOT_LOCATION: &str = "初始快照";
const RESNAPSHOT_LOCATION: &str = "重新快照：规划库中已无此审批";
/// Rows per snapshot delivery: progress is committed every so often, and one delivery's
/// write transaction stays short.
const SNAPSHOT_CHUNK: usize = 5_000;
/// Transactions already waiting are delivered together up to this many changes.
const GROUP_UP_TO: usize = 5_000;
/// A transaction larger than this is delivered in parts (the last carries its position);
/// a restart redelivers it whole, which the parts already written take as unchanged.
const MAX_DELIVERY: usize = 50_000;
/// How often an idle stream stores and confirms the server's position.
const KEEPALIVE_CONFIRM: Duration = Duration::from_secs(1);
/// Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// Runs one session: until `shutdown` (Ok) or a failure (Err).
pub(super) async fn session(
    hub: &Hub,
    config: &CdcConfig,
    shutdown: &CancellationToken,
) -> Result<(), CdcError> {
    let started = async {
        let mut sql = config.source.connect().await?;
        let table = source::check(&sql, &config.publication).await?;
        let client = open(hub, config, &mut sql, &table).await?;
        Ok::<_, CdcError>((sql, table, client))
    };
    // Stopping before the stream runs loses nothing: whatever was delivered is in the
    // hub with its position, a snapshot left unfinished is redone, and nothing was confirmed.
    let (sql, table, client) = tokio::select! {
        started = started => started?,
        _ = shutdown.cancelled() => return Ok(()),
    };
    Stream {
        hub,
        config,
        sql,
        table,
        client,
        decoder: PgOutputDecoder::with_protocol_version(1),
        batch: Batch::default(),
        in_transaction: false,
        acked: Lsn(0),
        confirmed_at: Instant::now(),
        keepalive: None,
        lookahead: None,
    }
    .run(shutdown)
    .await
}

/// The replication stream, resumed where the hub stands, or from a new slot whose
/// snapshot has been delivered.
async fn open(
    hub: &Hub,
    config: &CdcConfig,
    sql: &mut Client,
    table: &Table,
) -> Result<ReplicationClient, CdcError> {
    let position = hub.store().connector_position(CONNECTOR).await?;
    let resume_from = position.as_deref().and_then(|p| Lsn::parse(p).ok());
    let slot = source::slot(sql, &config.slot, &config.source.dbname).await?;
    // Whatever the hub confirmed it had stored first; a slot confirmed past the hub's
    // position means the hub's database lost committed work (restored from a backup, or
    // its last commits lost with the power).
    let hub_behind = match (resume_from, &slot) {
        (Some(lsn), Some(slot)) => slot.confirmed.is_some_and(|confirmed| confirmed > lsn),
        _ => false,
    };
    match (resume_from, &slot) {
        (Some(lsn), Some(slot)) if !slot.lost && !hub_behind => {
            source::wait_released(sql, &config.slot, &config.source.dbname).await?;
            // The server starts at the later of `lsn` and the slot's confirmed position,
            // and skips each transaction that committed before it.
            let mut client = ReplicationClient::connect(config.source.replication(
                &config.slot,
                &config.publication,
                lsn,
            ))
            .await?;
            client.wait_started().await?;
            tracing::info!(position = %lsn, "规划库复制流已从数据中心的位置恢复");
            Ok(client)
        }
        _ => {
            if let Some(slot) = &slot {
                if slot.active_pid.is_some() {
                    source::wait_released(sql, &config.slot, &config.source.dbname).await?;
                }
                source::drop_slot(sql, &config.slot).await?;
            }
            if let Some(lsn) = resume_from {
                let why = if hub_behind {
                    format!(
                        "数据中心的位置 {lsn} 落后于它已向复制槽 {} 确认的位置（数据中心的数据库被恢复到了较早的备份，或断电丢失了最后的提交）",
                        config.slot
                    )
                } else {
                    format!(
                        "复制槽 {} 已不存在或已失效（被删除，或积压超过 max_slot_wal_keep_size）",
                        config.slot
                    )
                };
                let message = format!(
                    "{why}：已重建复制槽并重新读取全量快照；规划库在此期间删除的审批将按快照撤回，请运行核对确认数据一致"
                );
                tracing::error!(%message);
                hub.store()
                    .connector_failed(CONNECTOR, ConnectorKind::PostgresCdc, &message)
                    .await?;
            }
            // A position of any kind means the hub already mirrors this table.
            snapshot(hub, config, sql, table, position.is_some()).await
        }
    }
}

/// Creates the slot, delivers the table as of the slot's consistent point, and starts
/// the stream there. With `redo`, approvals the hub holds that the snapshot lacks were
/// deleted while the hub was not following, and are withdrawn.
async fn snapshot(
    hub: &Hub,
    config: &CdcConfig,
    sql: &mut Client,
    table: &Table,
    redo: bool,
) -> Result<ReplicationClient, CdcError> {
    let connector = connector();
    let mut client = ReplicationClient::connect_gated(config.source.replication(
        &config.slot,
        &config.publication,
        Lsn(0),
    ))
    .await?;
    let answer = client
        .simple_query(&format!(
            "CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT 'export')",
            config.slot
        ))
        .await?;
    let (consistent_point, snapshot_name) = source::created_slot(&answer)?;
    save_position(hub, SNAPSHOT_UNDER_WAY.into()).await?;
    tracing::info!(%consistent_point, "复制槽已建立，开始读取初始快照");

    // The exported snapshot lives until the replication session's next command, so it is
    // imported (the first statement of a REPEATABLE READ transaction) before the start.
    let read = sql
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(SourceError::from)?;
    let mut seen = HashSet::new();
    let mut rows = 0;
    let setup = format!(
        "SET TRANSACTION SNAPSHOT '{snapshot_name}';
         DECLARE yizhan_snapshot NO SCROLL CURSOR FOR SELECT * FROM {}",
        table.quoted
    );
    read.batch_execute(&setup)
        .await
        .map_err(SourceError::from)?;
    let fetch = format!("FETCH FORWARD {SNAPSHOT_CHUNK} FROM yizhan_snapshot");
    loop {
        // The simple-query protocol gives each value as the type's text output: the same
        // rendering pgoutput streams.
        let messages = read.simple_query(&fetch).await.map_err(SourceError::from)?;
        let mut changes = Vec::with_capacity(SNAPSHOT_CHUNK);
        for message in &messages {
            if let SimpleQueryMessage::Row(row) = message {
                let row = snapshot_row(row);
                if redo && let Some(permit_no) = row.permit_no() {
                    seen.insert(permit_no);
                }
                changes.push(record::upsert(SNAPSHOT_LOCATION.into(), &row));
            }
        }
        if changes.is_empty() {
            break;
        }
        rows += changes.len();
        hub.deliver(&connector, changes, None, None).await?;
    }
    read.commit().await.map_err(SourceError::from)?;
    let withdrawn = if redo {
        withdraw_missing(hub, &seen).await?
    } else {
        0
    };
    save_position(hub, consistent_point.to_string()).await?;
    client.start().await?;
    client.wait_started().await?;
    tracing::info!(rows, withdrawn, %consistent_point, "初始快照已送达，开始跟踪变更");
    Ok(client)
}

/// Moves the connector's position without delivering anything.
async fn save_position(hub: &Hub, position: String) -> Result<(), CdcError> {
    hub.store()
        .deliver(Delivery {
            connector: CONNECTOR.into(),
            kind: ConnectorKind::PostgresCdc,
            origin: format!("cdc:{}", PlanningRecord::SOURCE),
            rows: Vec::new(),
            removals: Vec::new(),
            quarantine: Vec::new(),
            received: 0,
            applied: 0,
            position: Some(position),
            newest_source_at: None,
        })
        .await?;
    Ok(())
}

/// Withdraws the approvals the hub holds whose permit numbers are not in `seen`.
async fn withdraw_missing(hub: &Hub, seen: &HashSet<String>) -> Result<usize, CdcError> {
    let missing: Vec<_> = held_approvals(hub)
        .await?
        .into_iter()
        .filter(|row| !seen.contains(&row.key))
        .map(|row| SourceChange::<PlanningRecord>::Withdraw {
            location: RESNAPSHOT_LOCATION.into(),
            source_id: row.key,
            project_code: row.project_code,
        })
        .collect();
    let count = missing.len();
    let mut missing = missing.into_iter().peekable();
    while missing.peek().is_some() {
        hub.deliver(
            &connector(),
            missing.by_ref().take(SNAPSHOT_CHUNK).collect(),
            None,
            None,
        )
        .await?;
    }
    Ok(count)
}

/// Every planning approval the hub holds, read in pages of its key order.
pub(super) async fn held_approvals(hub: &Hub) -> Result<Vec<StateRow>, CdcError> {
    let mut held = Vec::new();
    let mut after = None;
    loop {
        let range = KeyRange { entity: EntityKind::PlanningApproval, after, upto: None };
        let page = hub.store().range_rows(range, SNAPSHOT_CHUNK).await?;
        let Some(last) = page.last() else { return Ok(held) };
        after = Some(last.key.clone());
        held.extend(page);
    }
}

pub(super) fn snapshot_row(row: &SimpleQueryRow) -> SourceRow<'_> {
    let mut source = SourceRow::default();
    for (i, column) in row.columns().iter().enumerate() {
        source.push(column.name(), row.get(i).map_or(Value::Null, Value::Text));
    }
    source
}

fn stream_row(data: &RowData) -> SourceRow<'_> {
    let mut row = SourceRow::default();
    for (name, value) in data.iter() {
        let value = match value {
            ColumnValue::Null => Value::Null,
            ColumnValue::Text(bytes) => {
                std::str::from_utf8(bytes).map_or(Value::Unreadable(bytes), Value::Text)
            }
            ColumnValue::Binary(bytes) => Value::Unreadable(bytes),
        };
        row.push(name, value);
    }
    row
}

fn source_time(micros_since_2000: i64) -> Option<OffsetDateTime> {
    let micros = micros_since_2000.checked_add(PG_EPOCH_MICROS)?;
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).ok()
}

/// Changes received and not yet delivered.
#[derive(Default)]
struct Batch {
    changes: Vec<SourceChange<PlanningRecord>>,
    /// Permits withdrawn in this batch. A delivery writes its upserts before its removals,
    /// so an approval deleted and then inserted again must be delivered in two.
    withdrawn: HashSet<String>,
    /// The newest commit (end LSN, time) all of whose changes are in `changes`.
    committed: Option<(Lsn, Option<OffsetDateTime>)>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.committed.is_none()
    }
}

struct Stream<'a> {
    hub: &'a Hub,
    config: &'a CdcConfig,
    sql: Client,
    table: Table,
    client: ReplicationClient,
    /// Fresh per session: the server sends each table's Relation message again.
    decoder: PgOutputDecoder,
    batch: Batch,
    in_transaction: bool,
    acked: Lsn,
    /// When an idle stream last stored and confirmed the server's position.
    confirmed_at: Instant,
    /// A keepalive position waiting for its turn to be confirmed.
    keepalive: Option<Lsn>,
    /// An event already taken from the stream while deciding whether to deliver.
    lookahead: Option<pgwire_replication::Result<Option<ReplicationEvent>>>,
}

impl Stream<'_> {
    async fn run(mut self, shutdown: &CancellationToken) -> Result<(), CdcError> {
        let mut next_heartbeat = Instant::now();
        loop {
            // Checked on every event, not only when the stream is quiet: under sustained
            // load the lookahead alone keeps the loop busy.
            if shutdown.is_cancelled() {
                // Undelivered changes are not confirmed: the server sends them again.
                let _ = tokio::time::timeout(Duration::from_secs(2), self.client.shutdown()).await;
                return Ok(());
            }
            if Instant::now() >= next_heartbeat {
                self.heartbeat().await?;
                next_heartbeat = Instant::now() + self.config.heartbeat;
            }
            let event = match self.lookahead.take() {
                Some(event) => event,
                None => {
                    let confirm_at = self.confirmed_at + KEEPALIVE_CONFIRM;
                    tokio::select! {
                        biased;
                        _ = shutdown.cancelled() => continue,
                        _ = tokio::time::sleep_until(next_heartbeat) => continue,
                        _ = tokio::time::sleep_until(confirm_at), if self.keepalive.is_some() => {
                            self.confirm_keepalive().await?;
                            continue;
                        }
                        // An mpsc receive: dropping it when another branch wins loses nothing.
                        event = self.client.recv() => event,
                    }
                }
            };
            let Some(event) = event? else {
                return Err(CdcError::StreamEnded);
            };
            self.handle(event).await?;
            if !self.in_transaction && self.batch.committed.is_some() {
                let full = self.batch.changes.len() >= GROUP_UP_TO;
                if !full && self.lookahead.is_none() {
                    self.lookahead = self.client.recv().now_or_never();
                }
                // Deliver as soon as the stream has nothing more waiting: grouping only
                // what has already arrived adds no latency.
                if full || self.lookahead.is_none() {
                    self.flush().await?;
                }
            }
        }
    }

    async fn handle(&mut self, event: ReplicationEvent) -> Result<(), CdcError> {
        match event {
            ReplicationEvent::Begin { .. } => self.in_transaction = true,
            ReplicationEvent::XLogData {
                wal_start, data, ..
            } => {
                let Some(change) = self
                    .decoder
                    .decode_message(data, pg_walstream::Lsn::new(wal_start.0))?
                else {
                    return Ok(());
                };
                self.change(format!("LSN {wal_start}"), change.event_type)
                    .await?;
            }
            ReplicationEvent::Commit {
                end_lsn,
                commit_time_micros,
                ..
            } => {
                self.in_transaction = false;
                self.batch.committed = Some((end_lsn, source_time(commit_time_micros)));
            }
            // Between transactions everything before the server's position has been
            // received and delivered, so the position can be stored and confirmed:
            // otherwise WAL written for other tables piles up behind an idle approvals
            // table. At most every KEEPALIVE_CONFIRM, as a busy server sends many.
            ReplicationEvent::KeepAlive { wal_end, .. } => {
                if !self.in_transaction && self.batch.is_empty() && wal_end > self.acked {
                    self.keepalive = Some(wal_end);
                    if self.confirmed_at.elapsed() >= KEEPALIVE_CONFIRM {
                        self.confirm_keepalive().await?;
                    }
                }
            }
            ReplicationEvent::Message { .. } | ReplicationEvent::StoppedAt { .. } => {}
        }
        Ok(())
    }

    async fn change(&mut self, location: String, event: EventType) -> Result<(), CdcError> {
        match event {
            EventType::Insert {
                schema,
                table,
                data,
                ..
            } if self.table.is(&schema, &table) => {
                self.push(record::upsert(location, &stream_row(&data)))
                    .await
            }
            EventType::Update {
                schema,
                table,
                old_data,
                new_data,
                ..
            } if self.table.is(&schema, &table) => {
                let mut new = stream_row(&new_data);
                if let Some(old) = old_data.as_ref().map(stream_row) {
                    new.fill_from(&old);
                    // A changed permit number is another approval: the old one goes.
                    if old.permit_no() != new.permit_no() {
                        self.push(record::withdraw(location.clone(), &old)).await?;
                    }
                }
                self.push(record::upsert(location, &new)).await
            }
            EventType::Delete {
                schema,
                table,
                old_data,
                ..
            } if self.table.is(&schema, &table) => {
                self.push(record::withdraw(location, &stream_row(&old_data)))
                    .await
            }
            EventType::Truncate { tables, .. } if tables.iter().any(|t| self.table.is_named(t)) => {
                self.truncated(location).await
            }
            // Other tables of the publication, Relation and Type messages.
            _ => Ok(()),
        }
    }

    async fn push(&mut self, change: SourceChange<PlanningRecord>) -> Result<(), CdcError> {
        let reinserted = matches!(&change, SourceChange::Upsert { record: Ok(r), .. }
            if self.batch.withdrawn.contains(&r.planning_permit_no));
        if reinserted || self.batch.changes.len() >= MAX_DELIVERY {
            self.flush().await?;
        }
        if let SourceChange::Withdraw { source_id, .. } = &change {
            self.batch.withdrawn.insert(source_id.clone());
        }
        self.batch.changes.push(change);
        Ok(())
    }

    /// Delivers what the batch holds with the newest commit whose changes are all in it,
    /// then confirms that commit to the server.
    async fn flush(&mut self) -> Result<(), CdcError> {
        let changes = std::mem::take(&mut self.batch.changes);
        self.batch.withdrawn.clear();
        let committed = self.batch.committed.take();
        if !changes.is_empty() {
            let position = committed.map(|(lsn, _)| lsn.to_string());
            let newest = committed.and_then(|(_, at)| at);
            self.hub
                .deliver(&connector(), changes, position, newest)
                .await?;
        } else if let Some((lsn, _)) = committed {
            // Commits without changes for us (other tables' transactions, sent by servers
            // before PostgreSQL 15): only the position moves.
            save_position(self.hub, lsn.to_string()).await?;
        }
        if let Some((lsn, _)) = committed {
            self.ack(lsn);
        }
        Ok(())
    }

    /// Stores and confirms the newest keepalive position, while that is still safe.
    async fn confirm_keepalive(&mut self) -> Result<(), CdcError> {
        let Some(lsn) = self.keepalive.take() else {
            return Ok(());
        };
        if !self.in_transaction && self.batch.is_empty() && lsn > self.acked {
            save_position(self.hub, lsn.to_string()).await?;
            self.ack(lsn);
            self.confirmed_at = Instant::now();
        }
        Ok(())
    }

    /// Only ever given a position the hub has stored: the slot never runs ahead of the
    /// hub, which is how `open` tells a hub that lost committed work.
    fn ack(&mut self, lsn: Lsn) {
        self.client.update_applied_lsn(lsn);
        self.acked = self.acked.max(lsn);
    }

    async fn truncated(&mut self, location: String) -> Result<(), CdcError> {
        let problem = "规划库清空了审批表（TRUNCATE）：数据中心没有据此撤回任何审批。请与规划部门核实原因，运行核对找出差异，处理后再关闭本条";
        let message = format!("{location}：{problem}");
        tracing::error!(%message);
        self.hub
            .store()
            .connector_failed(CONNECTOR, ConnectorKind::PostgresCdc, &message)
            .await?;
        let error = FieldError {
            record: 0,
            source_id: None,
            field: "整表".into(),
            problem: problem.into(),
        };
        let raw = format!("TRUNCATE {}", self.table.quoted);
        self.push(SourceChange::Upsert {
            location,
            raw,
            record: Err(vec![error]),
        })
        .await
    }

    /// Records that the connector is alive and how much WAL its slot holds back; past
    /// the limit, records that as a failure too, which raises the red alert.
    async fn heartbeat(&mut self) -> Result<(), CdcError> {
        let lag = source::slot_lag(&self.sql, &self.config.slot).await?;
        let kind = ConnectorKind::PostgresCdc;
        self.hub
            .store()
            .connector_heartbeat(CONNECTOR, kind, lag)
            .await?;
        if let Some(lag) = lag.filter(|lag| *lag > self.config.lag_alarm_bytes) {
            let mib = |bytes: i64| bytes / (1024 * 1024);
            let message = format!(
                "复制槽 {} 有 {} MiB 的变更未被确认，超过告警上限 {} MiB：数据中心跟不上规划库，或确认被阻塞。\
                 规划库为此保留的 WAL 会持续占用磁盘，请立即检查数据中心的日志",
                self.config.slot,
                mib(lag),
                mib(self.config.lag_alarm_bytes)
            );
            tracing::error!(%message);
            self.hub
                .store()
                .connector_failed(CONNECTOR, kind, &message)
                .await?;
        }
        Ok(())
    }
}
