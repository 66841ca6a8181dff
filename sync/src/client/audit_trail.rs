//! The counter's audit trail: recorded here as things happen at the window, whether or not
//! the hub answers, and sent up behind the outbox's commands, in order and signed by the
//! counter's key. The hub takes each record once, so a batch whose answer was lost is
//! simply sent again; a hub that holds fewer than the counter thinks (restored from a
//! backup) says how far it holds, and the counter sends the rest again.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;
use yizhan_core::clock::Clock;

use super::{CancellationToken, SyncClient, SyncError};
use crate::protocol::{COUNTER_AUDIT_BATCH, CounterAuditAccepted, CounterAuditBatch};
use crate::replica::{CounterAudit, Replica};

/// Where the app records what happens at this counter.
#[derive(Clone)]
pub struct AuditTrail {
    replica: Arc<Mutex<Replica>>,
    clock: Clock,
    wake: Arc<Notify>,
}

impl AuditTrail {
    /// Records `entry` now. An action whose record cannot be written must fail: the
    /// caller passes the error on.
    pub async fn record(&self, entry: CounterAudit) -> Result<(), SyncError> {
        let trail = self.clone();
        tokio::task::spawn_blocking(move || trail.record_blocking(&entry))
            .await
            .map_err(|e| SyncError::Internal(e.to_string()))?
    }

    /// [`AuditTrail::record`] from a thread that may block (a synchronous command).
    pub fn record_blocking(&self, entry: &CounterAudit) -> Result<(), SyncError> {
        let at = self.clock.now();
        self.replica.lock().unwrap_or_else(PoisonError::into_inner).record_audit(entry, at)?;
        self.wake.notify_one();
        Ok(())
    }
}

impl SyncClient {
    /// The handle the app records this counter's audit trail through.
    pub fn audit_trail(&self) -> AuditTrail {
        AuditTrail { replica: Arc::clone(&self.replica), clock: self.clock.clone(), wake: Arc::clone(&self.wake_upload) }
    }

    /// Sends every record the hub does not hold yet; answers how many went. A counter
    /// without a key keeps them: the hub takes none unsigned.
    pub async fn send_audit_trail(&self, shutdown: &CancellationToken) -> Result<u64, SyncError> {
        let Some(key) = self.options.counter_key.clone() else {
            return Ok(0);
        };
        let mut sent = 0;
        let mut rewound = false;
        loop {
            let records = self.with_replica(|r| r.audit_to_send(COUNTER_AUDIT_BATCH)).await?;
            let Some(first) = records.first().map(|r| r.seq) else {
                return Ok(sent);
            };
            let device_id = self.with_replica(|r| r.device_id()).await?;
            let signature = hex::encode(key.sign(CounterAuditBatch::signed_text(&device_id, &records).as_bytes()));
            let count = records.len() as u64;
            let body = serde_json::to_vec(&CounterAuditBatch { device_id, records, signature }).expect("a batch serialises");
            let accepted: CounterAuditAccepted = self.post_json("/v1/counters/audit", body, shutdown).await?;
            if accepted.through + 1 < first {
                // The hub holds less than this counter was told: once per round, start again
                // from where it stands (the records are never removed here).
                if std::mem::replace(&mut rewound, true) {
                    return Err(SyncError::Internal(format!(
                        "数据中心只保存到本机第 {} 条审计记录，补发后仍不接收",
                        accepted.through
                    )));
                }
                tracing::warn!(through = accepted.through, first, "the hub holds fewer audit records than sent: sending again");
            } else {
                sent += count.min(accepted.through + 1 - first);
            }
            self.with_replica(move |r| r.audit_sent(accepted.through)).await?;
        }
    }
}
