//! Who may call each route, in one table, and the layer that holds every request to it.
//! A route the table does not name is refused (fail closed), so a route added without a
//! declaration fails the first test that calls it, and the role × route matrix
//! (`tests/access.rs`) walks the table.

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use yizhan_core::access::Permission;

use crate::accounts::{AuthError, Principal};
use crate::error::HubError;
use crate::hub::Hub;

/// What a caller must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: liveness, and the verification page phones reach.
    Public,
    /// Anyone, throttled per address and locked per account: signing in.
    SignIn,
    /// Any signed-in person, even one held to changing their password or binding a
    /// second factor first: who am I, sign out, change password, bind the factor.
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
    /// The counter app's own background work (feed, reconciliation, outbox, number
    /// segments, key registration, status report). Device authentication of these
    /// requests arrives with device enrolment; until the app signs in, they carry none.
    Counter,
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
    rule("POST", "/v1/commands", Counter),
    rule("POST", "/v1/reconcile/sums", Counter),
    rule("POST", "/v1/reconcile/rows", Counter),
    rule("POST", "/v1/counters/report", Counter),
    rule("POST", "/v1/counters/key", Counter),
    rule("POST", "/v1/counters/sign-ins", Counter),
    rule("POST", "/v1/counters/audit", Counter),
    rule("POST", "/v1/segments", Counter),
    rule("POST", "/v1/document-checks", Counter),
    rule("GET", "/v1/documents/{number}", Counter),
    rule("GET", "/v1/documents/{number}/pdf", Counter),
    rule("PUT", "/v1/documents/{number}/pdf", Counter),
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

/// Holds a request to its route's rule: refuses 401 without a valid session where one is
/// needed, 403 without the permission, and puts the [`Principal`] in the request for the
/// handler.
pub async fn authorise(State(hub): State<Hub>, mut request: Request, next: Next) -> Response {
    let Some(path) = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()) else {
        return next.run(request).await;
    };
    let Some(access) = access_of(request.method(), &path) else {
        tracing::error!(method = %request.method(), path, "接口未在权限表中声明，已拒绝");
        return HubError::Undeclared(path).into_response();
    };
    let address = source_address(&request);
    request.extensions_mut().insert(SourceAddress(address.clone()));
    match access {
        Public | SignIn | Department | Counter => {}
        DemoIngest if hub.demo() => {}
        DemoIngest => return HubError::NoSuchEndpoint(path).into_response(),
        Session | Permission(_) | AnyOf(_) => {
            let Some(token) = bearer(request.headers()) else {
                return HubError::Auth(AuthError::NoSession).into_response();
            };
            let principal: Principal = match hub.authenticate(token).await {
                Ok(mut p) => {
                    p.address = address;
                    p
                }
                Err(e) => return HubError::Auth(e).into_response(),
            };
            let needed: &[Permission] = match &access {
                Permission(one) => std::slice::from_ref(one),
                AnyOf(any) => any,
                _ => &[],
            };
            if !needed.is_empty() {
                if let Some(restricted) = principal.restricted() {
                    return HubError::Auth(restricted).into_response();
                }
                if !needed.iter().any(|p| principal.may(*p)) {
                    return HubError::Auth(AuthError::Forbidden(needed[0])).into_response();
                }
            }
            request.extensions_mut().insert(principal);
        }
    }
    next.run(request).await
}
