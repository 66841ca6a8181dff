//! The audit trail: who did what to which object, from where, when, with what result.
//! Each record's MAC is HMAC-SM3, under a key from the `KeyProvider`, over the record and
//! the MAC before it, so whoever can write the database but not read the key cannot
//! change, remove or insert a record unnoticed. Written here once, over any backend's
//! plain append (`AuditStore`).

pub mod counter;
pub mod export;

pub use yizhan_core::audit::AuditEvent;

use hmac::{Hmac, Mac};
use sm3::Sm3;
use time::{Duration, OffsetDateTime};

use crate::keys::AuditKey;
use crate::store::{AuditCheckpoint, AuditRecord, AuditStore, AuditTail, StoreError};

/// Records younger than this are never pruned (网络安全法 art. 21: at least six months).
pub const RETENTION_DAYS: i64 = 180;
/// Records read per page while verifying.
const VERIFY_PAGE: usize = 5_000;

/// Who acted, from where: the parts of a record a request gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub user: String,
    pub role: String,
    pub device: String,
    pub address: String,
}

/// One thing to record.
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor: Actor,
    pub event: AuditEvent,
    pub object: String,
    /// `Err(reason)` for an action refused or failed.
    pub result: Result<(), String>,
    /// Before/after of changed values, personal fields already masked.
    pub detail: serde_json::Value,
    pub local_at: Option<OffsetDateTime>,
}

impl Entry {
    pub fn new(actor: &Actor, event: AuditEvent, object: impl Into<String>) -> Entry {
        Entry {
            actor: actor.clone(),
            event,
            object: object.into(),
            result: Ok(()),
            detail: serde_json::Value::Null,
            local_at: None,
        }
    }

    pub fn failed(mut self, reason: impl Into<String>) -> Entry {
        self.result = Err(reason.into());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Entry {
        self.detail = detail;
        self
    }
}

type HmacSm3 = Hmac<Sm3>;

fn hmac(key: &AuditKey, text: &[u8]) -> String {
    let mut mac = HmacSm3::new_from_slice(key.bytes()).expect("HMAC takes a key of any length");
    mac.update(text);
    hex::encode(mac.finalize().into_bytes())
}

/// The MAC of `record` chained to `prev_mac`: over a JSON array of every field, so no two
/// different records read the same.
fn record_mac(key: &AuditKey, prev_mac: &str, r: &AuditRecord) -> String {
    let text = serde_json::json!([
        prev_mac,
        r.id,
        time_text(r.at),
        r.local_at.map(time_text),
        r.user,
        r.role,
        r.device,
        r.address,
        r.event,
        r.object,
        r.result,
        r.reason,
        r.detail,
    ]);
    hmac(key, text.to_string().as_bytes())
}

fn checkpoint_seal(key: &AuditKey, through_id: u64, through_mac: &str, through_at: OffsetDateTime) -> String {
    hmac(key, format!("YIZHAN-AUDIT-CHECKPOINT\n{through_id}\n{through_mac}\n{}", time_text(through_at)).as_bytes())
}

fn time_text(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).expect("a UTC time formats as RFC 3339")
}

/// Appends `entry` at `at`, chained to the trail's tail.
pub async fn append(store: &dyn AuditStore, key: &AuditKey, entry: Entry, at: OffsetDateTime) -> Result<AuditRecord, StoreError> {
    let key = key.clone();
    store.append_audit(Box::new(move |tail: &AuditTail| seal(&key, entry, at, tail))).await
}

/// The record `entry` makes at `at` after `tail`, its MAC chained to the tail's: for a
/// store writing it inside the transaction of the action it records.
pub fn seal(key: &AuditKey, entry: Entry, at: OffsetDateTime, tail: &AuditTail) -> AuditRecord {
    let (result, reason) = match entry.result {
        Ok(()) => ("success".to_owned(), String::new()),
        Err(reason) => ("failure".to_owned(), reason),
    };
    let mut record = AuditRecord {
        id: tail.id + 1,
        // The MAC covers the time as stored: RFC 3339 to the microsecond.
        at: at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000).expect("a nanosecond below 10⁹"),
        local_at: entry.local_at,
        user: entry.actor.user,
        role: entry.actor.role,
        device: entry.actor.device,
        address: entry.actor.address,
        event: entry.event.as_str().to_owned(),
        object: entry.object,
        result,
        reason,
        detail: if entry.detail.is_null() { String::new() } else { entry.detail.to_string() },
        mac: String::new(),
    };
    record.mac = record_mac(key, &tail.mac, &record);
    record
}

/// A record as the audit administrator reads it (`GET /v1/audit`): the fields, its MAC left
/// to `audit verify`.
impl From<AuditRecord> for yizhan_sync::protocol::AuditEntry {
    fn from(r: AuditRecord) -> Self {
        yizhan_sync::protocol::AuditEntry {
            id: r.id,
            at: time_text(r.at),
            local_at: r.local_at.map(time_text),
            user: r.user,
            role: r.role,
            device: r.device,
            address: r.address,
            event: r.event,
            object: r.object,
            result: r.result,
            reason: r.reason,
            detail: r.detail,
        }
    }
}

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every record from the checkpoint (or the first) on checks out.
    Intact { records: u64, from_id: u64, head_id: u64 },
    /// The first record that does not: its id and what is wrong.
    Broken { id: u64, problem: String },
}

