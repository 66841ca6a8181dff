//! Who may call each route, in one table, and the layer that holds every request to it.
//! A route the table does not name is refused (fail closed), so a route added without a
//! declaration fails the first test that calls it, and the role × route matrix
//! (`tests/access.rs`) walks the table.

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use yizhan_core::access::Permission;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yizhan_sync::protocol::device::{CLOCK_SKEW_HEADER, DEVICE_TIME_HEADER, DEVICE_TOKEN_HEADER, DeviceState};

use crate::accounts::{AuthError, Principal};
use crate::devices::{DeviceCaller, DeviceError};
use crate::error::HubError;
use crate::hub::Hub;

/// What a caller must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: liveness, and the verification page phones reach.
    Public,
    /// An enrolled device, throttled per address and locked per account: signing in. The
    /// session is bound to the device.
    SignIn,
    /// Any signed-in person at the device the session was opened on, even one held to
    /// changing their password or binding a second factor first: who am I, sign out,
    /// change password, bind the factor.
    Session,
    /// A signed-in person holding the permission, with an unrestricted session.
    Permission(Permission),
    /// A signed-in person holding any one of the permissions: what two duties both look
    /// at (the feeds' status: the system administrator runs them, the supervisor corrects
    /// their quarantined records).
    AnyOf(&'static [Permission]),
    /// A department's push credential (HMAC-SM3 signature or OAuth2 token), checked by
    /// the push handlers against the source pushed to.
    Department,
    /// Unauthenticated record ingest: served only by a hub started with `--demo`.
    DemoIngest,
    /// An enrolled, active device's own background work (feed, reconciliation, number
    /// segments, look-ups).
    Counter,
    /// A device's uploads of what was done at it (outbox, PDFs, its audit trail, its
    /// report): still taken from a retired device, until it has nothing left to send.
    CounterUpload,
    /// A PC with an enrolment code, throttled per address: enrolling.
    Enrol,
    /// A device proving it holds its key, for a token: the challenge, and the signed
    /// challenge (the handler checks the signature).
    DeviceProof,
}

