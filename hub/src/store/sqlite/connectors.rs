//! The connectors' tables: deliveries written with their position in one transaction,
//! quarantine, imported files.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sm3::{Digest, Sm3};
use time::OffsetDateTime;
use yizhan_core::entity::EntityKind;
use yizhan_sync::integrity::ChangeFrame;
use yizhan_sync::protocol::{ConnectorStatus, FieldError, Op, QuarantineEntry};

use super::{Inner, StoreError, lock, now_text, parse_time, read_chain, read_head, time_text, to_i64, to_u64, write_rows};
use crate::store::{Delivered, Delivery, QuarantineItem, WriteOutcome};

impl Inner {
    pub(super) fn deliver(&self, delivery: &Delivery) -> Result<Delivered, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (head, seqs) = write_rows(&tx, &delivery.origin, &delivery.rows)?;
        let (head, removed) = remove_rows(&tx, &delivery.origin, &delivery.removals, head)?;
        let mut quarantined = 0;
        for item in &delivery.quarantine {
            quarantined += quarantine_item(&tx, &delivery.connector, item)?;
        }
        register(&tx, &delivery.connector, &delivery.kind)?;
        tx.execute(
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
        tx.commit()?;
        self.published(head);
        Ok(Delivered {
            written: WriteOutcome { head, seqs },
            removed,
            quarantined,
        })
    }

    pub(super) fn connector_heartbeat(&self, name: &str, kind: &str, source_lag_bytes: Option<i64>) -> Result<(), StoreError> {
        let conn = lock(&self.writer);
        register(&conn, name, kind)?;
        conn.execute(
            "UPDATE connectors SET heartbeat_at = ?2, source_lag_bytes = ?3 WHERE name = ?1",
            params![name, now_text(), source_lag_bytes],
        )?;
        Ok(())
    }

    pub(super) fn connector_failed(&self, name: &str, kind: &str, error: &str) -> Result<(), StoreError> {
        let conn = lock(&self.writer);
        register(&conn, name, kind)?;
        conn.execute(
            "UPDATE connectors SET last_error = ?2, last_error_at = ?3 WHERE name = ?1",
            params![name, error, now_text()],
        )?;
        Ok(())
    }

    pub(super) fn close_quarantine(&self, id: u64, state: &str, by: &str, note: &str) -> Result<bool, StoreError> {
        let conn = lock(&self.writer);
        let closed = conn.execute(
            "UPDATE quarantine SET state = ?2, closed_at = ?3, closed_by = ?4, close_note = ?5
             WHERE id = ?1 AND state = 'open'",
            params![to_i64(id), state, now_text(), by, note],
        )?;
        Ok(closed == 1)
    }

    pub(super) fn record_import(
        &self,
        checksum: &str,
        connector: &str,
        file_name: &str,
        report: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("UPDATE imported_files SET bytes = NULL WHERE connector = ?1", [connector])?;
        tx.execute(
            "INSERT OR IGNORE INTO imported_files (checksum, connector, file_name, imported_at, report, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![checksum, connector, file_name, now_text(), report, bytes],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub(super) fn record_verification(&self, connector: &str, kind: &str, comparison: &str) -> Result<(), StoreError> {
        let conn = lock(&self.writer);
        register(&conn, connector, kind)?;
        conn.execute("UPDATE connectors SET verification = ?2 WHERE name = ?1", params![connector, comparison])?;
        Ok(())
    }
}

fn register(conn: &Connection, name: &str, kind: &str) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT OR IGNORE INTO connectors (name, kind) VALUES (?1, ?2)")?
        .execute(params![name, kind])?;
    Ok(())
}

