//! The departments' push endpoints: `POST /v1/push/{source}` signed with HMAC-SM3,
//! `POST /v1/push/debezium/{source}` for Debezium Server's HTTP sink with a bearer token,
//! and `POST /v1/push/debezium/token` where the sink gets that token.

use axum::body::Body;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use yizhan_sync::protocol::{
    CivilDefenceNotice, DeliveryReport, PaymentRecord, TaxClearanceRecord,
};

use super::ingest::{read_body, read_list, read_record};
use crate::connectors::debezium::{self, DebeziumRecord, DebeziumReport};
use crate::connectors::{Connector, ConnectorKind, SourceChange};
use crate::error::HubError;
use crate::hub::Hub;
use crate::ingest::IngestRecord;
use crate::push::auth::{AuthError, basic_credentials};

/// Where a pushed record came from, for the quarantine. The same for every push, so a
/// bad record pushed again is recognised and listed once.
const PUSHED: &str = "HTTP 推送";

pub(super) fn routes() -> Router<Hub> {
    let router = Router::new().route("/v1/push/debezium/token", post(token));
    with_source::<CivilDefenceNotice>(with_source::<TaxClearanceRecord>(with_source::<
        PaymentRecord,
    >(router)))
}

fn with_source<R: DebeziumRecord>(router: Router<Hub>) -> Router<Hub> {
    router
        .route(&format!("/v1/push/{}", R::SOURCE), post(push::<R>))
        .route(
            &format!("/v1/push/debezium/{}", R::SOURCE),
            post(from_debezium::<R>),
        )
}

/// The body's version: a new one is a new variant, and a body naming none the hub knows
/// is refused with the versions it takes.
#[derive(Deserialize)]
enum Schema {
    #[serde(rename = "yizhan.push.v1")]
    V1,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushBatch {
    schema: Schema,
    records: Vec<Box<RawValue>>,
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

async fn push<R: IngestRecord>(
    State(hub): State<Hub>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<DeliveryReport>, HubError> {
    // Read before checking: the signature covers the body, and a request refused with
    // its body unread would reach the department as a reset connection, not our answer.
    let body = read_body(body).await?;
    let signed = hub.push_gate().admit_signed(
        &headers,
        method.as_str(),
        uri.path(),
        &body,
        R::SOURCE,
        now(),
    )?;
    let records = read_list(&body, |batch: PushBatch| {
        let Schema::V1 = batch.schema;
        batch.records
    })?;
    let changes = records
        .iter()
        .enumerate()
        .map(|(index, raw)| SourceChange::Upsert {
            location: PUSHED.to_owned(),
            raw: raw.get().to_owned(),
            record: read_record::<R>(index, raw),
        })
        .collect();
    let connector = Connector::new(
        format!("push:{}", signed.key.department),
        ConnectorKind::Push,
    );
    Ok(Json(
        hub.deliver(&connector, changes, None, Some(signed.timestamp))
            .await?,
    ))
}

async fn from_debezium<R: DebeziumRecord>(
    State(hub): State<Hub>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<DebeziumReport>, HubError> {
    let body = read_body(body).await?;
    let key = hub.push_gate().admit_bearer(&headers, R::SOURCE, now())?;
    // One connector per department and table: its position is that table's stream.
    let connector = Connector::new(
        format!("debezium:{}:{}", key.department, R::SOURCE),
        ConnectorKind::Debezium,
    );
    Ok(Json(debezium::deliver::<R>(&hub, &connector, &body).await?))
}

/// RFC 6749 §4.4.2; other parameters Debezium may add (`scope`, `params.*`) are ignored.
#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// RFC 6749 §5.1.
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
}

async fn token(
    State(hub): State<Hub>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Result<impl IntoResponse, HubError> {
    let Form(request) = form.map_err(|_| {
        HubError::InvalidBody(
            "令牌请求应为 application/x-www-form-urlencoded 表单，含 grant_type=client_credentials"
                .to_owned(),
        )
    })?;
    let grant = request.grant_type.unwrap_or_default();
    if grant != "client_credentials" {
        return Err(AuthError::UnsupportedGrant(grant).into());
    }
    let (client_id, client_secret) = basic_credentials(&headers)
        .or(request.client_id.zip(request.client_secret))
        .ok_or(AuthError::CredentialsMissing)?;
    let token = hub
        .push_gate()
        .issue_token(&client_id, &client_secret, now())?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(TokenResponse {
            access_token: token.access_token,
            token_type: "Bearer",
            expires_in: token.expires_in,
        }),
    ))
}
