//! `POST /v1/ingest/*`: reading the body into records, with every reading error turned
//! into a field error that names the record, its source id and the field.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use bytes::BytesMut;
use futures_util::StreamExt;
use serde_json::value::RawValue;
use yizhan_sync::protocol::{FieldError, IngestBatch, IngestReport};

use crate::config::BODY_LIMIT_BYTES;
use crate::error::HubError;
use crate::hub::Hub;
use crate::ingest::IngestRecord;

/// How much of an oversized body is read and discarded before answering 413. Closing a
/// connection with unread data makes the kernel reset it, and the client then loses
/// our answer; reading the rest first lets it see the `body_too_large` JSON. Beyond
/// this, the client is not worth the bandwidth.
const DRAIN_LIMIT_BYTES: usize = 64 * 1024 * 1024;

pub async fn ingest<R: IngestRecord>(
    State(hub): State<Hub>,
    body: Body,
) -> Result<Json<IngestReport>, HubError> {
    let body = read_body(body).await?;
    let records = read_batch::<R>(&body)?;
    Ok(Json(hub.ingest_parsed("ingest", records).await?))
}

pub(super) async fn read_body(body: Body) -> Result<Bytes, HubError> {
    read_body_up_to(body, BODY_LIMIT_BYTES).await
}

/// The body, refused as too large beyond `limit` bytes.
pub(super) async fn read_body_up_to(body: Body, limit: usize) -> Result<Bytes, HubError> {
    let mut chunks = body.into_data_stream();
    let mut body = BytesMut::new();
    let mut received = 0;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| HubError::InvalidBody(format!("请求体读取中断：{e}")))?;
        received += chunk.len();
        if received <= limit {
            body.extend_from_slice(&chunk);
        } else if received > DRAIN_LIMIT_BYTES {
            break;
        }
    }
    if received > limit {
        return Err(HubError::BodyTooLarge {
            limit_mib: limit / (1024 * 1024),
        });
    }
    Ok(body.freeze())
}

/// Each record is read on its own, so a type error in one record does not hide the
/// problems of the others.
fn read_batch<R: IngestRecord>(body: &[u8]) -> Result<Vec<Result<R, Vec<FieldError>>>, HubError> {
    let records = read_list(body, |batch: IngestBatch<Box<RawValue>>| batch.records)?;
    Ok(records
        .iter()
        .enumerate()
        .map(|(index, raw)| read_record::<R>(index, raw))
        .collect())
}

/// Reads the body's envelope `B` with its list left as raw JSON, one entry per item, for
/// the caller to read each on its own.
pub(super) fn read_list<B: serde::de::DeserializeOwned>(
    body: &[u8],
    list: impl FnOnce(B) -> Vec<Box<RawValue>>,
) -> Result<Vec<Box<RawValue>>, HubError> {
    let envelope: B = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body))
        .map_err(|e| {
            let (path, inner) = (e.path().clone(), e.into_inner());
            if inner.is_data() {
                let (field, problem) = describe(&path, &inner);
                HubError::InvalidBody(format!("{field}：{problem}"))
            } else {
                HubError::MalformedJson(format!(
                    "第 {} 行第 {} 列：{}",
                    inner.line(),
                    inner.column(),
                    message(&inner)
                ))
            }
        })?;
    Ok(list(envelope))
}

pub(crate) fn read_record<R: IngestRecord>(index: usize, raw: &RawValue) -> Result<R, Vec<FieldError>> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(raw.get())).map_err(
        |e| {
            let (field, problem) = describe(e.path(), e.inner());
            let source_id = serde_json::from_str::<serde_json::Value>(raw.get())
                .ok()
                .and_then(|v| v.get(R::ID_FIELD)?.as_str().map(str::to_owned));
            vec![FieldError {
                record: index,
                source_id,
                field,
                problem,
            }]
        },
    )
}

/// serde's message without the " at line L column C" it appends: inside one record the
/// position says nothing useful, the field does.
fn message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&position).unwrap_or(&text).to_owned()
}

