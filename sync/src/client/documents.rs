//! What issuing documents needs from the hub while it can be reached: this counter's
//! public key registered, segments topped up before they run out, and the PDFs of
//! accepted documents delivered.

use yizhan_core::code::ProjectCode;
use yizhan_core::command::Rejection;
use yizhan_core::document::{Document, DocumentKind, IssuedDocument};
use yizhan_core::document_rules::{FailedCheck, describe};

use super::{CancellationToken, SyncClient, SyncError, cancellable};
use crate::protocol::{DocumentCheck, Segment, SegmentRequest};
use crate::replica::{Issued, Issuer, LOW_SERIALS, OutboxEntry, ReplicaError, ToIssue};
use crate::status::SyncState;

/// Serials asked for at a time: a busy counter's week.
pub const SEGMENT_SIZE: u64 = 200;

/// How long a clerk waits for the hub's checks before the counter issues as offline.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Files delivered per round.
const FILES_PER_ROUND: usize = 20;

impl SyncClient {
    /// Tops up segments and delivers PDFs; stops at the first thing that does not go
    /// through (the next round tries again). A counter without a key issues nothing.
    pub async fn tend_documents(&self, shutdown: &CancellationToken) -> Result<(), SyncError> {
        if self.options.counter_key.is_none() || !self.options.issues_documents {
            return Ok(());
        }
        let device_id = self.with_replica(|r| r.device_id()).await?;
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
                        field: None,
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
        project_code: &ProjectCode,
        kind: DocumentKind,
        issuer: &Issuer,
        make: impl FnOnce(ToIssue<'_>) -> Result<Issued, Rejection> + Send + 'static,
    ) -> Result<OutboxEntry, SyncError> {
        let (code, issuer) = (project_code.clone(), issuer.clone());
        let online = matches!(self.status.borrow().state, SyncState::Online | SyncState::Syncing);
        if online && self.delivered(&code).await? {
            let (draft_code, draft_clerk) = (code.clone(), issuer.clerk().to_owned());
            let draft = super::with_replica(&self.replica, move |r| r.document_draft(&draft_code, kind, &draft_clerk, r.clock().now())).await?;
            match self.hub_checks(&draft).await {
                Ok(failed) if !failed.is_empty() => {
                    return Err(ReplicaError::Refused(Rejection::new(
                        "hub_check_failed",
                        format!("数据中心核对未通过，未开具、未占用号码：{}。请待本窗口数据同步后重试，或联系数据中心核实。", describe(&failed)),
                    ))
                    .into());
                }
                Ok(_) => {}
                // The hub checks again when the document reaches it; a counter that cannot
                // ask goes on as offline.
                Err(error) => tracing::warn!(%error, "开具前未能请数据中心核对，按本机数据开具"),
            }
        }
        let entry = super::with_replica(&self.replica, move |r| r.issue_document(&code, kind, &issuer, r.clock().now(), make)).await?;
        self.issued(&entry.project_code).await?;
        Ok(entry)
    }

    /// Waits, up to the check's time, until what the clerk did to the project here (a 复核
    /// just recorded) has reached the hub, so that the hub checks against it; `false` when
    /// it has not, and the hub cannot be asked fairly.
    async fn delivered(&self, project_code: &ProjectCode) -> Result<bool, SyncError> {
        let deadline = tokio::time::Instant::now() + CHECK_TIMEOUT;
        loop {
            let code = project_code.clone();
            if super::with_replica(&self.replica, move |r| r.pending_for(&code)).await? == 0 {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(%project_code, "本项目尚有未上传的办理记录，开具前未请数据中心核对");
                return Ok(false);
            }
            self.wake.notify_one();
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The document rules the hub finds `draft` breaks against its own records.
    async fn hub_checks(&self, draft: &Document) -> Result<Vec<FailedCheck>, SyncError> {
        let url = format!("{}/v1/document-checks", self.hub_url);
        let network = |source: reqwest::Error| SyncError::Network { url: url.clone(), source };
        let body = serde_json::to_vec(draft).expect("a document serialises");
        let request = self.http.post(&url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body).timeout(CHECK_TIMEOUT);
        let response = super::send_as(self.device.as_ref(), &self.hub_url, request).await?;
        let answer: DocumentCheck = response.json().await.map_err(network)?;
        Ok(answer.failed_checks)
    }

    /// Prints a document again, marked 补打.
    pub async fn reprint_document(
        &self,
        project_code: &ProjectCode,
        number: &str,
        issuer: &Issuer,
        make: impl FnOnce(&IssuedDocument) -> Result<Vec<u8>, Rejection> + Send + 'static,
    ) -> Result<OutboxEntry, SyncError> {
        let (code, number, issuer) = (project_code.clone(), number.to_owned(), issuer.clone());
        let entry = super::with_replica(&self.replica, move |r| r.reprint_document(&code, &number, &issuer, r.clock().now(), make)).await?;
        self.issued(&entry.project_code).await?;
        Ok(entry)
    }
}
