//! The outbox: clerk commands issued at this counter, kept until the hub has answered
//! them. Issuing checks the command with the hub's rules against the replica (plus the
//! commands still on their way), then queues it; the effect shows at once as pending
//! (see [`overlay`]) and is replaced by the hub's row when that arrives through the feed.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use time::OffsetDateTime;
use yizhan_core::alert::Alert;
use yizhan_core::alert::handling::handle;
use yizhan_core::alert::queue::AlertOrigin;
use yizhan_core::command::{ClerkAction, Effect, Issued, decide};
use yizhan_core::code::ProjectCode;
use yizhan_core::account::Account;
use yizhan_core::id::{CommandId, DeviceId};
use yizhan_core::records::ProjectRecords;
use yizhan_voucher::signature::CounterKey;

use super::alert_view;
use super::view::load_records;
use super::{Replica, ReplicaError, ReplicaReader, format_time, read_meta, text};
use crate::sql::parsed;
use crate::protocol::{CommandEnvelope, CommandOutcome, CommandResult};
use crate::status::OutboxCounts;

/// Code of a command the counter gave up delivering: the hub kept failing on it.
pub const HUB_ERROR: &str = "hub_error";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// 待上传: issued here, not yet answered by the hub.
    Pending,
    Accepted,
    /// 待处理冲突: refused by the hub (or given up on), waiting for the clerk.
    Rejected,
    /// The clerk let a rejected command go (or redid it under a new id).
    Discarded,
}

impl OutboxState {
    fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Accepted => "accepted",
            OutboxState::Rejected => "rejected",
            OutboxState::Discarded => "discarded",
        }
    }

    fn parse(text: &str) -> rusqlite::Result<OutboxState> {
        [OutboxState::Pending, OutboxState::Accepted, OutboxState::Rejected, OutboxState::Discarded]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, format!("outbox state {text:?}").into())
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OutboxEntry {
    pub command_id: CommandId,
    pub project_code: String,
    pub action: ClerkAction,
    pub clerk: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub issued_at: OffsetDateTime,
    pub state: OutboxState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub reject_code: Option<String>,
    pub reject_reason: Option<String>,
}

/// Who issues a command at this counter: the signed-in person, vouched for by the
/// counter's key. Each command is signed as it is queued, so a later edit of the replica
/// file cannot change who did what.
#[derive(Clone)]
pub struct Issuer {
    account: Account,
    clerk: String,
    key: CounterKey,
}

impl Issuer {
    /// `clerk`: how commands and documents name the person (`Person::clerk`).
    pub fn new(account: Account, clerk: impl Into<String>, key: CounterKey) -> Issuer {
        Issuer { account, clerk: clerk.into().trim().to_owned(), key }
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn clerk(&self) -> &str {
        &self.clerk
    }

    fn sign(&self, envelope: &mut CommandEnvelope) {
        let action = serde_json::to_string(&envelope.action).expect("a clerk action serialises to JSON");
        envelope.signature = Some(hex::encode(self.key.sign(envelope.signed_text(&action).as_bytes())));
    }
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer").field("account", &self.account).field("clerk", &self.clerk).finish_non_exhaustive()
    }
}

/// One queued command ready to send: its id and its envelope as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub command_id: CommandId,
    pub envelope: String,
}

const ENTRY_COLUMNS: &str =
    "command_id, project_code, envelope, state, attempts, last_error, reject_code, reject_reason";

fn entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxEntry> {
    let envelope: CommandEnvelope = serde_json::from_str(text(row, 2)?)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e)))?;
    Ok(OutboxEntry {
        command_id: parsed(row, 0)?,
        project_code: row.get(1)?,
        action: envelope.action,
        clerk: envelope.clerk,
        issued_at: envelope.issued_at,
        state: OutboxState::parse(text(row, 3)?)?,
        attempts: row.get(4)?,
        last_error: row.get(5)?,
        reject_code: row.get(6)?,
        reject_reason: row.get(7)?,
    })
}

impl Replica {
    /// Checks `action` by the hub's rules against what this counter knows, and queues it.
    /// A command the rules refuse here is not queued: the clerk hears why at once.
    pub fn issue(&mut self, action: ClerkAction, issuer: &Issuer, at: OffsetDateTime) -> Result<OutboxEntry, ReplicaError> {
        self.issue_redoing(action, issuer, at, None)
    }

