//! People's routes: signing in and out, one's own password and second factor, and the
//! administrators' accounts, roles, policy, sessions and audit trail.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yizhan_core::account::SecurityPolicy;

use super::access::SourceAddress;
use yizhan_sync::protocol::{
    AuditEntry, GrantBody, MAX_SIGN_IN_CHECKS, NewUser, OneTimePassword, RecoveryCodes, RoleBody, RoleRecord, SecondFactorEnrolment,
    SessionRecord, SignInCheck, SignInRequest, SignInStanding, SignedIn, StatusChange, UserView,
};

use crate::accounts::Principal;
use crate::devices::DeviceCaller;
use crate::audit::{AuditEvent, Entry};
use crate::error::HubError;
use crate::hub::Hub;
use crate::store::AuditQuery;

/// Most audit records one search answers; the export pages through all of them.
const AUDIT_PAGE: usize = yizhan_sync::protocol::AUDIT_PAGE as usize;
/// Most records one export holds: about a year of a busy hall.
const EXPORT_LIMIT: usize = 200_000;

pub(super) fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, HubError> {
    body.map(|Json(b)| b).map_err(|e| HubError::InvalidBody(e.body_text()))
}

type Done = Json<serde_json::Value>;

fn done() -> Done {
    Json(serde_json::json!({"ok": true}))
}

/// `POST /v1/auth/login`.
pub async fn login(
    State(hub): State<Hub>,
    Extension(SourceAddress(address)): Extension<SourceAddress>,
    Extension(device): Extension<DeviceCaller>,
    request: Result<Json<SignInRequest>, JsonRejection>,
) -> Result<Json<SignedIn>, HubError> {
    Ok(Json(hub.login(body(request)?, &address, &device.device_id).await?))
}

/// `POST /v1/counters/sign-ins`: how the people a counter keeps for offline sign-in stand.
pub async fn sign_in_standing(
    State(hub): State<Hub>,
    check: Result<Json<SignInCheck>, JsonRejection>,
) -> Result<Json<Vec<SignInStanding>>, HubError> {
    let check = body(check)?;
    if check.accounts.len() > MAX_SIGN_IN_CHECKS {
        return Err(HubError::InvalidBody(format!(
            "accounts：一次最多 {MAX_SIGN_IN_CHECKS} 个账号，收到 {} 个",
            check.accounts.len()
        )));
    }
    Ok(Json(hub.sign_in_standing(&check.accounts).await?))
}

/// `POST /v1/auth/logout`.
pub async fn logout(State(hub): State<Hub>, Extension(me): Extension<Principal>) -> Result<Done, HubError> {
    hub.logout(&me).await?;
    Ok(done())
}