/// Deletes each row the hub holds and logs the delete with the version it removes; returns
/// the new head and each removal's seq.
fn remove_rows(
    tx: &rusqlite::Transaction<'_>,
    origin: &str,
    keys: &[(EntityKind, String)],
    mut head: u64,
) -> Result<(u64, Vec<Option<u64>>), StoreError> {
    if keys.is_empty() {
        return Ok((head, Vec::new()));
    }
    let committed = OffsetDateTime::now_utc();
    let committed_at = time_text(committed);
    let mut chain = read_chain(tx, head)?;
    let mut delete = tx.prepare_cached("DELETE FROM state WHERE entity = ?1 AND key = ?2 RETURNING version, project_code")?;
    let mut log = tx.prepare_cached(
        "INSERT INTO changes (seq, entity, key, project_code, version, op, payload, origin, committed_at, chain)
         VALUES (?1, ?2, ?3, ?4, ?5, 'delete', NULL, ?6, ?7, ?8)",
    )?;
    let mut seqs = Vec::with_capacity(keys.len());
    for (entity, key) in keys {
        let entity = entity.as_str();
        let removed: Option<(i64, String)> = delete
            .query_row(params![entity, key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((version, project_code)) = removed else {
            seqs.push(None);
            continue;
        };
        head += 1;
        chain = chain.link(&ChangeFrame {
            seq: head,
            entity,
            key,
            project_code: &project_code,
            version: to_u64(version)?,
            op: Op::Delete.as_str(),
            payload: None,
            origin,
            committed_at_nanos: committed.unix_timestamp_nanos(),
        });
        log.execute(params![to_i64(head), entity, key, project_code, version, origin, committed_at, chain.0.as_slice()])?;
        seqs.push(Some(head));
    }
    debug_assert_eq!(read_head(tx)?, head);
    Ok((head, seqs))
}

/// Lists a bad record once per connector, however often it is delivered; returns 1 when
/// it is new.
fn quarantine_item(conn: &Connection, connector: &str, item: &QuarantineItem) -> Result<u64, StoreError> {
    let mut hasher = Sm3::new();
    for part in [connector, &item.source, &item.location, &item.record] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hex::encode(hasher.finalize());
    let problems = serde_json::to_string(&item.problems).expect("field errors serialise");
    let added = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO quarantine (connector, source, source_id, location, record, problems, digest, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![connector, item.source, item.source_id, item.location, item.record, problems, digest, now_text()])?;
    Ok(added as u64)
}

pub(super) fn connectors(conn: &Connection) -> Result<Vec<ConnectorStatus>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, kind, position, heartbeat_at, received, applied, quarantined, newest_source_at,
                source_lag_bytes, last_error, last_error_at, verification
         FROM connectors ORDER BY name",
    )?;
    let raw = stmt
        .query_map([], |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?),
                r.get::<_, Option<String>>(3)?,
                (r.get::<_, i64>(4)?, r.get::<_, i64>(5)?, r.get::<_, i64>(6)?),
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<i64>>(8)?,
                (r.get::<_, Option<String>>(9)?, r.get::<_, Option<String>>(10)?),
                r.get::<_, Option<String>>(11)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    raw.into_iter()
        .map(|((name, kind, position), heartbeat_at, (received, applied, quarantined), newest, lag, (error, error_at), verification)| {
            let verification = verification
                .map(|json| serde_json::from_str(&json))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("连接器 {name} 的核对结果无法读取：{e}")))?;
            Ok(ConnectorStatus {
                name,
                kind,
                position,
                heartbeat_at: optional_time(heartbeat_at)?,
                received: to_u64(received)?,
                applied: to_u64(applied)?,
                quarantined: to_u64(quarantined)?,
                newest_source_at: optional_time(newest)?,
                lag_seconds: None,
                source_lag_bytes: lag,
                last_error: error,
                last_error_at: optional_time(error_at)?,
                verification,
            })
        })
        .collect()
}

const QUARANTINE_COLUMNS: &str =
    "id, connector, source, source_id, location, record, problems, state, received_at, closed_at, closed_by, close_note";

pub(super) fn quarantine(
    conn: &Connection,
    state: Option<&str>,
    connector: Option<&str>,
    limit: usize,
) -> Result<Vec<QuarantineEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {QUARANTINE_COLUMNS} FROM quarantine
         WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR connector = ?2)
         ORDER BY id DESC LIMIT ?3"
    ))?;
    let raw = stmt
        .query_map(params![state, connector, to_i64(limit as u64)], raw_entry)?
        .collect::<Result<Vec<_>, _>>()?;
    raw.into_iter().map(entry).collect()
}

pub(super) fn quarantined(conn: &Connection, id: u64) -> Result<Option<QuarantineEntry>, StoreError> {
    let raw = conn
        .prepare_cached(&format!("SELECT {QUARANTINE_COLUMNS} FROM quarantine WHERE id = ?1"))?
        .query_row([to_i64(id)], raw_entry)
        .optional()?;
    raw.map(entry).transpose()
}

pub(super) fn last_import(conn: &Connection, connector: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT file_name, bytes FROM imported_files WHERE connector = ?1 AND bytes IS NOT NULL
             ORDER BY imported_at DESC LIMIT 1",
        )?
        .query_row([connector], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

pub(super) fn imported_file(conn: &Connection, checksum: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT report FROM imported_files WHERE checksum = ?1")?
        .query_row([checksum], |r| r.get(0))
        .optional()?)
}

type RawEntry = (
    (i64, String, String, Option<String>, String, String, String, String),
    (String, Option<String>, Option<String>, Option<String>),
);

fn raw_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawEntry> {
    Ok((
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?),
        (r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?),
    ))
}

fn entry(raw: RawEntry) -> Result<QuarantineEntry, StoreError> {
    let ((id, connector, source, source_id, location, record, problems, state), (received_at, closed_at, closed_by, close_note)) = raw;
    let problems: Vec<FieldError> = serde_json::from_str(&problems)
        .map_err(|e| StoreError::Corrupt(format!("隔离记录 {id} 的问题清单无法读取：{e}")))?;
    Ok(QuarantineEntry {
        id: to_u64(id)?,
        connector,
        source,
        source_id,
        location,
        record,
        problems,
        state,
        received_at: parse_time(&received_at)?,
        closed_at: optional_time(closed_at)?,
        closed_by,
        close_note,
    })
}

fn optional_time(text: Option<String>) -> Result<Option<OffsetDateTime>, StoreError> {
    text.as_deref().map(parse_time).transpose()
}