    fn issue_redoing(
        &mut self,
        action: ClerkAction,
        issuer: &Issuer,
        at: OffsetDateTime,
        redo_of: Option<&CommandId>,
    ) -> Result<OutboxEntry, ReplicaError> {
        let clock_today = self.clock.today();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let entry = queue(&tx, clock_today, action, issuer, at, redo_of)?;
        tx.commit()?;
        Ok(entry)
    }

    /// Issues a rejected command again under a new id (the hub answers an old id with its
    /// old answer), after checking it again; the rejected one is set aside.
    pub fn redo(&mut self, command_id: &CommandId, issuer: &Issuer, at: OffsetDateTime) -> Result<OutboxEntry, ReplicaError> {
        let action = self
            .conn
            .query_row(
                &format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE command_id = ?1 AND state = 'rejected'"),
                [command_id.as_str()],
                entry,
            )
            .optional()?
            .ok_or_else(|| ReplicaError::NoSuchConflict(command_id.clone()))?
            .action;
        self.issue_redoing(action, issuer, at, Some(command_id))
    }

    /// Lets a rejected command go; returns its project.
    pub fn discard(&mut self, command_id: &CommandId) -> Result<String, ReplicaError> {
        self.conn
            .query_row(
                "UPDATE outbox SET state = 'discarded' WHERE command_id = ?1 AND state = 'rejected' RETURNING project_code",
                [command_id.as_str()],
                |row| row.get(0),
            )
            .optional()?
            .ok_or_else(|| ReplicaError::NoSuchConflict(command_id.clone()))
    }

    /// The oldest `limit` commands not yet answered, in the order issued.
    pub fn outgoing(&self, limit: usize) -> Result<Vec<Outgoing>, ReplicaError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT command_id, envelope FROM outbox WHERE state = 'pending' ORDER BY position LIMIT ?1")?;
        let rows = stmt
            .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
                Ok(Outgoing {
                    command_id: parsed(row, 0)?,
                    envelope: row.get(1)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Records the hub's answers; returns the projects of the commands they settled.
    /// An answer for a command no longer pending (a repeat) changes nothing.
    pub fn record_answers(&mut self, results: &[CommandResult], at: OffsetDateTime) -> Result<Vec<String>, ReplicaError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut projects = Vec::new();
        {
            let mut settle = tx.prepare_cached(
                "UPDATE outbox SET state = ?2, hub_seq = ?3, reject_code = ?4, reject_reason = ?5, answered_at = ?6, \
                 last_error = NULL WHERE command_id = ?1 AND state = 'pending' RETURNING project_code",
            )?;
            for result in results {
                let (state, seq, code, reason) = match &result.outcome {
                    CommandOutcome::Accepted { seq } => (OutboxState::Accepted, *seq, None, None),
                    CommandOutcome::Rejected { code, reason } => {
                        (OutboxState::Rejected, None, Some(code.as_str()), Some(reason.as_str()))
                    }
                };
                let project: Option<String> = settle
                    .query_row(
                        params![result.command_id.as_str(), state.as_str(), seq, code, reason, format_time(at)],
                        |row| row.get(0),
                    )
                    .optional()?;
                projects.extend(project);
            }
        }
        tx.commit()?;
        projects.sort();
        projects.dedup();
        Ok(projects)
    }

    /// Counts a delivery the hub answered with an error of its own. At `give_up_after`
    /// such failures the command turns into a conflict for the clerk, so that it no longer
    /// holds up the commands behind it. Returns its project when it did.
    pub fn record_failure(
        &mut self,
        command_id: &CommandId,
        error: &str,
        give_up_after: u32,
        at: OffsetDateTime,
    ) -> Result<Option<String>, ReplicaError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let attempts: Option<u32> = tx
            .query_row(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE command_id = ?1 AND state = 'pending' \
                 RETURNING attempts",
                params![command_id.as_str(), error],
                |row| row.get(0),
            )
            .optional()?;
        let gave_up = match attempts {
            Some(attempts) if attempts >= give_up_after => Some(tx.query_row(
                "UPDATE outbox SET state = 'rejected', reject_code = ?2, reject_reason = ?3, answered_at = ?4 \
                 WHERE command_id = ?1 RETURNING project_code",
                params![
                    command_id.as_str(),
                    HUB_ERROR,
                    format!("数据中心连续 {attempts} 次处理该指令时出错（{error}），已暂停上传。可稍后重做，或放弃。"),
                    format_time(at)
                ],
                |row| row.get(0),
            )?),
            _ => None,
        };
        tx.commit()?;
        Ok(gave_up)
    }

