//! The operators' view of the department feeds: connector status, the quarantine and its
//! handling, and the legacy export upload.

use axum::{Extension, Json};
use axum::body::{Body, Bytes};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use futures_util::StreamExt;
use yizhan_sync::protocol::{ConnectorStatus, DeliveryReport, ImportEvent, QuarantineEntry, QuarantineState, SourceComparison};

use super::ingest::read_body_up_to;
use crate::accounts::Principal;
use crate::audit::{AuditEvent, Entry};
use crate::config::IMPORT_LIMIT_BYTES;
use crate::error::HubError;
use crate::hub::Hub;
use crate::store::{ConnectorRecord, QuarantineRecord};

/// Most entries one quarantine page lists.
const QUARANTINE_PAGE: usize = 500;

/// `GET /v1/connectors`: every feed, its lag computed now.
pub async fn connectors(State(hub): State<Hub>) -> Result<Json<Vec<ConnectorStatus>>, HubError> {
    let now = OffsetDateTime::now_utc();
    let connectors = hub.store().connectors().await?;
    Ok(Json(connectors.into_iter().map(|c| status(c, now)).collect()))
}

/// A connector as the operators see it at `now`. A source that says it has nothing unsent
/// is not behind, however long it was quiet.
fn status(c: ConnectorRecord, now: OffsetDateTime) -> ConnectorStatus {
    let lag_seconds = match c.source_lag_bytes {
        Some(0) => Some(0),
        _ => c.newest_source_at.map(|at| (now - at).whole_seconds().max(0)),
    };
    ConnectorStatus {
        name: c.name,
        kind: c.kind.as_str().to_owned(),
        position: c.position,
        heartbeat_at: c.heartbeat_at,
        received: c.received,
        applied: c.applied,
        quarantined: c.quarantined,
        newest_source_at: c.newest_source_at,
        lag_seconds,
        source_lag_bytes: c.source_lag_bytes,
        last_error: c.last_error,
        last_error_at: c.last_error_at,
        verification: c.verification,
    }
}

impl From<QuarantineRecord> for QuarantineEntry {
    fn from(r: QuarantineRecord) -> QuarantineEntry {
        QuarantineEntry {
            id: r.id,
            connector: r.connector,
            source: r.source,
            source_id: r.source_id,
            location: r.location,
            record: r.record,
            problems: r.problems,
            state: r.state,
            received_at: r.received_at,
            closed_at: r.closed_at,
            closed_by: r.closed_by,
            close_note: r.close_note,
        }
    }
}

/// `POST /v1/connectors/planning-file/verify`: the last export compared with the hub now.
pub async fn verify_planning_file(State(hub): State<Hub>) -> Result<Json<SourceComparison>, HubError> {
    hub.verify_last_import()
        .await?
        .map(Json)
        .ok_or(HubError::NothingImported)
}

#[derive(Debug, Deserialize)]
pub struct QuarantineQuery {
    state: Option<String>,
    connector: Option<String>,
    limit: Option<usize>,
}

