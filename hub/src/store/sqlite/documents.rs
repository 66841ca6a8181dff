//! Number segments, document files and the notification outbox.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use yizhan_core::document::{DocumentKind, Segment};

use super::{Inner, StoreError, lock, now_text, parse_time, to_i64, to_u64};
use crate::store::log;
use crate::store::{Notification, NotificationState};

impl Inner {
    pub(super) fn allocate_segment(&self, device_id: &str, kind: DocumentKind, size: u64) -> Result<Segment, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let segment = log::allocate_segment(&mut super::SqliteTx(&tx), device_id, kind, size)?;
        tx.commit()?;
        Ok(segment)
    }

    pub(super) fn segment_owner(&self, kind: DocumentKind, serial: u64) -> Result<Option<String>, StoreError> {
        self.readers.with(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT device_id FROM number_segments WHERE kind = ?1 AND first_serial <= ?2 AND last_serial >= ?2",
                )?
                .query_row(params![kind.as_str(), to_i64(serial)], |r| r.get(0))
                .optional()?)
        })
    }

    pub(super) fn put_document_file(&self, number: &str, pdf_sm3: &str, bytes: &[u8]) -> Result<bool, StoreError> {
        let added = lock(&self.writer).execute(
            "INSERT INTO document_files (pdf_sm3, number, bytes, stored_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (pdf_sm3) DO NOTHING",
            params![pdf_sm3, number, bytes, now_text()],
        )?;
        Ok(added == 1)
    }

    pub(super) fn document_file(&self, pdf_sm3: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.readers.with(|conn| {
            Ok(conn
                .prepare_cached("SELECT bytes FROM document_files WHERE pdf_sm3 = ?1")?
                .query_row([pdf_sm3], |r| r.get(0))
                .optional()?)
        })
    }

    pub(super) fn queue_notification(&self, event_key: &str, project_code: &str, recipient: &str, message: &str) -> Result<(), StoreError> {
        lock(&self.writer).execute(
            "INSERT INTO notifications (event_key, project_code, recipient, message, created_at, state)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending') ON CONFLICT (event_key) DO NOTHING",
            params![event_key, project_code, recipient, message, now_text()],
        )?;
        Ok(())
    }

    pub(super) fn notifications_where(&self, filter: &str, value: rusqlite::types::Value, limit: usize) -> Result<Vec<Notification>, StoreError> {
        self.readers.with(|conn| {
            let sql = format!(
                "SELECT id, event_key, project_code, recipient, message, created_at, state, attempts, last_error
                 FROM notifications WHERE {filter} ORDER BY id LIMIT ?2"
            );
            let rows = conn
                .prepare_cached(&sql)?
                .query_map(params![value, to_i64(limit as u64)], read_notification)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(notification).collect()
        })
    }

    pub(super) fn notification_attempted(&self, id: u64, error: Option<&str>, give_up_after: u32) -> Result<(), StoreError> {
        lock(&self.writer).execute(
            "UPDATE notifications SET attempts = attempts + 1, last_error = ?2,
               state = CASE WHEN ?2 IS NULL THEN 'sent' WHEN attempts + 1 >= ?3 THEN 'failed' ELSE 'pending' END,
               sent_at = CASE WHEN ?2 IS NULL THEN ?4 ELSE sent_at END
             WHERE id = ?1",
            params![to_i64(id), error, give_up_after, now_text()],
        )?;
        Ok(())
    }
}

/// A notification's columns, its id, time and state still as stored.
type RawNotification = ((i64, String, String, String, String), (String, String, u32, Option<String>));

fn read_notification(r: &Row<'_>) -> rusqlite::Result<RawNotification> {
    Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?), (r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)))
}

fn notification(raw: RawNotification) -> Result<Notification, StoreError> {
    let ((id, event_key, project_code, recipient, message), (created_at, state, attempts, last_error)) = raw;
    Ok(Notification {
        id: to_u64(id)?,
        event_key,
        project_code,
        recipient,
        message,
        created_at: parse_time(&created_at)?,
        state: NotificationState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("通知 {id} 的状态 {state:?} 无法识别")))?,
        attempts,
        last_error,
    })
}
