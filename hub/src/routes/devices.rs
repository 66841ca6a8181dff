//! Counter PCs: enrolling, proving who they are, and the system administrator's list with
//! its codes and revocations.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, Path, State};
use yizhan_core::id::DeviceId;
use yizhan_sync::protocol::device::{
    DeviceChallenge, DeviceListing, DeviceSession, DeviceSessionRequest, Enrolment, EnrolmentCode, EnrolmentRequest, NewDevice, Revocation,
};

use super::access::SourceAddress;
use super::auth::body;
use crate::accounts::Principal;
use crate::error::HubError;
use crate::hub::Hub;

/// `POST /v1/devices/enrol`.
pub async fn enrol(
    State(hub): State<Hub>,
    Extension(SourceAddress(address)): Extension<SourceAddress>,
    request: Result<Json<EnrolmentRequest>, JsonRejection>,
) -> Result<Json<Enrolment>, HubError> {
    Ok(Json(hub.enrol(body(request)?, &address).await?))
}

/// `POST /v1/devices/challenge`.
pub async fn challenge(State(hub): State<Hub>) -> Json<DeviceChallenge> {
    Json(hub.device_challenge())
}

/// `POST /v1/devices/session`.
pub async fn session(
    State(hub): State<Hub>,
    Extension(SourceAddress(address)): Extension<SourceAddress>,
    request: Result<Json<DeviceSessionRequest>, JsonRejection>,
) -> Result<Json<DeviceSession>, HubError> {
    Ok(Json(hub.open_device_session(body(request)?, &address).await?))
}

/// `GET /v1/admin/devices`.
pub async fn devices(State(hub): State<Hub>) -> Result<Json<Vec<DeviceListing>>, HubError> {
    Ok(Json(hub.devices().await?))
}

/// `POST /v1/admin/devices`: the enrolment code, shown once.
pub async fn new_device(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    request: Result<Json<NewDevice>, JsonRejection>,
) -> Result<Json<EnrolmentCode>, HubError> {
    Ok(Json(hub.new_device(&me.actor(), body(request)?).await?))
}

/// `POST /v1/admin/devices/{device}/revoke`.
pub async fn revoke(
    State(hub): State<Hub>,
    Extension(me): Extension<Principal>,
    Path(device): Path<String>,
    request: Result<Json<Revocation>, JsonRejection>,
) -> Result<Json<DeviceListing>, HubError> {
    let device = DeviceId::parse(device).map_err(|e| HubError::BadQuery(format!("终端编号：{e}")))?;
    Ok(Json(hub.revoke_device(&me.actor(), &device, body(request)?).await?))
}