/// `GET /v1/quarantine?state=open&connector=…&limit=…`, newest first.
pub async fn quarantine(
    State(hub): State<Hub>,
    query: Result<Query<QuarantineQuery>, QueryRejection>,
) -> Result<Json<Vec<QuarantineEntry>>, HubError> {
    let Query(q) = query.map_err(|e| HubError::BadQuery(format!("limit 应为正整数（{}）", e.body_text())))?;
    let state = match q.state.as_deref() {
        None => None,
        Some(text) => Some(
            QuarantineState::parse(text)
                .ok_or_else(|| HubError::BadQuery(format!("state 应为 open、reprocessed 或 dismissed，收到 {text:?}")))?,
        ),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, QUARANTINE_PAGE);
    let entries = hub.store().quarantine(state, q.connector, limit).await?;
    Ok(Json(entries.into_iter().map(QuarantineEntry::from).collect()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reprocess {
    /// The corrected record; absent: the record as it was, checked again.
    #[serde(default)]
    record: Option<Box<RawValue>>,
}

/// `POST /v1/quarantine/{id}/reprocess`.
/// Who corrects or dismisses is the session's person, never a name in the body.
pub async fn reprocess(
    State(hub): State<Hub>,
    Extension(by): Extension<Principal>,
    Path(id): Path<u64>,
    body: Result<Json<Reprocess>, JsonRejection>,
) -> Result<Json<DeliveryReport>, HubError> {
    let Json(body) = body.map_err(|e| HubError::InvalidBody(e.body_text()))?;
    let outcome = hub.reprocess(id, body.record.as_deref(), &by.clerk()).await;
    let entry = Entry::new(&by.actor(), AuditEvent::QuarantineReprocessed, format!("quarantine/{id}"))
        .detail(serde_json::json!({"corrected": body.record.is_some()}));
    audited(&hub, entry, outcome).await.map(Json)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dismiss {
    reason: String,
}

/// `POST /v1/quarantine/{id}/dismiss`.
pub async fn dismiss(
    State(hub): State<Hub>,
    Extension(by): Extension<Principal>,
    Path(id): Path<u64>,
    body: Result<Json<Dismiss>, JsonRejection>,
) -> Result<Json<serde_json::Value>, HubError> {
    let Json(body) = body.map_err(|e| HubError::InvalidBody(e.body_text()))?;
    let outcome = hub.dismiss(id, &by.clerk(), &body.reason).await;
    let entry = Entry::new(&by.actor(), AuditEvent::QuarantineDismissed, format!("quarantine/{id}"))
        .detail(serde_json::json!({"reason": body.reason}));
    audited(&hub, entry, outcome).await?;
    Ok(Json(serde_json::json!({ "dismissed": id })))
}

/// Records an operator's action with its outcome; the answer is the action's, or the
/// audit failure's when the record could not be written.
async fn audited<T>(hub: &Hub, entry: Entry, outcome: Result<T, HubError>) -> Result<T, HubError> {
    let entry = match &outcome {
        Ok(_) => entry,
        Err(e) => entry.failed(e.to_string()),
    };
    hub.audit(entry).await?;
    outcome
}

#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    file_name: String,
}

/// `POST /v1/imports/planning?file_name=…` with the file's bytes as the body. Answers
/// NDJSON `ImportEvent`s: progress while the rows are delivered, then the report (or the
/// error), so an upload of a large export shows how far it has got.
pub async fn import_planning(
    State(hub): State<Hub>,
    Extension(by): Extension<Principal>,
    query: Result<Query<ImportQuery>, QueryRejection>,
    body: Body,
) -> Result<Response, HubError> {
    let Query(q) = query.map_err(|e| HubError::BadQuery(format!("file_name：请给出文件名（{}）", e.body_text())))?;
    let file_name = q.file_name.trim().to_owned();
    if file_name.is_empty() || file_name.chars().count() > 255 || file_name.chars().any(char::is_control) {
        return Err(HubError::BadQuery("file_name：文件名应为 1–255 个字符且不含控制字符".into()));
    }
    let bytes = read_body_up_to(body, IMPORT_LIMIT_BYTES).await?;
    let (events, mut receiver) = mpsc::channel::<ImportEvent>(64);
    tokio::spawn(async move {
        let progress = events.clone();
        let outcome = hub
            .import_planning_file(&file_name, &bytes, |done, total| {
                // A full channel means the uploader reads slowly: skip a tick, never block.
                let _ = progress.try_send(ImportEvent::Progress { done, total });
            })
            .await;
        let entry = Entry::new(&by.actor(), AuditEvent::PlanningImported, &file_name).detail(serde_json::json!({
            "bytes": bytes.len(),
            "changed": outcome.as_ref().ok().map(|r| r.delivery.changed),
            "quarantined": outcome.as_ref().ok().map(|r| r.delivery.quarantined),
        }));
        let last = match audited(&hub, entry, outcome).await {
            Ok(report) => ImportEvent::Report(report),
            Err(error) => ImportEvent::Error(error.to_api_error()),
        };
        let _ = events.send(last).await;
    });
    let lines = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx)).map(|event| {
        let mut line = serde_json::to_vec(&event).expect("import events serialise");
        line.push(b'\n');
        Ok::<_, std::convert::Infallible>(Bytes::from(line))
    });
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(lines)).into_response())
}