/// The field a serde error is about, and the problem in Chinese. serde's messages are
/// stable English phrases; the ones a connector is likely to hit get a translation, the
/// rest are passed through after a Chinese lead.
pub(super) fn describe(path: &serde_path_to_error::Path, e: &serde_json::Error) -> (String, String) {
    let mut field: Vec<String> = Vec::new();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => match field.last_mut() {
                Some(last) => last.push_str(&format!("[{index}]")),
                None => field.push(format!("[{index}]")),
            },
            serde_path_to_error::Segment::Map { key } => field.push(key.clone()),
            serde_path_to_error::Segment::Enum { variant } => field.push(variant.clone()),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let text = message(e);
    let named = |rest: &str| {
        rest.strip_prefix('`')
            .and_then(|r| r.split_once('`'))
            .map(|(name, _)| name.to_owned())
    };
    let mut field_of = |name: Option<String>| {
        if let Some(name) = name
            && field.last() != Some(&name)
        {
            field.push(name);
        }
    };
    let problem = if let Some(rest) = text.strip_prefix("missing field ") {
        field_of(named(rest));
        "缺少必填字段".to_owned()
    } else if let Some(rest) = text.strip_prefix("unknown field ") {
        field_of(named(rest));
        "不认识的字段：请检查字段名拼写，或对照接口文档".to_owned()
    } else if text.starts_with("invalid type: floating point") && text.ends_with("expected i64") {
        "应为整数，不能有小数（金额单位为分，面积单位为0.01平方米）".to_owned()
    } else if text.starts_with("invalid type: null") {
        "不能为 null".to_owned()
    } else if text.starts_with("invalid type:") && text.ends_with("expected i64") {
        "应为整数".to_owned()
    } else if text.starts_with("invalid type:") && text.ends_with("string") {
        "应为字符串".to_owned()
    } else if text.starts_with("invalid type:") && text.contains("expected a sequence") {
        "应为数组".to_owned()
    } else if text.starts_with("invalid type:")
        && (text.contains("expected struct") || text.contains("expected a map"))
    {
        "应为对象".to_owned()
    } else if let Some(rest) = text.strip_prefix("unknown variant ") {
        let allowed = rest
            .split_once("expected ")
            .map_or("", |(_, a)| a)
            .replace('`', "");
        format!("取值不在允许范围内，应为 {allowed}")
    } else if text.contains("YYYY-MM-DD") {
        "日期格式应为 YYYY-MM-DD（如 2026-11-24）".to_owned()
    } else if field.last().is_some_and(|f| f.ends_with("_at")) {
        "时间格式应为 RFC 3339（如 2026-11-24T09:30:00+08:00）".to_owned()
    } else {
        format!("取值无效（{text}）")
    };
    let field = if field.is_empty() {
        "(记录本身)".to_owned()
    } else {
        field.join(".")
    };
    (field, problem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yizhan_sync::protocol::{PaymentRecord, PlanningRecord};

    fn errors<R: IngestRecord>(body: &str) -> Vec<(usize, Option<String>, String, String)> {
        read_batch::<R>(body.as_bytes())
            .unwrap()
            .into_iter()
            .filter_map(Result::err)
            .flatten()
            .map(|e| (e.record, e.source_id, e.field, e.problem))
            .collect()
    }

    const PAYMENT: &str = r#"{"payment_id":"P1","project_code":"2025-320115-47-01-000001","fee_kind":"infra",
        "amount_fen":100,"channel":"建设银行","reference":"r","received_at":"2026-01-02T03:04:05Z""#;

    #[test]
    fn a_type_error_names_the_record_its_source_id_and_the_field() {
        let body = format!(
            r#"{{"records":[{PAYMENT}}}, {}}}]}}"#,
            PAYMENT.replace("\"amount_fen\":100", "\"amount_fen\":12.5")
        );
        let found = errors::<PaymentRecord>(&body);
        assert_eq!(found.len(), 1, "{found:?}");
        let (record, source_id, field, problem) = &found[0];
        assert_eq!(
            (*record, source_id.as_deref(), field.as_str()),
            (1, Some("P1"), "amount_fen")
        );
        assert!(problem.contains("整数"), "{problem}");
    }

    #[test]
    fn missing_unknown_enum_date_and_time_fields_are_named() {
        let cases = [
            (
                PAYMENT.replace("\"channel\":\"建设银行\",", ""),
                "channel",
                "缺少",
            ),
            (format!("{PAYMENT},\"extra\":1"), "extra", "不认识"),
            (
                PAYMENT.replace("\"infra\"", "\"water\""),
                "fee_kind",
                "civil_defence",
            ),
            (
                PAYMENT.replace("2026-01-02T03:04:05Z", "yesterday"),
                "received_at",
                "RFC 3339",
            ),
            (PAYMENT.replace("\"P1\"", "7"), "payment_id", "字符串"),
        ];
        for (record, field, problem) in cases {
            let found = errors::<PaymentRecord>(&format!(r#"{{"records":[{record}}}]}}"#));
            assert_eq!(found.len(), 1, "{record}: {found:?}");
            assert_eq!(found[0].2, field, "{found:?}");
            assert!(found[0].3.contains(problem), "{found:?}");
        }
    }

    #[test]
    fn nested_fields_are_named_by_their_path() {
        let body = r#"{"records":[{"planning_permit_no":"G1","project_code":"2025-320115-47-01-000001",
            "name":"n","builder":"b","uscc":"91350100M000100Y43","district_code":"320115",
            "approved_on":"2025-01-02","residential_area":1,"non_residential_area":0,"civil_defence_area":0,
            "infra_exemption":{"amount_fen":1.5,"basis":"x"}}]}"#;
        let found = errors::<PlanningRecord>(body);
        assert_eq!(found[0].2, "infra_exemption.amount_fen", "{found:?}");
        let bad_date = body.replace("2025-01-02", "2025/01/02");
        let found = errors::<PlanningRecord>(&bad_date);
        assert_eq!(
            (found[0].2.as_str(), found[0].3.contains("YYYY-MM-DD")),
            ("approved_on", true),
            "{found:?}"
        );
    }

    #[test]
    fn broken_json_and_wrong_batch_shape_are_told_apart() {
        let syntax = read_batch::<PaymentRecord>(br#"{"records": [1,"#).unwrap_err();
        assert_eq!(syntax.code(), "malformed_json", "{syntax}");
        assert!(syntax.to_string().contains("第 1 行"), "{syntax}");
        let shape = read_batch::<PaymentRecord>(br#"{"rows": []}"#).unwrap_err();
        assert_eq!(shape.code(), "invalid_body", "{shape}");
        assert!(shape.to_string().contains("rows"), "{shape}");
        let not_array = read_batch::<PaymentRecord>(br#"{"records": 5}"#).unwrap_err();
        assert!(
            not_array.to_string().contains("records：应为数组"),
            "{not_array}"
        );
    }
}