/// One route and its access.
#[derive(Debug, Clone, Copy)]
pub struct RouteRule {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

const fn rule(method: &'static str, path: &'static str, access: Access) -> RouteRule {
    RouteRule { method, path, access }
}

use Access::*;
use Permission as P;

/// Running the department feeds, or correcting what they quarantined.
const FEED_WORK: &[Permission] = &[P::ConnectorOperate, P::QuarantineCorrect];

/// Who looks at the list of accounts: the system administrator keeps them, the security
/// administrator grants them roles and unlocks them.
const ACCOUNT_WORK: &[Permission] = &[P::UserManage, P::RoleGrant, P::UserUnlock];

/// Every route the hub serves. Paths as axum matches them.
pub const ROUTES: &[RouteRule] = &[
    rule("GET", "/v1/health", Public),
    rule("GET", "/verify", Public),
    rule("GET", "/v1/verify", Public),
    rule("POST", "/v1/devices/enrol", Enrol),
    rule("POST", "/v1/devices/challenge", DeviceProof),
    rule("POST", "/v1/devices/session", DeviceProof),
    rule("GET", "/v1/admin/devices", Permission(P::DeviceManage)),
    rule("POST", "/v1/admin/devices", Permission(P::DeviceManage)),
    rule("POST", "/v1/admin/devices/{device}/revoke", Permission(P::DeviceManage)),
    rule("POST", "/v1/auth/login", SignIn),
    rule("POST", "/v1/auth/logout", Session),
    rule("GET", "/v1/auth/me", Session),
    rule("POST", "/v1/auth/password", Session),
    rule("POST", "/v1/auth/second-factor", Session),
    rule("POST", "/v1/auth/second-factor/confirm", Session),
    rule("GET", "/v1/admin/users", AnyOf(ACCOUNT_WORK)),
    rule("POST", "/v1/admin/users", Permission(P::UserManage)),
    rule("POST", "/v1/admin/users/{account}/status", Permission(P::UserManage)),
    rule("POST", "/v1/admin/users/{account}/password-reset", Permission(P::UserManage)),
    rule("POST", "/v1/admin/users/{account}/unlock", Permission(P::UserUnlock)),
    rule("PUT", "/v1/admin/users/{account}/grants/{role}", Permission(P::RoleGrant)),
    rule("DELETE", "/v1/admin/users/{account}/grants/{role}", Permission(P::RoleGrant)),
    rule("GET", "/v1/admin/roles", Permission(P::RoleGrant)),
    rule("PUT", "/v1/admin/roles/{id}", Permission(P::RoleGrant)),
    rule("GET", "/v1/admin/policy", Permission(P::PolicyChange)),
    rule("PUT", "/v1/admin/policy", Permission(P::PolicyChange)),
    rule("GET", "/v1/admin/sessions", Permission(P::UserManage)),
    rule("DELETE", "/v1/admin/sessions/{id}", Permission(P::UserManage)),
    rule("GET", "/v1/audit", Permission(P::AuditRead)),
    rule("GET", "/v1/audit/export", Permission(P::AuditExport)),
    rule("GET", "/v1/changes", Counter),
    rule("GET", "/v1/snapshot", Counter),
    rule("GET", "/v1/projects/{code}", Counter),
    rule("POST", "/v1/commands", CounterUpload),
    rule("POST", "/v1/reconcile/sums", Counter),
    rule("POST", "/v1/reconcile/rows", Counter),
    rule("POST", "/v1/counters/report", CounterUpload),
    rule("POST", "/v1/counters/sign-ins", Counter),
    rule("POST", "/v1/counters/audit", CounterUpload),
    rule("POST", "/v1/segments", Counter),
    rule("POST", "/v1/document-checks", Counter),
    rule("GET", "/v1/documents/{number}", Counter),
    rule("GET", "/v1/documents/{number}/pdf", Counter),
    rule("PUT", "/v1/documents/{number}/pdf", CounterUpload),
    rule("GET", "/v1/projects/{code}/notifications", Counter),
    rule("GET", "/v1/status", Counter),
    rule("GET", "/v1/alerts", Counter),
    rule("GET", "/v1/alert-rules", Counter),
    rule("GET", "/v1/alerts/assignees", Permission(P::AlertAssign)),
    rule("GET", "/metrics", Counter),
    rule("GET", "/v1/connectors", AnyOf(FEED_WORK)),
    rule("POST", "/v1/connectors/planning-file/verify", Permission(P::ConnectorOperate)),
    rule("GET", "/v1/quarantine", AnyOf(FEED_WORK)),
    rule("POST", "/v1/quarantine/{id}/reprocess", Permission(P::QuarantineCorrect)),
    rule("POST", "/v1/quarantine/{id}/dismiss", Permission(P::QuarantineCorrect)),
    rule("POST", "/v1/imports/planning", Permission(P::ConnectorOperate)),
    rule("POST", "/v1/push/debezium/token", Department),
    rule("POST", "/v1/push/civil-defence", Department),
    rule("POST", "/v1/push/tax", Department),
    rule("POST", "/v1/push/payments", Department),
    rule("POST", "/v1/push/debezium/civil-defence", Department),
    rule("POST", "/v1/push/debezium/tax", Department),
    rule("POST", "/v1/push/debezium/payments", Department),
    rule("POST", "/v1/ingest/planning", DemoIngest),
    rule("POST", "/v1/ingest/civil-defence", DemoIngest),
    rule("POST", "/v1/ingest/tax", DemoIngest),
    rule("POST", "/v1/ingest/payments", DemoIngest),
];

pub fn access_of(method: &Method, path: &str) -> Option<Access> {
    ROUTES.iter().find(|r| r.method == method.as_str() && r.path == path).map(|r| r.access)
}

/// Where a request came from, as the audit trail and the sign-in throttle see it.
#[derive(Debug, Clone)]
pub struct SourceAddress(pub String);

/// The source address of a request: the connection's peer.
fn source_address(request: &Request) -> String {
    request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim).filter(|t| !t.is_empty())
}

