//! What the store keeps of counter PCs: each enrolled (or about to be) device, and the
//! tokens its requests carry. Plain records: enrolment, revocation and the checks on every
//! request live in `crate::devices`, above every backend.

use time::OffsetDateTime;
use yizhan_core::access::DataScope;
use yizhan_core::id::DeviceId;
pub use yizhan_sync::protocol::device::DeviceState;

use super::StoreError;

/// One counter PC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub device_id: DeviceId,
    pub name: String,
    pub scope: DataScope,
    pub state: DeviceState,
    /// The device key (SM2, hex), once enrolled.
    pub public_key: Option<String>,
    /// SM3 of the enrolment code, and when it stops working.
    pub code_sm3: Option<String>,
    pub code_expires_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub created_by: String,
    pub enrolled_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    pub last_seen_at: Option<OffsetDateTime>,
    pub clock_skew_seconds: Option<i64>,
}

/// A token a device's requests carry, by its SM3 (the token itself is never kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceToken {
    pub token_sm3: String,
    pub device_id: DeviceId,
    /// The challenge the device signed for it: never accepted twice.
    pub challenge: String,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

#[async_trait::async_trait]
pub trait DeviceStore: Send + Sync + 'static {
    async fn device(&self, device_id: &DeviceId) -> Result<Option<DeviceRecord>, StoreError>;
    async fn devices(&self) -> Result<Vec<DeviceRecord>, StoreError>;
    /// Inserts the device or replaces what is kept of it.
    async fn put_device(&self, device: &DeviceRecord) -> Result<(), StoreError>;
    /// The device whose enrolment code has this SM3.
    async fn device_by_code(&self, code_sm3: &str) -> Result<Option<DeviceRecord>, StoreError>;
    /// Records the device of the code enrolled with `public_key` if it is still pending:
    /// false when another request used the code first. The code's SM3 stays, so that a
    /// second use is told apart from a wrong code.
    async fn claim_enrolment(&self, code_sm3: &str, public_key: &str, at: OffsetDateTime) -> Result<bool, StoreError>;
    /// False when the token's challenge was used before.
    async fn insert_device_token(&self, token: &DeviceToken) -> Result<bool, StoreError>;
    async fn device_token(&self, token_sm3: &str) -> Result<Option<DeviceToken>, StoreError>;
    /// Drops tokens that expired before `before`; how many.
    async fn prune_device_tokens(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
    async fn device_seen(&self, device_id: &DeviceId, at: OffsetDateTime, clock_skew_seconds: i64) -> Result<(), StoreError>;
}
