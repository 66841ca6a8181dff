//! `POST /v1/reconcile/*`: what a counter needs to find and repair the rows in which its
//! replica differs from the hub, without the hub shipping its tables.

use axum::Json;
use axum::extract::State;
use yizhan_sync::protocol::{RangeRow, RangeRows, RangeRowsRequest, RangeSums, RangeSumsRequest};

use crate::error::HubError;
use crate::hub::Hub;

/// Most ranges per checksum request.
pub const MAX_RANGES: usize = 1_000;
/// Most rows per page of a range.
pub const MAX_ROWS: u32 = 2_000;

pub async fn sums(
    State(hub): State<Hub>,
    request: Result<Json<RangeSumsRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<RangeSums>, HubError> {
    let Json(request) = request.map_err(|e| HubError::InvalidBody(e.body_text()))?;
    if request.ranges.len() > MAX_RANGES {
        return Err(HubError::InvalidBody(format!(
            "ranges：一次最多 {MAX_RANGES} 个区间，收到 {} 个",
            request.ranges.len()
        )));
    }
    // The head first: the sums are as of it or later, never earlier.
    let head = hub.store().head().await?;
    let sums = hub.store().range_sums(request.ranges).await?;
    Ok(Json(RangeSums { sums, head }))
}

pub async fn rows(
    State(hub): State<Hub>,
    request: Result<Json<RangeRowsRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<RangeRows>, HubError> {
    let Json(request) = request.map_err(|e| HubError::InvalidBody(e.body_text()))?;
    let limit = request.limit.clamp(1, MAX_ROWS) as usize;
    // One more than asked tells whether the range goes on.
    let mut rows = hub.store().range_rows(request.range, limit + 1).await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let rows = rows
        .into_iter()
        .map(|row| {
            Ok(RangeRow {
                payload: serde_json::value::RawValue::from_string(row.payload).map_err(|e| {
                    crate::store::StoreError::Corrupt(format!("{} {} 的内容不是 JSON：{e}", row.entity.as_str(), row.key))
                })?,
                key: row.key,
                project_code: row.project_code,
                version: row.version,
                seq: row.seq,
                committed_at: row.committed_at,
            })
        })
        .collect::<Result<_, HubError>>()?;
    Ok(Json(RangeRows { rows, more }))
}