    pub fn outbox_counts(&self) -> Result<OutboxCounts, ReplicaError> {
        outbox_counts(&self.conn)
    }

    /// Commands of one project not yet answered by the hub.
    pub fn pending_for(&self, project_code: &ProjectCode) -> Result<u64, ReplicaError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM outbox WHERE project_code = ?1 AND state = 'pending'",
            [project_code.as_str()],
            |r| r.get(0),
        )?)
    }
}

impl ReplicaReader {
    pub fn outbox_counts(&self) -> Result<OutboxCounts, ReplicaError> {
        outbox_counts(&self.conn)
    }

    /// 待处理冲突: commands the hub refused, newest first.
    pub fn conflicts(&self) -> Result<Vec<OutboxEntry>, ReplicaError> {
        self.entries("state = 'rejected' ORDER BY position DESC", [])
    }

    /// Every command of one project still in the outbox or answered, oldest first.
    pub fn project_commands(&self, project_code: &ProjectCode) -> Result<Vec<OutboxEntry>, ReplicaError> {
        self.entries("project_code = ?1 ORDER BY position", [project_code.as_str()])
    }

    fn entries<P: rusqlite::Params>(&self, clause: &str, params: P) -> Result<Vec<OutboxEntry>, ReplicaError> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE {clause}"))?;
        let entries = stmt.query_map(params, entry)?.collect::<Result<_, _>>()?;
        Ok(entries)
    }
}

