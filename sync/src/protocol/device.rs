//! Counter PCs: enrolled once with a code the system administrator hands out, then proving
//! on every request that they are that PC (docs/api.md "Devices").

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use yizhan_core::access::DataScope;
use yizhan_core::id::DeviceId;

/// The device token of a counter's request (from `POST /v1/devices/session`).
pub const DEVICE_TOKEN_HEADER: &str = "x-yizhan-device";
/// The counter's clock when it sent the request (RFC 3339), compared with the hub's.
pub const DEVICE_TIME_HEADER: &str = "x-yizhan-device-time";
/// Set on an answer to a counter whose clock is off by more than the hub's margin: by how
/// many seconds (positive: the counter is ahead).
pub const CLOCK_SKEW_HEADER: &str = "x-yizhan-clock-skew";

/// How long an enrolment code may wait to be used.
pub const ENROLMENT_CODE_HOURS: i64 = 24;
/// Longest name of a counter PC, in characters.
pub const MAX_DEVICE_NAME_CHARS: usize = 40;

/// `POST /v1/admin/devices`: a counter PC to enrol, and where it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    pub device_id: DeviceId,
    /// What the window calls it: `江宁区 3 号窗口`.
    pub name: String,
    pub scope: DataScope,
}

/// The answer: the one-time code the PC enrols with, shown to the administrator once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EnrolmentCode {
    pub device_id: DeviceId,
    pub code: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub expires_at: OffsetDateTime,
}

/// `POST /v1/devices/enrol`: a PC's first contact, with the code and its new public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentRequest {
    pub code: String,
    /// SM2 public key, uncompressed SEC1 in hex: the device key, which also signs the
    /// counter's commands and documents.
    pub public_key: String,
}

/// The answer: who the PC now is, the hub key to pin, and its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Enrolment {
    pub device_id: DeviceId,
    pub name: String,
    pub scope: DataScope,
    /// The hub's SM2 key (hex), pinned from now on: batches, snapshots and key rotations
    /// are checked against it.
    pub hub_key: String,
    /// How far the counter's clock may drift from the hub's before it is told.
    pub clock_margin_seconds: u32,
}

/// The answer of `POST /v1/devices/challenge`: what the device signs next, good for two
/// minutes by the hub's clock and once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceChallenge {
    pub challenge: String,
}

/// `POST /v1/devices/session`: the device proves it holds its key by signing the hub's
/// challenge, for a token that its requests then carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSessionRequest {
    pub device_id: DeviceId,
    pub challenge: String,
    /// SM2 over [`DeviceSessionRequest::signed_text`], hex.
    pub signature: String,
}

impl DeviceSessionRequest {
    /// What the device key signs: a purpose line no command or document text begins with,
    /// so a signature made here can serve nowhere else.
    pub fn signed_text(&self) -> String {
        format!("yizhan-device-session\n{}\n{}", self.device_id, self.challenge)
    }
}

/// The answer: the token and how long it works (counted on the device's own clock, which
/// may be off the hub's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSession {
    pub token: String,
    pub expires_in_seconds: u64,
}

/// Where a counter PC stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// A code was made; the PC has not used it.
    Pending,
    Active,
    /// Taken out of service: it may still upload what its outbox holds, then wipes itself.
    Retired,
    /// Lost or stolen: refused everywhere at once; it wipes itself if it ever calls again.
    Lost,
}

impl DeviceState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceState::Pending => "pending",
            DeviceState::Active => "active",
            DeviceState::Retired => "retired",
            DeviceState::Lost => "lost",
        }
    }

    pub fn parse(text: &str) -> Option<DeviceState> {
        [DeviceState::Pending, DeviceState::Active, DeviceState::Retired, DeviceState::Lost]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// `POST /v1/admin/devices/{id}/revoke`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// `retired` or `lost`.
    pub state: DeviceState,
    pub reason: String,
}

/// One counter PC as the system administrator sees it (`GET /v1/admin/devices`, and the
/// answer of a revocation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeviceListing {
    pub device_id: DeviceId,
    pub name: String,
    pub scope: DataScope,
    pub state: DeviceState,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub enrolled_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub last_seen_at: Option<OffsetDateTime>,
    /// How far its clock was off at its last request, in seconds (positive: ahead).
    pub clock_skew_seconds: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_by: Option<String>,
    /// What it had not uploaded at its last report: commands in its outbox and issued
    /// documents whose PDF had not reached the hub. A lost PC's are what the window must
    /// redo by hand.
    pub commands_not_uploaded: Option<u64>,
    pub documents_not_uploaded: Option<u64>,
}