/// `GET /v1/auth/me`.
pub async fn me(Extension(me): Extension<Principal>) -> Json<Principal> {
    Json(me)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `POST /v1/auth/password`.
pub async fn change_password(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    change: Result<Json<PasswordChange>, JsonRejection>,
) -> Result<Done, HubError> {
    let change = body(change)?;
    hub.change_password(&me, &change.current_password, &change.new_password).await?;
    Ok(done())
}

/// `POST /v1/auth/second-factor`: a new secret to bind.
pub async fn begin_second_factor(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
) -> Result<Json<SecondFactorEnrolment>, HubError> {
    Ok(Json(hub.begin_second_factor(&me).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    code: String,
}

/// `POST /v1/auth/second-factor/confirm`: answers the recovery codes, once.
pub async fn confirm_second_factor(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    code: Result<Json<Code>, JsonRejection>,
) -> Result<Json<RecoveryCodes>, HubError> {
    let recovery_codes = hub.confirm_second_factor(&me, &body(code)?.code).await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// `GET /v1/admin/users`.
pub async fn users(State(hub): State<Hub>) -> Result<Json<Vec<UserView>>, HubError> {
    Ok(Json(hub.user_views().await?))
}

/// `POST /v1/admin/users`: the one-time password is in the answer, once.
pub async fn create_user(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    new: Result<Json<NewUser>, JsonRejection>,
) -> Result<Json<OneTimePassword>, HubError> {
    Ok(Json(hub.create_user(&me, body(new)?).await?))
}

/// `POST /v1/admin/users/{account}/status`.
pub async fn set_status(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    Path(account): Path<String>,
    change: Result<Json<StatusChange>, JsonRejection>,
) -> Result<Done, HubError> {
    hub.set_user_status(&me, &account, body(change)?.status).await?;
    Ok(done())
}

/// `POST /v1/admin/users/{account}/password-reset`.
pub async fn reset_password(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    Path(account): Path<String>,
) -> Result<Json<OneTimePassword>, HubError> {
    Ok(Json(hub.reset_password(&me, &account).await?))
}

/// `POST /v1/admin/users/{account}/unlock`.
pub async fn unlock(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    Path(account): Path<String>,
) -> Result<Done, HubError> {
    hub.unlock_user(&me, &account).await?;
    Ok(done())
}

/// `PUT /v1/admin/users/{account}/grants/{role}`.
pub async fn grant(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    Path((account, role)): Path<(String, String)>,
    grant: Result<Json<GrantBody>, JsonRejection>,
) -> Result<Done, HubError> {
    hub.grant_role(&me, &account, &role, body(grant)?.scope).await?;
    Ok(done())
}

/// `DELETE /v1/admin/users/{account}/grants/{role}`.
pub async fn revoke(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    Path((account, role)): Path<(String, String)>,
) -> Result<Done, HubError> {
    hub.revoke_role(&me, &account, &role).await?;
    Ok(done())
}

/// `GET /v1/admin/roles`.
pub async fn roles(State(hub): State<Hub>) -> Result<Json<Vec<RoleRecord>>, HubError> {
    Ok(Json(hub.store().roles().await?))
}

/// `PUT /v1/admin/roles/{id}`.
pub async fn put_role(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    Path(id): Path<String>,
    role: Result<Json<RoleBody>, JsonRejection>,
) -> Result<Json<RoleRecord>, HubError> {
    let role = body(role)?;
    Ok(Json(hub.put_role(&me, &id, &role.name, role.permissions).await?))
}

/// `GET /v1/admin/policy`.
pub async fn policy(State(hub): State<Hub>) -> Result<Json<SecurityPolicy>, HubError> {
    Ok(Json(hub.security_policy().await?))
}

/// `PUT /v1/admin/policy`.
pub async fn set_policy(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    policy: Result<Json<SecurityPolicy>, JsonRejection>,
) -> Result<Done, HubError> {
    hub.set_security_policy(&me, body(policy)?).await?;
    Ok(done())
}

/// `GET /v1/admin/sessions`: who is signed in now.
pub async fn sessions(State(hub): State<Hub>) -> Result<Json<Vec<SessionRecord>>, HubError> {
    Ok(Json(hub.online_sessions().await?))
}

/// `DELETE /v1/admin/sessions/{id}`: force-logout.
pub async fn end_session(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Done, HubError> {
    hub.force_logout(&me, &id).await?;
    Ok(done())
}

/// The audit search's query string: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    user: Option<String>,
    event: Option<String>,
    object: Option<String>,
    result: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before_id: Option<u64>,
    limit: Option<usize>,
    format: Option<String>,
}

impl AuditParams {
    fn query(&self, limit: usize) -> Result<AuditQuery, HubError> {
        let time = |name: &str, text: &Option<String>| -> Result<Option<OffsetDateTime>, HubError> {
            text.as_deref()
                .filter(|t| !t.is_empty())
                .map(|t| OffsetDateTime::parse(t, &Rfc3339).map_err(|_| HubError::BadQuery(format!("{name}：应为 RFC 3339 时间，收到 {t:?}"))))
                .transpose()
        };
        let some = |t: &Option<String>| t.clone().filter(|t| !t.is_empty());
        Ok(AuditQuery {
            user: some(&self.user),
            event: some(&self.event),
            object: some(&self.object),
            result: some(&self.result),
            from: time("from", &self.from)?,
            to: time("to", &self.to)?,
            limit,
            before_id: self.before_id,
        })
    }
}

/// `GET /v1/audit`: newest first, a page at a time (`before_id` for the next page).
pub async fn audit(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<Vec<AuditEntry>>, HubError> {
    let Query(params) = params.map_err(|e| HubError::BadQuery(e.body_text()))?;
    let query = params.query(params.limit.unwrap_or(AUDIT_PAGE).clamp(1, AUDIT_PAGE))?;
    let found = hub.store().search_audit(&query).await?;
    hub.audit(Entry::new(&me.actor(), AuditEvent::AuditSearched, "audit_log").detail(serde_json::json!({
        "user": query.user, "event": query.event, "object": query.object, "result": query.result, "found": found.len()
    })))
    .await?;
    Ok(Json(found.into_iter().map(AuditEntry::from).collect()))
}

/// `GET /v1/audit/export?format=csv|xlsx`: every record the search finds, as a file. The
/// export is itself recorded before the file leaves.
pub async fn export(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Response, HubError> {
    let Query(params) = params.map_err(|e| HubError::BadQuery(e.body_text()))?;
    let format = params.format.clone().unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "xlsx" {
        return Err(HubError::BadQuery(format!("format：应为 csv 或 xlsx，收到 {format:?}")));
    }
    let query = params.query(EXPORT_LIMIT)?;
    let records = hub.store().search_audit(&query).await?;
    hub.audit(Entry::new(&me.actor(), AuditEvent::AuditExported, "audit_log").detail(serde_json::json!({
        "format": format, "records": records.len(), "user": query.user, "event": query.event
    })))
    .await?;
    let (bytes, content_type) = if format == "csv" {
        (crate::audit::export::csv(&records), "text/csv; charset=utf-8")
    } else {
        (
            crate::audit::export::xlsx(&records).map_err(|e| HubError::Store(crate::store::StoreError::Backend(e.into())))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    };
    let name = format!("attachment; filename=\"audit.{format}\"");
    let mut response = bytes.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&name).expect("an ASCII header"));
    Ok(response)
}
