//! Documents: counter keys and number segments for the counters, the PDFs, and
//! verification — `GET /v1/verify` for programs, `GET /verify` the page a phone opens
//! when it scans a printed QR.

use axum::{Extension, Json};
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{Html, IntoResponse};
use serde::Deserialize;
use yizhan_core::document::Document;
use yizhan_core::mask::mask_mobile;
use yizhan_core::money::format_yuan;
use yizhan_sync::protocol::{DocumentCheck, Segment, SegmentRequest};
use yizhan_voucher::qr::MAX_QR_CHARS;
use yizhan_voucher::verify::Verdict;

use super::access::SourceAddress;
use super::ingest::{read_body, read_body_up_to};
use crate::audit::{Actor, AuditEvent, Entry};
use crate::devices::DeviceCaller;
use crate::documents::{MAX_PDF_BYTES, Verification, parse_number};
use crate::error::HubError;
use crate::hub::Hub;
use crate::store::Notification;

fn read_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, HubError> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            HubError::InvalidBody(format!("{path}：{inner}"))
        } else {
            HubError::MalformedJson(inner.to_string())
        }
    })
}

pub async fn segments(State(hub): State<Hub>, Extension(caller): Extension<DeviceCaller>, body: Body) -> Result<Json<Segment>, HubError> {
    let request: SegmentRequest = read_json(&read_body(body).await?)?;
    caller.owns(&request.device_id)?;
    Ok(Json(hub.allocate_segment(&request).await?))
}

/// The document rules on a document a counter is about to print (its `Document`, not yet
/// signed), against the hub's records: nothing is written and no number is spent.
pub async fn check(State(hub): State<Hub>, body: Body) -> Result<Json<DocumentCheck>, HubError> {
    let document: Document = read_json(&read_body(body).await?)?;
    Ok(Json(DocumentCheck { failed_checks: hub.check_document(&document).await? }))
}

pub async fn document(
    State(hub): State<Hub>,
    Extension(SourceAddress(address)): Extension<SourceAddress>,
    Path(number): Path<String>,
) -> Result<impl IntoResponse, HubError> {
    parse_number(&number)?;
    let doc = hub.issued_document(&number).await?.ok_or_else(|| HubError::UnknownDocument(number.clone()))?;
    hub.audit(Entry::new(&Actor { address, ..Actor::default() }, AuditEvent::DocumentViewed, number)).await?;
    Ok(Json(doc))
}

#[derive(Debug, Deserialize)]
pub struct FileQuery {
    sm3: Option<String>,
}

pub async fn put_pdf(State(hub): State<Hub>, Path(number): Path<String>, body: Body) -> Result<impl IntoResponse, HubError> {
    parse_number(&number)?;
    let bytes = read_body_up_to(body, MAX_PDF_BYTES).await?;
    let sm3 = hub.store_document_file(&number, bytes.to_vec()).await?;
    Ok(Json(serde_json::json!({ "number": number, "pdf_sm3": sm3 })))
}

/// The PDF as issued, or the reprint with `?sm3=`.
pub async fn get_pdf(
    State(hub): State<Hub>,
    Extension(SourceAddress(address)): Extension<SourceAddress>,
    Path(number): Path<String>,
    axum::extract::Query(query): axum::extract::Query<FileQuery>,
) -> Result<impl IntoResponse, HubError> {
    parse_number(&number)?;
    let doc = hub.issued_document(&number).await?.ok_or_else(|| HubError::UnknownDocument(number.clone()))?;
    let sm3 = query.sm3.unwrap_or(doc.pdf_sm3);
    let bytes = hub.store().document_file(&sm3).await?.ok_or_else(|| HubError::UnknownDocument(number.clone()))?;
    let downloaded = Entry::new(&Actor { address, ..Actor::default() }, AuditEvent::DocumentDownloaded, number)
        .detail(serde_json::json!({ "pdf_sm3": sm3 }));
    hub.audit(downloaded).await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], bytes))
}

pub async fn notifications(State(hub): State<Hub>, Path(code): Path<String>) -> Result<Json<Vec<Notification>>, HubError> {
    let mut list = hub.store().notifications(&code).await?;
    for n in &mut list {
        n.recipient = mask_mobile(&n.recipient);
    }
    Ok(Json(list))
}