/// The device a request comes from, by the token it carries; its clock read from the time
/// it says. A lost device is refused here whatever it asks.
async fn device_of(hub: &Hub, headers: &HeaderMap, address: &str) -> Result<DeviceCaller, HubError> {
    let token = header_text(headers, DEVICE_TOKEN_HEADER).ok_or(DeviceError::NoDevice)?;
    let time = header_text(headers, DEVICE_TIME_HEADER)
        .map(|t| OffsetDateTime::parse(t, &Rfc3339).map_err(|_| HubError::BadQuery(format!("{DEVICE_TIME_HEADER}：应为 RFC 3339 时间，收到 {t}"))))
        .transpose()?;
    hub.authenticate_device(token, time, address).await
}

/// Holds a request to its route's rule: refuses 401 without a valid device or session
/// where one is needed, 403 without the permission, and puts the [`DeviceCaller`] and the
/// [`Principal`] in the request for the handler. An answer to a device whose clock is off
/// by more than the margin says by how much.
pub async fn authorise(State(hub): State<Hub>, request: Request, next: Next) -> Response {
    let margin = u64::from(hub.clock_margin_seconds());
    let (response, skew) = match admit(&hub, request).await {
        Ok((request, skew)) => (next.run(request).await, skew),
        Err(refused) => (refused.into_response(), None),
    };
    let mut response = response;
    if let Some(skew) = skew.filter(|s| s.unsigned_abs() > margin) {
        response.headers_mut().insert(CLOCK_SKEW_HEADER, skew.into());
    }
    response
}

/// The request as its route lets it through, with its device's clock skew, or why not.
async fn admit(hub: &Hub, mut request: Request) -> Result<(Request, Option<i64>), HubError> {
    let Some(path) = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()) else {
        return Ok((request, None));
    };
    let Some(access) = access_of(request.method(), &path) else {
        tracing::error!(method = %request.method(), path, "接口未在权限表中声明，已拒绝");
        return Err(HubError::Undeclared(path));
    };
    super::edges::check_body_type(&request, &path)?;
    let address = source_address(&request);
    request.extensions_mut().insert(SourceAddress(address.clone()));
    let device = match access {
        Public | Department | Enrol | DeviceProof => None,
        DemoIngest if hub.demo() => None,
        DemoIngest => return Err(HubError::NoSuchEndpoint(path)),
        Counter | CounterUpload | SignIn | Session | Permission(_) | AnyOf(_) => {
            let device = device_of(hub, request.headers(), &address).await?;
            if device.state == DeviceState::Retired && access != CounterUpload {
                return Err(DeviceError::Retired(device.device_id.to_string()).into());
            }
            Some(device)
        }
    };
    let skew = device.as_ref().and_then(|d| d.clock_skew_seconds);
    if let (Session | Permission(_) | AnyOf(_), Some(device)) = (access, &device) {
        let token = bearer(request.headers()).ok_or(AuthError::NoSession)?.to_owned();
        let mut principal: Principal = hub.authenticate(&token).await?;
        if principal.device.as_deref() != Some(device.device_id.as_str()) {
            return Err(DeviceError::OtherDevice.into());
        }
        principal.address = address;
        let needed: &[Permission] = match &access {
            Permission(one) => std::slice::from_ref(one),
            AnyOf(any) => any,
            _ => &[],
        };
        if !needed.is_empty() {
            if let Some(restricted) = principal.restricted() {
                return Err(restricted.into());
            }
            if !needed.iter().any(|p| principal.may(*p)) {
                return Err(AuthError::Forbidden(needed[0]).into());
            }
        }
        request.extensions_mut().insert(principal);
    }
    if let Some(device) = device {
        request.extensions_mut().insert(device);
    }
    Ok((request, skew))
}
