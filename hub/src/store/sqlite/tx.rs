//! The reads and writes the change-log policy (`store::log`) asks of a write transaction,
//! as SQLite statements.

use rusqlite::{OptionalExtension, Transaction, params};
use time::OffsetDateTime;
use yizhan_core::document::{DocumentKind, Segment};
use yizhan_core::id::CommandId;
use yizhan_core::entity::EntityKind;
use yizhan_sync::integrity::ChainHash;
use yizhan_core::command::Rejection;
use yizhan_sync::protocol::CommandEnvelope;

use super::{now_text, project_state, read_chain, read_head, time_text, to_i64, to_u64};
use crate::store::log::{CommandTx, CurrentRow, DeliveryTx, LogTx, PutRow, RecordedCommand, SegmentTx};
use crate::store::{Delivery, Outcome, LoggedChange, QuarantineItem, StateRow, StoreError};

/// One open write transaction of the writer connection.
pub(super) struct SqliteTx<'c>(pub &'c Transaction<'c>);

impl LogTx for SqliteTx<'_> {
    fn head(&mut self) -> Result<u64, StoreError> {
        read_head(self.0)
    }

    fn chain_at(&mut self, seq: u64) -> Result<ChainHash, StoreError> {
        read_chain(self.0, seq)
    }

    fn current(&mut self, entity: EntityKind, key: &str) -> Result<Option<CurrentRow>, StoreError> {
        let row: Option<(i64, String)> = self
            .0
            .prepare_cached("SELECT version, payload FROM state WHERE entity = ?1 AND key = ?2")?
            .query_row(params![entity.as_str(), key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(version, payload)| Ok(CurrentRow { version: to_u64(version)?, payload })).transpose()
    }

    fn put(&mut self, put: &PutRow<'_>) -> Result<(), StoreError> {
        let row = put.row;
        self.0
            .prepare_cached(
                "INSERT INTO state (entity, key, project_code, version, seq, committed_at, payload, digest_hi, digest_lo,
                   alert_active, alert_system, alert_escalates_at, alert_level, alert_department)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                 ON CONFLICT (entity, key) DO UPDATE SET project_code = excluded.project_code,
                   version = excluded.version, seq = excluded.seq, committed_at = excluded.committed_at,
                   payload = excluded.payload, digest_hi = excluded.digest_hi, digest_lo = excluded.digest_lo,
                   alert_active = excluded.alert_active, alert_system = excluded.alert_system,
                   alert_escalates_at = excluded.alert_escalates_at, alert_level = excluded.alert_level,
                   alert_department = excluded.alert_department",
            )?
            .execute(params![
                row.entity.as_str(),
                row.key,
                row.project_code,
                to_i64(put.version),
                to_i64(put.seq),
                time_text(put.committed_at),
                row.payload,
                put.digest.hi,
                put.digest.lo,
                put.alert.as_ref().map(|a| a.active),
                put.alert.as_ref().map(|a| a.system),
                put.alert.as_ref().and_then(|a| a.escalates_at).map(OffsetDateTime::unix_timestamp),
                put.alert.as_ref().map(|a| a.level.as_str()),
                put.alert.as_ref().map(|a| a.department.as_str()),
            ])?;
        Ok(())
    }

    fn remove(&mut self, entity: EntityKind, key: &str) -> Result<Option<(u64, String)>, StoreError> {
        let removed: Option<(i64, String)> = self
            .0
            .prepare_cached("DELETE FROM state WHERE entity = ?1 AND key = ?2 RETURNING version, project_code")?
            .query_row(params![entity.as_str(), key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        removed.map(|(version, project)| Ok((to_u64(version)?, project))).transpose()
    }

    fn project_rows(&mut self, project_code: &str) -> Result<Vec<StateRow>, StoreError> {
        project_state(self.0, project_code)
    }

    fn append(&mut self, change: &LoggedChange) -> Result<(), StoreError> {
        self.0
            .prepare_cached(
                "INSERT INTO changes (seq, entity, key, project_code, version, op, payload, origin, committed_at, chain)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                to_i64(change.seq),
                change.entity.as_str(),
                change.key,
                change.project_code,
                to_i64(change.version),
                change.op.as_str(),
                change.payload,
                change.origin,
                time_text(change.committed_at),
                change.chain.0.as_slice(),
            ])?;
        Ok(())
    }
}

