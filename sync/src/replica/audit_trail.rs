//! This counter's own audit trail (`audit_trail`): what happened at the window, in the
//! order it happened, kept until the hub holds it. Plain reads and writes; sending it up
//! is the sync client's (`client::audit_trail`).

use rusqlite::params;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yizhan_core::audit::AuditEvent;

use super::{Replica, ReplicaError, ReplicaReader};
use crate::protocol::{CounterAuditRecord, MAX_AUDIT_OBJECT_CHARS, MAX_AUDIT_REASON_CHARS};
use yizhan_core::id::MAX_ID_CHARS;

/// One thing to record at this counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterAudit {
    pub account: String,
    pub event: AuditEvent,
    pub object: String,
    pub result: Result<(), String>,
    pub detail: serde_json::Value,
}

impl CounterAudit {
    /// An account typed at sign-in may be anything: it is kept to the length the hub takes.
    pub fn new(account: &str, event: AuditEvent, object: &str) -> CounterAudit {
        CounterAudit {
            account: account.chars().take(MAX_ID_CHARS).collect(),
            event,
            object: object.chars().take(MAX_AUDIT_OBJECT_CHARS).collect(),
            result: Ok(()),
            detail: serde_json::Value::Null,
        }
    }

    pub fn failed(mut self, reason: &str) -> CounterAudit {
        self.result = Err(reason.chars().take(MAX_AUDIT_REASON_CHARS).collect());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> CounterAudit {
        self.detail = detail;
        self
    }
}

fn corrupt(seq: i64, e: impl std::fmt::Display) -> ReplicaError {
    ReplicaError::AuditTrail(format!("第 {seq} 条无法读取：{e}"))
}

fn waiting(conn: &rusqlite::Connection) -> Result<u64, ReplicaError> {
    let count: i64 = conn.query_row(
        "SELECT COUNT(*) FROM audit_trail WHERE seq > COALESCE((SELECT through FROM audit_sent), 0)",
        [],
        |r| r.get(0),
    )?;
    Ok(count as u64)
}

impl Replica {
    /// Appends `entry` as happened at `at`; answers its number.
    pub fn record_audit(&mut self, entry: &CounterAudit, at: OffsetDateTime) -> Result<u64, ReplicaError> {
        let detail = if entry.detail.is_null() { String::new() } else { entry.detail.to_string() };
        self.conn.execute(
            "INSERT INTO audit_trail (local_at, account, event, object, failure, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                at.format(&Rfc3339).expect("a UTC time formats as RFC 3339"),
                entry.account,
                entry.event.as_str(),
                entry.object,
                entry.result.as_ref().err(),
                detail,
            ],
        )?;
        Ok(self.conn.last_insert_rowid() as u64)
    }

    /// The oldest `limit` records the hub does not hold yet, in order.
    pub fn audit_to_send(&self, limit: usize) -> Result<Vec<CounterAuditRecord>, ReplicaError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, local_at, account, event, object, failure, detail FROM audit_trail
             WHERE seq > COALESCE((SELECT through FROM audit_sent), 0) ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut records = Vec::new();
        for row in rows {
            let (seq, local_at, account, event, object, failure, detail) = row?;
            records.push(CounterAuditRecord {
                seq: seq as u64,
                local_at: OffsetDateTime::parse(&local_at, &Rfc3339).map_err(|e| corrupt(seq, e))?,
                account,
                event: event.parse().map_err(|e| corrupt(seq, e))?,
                object,
                result: failure.map_or(Ok(()), Err),
                detail,
            });
        }
        Ok(records)
    }

    /// The hub holds every record up to `through`, and no more: its word, even when it is
    /// less than before (a hub restored from a backup gets the rest again).
    pub fn audit_sent(&mut self, through: u64) -> Result<(), ReplicaError> {
        self.conn.execute(
            "INSERT INTO audit_sent (id, through) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET through = excluded.through",
            [through as i64],
        )?;
        Ok(())
    }

    /// How many records wait to be sent.
    pub fn audit_waiting(&self) -> Result<u64, ReplicaError> {
        waiting(&self.conn)
    }
}

impl ReplicaReader {
    /// How many records wait to be sent.
    pub fn audit_waiting(&self) -> Result<u64, ReplicaError> {
        waiting(&self.conn)
    }

}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_796_000_000 + minute * 60).unwrap()
    }

    #[test]
    fn records_go_out_in_order_until_the_hub_holds_them_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replica.sqlite3");
        let mut replica = Replica::open(&path).unwrap();
        let failed = CounterAudit::new("clerk01", AuditEvent::LoginFailure, "clerk01").failed("离线登录密码错误");
        assert_eq!(replica.record_audit(&failed, at(0)).unwrap(), 1);
        let printed = CounterAudit::new("clerk01", AuditEvent::DocumentPrinted, "JF-2026-000001")
            .detail(serde_json::json!({ "printer": "柜台打印机" }));
        assert_eq!(replica.record_audit(&printed, at(1)).unwrap(), 2);
        drop(replica);

        let mut replica = Replica::open(&path).unwrap();
        let out = replica.audit_to_send(10).unwrap();
        assert_eq!(out.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(out[0].result, Err("离线登录密码错误".to_owned()));
        assert_eq!((out[0].event, out[0].local_at), (AuditEvent::LoginFailure, at(0)));
        assert_eq!(out[1].detail, r#"{"printer":"柜台打印机"}"#);
        assert_eq!(replica.audit_to_send(1).unwrap().len(), 1, "at most the limit");

        replica.audit_sent(1).unwrap();
        assert_eq!(replica.audit_to_send(10).unwrap().iter().map(|r| r.seq).collect::<Vec<_>>(), [2]);
        replica.audit_sent(2).unwrap();
        assert!(replica.audit_to_send(10).unwrap().is_empty());
        replica.audit_sent(0).unwrap();
        assert_eq!(replica.audit_waiting().unwrap(), 2, "a hub that holds none gets them all again");
        replica.audit_sent(2).unwrap();
        assert!(replica.audit_to_send(10).unwrap().is_empty());
    }

    #[test]
    fn a_record_cannot_be_changed_or_removed_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replica.sqlite3");
        let mut replica = Replica::open(&path).unwrap();
        replica.record_audit(&CounterAudit::new("clerk01", AuditEvent::ScreenLocked, ""), at(0)).unwrap();
        drop(replica);
        let conn = rusqlite::Connection::open(&path).unwrap();
        let update = conn.execute("UPDATE audit_trail SET account = 'clerk02'", []).unwrap_err();
        assert!(update.to_string().contains("never changed"), "{update}");
        let delete = conn.execute("DELETE FROM audit_trail", []).unwrap_err();
        assert!(delete.to_string().contains("never removed"), "{delete}");
    }
}
