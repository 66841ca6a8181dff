//! The HTTP surface: sync endpoints for the counters, ingest endpoints for the department
//! connectors, and our `ApiError` JSON for everything that goes wrong, including what
//! axum would otherwise answer in plain text.

pub mod access;
pub mod edges;
mod alerts;
mod auth;
mod commands;
mod connectors;
mod devices;
mod documents;
pub(crate) mod ingest;
mod push;
mod reconcile;
mod sync;

use axum::Router;
use axum::http::{Method, Uri};
use axum::routing::{delete, get, post, put};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::trace::TraceLayer;
use yizhan_sync::protocol::{
    CivilDefenceNotice, PaymentRecord, PlanningRecord, TaxClearanceRecord,
};

use crate::error::HubError;
use crate::hub::Hub;
use crate::ingest::IngestRecord;

pub fn router(hub: Hub) -> Router {
    let router = Router::new()
        .route("/v1/health", get(sync::health))
        .route("/v1/changes", get(sync::changes))
        .route("/v1/snapshot", get(sync::snapshot))
        .route("/v1/projects/{code}", get(sync::project))
        .route("/v1/commands", post(commands::commands))
        .route("/v1/reconcile/sums", post(reconcile::sums))
        .route("/v1/reconcile/rows", post(reconcile::rows))
        .route("/v1/counters/report", post(sync::counter_report))
        .route("/v1/counters/sign-ins", post(auth::sign_in_standing))
        .route("/v1/counters/audit", post(sync::counter_audit))
        .route("/v1/status", get(sync::status))
        .route("/v1/alerts", get(alerts::alerts))
        .route("/v1/alert-rules", get(alerts::rules))
        .route("/v1/alerts/assignees", get(alerts::assignees))
        .route("/metrics", get(alerts::metrics))
        .route("/v1/connectors", get(connectors::connectors))
        .route("/v1/connectors/planning-file/verify", post(connectors::verify_planning_file))
        .route("/v1/quarantine", get(connectors::quarantine))
        .route("/v1/quarantine/{id}/reprocess", post(connectors::reprocess))
        .route("/v1/quarantine/{id}/dismiss", post(connectors::dismiss))
        .route("/v1/imports/planning", post(connectors::import_planning))
        .route("/v1/segments", post(documents::segments))
        .route("/v1/document-checks", post(documents::check))
        .route("/v1/documents/{number}", get(documents::document))
        .route("/v1/documents/{number}/pdf", get(documents::get_pdf).put(documents::put_pdf))
        .route("/v1/projects/{code}/notifications", get(documents::notifications))
        .route("/v1/verify", get(documents::verify_json))
        .route("/verify", get(documents::verify_page))
        .route("/v1/devices/enrol", post(devices::enrol))
        .route("/v1/devices/challenge", post(devices::challenge))
        .route("/v1/devices/session", post(devices::session))
        .route("/v1/admin/devices", get(devices::devices).post(devices::new_device))
        .route("/v1/admin/devices/{device}/revoke", post(devices::revoke))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/logout", post(auth::logout))
        .route("/v1/auth/me", get(auth::me))
        .route("/v1/auth/password", post(auth::change_password))
        .route("/v1/auth/second-factor", post(auth::begin_second_factor))
        .route("/v1/auth/second-factor/confirm", post(auth::confirm_second_factor))
        .route("/v1/admin/users", get(auth::users).post(auth::create_user))
        .route("/v1/admin/users/{account}/status", post(auth::set_status))
        .route("/v1/admin/users/{account}/password-reset", post(auth::reset_password))
        .route("/v1/admin/users/{account}/unlock", post(auth::unlock))
        .route("/v1/admin/users/{account}/grants/{role}", put(auth::grant).delete(auth::revoke))
        .route("/v1/admin/roles", get(auth::roles))
        .route("/v1/admin/roles/{id}", put(auth::put_role))
        .route("/v1/admin/policy", get(auth::policy).put(auth::set_policy))
        .route("/v1/admin/sessions", get(auth::sessions))
        .route("/v1/admin/sessions/{id}", delete(auth::end_session))
        .route("/v1/audit", get(auth::audit))
        .route("/v1/audit/export", get(auth::export))
        .merge(push::routes());
    let router = with_ingest::<CivilDefenceNotice>(with_ingest::<PaymentRecord>(with_ingest::<
        TaxClearanceRecord,
    >(
        with_ingest::<PlanningRecord>(router),
    )));
    with_edges(router, hub)
}

/// What the public listener serves (`--public-listen`): the verification page that phones
/// reach from a document's QR code, and its JSON, nothing else of the hub.
pub fn public_router(hub: Hub) -> Router {
    let router = Router::new()
        .route("/v1/verify", get(documents::verify_json))
        .route("/verify", get(documents::verify_page));
    with_edges(router, hub)
}

/// Every request held to its route's line of the access table, and our errors for what
/// matches no route.
fn with_edges(router: Router<Hub>, hub: Hub) -> Router {
    router
        // A route layer, so that the route matched is known: every request is held to
        // its route's line of the access table.
        .route_layer(axum::middleware::from_fn_with_state(hub.clone(), access::authorise))
        .fallback(|uri: Uri| async move { HubError::NoSuchEndpoint(uri.path().to_owned()) })
        .method_not_allowed_fallback(|method: Method| async move {
            HubError::MethodNotAllowed(method.to_string())
        })
        // Fastest: a snapshot of millions of rows is CPU-bound on gzip at higher levels,
        // and level 1 already shrinks this JSON several times over.
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .layer(axum::middleware::from_fn_with_state(hub.clone(), edges::check_host))
        .layer(TraceLayer::new_for_http())
        .with_state(hub)
}

fn with_ingest<R: IngestRecord>(router: Router<Hub>) -> Router<Hub> {
    router.route(
        &format!("/v1/ingest/{}", R::SOURCE),
        post(ingest::ingest::<R>),
    )
}