impl CommandTx for SqliteTx<'_> {
    fn recorded_command(&mut self, command_id: &CommandId) -> Result<Option<RecordedCommand>, StoreError> {
        type Stored = (String, String, Option<i64>, Option<String>, Option<String>);
        let stored: Option<Stored> = self
            .0
            .prepare_cached("SELECT body, outcome, seq, code, reason FROM commands WHERE command_id = ?1")?
            .query_row([command_id.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .optional()?;
        let Some((body, outcome, seq, code, reason)) = stored else { return Ok(None) };
        let outcome = match outcome.as_str() {
            "accepted" => Ok(seq.map(to_u64).transpose()?),
            _ => Err(Rejection::new(&code.unwrap_or_default(), reason.unwrap_or_default())),
        };
        Ok(Some(RecordedCommand { body, outcome }))
    }

    fn record_command(&mut self, envelope: &CommandEnvelope, body: &str, outcome: &Outcome) -> Result<(), StoreError> {
        let (kind, seq, code, reason) = match outcome {
            Ok(seq) => ("accepted", seq.map(to_i64), None, None),
            Err(rejection) => ("rejected", None, Some(&rejection.code), Some(&rejection.reason)),
        };
        self.0
            .prepare_cached(
                "INSERT INTO commands (command_id, device_id, clerk, project_code, kind, issued_at, received_at,
                   base_seq, body, outcome, seq, code, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                envelope.command_id.as_str(),
                envelope.device_id.as_str(),
                envelope.clerk,
                envelope.action.project_key(),
                envelope.action.kind(),
                time_text(envelope.issued_at),
                now_text(),
                to_i64(envelope.base_seq),
                body,
                kind,
                seq,
                code,
                reason,
            ])?;
        Ok(())
    }
}

impl DeliveryTx for SqliteTx<'_> {
    fn quarantine(&mut self, connector: &str, item: &QuarantineItem, digest: &str) -> Result<bool, StoreError> {
        let problems = serde_json::to_string(&item.problems).expect("field errors serialise");
        let added = self
            .0
            .prepare_cached(
                "INSERT OR IGNORE INTO quarantine (connector, source, source_id, location, record, problems, digest, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![connector, item.source, item.source_id, item.location, item.record, problems, digest, now_text()])?;
        Ok(added == 1)
    }

    fn tally(&mut self, delivery: &Delivery, quarantined: u64) -> Result<(), StoreError> {
        super::connectors::register(self.0, &delivery.connector, delivery.kind)?;
        self.0.execute(
            "UPDATE connectors SET received = received + ?2, applied = applied + ?3, quarantined = quarantined + ?4,
               position = COALESCE(?5, position), heartbeat_at = ?6,
               newest_source_at = CASE WHEN ?7 IS NOT NULL AND (newest_source_at IS NULL OR ?7 > newest_source_at)
                                       THEN ?7 ELSE newest_source_at END
             WHERE name = ?1",
            params![
                delivery.connector,
                to_i64(delivery.received),
                to_i64(delivery.applied),
                to_i64(quarantined),
                delivery.position,
                now_text(),
                delivery.newest_source_at.map(time_text),
            ],
        )?;
        Ok(())
    }
}

impl SegmentTx for SqliteTx<'_> {
    fn last_serial(&mut self, kind: DocumentKind) -> Result<Option<u64>, StoreError> {
        let last: Option<i64> =
            self.0.query_row("SELECT max(last_serial) FROM number_segments WHERE kind = ?1", [kind.as_str()], |r| r.get(0))?;
        last.map(to_u64).transpose()
    }

    fn add_segment(&mut self, segment: &Segment, device_id: &str) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO number_segments (kind, first_serial, last_serial, device_id, allocated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![segment.kind.as_str(), to_i64(segment.first), to_i64(segment.last), device_id, now_text()],
        )?;
        Ok(())
    }
}
