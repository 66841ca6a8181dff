//! Counters' own audit trails (`POST /v1/counters/audit`): what happened at a window,
//! signed by the counter's key and taken into the hub's chain once each, in the order
//! it happened there. How far the hub holds each counter's trail is kept with the trail,
//! in the same transaction, so a batch sent again adds nothing.

use std::collections::HashMap;

use yizhan_sync::protocol::{
    COUNTER_AUDIT_BATCH, CounterAuditBatch, CounterAuditRecord, MAX_AUDIT_DETAIL_CHARS, MAX_AUDIT_OBJECT_CHARS,
    MAX_AUDIT_REASON_CHARS,
};

use super::{Actor, Entry, seal};
use crate::error::HubError;
use crate::hub::Hub;
use crate::store::{AuditRecord, AuditTail};

/// What is wrong with one record, named by its place in the batch.
fn invalid(i: usize, field: &str, problem: impl std::fmt::Display) -> HubError {
    HubError::InvalidBody(format!("records[{i}].{field}：{problem}"))
}

/// Checks the batch's shape: a known counter event, bounded text, JSON detail, numbers
/// running on by one.
fn check(batch: &CounterAuditBatch) -> Result<(), HubError> {
    if batch.records.is_empty() || batch.records.len() > COUNTER_AUDIT_BATCH {
        return Err(HubError::InvalidBody(format!("records：应有 1–{COUNTER_AUDIT_BATCH} 条，收到 {} 条", batch.records.len())));
    }
    for (i, r) in batch.records.iter().enumerate() {
        if i > 0 && r.seq != batch.records[i - 1].seq + 1 {
            return Err(invalid(i, "seq", format!("应紧接上一条（{}），收到 {}", batch.records[i - 1].seq + 1, r.seq)));
        }
        if r.seq == 0 {
            return Err(invalid(i, "seq", "从 1 开始"));
        }
        if !r.event.reported_by_counter() {
            return Err(invalid(i, "event", format!("{} 不是终端可上报的事件", r.event)));
        }
        for (field, text, most) in [
            ("account", r.account.as_str(), yizhan_core::id::MAX_ID_CHARS),
            ("object", r.object.as_str(), MAX_AUDIT_OBJECT_CHARS),
            ("result", r.result.as_ref().err().map_or("", String::as_str), MAX_AUDIT_REASON_CHARS),
            ("detail", r.detail.as_str(), MAX_AUDIT_DETAIL_CHARS),
        ] {
            if text.chars().count() > most {
                return Err(invalid(i, field, format!("不超过 {most} 个字符")));
            }
        }
        if !r.detail.is_empty() && serde_json::from_str::<serde_json::Value>(&r.detail).is_err() {
            return Err(invalid(i, "detail", "应为 JSON 文本"));
        }
    }
    Ok(())
}

/// The hub's record of one counter record: under the account and roles it names, from
/// the counter and address it came from, at the counter's time and the hub's.
fn entry(r: CounterAuditRecord, device: &str, address: &str, roles: &HashMap<String, String>) -> Entry {
    let actor = Actor {
        user: r.account.clone(),
        role: roles.get(&r.account).cloned().unwrap_or_default(),
        device: device.to_owned(),
        address: address.to_owned(),
    };
    let mut detail = match serde_json::from_str::<serde_json::Value>(&r.detail) {
        Ok(serde_json::Value::Object(fields)) => fields,
        Ok(other) => serde_json::Map::from_iter([("detail".to_owned(), other)]),
        Err(_) => serde_json::Map::new(),
    };
    detail.insert("counter_seq".into(), r.seq.into());
    let mut entry = Entry::new(&actor, r.event, r.object).detail(serde_json::Value::Object(detail));
    entry.local_at = Some(r.local_at);
    entry.result = r.result;
    entry
}

/// The records a batch adds after the counter's `held` ones, chained from `tail`: none
/// when the batch does not continue from there (it is a repeat, or the hub holds less
/// than the counter thinks; the answer tells it where to go on from).
fn continuing(
    key: &crate::keys::AuditKey,
    entries: Vec<(u64, Entry)>,
    held: u64,
    at: time::OffsetDateTime,
    tail: &AuditTail,
) -> (Vec<AuditRecord>, u64) {
    let fresh: Vec<(u64, Entry)> = entries.into_iter().filter(|(seq, _)| *seq > held).collect();
    if fresh.first().is_none_or(|(seq, _)| *seq != held + 1) {
        return (Vec::new(), held);
    }
    let through = fresh.last().map_or(held, |(seq, _)| *seq);
    let mut tail = tail.clone();
    let records = fresh
        .into_iter()
        .map(|(_, entry)| {
            let record = seal(key, entry, at, &tail);
            tail = AuditTail { id: record.id, mac: record.mac.clone() };
            record
        })
        .collect();
    (records, through)
}

