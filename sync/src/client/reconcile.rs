//! Reconciliation (anti-entropy): the replica and the hub compare checksums of key
//! ranges, entity by entity; a range that differs is cut into [`FANOUT`] parts and compared
//! again, until the differing ranges are small enough to fetch from the hub and repair.
//! Equal ranges are never shipped, so two large copies that differ in a few rows exchange
//! a few kilobytes.

use std::collections::BTreeSet;

use serde::Serialize;
use serde::de::DeserializeOwned;
use yizhan_core::entity::EntityKind;

use super::{CancellationToken, SyncClient, SyncError, unreadable};
use crate::protocol::{
    CounterReport, KeyRange, RangeRow, RangeRows, RangeRowsRequest, RangeSums, RangeSumsRequest,
};
use crate::status::ReconcileReport;

/// Parts a differing range is cut into at each level.
pub const FANOUT: u64 = 16;
/// A differing range with at most this many rows on either side is fetched and repaired.
pub const LEAF_ROWS: u64 = 64;
/// Ranges per checksum request and rows per page: under the hub's limits.
const RANGES_PER_REQUEST: usize = 500;
const ROWS_PER_PAGE: u32 = 1_000;

impl SyncClient {
    /// Compares the whole replica with the hub and repairs the rows that differ. Meant to
    /// run when the replica is caught up: rows changed at the hub since the cursor look
    /// different too, and are brought to the hub's current state (the feed then finds
    /// them up to date).
    pub async fn reconcile(&self, shutdown: &CancellationToken) -> Result<ReconcileReport, SyncError> {
        let mut report = ReconcileReport {
            at: self.clock.now(),
            ..ReconcileReport::default()
        };
        let mut touched = BTreeSet::new();
        let mut ranges: Vec<KeyRange> = EntityKind::ALL.into_iter().map(KeyRange::whole).collect();
        let mut first_level = true;
        while !ranges.is_empty() {
            let mut next = Vec::new();
            for chunk in ranges.chunks(RANGES_PER_REQUEST) {
                let chunk = chunk.to_vec();
                let local = {
                    let chunk = chunk.clone();
                    self.with_replica(move |r| r.range_sums(&chunk)).await?
                };
                let remote: RangeSums = self
                    .post("/v1/reconcile/sums", &RangeSumsRequest { ranges: chunk.clone() }, &mut report, shutdown)
                    .await?;
                if first_level {
                    report.rows_compared += remote.sums.iter().map(|s| s.count).sum::<u64>();
                }
                report.ranges_compared += chunk.len() as u64;
                for ((range, local), remote) in chunk.into_iter().zip(local).zip(remote.sums) {
                    if local == remote {
                        continue;
                    }
                    if local.count <= LEAF_ROWS || remote.count <= LEAF_ROWS {
                        let rows = self.fetch_range(&range, &mut report, shutdown).await?;
                        let repair = self.with_replica(move |r| r.repair_range(&range, &rows)).await?;
                        report.rows_repaired += repair.repaired;
                        touched.extend(repair.projects);
                    } else {
                        let split = range.clone();
                        let keys = self.with_replica(move |r| r.split_keys(&split, FANOUT)).await?;
                        let mut after = range.after.clone();
                        for key in keys {
                            next.push(KeyRange { entity: range.entity, after, upto: Some(key.clone()) });
                            after = Some(key);
                        }
                        next.push(KeyRange { entity: range.entity, after, upto: range.upto });
                    }
                }
            }
            first_level = false;
            ranges = next;
        }
        if report.rows_repaired > 0 {
            tracing::warn!(repaired = report.rows_repaired, "reconciliation repaired rows that differed from the hub");
            let cursor = self.status.borrow().cursor;
            self.notify(cursor, touched.into_iter().collect());
        }
        let done = report.clone();
        self.status.send_modify(|s| s.reconcile = Some(done));
        if let Err(error) = self.report_to_hub(shutdown).await {
            tracing::info!(%error, "could not report to the hub; it hears at the next reconciliation");
        }
        Ok(report)
    }

    /// Tells the hub how this counter stands (`GET /v1/status` shows it to operators).
    pub async fn report_to_hub(&self, shutdown: &CancellationToken) -> Result<(), SyncError> {
        let (device_id, documents_pending) = self.with_replica(|r| Ok((r.device_id()?, r.documents_pending()?))).await?;
        let report = {
            let status = self.status.borrow();
            CounterReport {
                device_id,
                cursor: status.cursor,
                outbox: status.outbox,
                documents_pending,
                integrity_alert: status.integrity.alert,
                reconcile: status.reconcile.clone(),
            }
        };
        let mut ignored = ReconcileReport::default();
        let _: serde_json::Value = self.post("/v1/counters/report", &report, &mut ignored, shutdown).await?;
        Ok(())
    }

    /// Every row the hub holds in `range`, page by page.
    async fn fetch_range(
        &self,
        range: &KeyRange,
        report: &mut ReconcileReport,
        shutdown: &CancellationToken,
    ) -> Result<Vec<RangeRow>, SyncError> {
        let mut rows: Vec<RangeRow> = Vec::new();
        let mut page_range = range.clone();
        loop {
            let request = RangeRowsRequest { range: page_range.clone(), limit: ROWS_PER_PAGE };
            let page: RangeRows = self.post("/v1/reconcile/rows", &request, report, shutdown).await?;
            let more = page.more;
            rows.extend(page.rows);
            match rows.last() {
                Some(last) if more => page_range.after = Some(last.key.clone()),
                _ => return Ok(rows),
            }
        }
    }

    /// POSTs `body` as JSON and reads the answer, counting the bytes both ways.
    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        report: &mut ReconcileReport,
        shutdown: &CancellationToken,
    ) -> Result<T, SyncError> {
        let body = serde_json::to_vec(body).expect("requests serialise to JSON");
        report.bytes_sent += body.len() as u64;
        let answer = self.post_bytes(path, body, shutdown).await?;
        report.bytes_received += answer.len() as u64;
        serde_json::from_slice(&answer).map_err(|e| unreadable(path, &e))
    }
}