fn query_text(query: Option<String>) -> Result<String, HubError> {
    let query = query.unwrap_or_default();
    if query.len() > MAX_QR_CHARS * 3 {
        return Err(HubError::BadQuery("二维码内容过长，不是本系统的票据二维码".into()));
    }
    Ok(query)
}

pub async fn verify_json(State(hub): State<Hub>, RawQuery(query): RawQuery) -> Result<Json<Verification>, HubError> {
    Ok(Json(hub.verify_qr(&query_text(query)?).await?))
}

/// The page for a phone: the verdict in large type with its colour, icon and word, and
/// the key fields to compare with the paper.
pub async fn verify_page(State(hub): State<Hub>, RawQuery(query): RawQuery) -> Html<String> {
    let result = match query_text(query) {
        Ok(q) => hub.verify_qr(&q).await,
        Err(e) => Err(e),
    };
    Html(match result {
        Ok(v) => page(&v),
        Err(e) => error_page(&e.to_string()),
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:'Noto Sans CJK SC',sans-serif;margin:0;padding:1.2rem;background:#f6f7f9;color:#1d2129}\
main{max-width:32rem;margin:auto;background:#fff;border-radius:8px;padding:1.2rem;box-shadow:0 1px 4px #0002}\
.verdict{font-size:1.8rem;font-weight:700;padding:.8rem;border-radius:6px;text-align:center}\
.ok{background:#e8f7ee;color:#0a6b34}.warn{background:#fff4e0;color:#8a5200}.bad{background:#fde8e8;color:#a8071a}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem;font-size:1.05rem}dt{color:#5c6370}\
.amount{font-size:1.4rem;font-weight:700}";

fn page(verification: &Verification) -> String {
    let v = &verification.checked;
    let (class, icon) = match &v.verdict {
        Verdict::Valid => ("ok", "✔"),
        Verdict::Voided { .. } | Verdict::Conflict { .. } | Verdict::Unrecorded => ("warn", "⚠"),
        Verdict::Unknown | Verdict::Forged { .. } => ("bad", "✖"),
    };
    let detail = match &v.verdict {
        Verdict::Voided { reason } => format!("<p>作废原因：{}</p>", escape(reason)),
        Verdict::Conflict { reason } | Verdict::Forged { reason } => format!("<p>{}</p>", escape(reason)),
        Verdict::Unrecorded => "<p>签名来自已登记的收费终端，但数据中心尚未收到该票据（可能为离线开具，联网后上传）。</p>".into(),
        Verdict::Unknown => "<p>开具终端未在数据中心登记，无法确认真伪。</p>".into(),
        Verdict::Valid => String::new(),
    };
    let mut rows = vec![
        ("票据号码", escape(&v.number)),
        ("项目编号", escape(v.project_code.as_str())),
        ("金额", format!("<span class=amount>{}</span>", format_yuan(v.total_fen))),
        ("开具时间", yizhan_core::clock::shanghai_minute(v.issued_at)),
        ("开具终端", escape(v.device_id.as_str())),
    ];
    if let Some(doc) = &verification.document {
        rows.push(("交款人", escape(&doc.document.payer)));
        rows.push(("收款单位", escape(&doc.document.unit.name)));
        rows.push(("状态", doc.state.name_zh().to_owned()));
    }
    let rows: String = rows.iter().map(|(k, v)| format!("<dt>{k}</dt><dd>{v}</dd>")).collect();
    format!(
        "<!doctype html><html lang=zh-CN><meta charset=utf-8><meta name=viewport content='width=device-width'>\
         <title>票据验真 {number}</title><style>{STYLE}</style><main><h1>票据验真</h1>\
         <div class='verdict {class}'>{icon} {word}</div>{detail}<dl>{rows}</dl></main></html>",
        number = escape(&v.number),
        word = v.verdict_zh,
    )
}

fn error_page(message: &str) -> String {
    format!(
        "<!doctype html><html lang=zh-CN><meta charset=utf-8><meta name=viewport content='width=device-width'>\
         <title>票据验真</title><style>{STYLE}</style><main><h1>票据验真</h1>\
         <div class='verdict bad'>✖ 无法识别</div><p>{}</p></main></html>",
        escape(message)
    )
}