impl Hub {
    /// Takes in a counter's audit records from `address`; answers how far the hub now
    /// holds that counter's trail.
    pub async fn take_counter_audit(&self, batch: CounterAuditBatch, address: &str) -> Result<u64, HubError> {
        check(&batch)?;
        let device = batch.device_id.clone();
        let text = CounterAuditBatch::signed_text(&device, &batch.records);
        match self.counter_signed(&device, text, &batch.signature).await? {
            None => return Err(HubError::UnknownCounter(device.to_string())),
            Some(false) => return Err(HubError::BadSignature(device.to_string())),
            Some(true) => {}
        }
        let mut roles = HashMap::new();
        for r in &batch.records {
            if !r.account.is_empty() && !roles.contains_key(&r.account) {
                let held = match r.account.parse() {
                    Ok(account) => self.roles_held(&account).await?,
                    Err(_) => String::new(),
                };
                roles.insert(r.account.clone(), held);
            }
        }
        let entries: Vec<(u64, Entry)> =
            batch.records.into_iter().map(|r| (r.seq, entry(r, device.as_str(), address, &roles))).collect();
        let (key, at) = (self.audit_key().clone(), self.clock().now());
        let through = self
            .store()
            .append_counter_audit(device.to_string(), Box::new(move |held, tail| continuing(&key, entries, held, at, tail)))
            .await
            .inspect_err(|e| self.audit_in_doubt(format!("终端 {device} 的审计记录未能写入（{e}）")))?;
        Ok(through)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;
    use yizhan_core::audit::AuditEvent;

    fn record(seq: u64, event: AuditEvent) -> CounterAuditRecord {
        CounterAuditRecord {
            seq,
            local_at: OffsetDateTime::UNIX_EPOCH,
            account: "clerk01".into(),
            event,
            object: "JF-2026-000001".into(),
            result: Ok(()),
            detail: String::new(),
        }
    }

    fn batch(records: Vec<CounterAuditRecord>) -> CounterAuditBatch {
        CounterAuditBatch { device_id: "counter-01".parse().unwrap(), records, signature: String::new() }
    }

    fn refusal(batch: &CounterAuditBatch) -> String {
        check(batch).unwrap_err().to_string()
    }

    #[test]
    fn a_batch_names_the_record_and_field_it_cannot_take() {
        assert!(check(&batch(vec![record(4, AuditEvent::DocumentPrinted), record(5, AuditEvent::Logout)])).is_ok());
        assert!(refusal(&batch(vec![])).contains("records"));
        assert!(refusal(&batch(vec![record(4, AuditEvent::Logout), record(6, AuditEvent::Logout)])).contains("records[1].seq"));
        assert!(refusal(&batch(vec![record(1, AuditEvent::ClerkCommand)])).contains("records[0].event"));
        let mut long = record(1, AuditEvent::DocumentViewed);
        long.object = "票".repeat(MAX_AUDIT_OBJECT_CHARS + 1);
        assert!(refusal(&batch(vec![long])).contains("records[0].object"));
        let mut not_json = record(1, AuditEvent::DocumentViewed);
        not_json.detail = "{printer".into();
        assert!(refusal(&batch(vec![not_json])).contains("records[0].detail"));
    }

    #[test]
    fn only_the_records_continuing_the_held_trail_are_added_in_a_chain() {
        let key = crate::keys::AuditKey::from_bytes(&[7; 32]).unwrap();
        let entries = |seqs: &[u64]| -> Vec<(u64, Entry)> {
            seqs.iter().map(|&s| (s, entry(record(s, AuditEvent::DocumentViewed), "counter-01", "10.0.0.8", &HashMap::new()))).collect()
        };
        let tail = AuditTail { id: 9, mac: "ab".into() };
        let (records, through) = continuing(&key, entries(&[3, 4, 5]), 3, OffsetDateTime::UNIX_EPOCH, &tail);
        assert_eq!(through, 5);
        assert_eq!(records.iter().map(|r| r.id).collect::<Vec<_>>(), [10, 11], "3 was held: a repeat adds nothing");
        assert!(records[1].detail.contains("\"counter_seq\":5"), "{}", records[1].detail);
        let (none, held) = continuing(&key, entries(&[7, 8]), 5, OffsetDateTime::UNIX_EPOCH, &tail);
        assert!(none.is_empty() && held == 5, "a gap adds nothing and answers how far the hub holds");
    }
}
