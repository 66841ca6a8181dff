//! This PC as one of the hub's devices: enrolling with the administrator's code, and the
//! token and clock every request then carries. The token comes from signing the hub's
//! challenge with the device key and is fetched again before it runs out.

use std::sync::Arc;
use std::time::Duration;

use reqwest::RequestBuilder;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Mutex;
use tokio::time::Instant;
use yizhan_core::clock::Clock;
use yizhan_core::id::DeviceId;
use yizhan_voucher::signature::CounterKey;

use super::{HubLink, SyncError, hub_answer, unreadable};
use crate::protocol::device::{
    DEVICE_TIME_HEADER, DEVICE_TOKEN_HEADER, DeviceChallenge, DeviceSession, DeviceSessionRequest, Enrolment, EnrolmentRequest,
};

/// Enrolling and proving the key are short exchanges.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A token is fetched again when less than this is left of it.
const RENEW_BEFORE: Duration = Duration::from_secs(10 * 60);

/// The hub's code for a PC reported lost: it wipes itself. (A PC the hub does not know,
/// as after a restore from an older backup, keeps its data and is told to enrol again.)
pub const DEVICE_LOST: &str = "device_lost";
/// The hub's code for a retired device calling for more than uploading what it holds.
pub const DEVICE_RETIRED: &str = "device_retired";
/// The hub's code for a token it no longer holds: the next request proves the key again.
const TOKEN_ENDED: &str = "device_session_ended";

fn network(hub_url: &str) -> impl Fn(reqwest::Error) -> SyncError + '_ {
    move |source| SyncError::Network { url: hub_url.to_owned(), source }
}

/// Enrols this PC at the hub with the administrator's one-time `code`, registering `key`
/// as its device key.
pub async fn enrol(hub: &HubLink, code: &str, key: &CounterKey) -> Result<Enrolment, SyncError> {
    let hub_url = hub.url();
    let request = EnrolmentRequest { code: code.trim().to_owned(), public_key: key.public_key().to_hex() };
    let path = "/v1/devices/enrol";
    let response = hub.http(reqwest::Client::builder().timeout(REQUEST_TIMEOUT))?.post(format!("{hub_url}{path}")).json(&request).send().await.map_err(network(hub_url))?;
    let answer = hub_answer(response).await.map_err(|e| e.unwrap_or_else(network(hub_url)))?;
    let bytes = answer.bytes().await.map_err(network(hub_url))?;
    serde_json::from_slice(&bytes).map_err(|e| unreadable(path, &e))
}

/// How this PC proves itself on each request.
#[derive(Clone)]
pub struct DeviceAuth(Arc<Inner>);

struct Inner {
    hub_url: String,
    http: reqwest::Client,
    device_id: DeviceId,
    key: CounterKey,
    /// The clock the device's time is read from: the one its commands are dated by.
    clock: Clock,
    token: Mutex<Option<(String, Instant)>>,
}

impl DeviceAuth {
    pub fn new(hub: &HubLink, device_id: DeviceId, key: CounterKey, clock: Clock) -> Result<DeviceAuth, SyncError> {
        let hub_url = hub.url().to_owned();
        let http = hub.http(reqwest::Client::builder().timeout(REQUEST_TIMEOUT))?;
        Ok(DeviceAuth(Arc::new(Inner { hub_url, http, device_id, key, clock, token: Mutex::new(None) })))
    }

    pub fn device_id(&self) -> &DeviceId {
        &self.0.device_id
    }

    /// `request` as this device sends it: with its token and its clock.
    pub async fn sign(&self, request: RequestBuilder) -> Result<RequestBuilder, SyncError> {
        let token = self.token().await?;
        let now = self.0.clock.now().format(&Rfc3339).expect("a UTC time formats as RFC 3339");
        Ok(request.header(DEVICE_TOKEN_HEADER, token).header(DEVICE_TIME_HEADER, now))
    }

    /// Drops the token when `error` says the hub no longer holds it, so that the next
    /// request proves the key again; whether it did.
    pub async fn note(&self, error: &SyncError) -> bool {
        let ended = matches!(error, SyncError::Hub { code, .. } if code == TOKEN_ENDED);
        if ended {
            self.forget().await;
        }
        ended
    }

    /// Drops the token: the next request proves the key again.
    pub async fn forget(&self) {
        *self.0.token.lock().await = None;
    }

    async fn post<T: serde::de::DeserializeOwned>(&self, path: &str, body: &impl serde::Serialize) -> Result<T, SyncError> {
        let hub_url = &self.0.hub_url;
        let response = self.0.http.post(format!("{hub_url}{path}")).json(body).send().await.map_err(network(hub_url))?;
        let answer = hub_answer(response).await.map_err(|e| e.unwrap_or_else(network(hub_url)))?;
        let bytes = answer.bytes().await.map_err(network(hub_url))?;
        serde_json::from_slice(&bytes).map_err(|e| unreadable(path, &e))
    }

    async fn token(&self) -> Result<String, SyncError> {
        let mut held = self.0.token.lock().await;
        if let Some((token, until)) = held.as_ref()
            && Instant::now() + RENEW_BEFORE < *until
        {
            return Ok(token.clone());
        }
        let asked = Instant::now();
        let DeviceChallenge { challenge } = self.post("/v1/devices/challenge", &serde_json::json!({})).await?;
        let mut request = DeviceSessionRequest { device_id: self.0.device_id.clone(), challenge, signature: String::new() };
        request.signature = hex::encode(self.0.key.sign(request.signed_text().as_bytes()));
        let session: DeviceSession = self.post("/v1/devices/session", &request).await?;
        *held = Some((session.token.clone(), asked + Duration::from_secs(session.expires_in_seconds)));
        Ok(session.token)
    }
}