fn outbox_counts(conn: &Connection) -> Result<OutboxCounts, ReplicaError> {
    let (pending, conflicts) = conn.query_row(
        "SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'rejected') FROM outbox",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok(OutboxCounts { pending, conflicts })
}

/// What the clerk sees of a project while its commands travel: the effect of every command
/// issued here that the feed has not brought back yet (pending, or accepted with a seq the
/// replica has not reached), applied over the replicated rows, judged as of `today`.
/// Returns the ids of the commands it applied, which the screens mark 待上传.
pub(crate) fn overlay(
    conn: &Connection,
    records: &mut ProjectRecords,
    project_code: &str,
    cursor: u64,
    today: time::Date,
) -> Result<Vec<CommandId>, ReplicaError> {
    let mut stmt = conn.prepare_cached(
        "SELECT envelope FROM outbox WHERE project_code = ?1 \
         AND (state = 'pending' OR (state = 'accepted' AND hub_seq > ?2)) ORDER BY position",
    )?;
    let envelopes: Vec<String> = stmt
        .query_map(params![project_code, cursor], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut applied = Vec::new();
    for text in envelopes {
        let envelope: CommandEnvelope = serde_json::from_str(&text).map_err(|source| ReplicaError::Payload {
            entity: "outbox",
            key: project_code.to_owned(),
            source,
        })?;
        let issued = Issued {
            command_id: &envelope.command_id,
            clerk: &envelope.clerk,
            device_id: &envelope.device_id,
            at: envelope.issued_at,
        };
        // A command that no longer stands here (a payment reversed meanwhile) shows
        // nothing: the hub will most likely refuse it too, and say why.
        let Ok(effect) = decide(&envelope.action, &issued, records, today) else {
            continue;
        };
        match effect {
            Effect::FinalCheck(check) => records.final_check = Some(check),
            Effect::FollowUpNote(note) => records.notes.push(note),
            Effect::Tracking(tracking) => records.tracking = Some(tracking),
            Effect::Alert(alert) => match records.alerts.iter_mut().find(|a| a.key() == alert.key()) {
                Some(shown) => *shown = *alert,
                None => records.alerts.push(*alert),
            },
            Effect::Document(doc) => match records.documents.iter_mut().find(|d| d.key() == doc.key()) {
                Some(shown) => *shown = *doc,
                None => records.documents.push(*doc),
            },
            Effect::PermitLink(link) => records.permit_link = Some(link),
        }
        applied.push(envelope.command_id);
    }
    Ok(applied)
}

/// The answers to alerts issued at this counter that the feed has not brought back yet,
/// applied to `alerts` in the order issued (as [`overlay`] does for a project). Returns the
/// keys of the alerts they changed, which the screens mark 待上传.
pub(crate) fn overlay_alerts(conn: &Connection, cursor: u64, alerts: &mut [(Alert, AlertOrigin)]) -> Result<HashSet<String>, ReplicaError> {
    let mut stmt = conn.prepare_cached(
        "SELECT envelope FROM outbox WHERE kind = 'handle_alert' \
         AND (state = 'pending' OR (state = 'accepted' AND hub_seq > ?1)) ORDER BY position",
    )?;
    let envelopes: Vec<String> = stmt.query_map([cursor], |row| row.get(0))?.collect::<Result<_, _>>()?;
    let mut pending = HashSet::new();
    for text in envelopes {
        let envelope: CommandEnvelope = serde_json::from_str(&text)
            .map_err(|source| ReplicaError::Payload { entity: "outbox", key: "handle_alert".into(), source })?;
        let ClerkAction::HandleAlert { alert_key, handling, .. } = &envelope.action else { continue };
        let Some((alert, _)) = alerts.iter_mut().find(|(a, _)| a.key() == *alert_key) else { continue };
        if let Ok(answered) = handle(alert, handling, &envelope.clerk, envelope.issued_at) {
            *alert = answered;
            pending.insert(alert_key.clone());
        }
    }
    Ok(pending)
}

/// Checks `action` against the project as this counter sees it and queues it, inside
/// `tx`, for callers that write more in the same transaction.
pub(crate) fn queue(
    tx: &Connection,
    clock_today: time::Date,
    action: ClerkAction,
    issuer: &Issuer,
    at: OffsetDateTime,
    redo_of: Option<&CommandId>,
) -> Result<OutboxEntry, ReplicaError> {
    let meta = read_meta(tx)?;
    let cursor = meta.cursor.ok_or(ReplicaError::NotBootstrapped)?;
    let device_id = device_id(tx)?;
    let mut envelope = CommandEnvelope {
        command_id: new_command_id(),
        device_id,
        clerk: issuer.clerk.clone(),
        account: Some(issuer.account.clone()),
        issued_at: at,
        base_seq: cursor,
        action,
        signature: None,
    };
    let project_code = envelope.action.project_key().to_owned();
    let today = meta.view_date.unwrap_or(clock_today);
    let mut records = load_records(tx, &project_code)?;
    // The alerts as shown here: one this counter raised itself can be answered offline.
    records.alerts = alert_view::of_project(tx, &project_code)?.into_iter().map(|(alert, _)| alert).collect();
    overlay(tx, &mut records, &project_code, cursor, today)?;
    let issued = Issued {
        command_id: &envelope.command_id,
        clerk: &envelope.clerk,
        device_id: &envelope.device_id,
        at,
    };
    decide(&envelope.action, &issued, &records, today)
        .map_err(ReplicaError::Refused)?;
    issuer.sign(&mut envelope);
    if let Some(old) = redo_of {
        let changed = tx.execute(
            "UPDATE outbox SET state = 'discarded' WHERE command_id = ?1 AND state = 'rejected'",
            [old.as_str()],
        )?;
        if changed == 0 {
            return Err(ReplicaError::NoSuchConflict(old.clone()));
        }
    }
    tx.execute(
        "INSERT INTO outbox (command_id, project_code, kind, envelope, state, redo_of) VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
        params![
            envelope.command_id.as_str(),
            project_code,
            envelope.action.kind(),
            serde_json::to_string(&envelope).expect("a command envelope serialises to JSON"),
            redo_of.map(CommandId::as_str),
        ],
    )?;
    Ok(tx.query_row(
        &format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE command_id = ?1"),
        [envelope.command_id.as_str()],
        entry,
    )?)
}

pub(crate) fn device_id(conn: &Connection) -> Result<DeviceId, ReplicaError> {
    let id: Option<String> = conn.query_row("SELECT device_id FROM meta", [], |row| row.get(0))?;
    let id = match id {
        Some(id) => id,
        None => {
            let id = format!("counter-{}", uuid::Uuid::new_v4().simple());
            conn.execute("UPDATE meta SET device_id = ?1", [&id])?;
            id
        }
    };
    Ok(DeviceId::parse(id)?)
}

fn new_command_id() -> CommandId {
    CommandId::parse(uuid::Uuid::new_v4().to_string()).expect("a UUID is a short printable id")
}
