//! What issuing documents needs from the hub while it can be reached: this counter's
//! public key registered, segments topped up before they run out, and the PDFs of
//! accepted documents delivered.

use yizhan_core::command::Rejection;
use yizhan_core::document::{DocumentKind, IssuedDocument};

use super::{CancellationToken, SyncClient, SyncError, cancellable};
use crate::protocol::{KeyRegistration, Segment, SegmentRequest};
use crate::replica::{Issued, LOW_SERIALS, OutboxEntry, ToIssue};

/// Serials asked for at a time: a busy counter's week.
pub const SEGMENT_SIZE: u64 = 200;

/// Files delivered per round.
const FILES_PER_ROUND: usize = 20;

impl SyncClient {
    /// Registers the key, tops up segments and delivers PDFs; stops at the first thing
    /// that does not go through (the next round tries again).
    pub async fn tend_documents(&self, shutdown: &CancellationToken) -> Result<(), SyncError> {
        let Some(public_key) = self.options.counter_key.clone() else {
            return Ok(());
        };
        let device_id = self.with_replica(|r| r.device_id()).await?;
        if self.with_replica(|r| r.registered_key()).await?.as_deref() != Some(public_key.as_str()) {
            let body = serde_json::to_vec(&KeyRegistration { device_id: device_id.clone(), public_key: public_key.clone() })
                .expect("a registration serialises");
            let _: serde_json::Value = self.post_json("/v1/counters/key", body, shutdown).await?;
            self.with_replica(move |r| r.set_registered_key(&public_key)).await?;
        }
        for left in self.with_replica(|r| r.serials_left()).await? {
            if left.left < LOW_SERIALS {
                let request = SegmentRequest { device_id: device_id.clone(), kind: left.kind, size: SEGMENT_SIZE };
                let body = serde_json::to_vec(&request).expect("a segment request serialises");
                let segment: Segment = self.post_json("/v1/segments", body, shutdown).await?;
                if segment.kind != left.kind || segment.last < segment.first {
                    return Err(SyncError::Hub {
                        status: 200,
                        code: "unreadable_answer".into(),
                        message: format!("数据中心分配的号段不正确：{segment:?}"),
                    });
                }
                self.with_replica(move |r| r.add_segment(segment)).await?;
                tracing::info!(kind = left.kind.as_str(), first = segment.first, last = segment.last, "号段已领取");
            }
        }
        let files = self.with_replica(|r| r.files_to_upload(FILES_PER_ROUND)).await?;
        for file in files {
            let url = format!("{}/v1/documents/{}/pdf", self.hub_url, file.number);
            let request = self.http.put(&url).header(reqwest::header::CONTENT_TYPE, "application/pdf").body(file.bytes);
            let refused = match cancellable(shutdown, self.send(request)).await {
                Ok(_) => None,
                // The hub will never take this file (not its recorded hash): keep it here,
                // say why, and do not try again.
                Err(SyncError::Hub { status: 404 | 409 | 413, message, .. }) => Some(message),
                Err(error) => return Err(error),
            };
            let sm3 = file.pdf_sm3.clone();
            self.with_replica(move |r| r.file_uploaded(&sm3, refused.as_deref())).await?;
        }
        Ok(())
    }
}

impl super::Outbox {
    /// Issues a document from this counter's segment: `make` gets the number and the
    /// project, lays out, signs and prints it.
    pub async fn issue_document(
        &self,
        project_code: &str,
        kind: DocumentKind,
        clerk: &str,
        make: impl FnOnce(ToIssue<'_>) -> Result<Issued, Rejection> + Send + 'static,
    ) -> Result<OutboxEntry, SyncError> {
        let (code, clerk) = (project_code.to_owned(), clerk.to_owned());
        let entry = super::with_replica(&self.replica, move |r| r.issue_document(&code, kind, &clerk, r.clock().now(), make)).await?;
        self.issued(&entry.project_code).await?;
        Ok(entry)
    }

    /// Prints a document again, marked 补打.
    pub async fn reprint_document(
        &self,
        project_code: &str,
        number: &str,
        clerk: &str,
        make: impl FnOnce(&IssuedDocument) -> Result<Vec<u8>, Rejection> + Send + 'static,
    ) -> Result<OutboxEntry, SyncError> {
        let (code, number, clerk) = (project_code.to_owned(), number.to_owned(), clerk.to_owned());
        let entry = super::with_replica(&self.replica, move |r| r.reprint_document(&code, &number, &clerk, r.clock().now(), make)).await?;
        self.issued(&entry.project_code).await?;
        Ok(entry)
    }
}
