//! What the counters read: health, the change feed (long-poll), the snapshot stream and
//! one project's rows.

use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use yizhan_sync::integrity::BatchSeal;
use yizhan_core::entity::EntityKind;
use yizhan_sync::protocol::{
    CounterReport, CounterStanding, Health, HubStatus, RowPosition, SnapshotHeader, SnapshotRow,
};

use crate::error::HubError;
use crate::hub::Hub;
use crate::store::StateRow;

pub const DEFAULT_LIMIT: usize = 1_000;
pub const MAX_LIMIT: usize = 10_000;
pub const MAX_WAIT_SECS: u64 = 60;

pub async fn health(State(hub): State<Hub>) -> Result<Json<Health>, HubError> {
    Ok(Json(Health {
        status: "ok".to_owned(),
        head: hub.store().head().await?,
        now: OffsetDateTime::now_utc(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        hub_key: hub.signer().public_key(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct ChangesQuery {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
    wait: Option<u64>,
}

/// Answers at once when there are changes after `after`; otherwise holds the request
/// until a commit bumps the head past `after` or `wait` passes.
pub async fn changes(
    State(hub): State<Hub>,
    query: Result<Query<ChangesQuery>, QueryRejection>,
) -> Result<Response, HubError> {
    let Query(q) = query.map_err(|e| {
        HubError::BadQuery(format!(
            "after、limit、wait 应为非负整数（{}）",
            e.body_text()
        ))
    })?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let wait = Duration::from_secs(q.wait.unwrap_or(0).min(MAX_WAIT_SECS));
    // Subscribed before reading, so a commit between the read and the wait still wakes us.
    let mut head = hub.store().subscribe();
    let known_head = *head.borrow_and_update();
    if q.after > known_head {
        // The watch is bumped just after commit; ask the database before calling the
        // client wrong.
        let head = hub.store().head().await?;
        if q.after > head {
            return Err(HubError::CursorAhead {
                after: q.after,
                head,
            });
        }
    } else if q.after == known_head && !wait.is_zero() {
        let mut closing = hub.closing();
        tokio::select! {
            _ = tokio::time::timeout(wait, async { let _ = head.wait_for(|h| *h > q.after).await; }) => {}
            _ = async { let _ = closing.wait_for(|c| *c).await; } => {}
        }
    }
    let changes = hub.store().changes_after(q.after, limit).await?;
    let upto = changes.last().map_or(q.after, |c| c.seq);
    let prev_chain = hub.store().chain_at(q.after).await?;
    let chain = changes.last().map_or(prev_chain, |c| c.chain);
    let seal = hub
        .signer()
        .seal_batch(q.after, upto, changes.len() as u64, prev_chain, chain);
    // A reader may see a commit a moment before the watch does: never report a head
    // behind what this very batch contains.
    let head = (*head.borrow()).max(upto);
    // A `ChangeBatch`, written by hand so that payloads go out as the canonical bytes
    // stored (see `LoggedChange::write_json`).
    let mut body = serde_json::to_vec(&BatchHead {
        after: q.after,
        upto,
        head,
        seal,
    })
    .expect("numbers serialise");
    body.pop();
    body.extend_from_slice(b",\"changes\":[");
    for (i, change) in changes.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        change.write_json(&mut body);
    }
    body.extend_from_slice(b"]}");
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The fields of `ChangeBatch` before `changes`.
#[derive(Serialize)]
struct BatchHead {
    after: u64,
    upto: u64,
    head: u64,
    seal: BatchSeal,
}

#[derive(Debug, Deserialize)]
pub struct SnapshotQuery {
    after_entity: Option<EntityKind>,
    after_key: Option<String>,
}

/// NDJSON: the `SnapshotHeader` line, then one `SnapshotRow` line per current row, as
/// the store produces them; gzip is applied by the compression layer when accepted.
/// With `after_entity` and `after_key`, only the rows after that one: a counter cut off
/// mid-load asks for the rest instead of starting over.
pub async fn snapshot(
    State(hub): State<Hub>,
    query: Result<Query<SnapshotQuery>, QueryRejection>,
) -> Result<Response, HubError> {
    let Query(q) = query.map_err(|e| {
        HubError::BadQuery(format!("after_entity 应为实体名（{}）", e.body_text()))
    })?;
    let after = match (q.after_entity, q.after_key) {
        (Some(entity), Some(key)) => Some(RowPosition { entity, key }),
        (None, None) => None,
        _ => {
            return Err(HubError::BadQuery(
                "after_entity 与 after_key 须同时给出或同时省略".into(),
            ));
        }
    };
    let snapshot = hub.store().snapshot(after.clone()).await?;
    let position = snapshot.position;
    tracing::info!(as_of = position.as_of, rows = position.rows, resumed = after.is_some(), "快照开始发送");
    let header = SnapshotHeader {
        as_of: position.as_of,
        rows: position.rows,
        seal: hub.signer().seal_snapshot(
            position.as_of,
            position.rows,
            after.as_ref(),
            position.chain,
        ),
        after,
    };
    let mut header = serde_json::to_vec(&header).expect("the header serialises");
    header.push(b'\n');
    let rows = snapshot.rows.map(|chunk| {
        chunk.map(|rows| {
            let mut out = Vec::with_capacity(rows.len() * 512);
            for row in &rows {
                row.write_ndjson(&mut out);
            }
            Bytes::from(out)
        })
    });
    let body = futures_util::stream::once(async { Ok(Bytes::from(header)) }).chain(rows);
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(body),
    )
        .into_response())
}

/// Every current row of one project, for operators and the app's end-to-end checks.
pub async fn project(
    State(hub): State<Hub>,
    Path(code): Path<String>,
) -> Result<Json<Vec<SnapshotRow>>, HubError> {
    let rows = hub.store().project_rows(&code).await?;
    if rows.is_empty() {
        return Err(HubError::UnknownProject(code));
    }
    Ok(Json(
        rows.iter()
            .map(StateRow::to_snapshot_row)
            .collect::<Result<_, _>>()?,
    ))
}

/// `POST /v1/counters/report`: a counter's standing, kept for the operators.
pub async fn counter_report(
    State(hub): State<Hub>,
    axum::Extension(caller): axum::Extension<crate::devices::DeviceCaller>,
    report: Result<Json<CounterReport>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, HubError> {
    let Json(report) = report.map_err(|e| HubError::InvalidBody(e.body_text()))?;
    caller.owns(&report.device_id)?;
    let json = serde_json::to_string(&report).expect("a counter report serialises");
    hub.store().record_counter(report.device_id.as_str(), json).await?;
    Ok(Json(serde_json::json!({ "recorded": true })))
}

/// `POST /v1/counters/audit`: the next records of a counter's own audit trail.
pub async fn counter_audit(
    State(hub): State<Hub>,
    axum::Extension(super::access::SourceAddress(address)): axum::Extension<super::access::SourceAddress>,
    axum::Extension(caller): axum::Extension<crate::devices::DeviceCaller>,
    batch: Result<Json<yizhan_sync::protocol::CounterAuditBatch>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<yizhan_sync::protocol::CounterAuditAccepted>, HubError> {
    let Json(batch) = batch.map_err(|e| HubError::InvalidBody(e.body_text()))?;
    caller.owns(&batch.device_id)?;
    let through = hub.take_counter_audit(batch, &address).await?;
    Ok(Json(yizhan_sync::protocol::CounterAuditAccepted { through }))
}

/// `GET /v1/status`: the log's head and horizon, and every counter's last report.
pub async fn status(State(hub): State<Hub>) -> Result<Json<HubStatus>, HubError> {
    let counters = hub
        .store()
        .counters()
        .await?
        .into_iter()
        .map(|kept| {
            let report = serde_json::from_str(&kept.report)
                .map_err(|e| crate::store::StoreError::Corrupt(format!("窗口报告无法读取：{e}")))?;
            Ok(CounterStanding { reported_at: kept.reported_at, report })
        })
        .collect::<Result<_, HubError>>()?;
    Ok(Json(HubStatus {
        head: hub.store().head().await?,
        horizon: hub.store().horizon().await?,
        counters,
    }))
}
