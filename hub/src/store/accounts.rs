//! What the store keeps for people: accounts, roles and their grants, sign-in failures,
//! sessions, the security policy, and the audit trail. Plain records: the rules (lockout,
//! expiry, separation of duties, the audit chain) live in `crate::accounts` and
//! `crate::audit`, above every backend.

use serde::Serialize;
use time::OffsetDateTime;
use yizhan_core::access::Permission;
use yizhan_core::account::Account;
// Roles, grants and sessions are kept as administrators read them on the wire.
pub use yizhan_sync::protocol::{GrantRecord, RoleRecord, SessionRecord, UserStatus};

use super::StoreError;

/// One person's account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub account: Account,
    pub real_name: String,
    pub department: String,
    pub status: UserStatus,
    /// The stored verifier (`crate::accounts::password`), never the password.
    pub password_hash: String,
    pub password_changed_at: OffsetDateTime,
    /// Set when an administrator made the password (first account, reset): it must be
    /// changed at the next sign-in before anything else.
    pub must_change_password: bool,
    /// Until when sign-in is refused after too many failures.
    pub locked_until: Option<OffsetDateTime>,
    /// The TOTP secret (base32), once enrolment is confirmed.
    pub totp_secret: Option<String>,
    /// A secret shown for enrolment and not yet confirmed with a code.
    pub totp_pending: Option<String>,
    /// The last TOTP time step accepted: a code of that step or before is a replay.
    pub totp_last_step: Option<i64>,
    /// SM3 of each unused recovery code.
    pub recovery_codes: Vec<String>,
    pub created_at: OffsetDateTime,
    pub created_by: String,
}

/// How an account stood from `since` until its next standing: active or not, and the
/// permissions its grants gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub account: Account,
    pub since: OffsetDateTime,
    pub active: bool,
    pub permissions: std::collections::BTreeSet<Permission>,
}

/// A sign-in attempt that failed, kept for lockout and per-address throttling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFailure {
    /// The account as typed (it may not exist).
    pub account: String,
    pub address: String,
    pub at: OffsetDateTime,
}

/// One audit record as the policy made it. `mac` chains it to the record before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub id: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The counter's clock when the record came from a counter.
    #[serde(with = "time::serde::rfc3339::option")]
    pub local_at: Option<OffsetDateTime>,
    pub user: String,
    pub role: String,
    pub device: String,
    pub address: String,
    pub event: String,
    pub object: String,
    /// `success`, or `failure`.
    pub result: String,
    pub reason: String,
    /// Before/after of changed values as JSON, personal fields masked.
    pub detail: String,
    pub mac: String,
}

/// The newest record of the trail (or the checkpoint a prune left): what the next
/// record chains to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditTail {
    pub id: u64,
    pub mac: String,
}

/// Where verification starts after a prune: the last removed record's id and MAC, and a
/// MAC over both under the audit key so that a forged checkpoint is caught too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheckpoint {
    pub through_id: u64,
    pub through_mac: String,
    pub through_at: OffsetDateTime,
    pub seal: String,
}

/// A search of the trail; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub user: Option<String>,
    pub event: Option<String>,
    pub object: Option<String>,
    pub result: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub limit: usize,
    pub before_id: Option<u64>,
}

/// Builds the next audit record from the tail, inside the store's write transaction, so
/// two writers never chain to the same record.
pub type AuditBuilder = Box<dyn FnOnce(&AuditTail) -> AuditRecord + Send>;

/// Builds what a counter's records add, from how far the hub holds that counter's trail
/// and the tail, inside the store's write transaction: the records and how far the hub
/// then holds it.
pub type CounterAuditBuilder = Box<dyn FnOnce(u64, &AuditTail) -> (Vec<AuditRecord>, u64) + Send>;

#[async_trait::async_trait]
pub trait AccountStore: Send + Sync + 'static {
    async fn user(&self, account: &Account) -> Result<Option<UserRecord>, StoreError>;
    async fn users(&self) -> Result<Vec<UserRecord>, StoreError>;
    /// Adds an account; false when the account name is taken.
    async fn insert_user(&self, user: UserRecord) -> Result<bool, StoreError>;
    /// Replaces every field but the account, name and creation.
    async fn update_user(&self, user: &UserRecord) -> Result<(), StoreError>;
    /// Sets a new password hash and keeps the old one in the history.
    async fn set_password(&self, user: &UserRecord, previous_hash: &str) -> Result<(), StoreError>;
    /// The newest `n` hashes the account used before its current one.
    async fn password_history(&self, account: &Account, n: usize) -> Result<Vec<String>, StoreError>;

    async fn roles(&self) -> Result<Vec<RoleRecord>, StoreError>;
    async fn put_role(&self, role: &RoleRecord) -> Result<(), StoreError>;
    async fn grants(&self, account: &Account) -> Result<Vec<GrantRecord>, StoreError>;
    async fn put_grant(&self, grant: &GrantRecord) -> Result<(), StoreError>;
    /// False when the account did not hold the role.
    async fn remove_grant(&self, account: &Account, role: &str) -> Result<bool, StoreError>;

    /// Appends a change of an account's standing.
    async fn record_standing(&self, standing: &Standing) -> Result<(), StoreError>;
    /// Every standing the account has had, oldest first.
    async fn standings(&self, account: &Account) -> Result<Vec<Standing>, StoreError>;

    async fn record_login_failure(&self, failure: LoginFailure) -> Result<(), StoreError>;
    /// Failures of `account` since `since`, not counting those before its last success.
    async fn account_failures_since(&self, account: &str, since: OffsetDateTime) -> Result<u32, StoreError>;
    async fn address_failures_since(&self, address: &str, since: OffsetDateTime) -> Result<u32, StoreError>;
    /// Forgets an account's failures (a sign-in succeeded, or it was unlocked).
    async fn clear_login_failures(&self, account: &str) -> Result<(), StoreError>;

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError>;
    async fn update_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn open_sessions(&self) -> Result<Vec<SessionRecord>, StoreError>;

    /// The policy as JSON, if one was ever set.
    async fn policy(&self) -> Result<Option<String>, StoreError>;
    async fn set_policy(&self, json: &str) -> Result<(), StoreError>;
}

#[async_trait::async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Appends the record `build` makes from the current tail, in one transaction.
    async fn append_audit(&self, build: AuditBuilder) -> Result<AuditRecord, StoreError>;
    /// Appends the records `build` makes from how far the hub holds `device_id`'s trail
    /// (0 at first) and the tail, and keeps how far it then holds it, in one transaction;
    /// answers that.
    async fn append_counter_audit(&self, device_id: String, build: CounterAuditBuilder) -> Result<u64, StoreError>;
    /// Records after `after_id` in id order, at most `limit`.
    async fn audit_after(&self, after_id: u64, limit: usize) -> Result<Vec<AuditRecord>, StoreError>;
    async fn search_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;
    async fn audit_checkpoint(&self) -> Result<Option<AuditCheckpoint>, StoreError>;
    /// Removes the records up to `checkpoint.through_id` and keeps the checkpoint, in one
    /// transaction. The policy decides what may go.
    async fn prune_audit(&self, checkpoint: AuditCheckpoint) -> Result<u64, StoreError>;
}