/// Walks the trail from its checkpoint, checking every link.
pub async fn verify(store: &dyn AuditStore, key: &AuditKey) -> Result<Verification, StoreError> {
    let mut tail = AuditTail::default();
    if let Some(cp) = store.audit_checkpoint().await? {
        if checkpoint_seal(key, cp.through_id, &cp.through_mac, cp.through_at) != cp.seal {
            return Ok(Verification::Broken {
                id: cp.through_id,
                problem: format!("剪裁检查点（至第 {} 条）的封印不符：检查点被改动或伪造", cp.through_id),
            });
        }
        tail = AuditTail { id: cp.through_id, mac: cp.through_mac };
    }
    let from_id = tail.id + 1;
    if let Some(first) = store.audit_after(0, 1).await?.pop().filter(|r| r.id < from_id) {
        return Ok(Verification::Broken {
            id: first.id,
            problem: format!("第 {} 条记录位于剪裁检查点之前却仍在表中：检查点或记录被改动", first.id),
        });
    }
    let mut records = 0u64;
    loop {
        let page = store.audit_after(tail.id, VERIFY_PAGE).await?;
        if page.is_empty() {
            return Ok(Verification::Intact { records, from_id, head_id: tail.id });
        }
        for r in page {
            if r.id != tail.id + 1 {
                let missing = if r.id == tail.id + 2 {
                    format!("第 {} 条", tail.id + 1)
                } else {
                    format!("第 {}–{} 条", tail.id + 1, r.id - 1)
                };
                return Ok(Verification::Broken { id: tail.id + 1, problem: format!("{missing}记录缺失：记录被删除") });
            }
            if record_mac(key, &tail.mac, &r) != r.mac {
                return Ok(Verification::Broken {
                    id: r.id,
                    problem: format!("第 {} 条记录（{} {}）与其校验码不符：记录被改动或插入", r.id, r.event, r.object),
                });
            }
            records += 1;
            tail = AuditTail { id: r.id, mac: r.mac };
        }
    }
}

/// Why a prune was refused.
#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error("审计记录至少保留 {RETENTION_DAYS} 天：不能剪裁 {0} 之后的记录")]
    TooYoung(String),
    #[error("审计记录校验未通过，先处理：{0}")]
    Broken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Removes the records made before `before`, which must be at least 180 days ago, after
/// checking the chain up to them, and leaves a sealed checkpoint verification starts from.
/// Returns how many records went.
pub async fn prune(store: &dyn AuditStore, key: &AuditKey, before: OffsetDateTime, now: OffsetDateTime) -> Result<u64, PruneError> {
    if before > now - Duration::days(RETENTION_DAYS) {
        return Err(PruneError::TooYoung(yizhan_core::clock::shanghai_minute(before)));
    }
    if let Verification::Broken { problem, .. } = verify(store, key).await? {
        return Err(PruneError::Broken(problem));
    }
    let mut last: Option<AuditRecord> = None;
    let mut after = store.audit_checkpoint().await?.map_or(0, |c| c.through_id);
    'pages: loop {
        let page = store.audit_after(after, VERIFY_PAGE).await?;
        if page.is_empty() {
            break;
        }
        for r in page {
            if r.at >= before {
                break 'pages;
            }
            after = r.id;
            last = Some(r);
        }
    }
    let Some(last) = last else { return Ok(0) };
    let seal = checkpoint_seal(key, last.id, &last.mac, last.at);
    Ok(store
        .prune_audit(AuditCheckpoint { through_id: last.id, through_mac: last.mac, through_at: last.at, seal })
        .await?)
}

/// How often a serving hub verifies its own trail.
pub const VERIFY_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

impl crate::hub::Hub {
    /// Checks the chain; a break also raises the red alert.
    pub async fn verify_audit(&self) -> Result<Verification, StoreError> {
        let verification = verify(self.store(), self.audit_key()).await?;
        if let Verification::Broken { id, problem } = &verification {
            self.audit_in_doubt(format!("校验失败：第 {id} 条，{problem}"));
        }
        Ok(verification)
    }

    /// Prunes records older than `keep` (at least 180 days), audited.
    pub async fn prune_audit(&self, keep: Duration) -> Result<u64, PruneError> {
        let now = self.clock().now();
        let removed = prune(self.store(), self.audit_key(), now - keep, now).await?;
        let actor = Actor { user: "yizhan-hub audit prune".into(), role: "operator".into(), ..Actor::default() };
        self.audit(Entry::new(&actor, AuditEvent::AuditPruned, "audit_log").detail(serde_json::json!({
            "removed": removed, "kept_days": keep.whole_days()
        })))
        .await?;
        Ok(removed)
    }
}

/// Verifies the trail once a day while the hub serves, and says so loudly when it is broken.
pub async fn run_daily_verification(hub: crate::hub::Hub, mut closing: tokio::sync::watch::Receiver<bool>) {
    loop {
        match hub.verify_audit().await {
            Ok(Verification::Intact { records, .. }) => tracing::info!(records, "审计记录每日校验通过"),
            Ok(Verification::Broken { id, problem }) => tracing::error!(id, problem, "审计记录每日校验发现篡改"),
            Err(e) => tracing::error!(error = %e, "审计记录每日校验无法完成"),
        }
        tokio::select! {
            _ = tokio::time::sleep(VERIFY_EVERY) => {}
            _ = closing.changed() => return,
        }
    }
}
