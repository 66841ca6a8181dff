//! The change-log policy, written once for every backend: which seq a change gets, when a
//! row's version goes up, that a byte-identical payload writes nothing, the row digest, the
//! chain link, running a clerk command once per id, what one connector delivery writes,
//! and where a number segment starts. A backend only reads and writes inside the
//! transaction it opened ([`LogTx`] and the traits beside it); it commits, and tells
//! long-polls, once a function here returns.

use sm3::{Digest, Sm3};
use time::OffsetDateTime;
use yizhan_core::alert::{Alert, AlertLevel};
use yizhan_core::document::{DocumentKind, Segment};
use yizhan_core::id::CommandId;
use yizhan_core::entity::EntityKind;
use yizhan_sync::integrity::{ChainHash, RowDigest};
use yizhan_core::command::Rejection;
use yizhan_sync::protocol::{CommandEnvelope, Op};

use super::{CommandRun, Decider, Outcome, Delivered, Delivery, LoggedChange, QuarantineItem, RowWrite, StateRow, StoreError, Updater, WriteOutcome};

/// A stored row as the policy reads it before writing over it.
pub(crate) struct CurrentRow {
    pub version: u64,
    pub payload: String,
}

/// One row made current, with everything the backend stores of it.
pub(crate) struct PutRow<'a> {
    pub row: &'a RowWrite,
    pub version: u64,
    pub seq: u64,
    pub committed_at: OffsetDateTime,
    pub digest: RowDigest,
    /// For an alert row, what the alert desk queries it by.
    pub alert: Option<AlertColumns>,
}

/// What the alert desk asks of an alert row, kept beside it so that no query reads it out
/// of the payload.
pub(crate) struct AlertColumns {
    pub active: bool,
    /// About something other than a project's fees: looked at on every tick.
    pub system: bool,
    /// When the clock alone next changes it ([`Alert::escalates_at`]).
    pub escalates_at: Option<OffsetDateTime>,
    pub level: AlertLevel,
    pub department: String,
}

impl AlertColumns {
    fn of(row: &RowWrite) -> Result<Option<AlertColumns>, StoreError> {
        if row.entity != EntityKind::Alert {
            return Ok(None);
        }
        let alert: Alert = serde_json::from_str(&row.payload)
            .map_err(|e| StoreError::Corrupt(format!("预警 {} 的内容无法读取：{e}", row.key)))?;
        Ok(Some(AlertColumns {
            active: alert.is_active(),
            system: !alert.subject.starts_with("project/"),
            escalates_at: alert.escalates_at(),
            level: alert.level,
            department: alert.department,
        }))
    }
}

/// Reads and writes of the state and the log inside one write transaction.
pub(crate) trait LogTx {
    /// The newest seq (0 for an empty log; the horizon when compacted to its last change).
    fn head(&mut self) -> Result<u64, StoreError>;
    /// The chain value after the change at `seq`, or the horizon's at the horizon;
    /// [`ChainHash::ZERO`] at 0.
    fn chain_at(&mut self, seq: u64) -> Result<ChainHash, StoreError>;
    fn current(&mut self, entity: EntityKind, key: &str) -> Result<Option<CurrentRow>, StoreError>;
    /// Inserts or replaces the current row under (entity, key).
    fn put(&mut self, row: &PutRow<'_>) -> Result<(), StoreError>;
    /// Removes the current row; what it was (version, project), `None` when there was none.
    fn remove(&mut self, entity: EntityKind, key: &str) -> Result<Option<(u64, String)>, StoreError>;
    /// Every current row of one project, ordered by entity and key (bytewise).
    fn project_rows(&mut self, project_code: &str) -> Result<Vec<StateRow>, StoreError>;
    fn append(&mut self, change: &LoggedChange) -> Result<(), StoreError>;
}

/// The end of the log as one transaction extends it: each change takes the next seq and
/// links to the chain value before it.
struct LogEnd<'o> {
    head: u64,
    chain: ChainHash,
    origin: &'o str,
    committed_at: OffsetDateTime,
}

