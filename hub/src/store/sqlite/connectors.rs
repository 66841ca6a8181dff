//! The connectors' tables: deliveries written with their position in one transaction,
//! quarantine, imported files.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use yizhan_sync::protocol::{FieldError, QuarantineState, SourceComparison};

use super::{Inner, SqliteTx, StoreError, lock, now_text, parse_time, to_i64, to_u64};
use crate::store::log;
use crate::store::{ConnectorKind, ConnectorRecord, Delivered, Delivery, ImportedFile, QuarantineRecord};

impl Inner {
    pub(super) fn deliver(&self, delivery: &Delivery) -> Result<Delivered, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let delivered = log::deliver(&mut SqliteTx(&tx), delivery)?;
        tx.commit()?;
        self.published(delivered.written.head);
        Ok(delivered)
    }

    pub(super) fn connector_heartbeat(&self, name: &str, kind: ConnectorKind, source_lag_bytes: Option<i64>) -> Result<(), StoreError> {
        let conn = lock(&self.writer);
        register(&conn, name, kind)?;
        conn.execute(
            "UPDATE connectors SET heartbeat_at = ?2, source_lag_bytes = ?3 WHERE name = ?1",
            params![name, now_text(), source_lag_bytes],
        )?;
        Ok(())
    }

    pub(super) fn connector_failed(&self, name: &str, kind: ConnectorKind, error: &str) -> Result<(), StoreError> {
        let conn = lock(&self.writer);
        register(&conn, name, kind)?;
        conn.execute(
            "UPDATE connectors SET last_error = ?2, last_error_at = ?3 WHERE name = ?1",
            params![name, error, now_text()],
        )?;
        Ok(())
    }

    pub(super) fn close_quarantine(&self, id: u64, state: QuarantineState, by: &str, note: &str) -> Result<bool, StoreError> {
        let conn = lock(&self.writer);
        let closed = conn.execute(
            "UPDATE quarantine SET state = ?2, closed_at = ?3, closed_by = ?4, close_note = ?5
             WHERE id = ?1 AND state = 'open'",
            params![to_i64(id), state.as_str(), now_text(), by, note],
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

    pub(super) fn record_verification(&self, connector: &str, kind: ConnectorKind, comparison: &SourceComparison) -> Result<(), StoreError> {
        let comparison = serde_json::to_string(comparison).expect("a comparison serialises: plain structs, string keys");
        let conn = lock(&self.writer);
        register(&conn, connector, kind)?;
        conn.execute("UPDATE connectors SET verification = ?2 WHERE name = ?1", params![connector, comparison])?;
        Ok(())
    }
}

pub(super) fn register(conn: &Connection, name: &str, kind: ConnectorKind) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT OR IGNORE INTO connectors (name, kind) VALUES (?1, ?2)")?
        .execute(params![name, kind.as_str()])?;
    Ok(())
}

pub(super) fn connectors(conn: &Connection) -> Result<Vec<ConnectorRecord>, StoreError> {
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
            let kind = ConnectorKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("连接器 {name} 的类型 {kind:?} 无法识别")))?;
            Ok(ConnectorRecord {
                name,
                kind,
                position,
                heartbeat_at: optional_time(heartbeat_at)?,
                received: to_u64(received)?,
                applied: to_u64(applied)?,
                quarantined: to_u64(quarantined)?,
                newest_source_at: optional_time(newest)?,
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
    state: Option<QuarantineState>,
    connector: Option<&str>,
    limit: usize,
) -> Result<Vec<QuarantineRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {QUARANTINE_COLUMNS} FROM quarantine
         WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR connector = ?2)
         ORDER BY id DESC LIMIT ?3"
    ))?;
    let raw = stmt
        .query_map(params![state.map(QuarantineState::as_str), connector, to_i64(limit as u64)], raw_entry)?
        .collect::<Result<Vec<_>, _>>()?;
    raw.into_iter().map(entry).collect()
}

pub(super) fn quarantined(conn: &Connection, id: u64) -> Result<Option<QuarantineRecord>, StoreError> {
    let raw = conn
        .prepare_cached(&format!("SELECT {QUARANTINE_COLUMNS} FROM quarantine WHERE id = ?1"))?
        .query_row([to_i64(id)], raw_entry)
        .optional()?;
    raw.map(entry).transpose()
}

pub(super) fn last_import(conn: &Connection, connector: &str) -> Result<Option<ImportedFile>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT file_name, bytes FROM imported_files WHERE connector = ?1 AND bytes IS NOT NULL
             ORDER BY imported_at DESC LIMIT 1",
        )?
        .query_row([connector], |r| Ok(ImportedFile { file_name: r.get(0)?, bytes: r.get(1)? }))
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

fn entry(raw: RawEntry) -> Result<QuarantineRecord, StoreError> {
    let ((id, connector, source, source_id, location, record, problems, state), (received_at, closed_at, closed_by, close_note)) = raw;
    let problems: Vec<FieldError> = serde_json::from_str(&problems)
        .map_err(|e| StoreError::Corrupt(format!("隔离记录 {id} 的问题清单无法读取：{e}")))?;
    Ok(QuarantineRecord {
        id: to_u64(id)?,
        connector,
        source,
        source_id,
        location,
        record,
        problems,
        state: QuarantineState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("隔离记录 {id} 的状态 {state:?} 无法识别")))?,
        received_at: parse_time(&received_at)?,
        closed_at: optional_time(closed_at)?,
        closed_by,
        close_note,
    })
}

fn optional_time(text: Option<String>) -> Result<Option<OffsetDateTime>, StoreError> {
    text.as_deref().map(parse_time).transpose()
}