impl<'o> LogEnd<'o> {
    /// Read inside the write transaction rather than kept in memory, so the log stays dense
    /// even if something else (a repair tool, a second hub) appended to it.
    fn open(tx: &mut impl LogTx, origin: &'o str) -> Result<LogEnd<'o>, StoreError> {
        let head = tx.head()?;
        Ok(LogEnd { head, chain: tx.chain_at(head)?, origin, committed_at: OffsetDateTime::now_utc() })
    }

    /// Logs one row's change under the next seq; returns the seq.
    fn append(
        &mut self,
        tx: &mut impl LogTx,
        (entity, key, project_code): (EntityKind, &str, &str),
        version: u64,
        payload: Option<&str>,
    ) -> Result<u64, StoreError> {
        let mut change = LoggedChange {
            seq: self.head + 1,
            entity,
            key: key.to_owned(),
            project_code: project_code.to_owned(),
            version,
            op: if payload.is_some() { Op::Upsert } else { Op::Delete },
            payload: payload.map(str::to_owned),
            origin: self.origin.to_owned(),
            committed_at: self.committed_at,
            chain: self.chain,
        };
        self.chain = self.chain.link(&change.frame());
        change.chain = self.chain;
        tx.append(&change)?;
        self.head = change.seq;
        Ok(change.seq)
    }
}

/// Upserts `rows` in order with their change-log entries; returns the head after them and,
/// for each row, the seq it was logged under, or `None` when its payload was byte-identical
/// to the stored row (nothing written, the version kept).
pub(crate) fn write_rows(tx: &mut impl LogTx, origin: &str, rows: &[RowWrite]) -> Result<WriteOutcome, StoreError> {
    let mut log = LogEnd::open(tx, origin)?;
    let mut seqs = Vec::with_capacity(rows.len());
    for row in rows {
        let current = tx.current(row.entity, &row.key)?;
        if current.as_ref().is_some_and(|c| c.payload == row.payload) {
            seqs.push(None);
            continue;
        }
        let version = current.map_or(1, |c| c.version + 1);
        let digest = RowDigest::of(row.entity.as_str(), &row.key, &row.project_code, version, &row.payload);
        let put = PutRow { row, version, seq: log.head + 1, committed_at: log.committed_at, digest, alert: AlertColumns::of(row)? };
        tx.put(&put)?;
        seqs.push(Some(log.append(tx, (row.entity, &row.key, &row.project_code), version, Some(&row.payload))?));
    }
    Ok(WriteOutcome { head: log.head, seqs })
}

/// Deletes each row held and logs the delete with the version it removes; returns the
/// head after them and each removal's seq, `None` when the row was not there.
pub(crate) fn remove_rows(tx: &mut impl LogTx, origin: &str, keys: &[(EntityKind, String)]) -> Result<(u64, Vec<Option<u64>>), StoreError> {
    let mut log = LogEnd::open(tx, origin)?;
    let mut seqs = Vec::with_capacity(keys.len());
    for (entity, key) in keys {
        let seq = match tx.remove(*entity, key)? {
            Some((version, project_code)) => Some(log.append(tx, (*entity, key, &project_code), version, None)?),
            None => None,
        };
        seqs.push(seq);
    }
    Ok((log.head, seqs))
}

/// Reads each project's rows and writes what `update` makes of them, in the caller's
/// transaction: the decision and its effect see the same rows.
pub(crate) fn update_projects(tx: &mut impl LogTx, origin: &str, project_codes: &[String], mut update: Updater) -> Result<WriteOutcome, StoreError> {
    let mut writes = Vec::new();
    for code in project_codes {
        let rows = tx.project_rows(code)?;
        writes.extend(update(code, &rows)?);
    }
    write_rows(tx, origin, &writes)
}

/// A clerk command as the store keeps it, to answer it again.
pub(crate) struct RecordedCommand {
    /// The envelope as first received (canonical JSON).
    pub body: String,
    pub outcome: Outcome,
}

/// The commands table, inside the write transaction.
pub(crate) trait CommandTx: LogTx {
    fn recorded_command(&mut self, command_id: &CommandId) -> Result<Option<RecordedCommand>, StoreError>;
    fn record_command(&mut self, envelope: &CommandEnvelope, body: &str, outcome: &Outcome) -> Result<(), StoreError>;
}

/// Runs a command once per id: a command already run gets its first outcome again, marked
/// `repeated`; another command under a used id is refused; otherwise it is decided on the
/// project's rows as they stand in this transaction and its effect written with its record.
/// Returns the head after it.
pub(crate) fn run_command(tx: &mut impl CommandTx, envelope: &CommandEnvelope, decide: Decider) -> Result<(u64, CommandRun), StoreError> {
    let body = serde_json::to_string(envelope).expect("a command envelope serialises to JSON: plain structs, string keys");
    let result = |outcome, repeated| CommandRun { outcome, repeated };
    if let Some(recorded) = tx.recorded_command(&envelope.command_id)? {
        let head = tx.head()?;
        if recorded.body != body {
            let reused = Rejection::new(
                "command_id_reused",
                format!("指令编号 {} 已用于另一条指令，本条未执行。请重新操作一次。", envelope.command_id),
            );
            return Ok((head, result(Err(reused), false)));
        }
        return Ok((head, result(recorded.outcome, true)));
    }
    let rows = tx.project_rows(envelope.action.project_key())?;
    let (head, outcome) = match decide(&rows)? {
        Ok(writes) => {
            let written = write_rows(tx, &format!("command:{}", envelope.device_id), &writes)?;
            let seq = written.seqs.into_iter().flatten().last();
            (written.head, Ok(seq))
        }
        Err(rejection) => (tx.head()?, Err(rejection)),
    };
    tx.record_command(envelope, &body, &outcome)?;
    Ok((head, result(outcome, false)))
}

/// The connectors' tables, inside the write transaction.
pub(crate) trait DeliveryTx: LogTx {
    /// Lists a bad record unless one with the same digest is listed; `true` when added.
    fn quarantine(&mut self, connector: &str, item: &QuarantineItem, digest: &str) -> Result<bool, StoreError>;
    /// Adds a delivery's tallies to its connector (registering it) and moves its position
    /// when `position` is given.
    fn tally(&mut self, delivery: &Delivery, quarantined: u64) -> Result<(), StoreError>;
}

/// A connector's delivery, whole: its rows, the rows its source withdrew, its bad records
/// (each listed once however often delivered) and its tallies and position.
pub(crate) fn deliver(tx: &mut impl DeliveryTx, delivery: &Delivery) -> Result<Delivered, StoreError> {
    let written = write_rows(tx, &delivery.origin, &delivery.rows)?;
    let (head, removed) = remove_rows(tx, &delivery.origin, &delivery.removals)?;
    let mut quarantined = 0;
    for item in &delivery.quarantine {
        quarantined += u64::from(tx.quarantine(&delivery.connector, item, &quarantine_digest(&delivery.connector, item))?);
    }
    tx.tally(delivery, quarantined)?;
    Ok(Delivered { written: WriteOutcome { head, seqs: written.seqs }, removed, quarantined })
}

/// Names a bad record by where it came from and what it held, so a re-delivery is the
/// same entry.
fn quarantine_digest(connector: &str, item: &QuarantineItem) -> String {
    let mut hasher = Sm3::new();
    for part in [connector, &item.source, &item.location, &item.record] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The number segments, inside the write transaction.
pub(crate) trait SegmentTx {
    /// The last serial of `kind` ever handed out.
    fn last_serial(&mut self, kind: DocumentKind) -> Result<Option<u64>, StoreError>;
    fn add_segment(&mut self, segment: &Segment, device_id: &str) -> Result<(), StoreError>;
}

/// The next `size` serials of `kind` (at least one), after every serial handed out before.
pub(crate) fn allocate_segment(tx: &mut impl SegmentTx, device_id: &str, kind: DocumentKind, size: u64) -> Result<Segment, StoreError> {
    let first = tx.last_serial(kind)?.map_or(1, |last| last + 1);
    let segment = Segment { kind, first, last: first + size.max(1) - 1 };
    tx.add_segment(&segment, device_id)?;
    Ok(segment)
}
