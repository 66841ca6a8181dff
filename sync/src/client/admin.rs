//! The data centre's operator endpoints, as the app's admin area reads and works them:
//! connector status, the quarantine, the upload of a planning export with its progress,
//! the audit trail, and the accounts, roles, security policy and online sessions.

use std::sync::{PoisonError, RwLock};

use futures_util::StreamExt;
use reqwest::RequestBuilder;
use serde::de::DeserializeOwned;
use serde_json::json;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use yizhan_core::access::DataScope;
use yizhan_core::account::SecurityPolicy;

use super::{DeviceAuth, HubLink, SyncError, unreadable};
use crate::protocol::device::{DeviceListing, EnrolmentCode, NewDevice, Revocation};
use crate::protocol::{
    AlertAssignee, AuditEntry, AuditSearch, ConnectorStatus, DeliveryReport, GrantBody, ImportEvent, ImportReport, NewUser, OneTimePassword, QUARANTINE_PAGE,
    QuarantineEntry, QuarantineState, RoleBody, RoleRecord, SessionRecord, StatusChange, UserStatus, UserView,
};

/// One segment of a route's path: an account, role or session id typed by a person stays
/// one segment whatever it holds.
fn segment(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

pub struct HubAdmin {
    hub_url: String,
    pub(super) http: reqwest::Client,
    /// The PC these requests come from: a session is bound to the one it was opened on.
    device: Option<DeviceAuth>,
    /// The bearer token of the person signed in through this client, if any.
    pub(super) session: RwLock<Option<String>>,
}

impl HubAdmin {
    /// A client for people's requests from the PC `device` proves (none: the hub refuses
    /// them, as from a PC not enrolled).
    pub fn new(hub: &HubLink, device: Option<DeviceAuth>) -> Result<HubAdmin, SyncError> {
        // No gzip: an import's progress lines must arrive as they are sent, not when a
        // compressed block fills.
        let http = hub.http(reqwest::Client::builder().no_gzip())?;
        Ok(HubAdmin { hub_url: hub.url().to_owned(), http, device, session: RwLock::new(None) })
    }

    pub async fn connectors(&self) -> Result<Vec<ConnectorStatus>, SyncError> {
        self.json("/v1/connectors", self.http.get(self.url("/v1/connectors"))).await
    }

    /// Entries in `state` (all when `None`), newest first.
    pub async fn quarantine(&self, state: Option<QuarantineState>) -> Result<Vec<QuarantineEntry>, SyncError> {
        let mut request = self.http.get(self.url("/v1/quarantine")).query(&[("limit", QUARANTINE_PAGE)]);
        if let Some(state) = state {
            request = request.query(&[("state", state.as_str())]);
        }
        self.json("/v1/quarantine", request).await
    }

    /// Re-checks entry `id`, as `record` corrects it or as it was; the hub records the
    /// signed-in person as who did.
    pub async fn reprocess(&self, id: u64, record: Option<serde_json::Value>) -> Result<DeliveryReport, SyncError> {
        let path = format!("/v1/quarantine/{id}/reprocess");
        let mut body = json!({});
        if let Some(record) = record {
            body["record"] = record;
        }
        self.json(&path, self.http.post(self.url(&path)).json(&body)).await
    }

    pub async fn dismiss(&self, id: u64, reason: &str) -> Result<(), SyncError> {
        let path = format!("/v1/quarantine/{id}/dismiss");
        let body = json!({ "reason": reason });
        self.done(&path, self.http.post(self.url(&path)).json(&body)).await
    }

    /// Uploads a planning export; `progress(done, total)` hears of the rows delivered.
    pub async fn import_planning(
        &self,
        file_name: &str,
        bytes: Vec<u8>,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<ImportReport, SyncError> {
        let path = "/v1/imports/planning";
        let request = self.http.post(self.url(path)).query(&[("file_name", file_name)]).header(reqwest::header::CONTENT_TYPE, "application/octet-stream").body(bytes);
        let response = self.send(request).await?;
        let mut body = response.bytes_stream();
        let mut pending = Vec::new();
        while let Some(chunk) = body.next().await {
            pending.extend_from_slice(&chunk.map_err(|source| self.network(source))?);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                match serde_json::from_slice(&line).map_err(|e| unreadable(path, &e))? {
                    ImportEvent::Progress { done, total } => progress(done, total),
                    ImportEvent::Report(report) => return Ok(report),
                    ImportEvent::Error(error) => {
                        let field = error.errors.first().map(|e| e.field.clone());
                        return Err(SyncError::Hub { status: 422, code: error.code, message: error.message, field });
                    }
                }
            }
        }
        Err(SyncError::Hub {
            status: 200,
            code: "import_cut_off".into(),
            message: "导入结果未能完整收到：连接中断。文件中已送达的行已写入，重新导入同一文件不会重复写入。".into(),
            field: None,
        })
    }

    /// Whom an alert may be assigned to (alert:assign).
    pub async fn alert_assignees(&self) -> Result<Vec<AlertAssignee>, SyncError> {
        self.json("/v1/alerts/assignees", self.http.get(self.url("/v1/alerts/assignees"))).await
    }

    /// A page of the audit trail, newest first (audit:read); the search is itself recorded.
    pub async fn audit(&self, search: &AuditSearch) -> Result<Vec<AuditEntry>, SyncError> {
        self.json("/v1/audit", self.http.get(self.url("/v1/audit")).query(search)).await
    }

    /// Every record `search` finds as a `csv` or `xlsx` file (audit:export); the export is
    /// itself recorded.
    pub async fn export_audit(&self, search: &AuditSearch, format: &str) -> Result<Vec<u8>, SyncError> {
        let request = self.http.get(self.url("/v1/audit/export")).query(search).query(&[("format", format)]);
        let bytes = self.send(request).await?.bytes().await.map_err(|source| self.network(source))?;
        Ok(bytes.to_vec())
    }

    /// Every account with its grants (user:manage).
    pub async fn users(&self) -> Result<Vec<UserView>, SyncError> {
        self.json("/v1/admin/users", self.http.get(self.url("/v1/admin/users"))).await
    }

    /// A new account with no role, and its one-time password, answered this once (user:manage).
    pub async fn create_user(&self, new: &NewUser) -> Result<OneTimePassword, SyncError> {
        self.json("/v1/admin/users", self.http.post(self.url("/v1/admin/users")).json(new)).await
    }

    /// Disables an account (its sessions end at once) or enables it again (user:manage).
    pub async fn set_user_status(&self, account: &str, status: UserStatus) -> Result<(), SyncError> {
        let path = format!("/v1/admin/users/{}/status", segment(account));
        self.done(&path, self.http.post(self.url(&path)).json(&StatusChange { status })).await
    }

    /// A new one-time password; the account's sessions end (user:manage).
    pub async fn reset_password(&self, account: &str) -> Result<OneTimePassword, SyncError> {
        let path = format!("/v1/admin/users/{}/password-reset", segment(account));
        self.json(&path, self.http.post(self.url(&path))).await
    }

    /// Lifts a lockout before its time (user:unlock).
    pub async fn unlock_user(&self, account: &str) -> Result<(), SyncError> {
        let path = format!("/v1/admin/users/{}/unlock", segment(account));
        self.done(&path, self.http.post(self.url(&path))).await
    }

    /// Grants `role` where `scope` says (role:grant); the hub refuses a grant to oneself.
    pub async fn grant_role(&self, account: &str, role: &str, scope: DataScope) -> Result<(), SyncError> {
        let path = format!("/v1/admin/users/{}/grants/{}", segment(account), segment(role));
        self.done(&path, self.http.put(self.url(&path)).json(&GrantBody { scope })).await
    }

    pub async fn revoke_role(&self, account: &str, role: &str) -> Result<(), SyncError> {
        let path = format!("/v1/admin/users/{}/grants/{}", segment(account), segment(role));
        self.done(&path, self.http.delete(self.url(&path))).await
    }

    /// Every role with its permissions (role:grant).
    pub async fn roles(&self) -> Result<Vec<RoleRecord>, SyncError> {
        self.json("/v1/admin/roles", self.http.get(self.url("/v1/admin/roles"))).await
    }

    /// Sets a role's name and permissions, making the role if it is new (role:grant).
    pub async fn put_role(&self, id: &str, role: &RoleBody) -> Result<RoleRecord, SyncError> {
        let path = format!("/v1/admin/roles/{}", segment(id));
        self.json(&path, self.http.put(self.url(&path)).json(role)).await
    }

    pub async fn security_policy(&self) -> Result<SecurityPolicy, SyncError> {
        self.json("/v1/admin/policy", self.http.get(self.url("/v1/admin/policy"))).await
    }

    /// Sets the policy (policy:change); one weaker than level 3's floor is refused by field.
    pub async fn set_security_policy(&self, policy: &SecurityPolicy) -> Result<(), SyncError> {
        self.done("/v1/admin/policy", self.http.put(self.url("/v1/admin/policy")).json(policy)).await
    }

    /// Who is signed in now (user:manage).
    pub async fn sessions(&self) -> Result<Vec<SessionRecord>, SyncError> {
        self.json("/v1/admin/sessions", self.http.get(self.url("/v1/admin/sessions"))).await
    }

    /// Force-logout: the session's token stops working at once (user:manage).
    pub async fn end_session(&self, id: &str) -> Result<(), SyncError> {
        let path = format!("/v1/admin/sessions/{}", segment(id));
        self.done(&path, self.http.delete(self.url(&path))).await
    }

    /// Every counter PC, with what it had not uploaded at its last report (device:manage).
    pub async fn devices(&self) -> Result<Vec<DeviceListing>, SyncError> {
        self.json("/v1/admin/devices", self.http.get(self.url("/v1/admin/devices"))).await
    }

    /// The one-time enrolment code of a new PC, shown once (device:manage).
    pub async fn new_device(&self, device: &NewDevice) -> Result<EnrolmentCode, SyncError> {
        self.json("/v1/admin/devices", self.http.post(self.url("/v1/admin/devices")).json(device)).await
    }

    /// Retires a PC or reports it lost (device:manage).
    pub async fn revoke_device(&self, device_id: &str, revocation: &Revocation) -> Result<DeviceListing, SyncError> {
        let path = format!("/v1/admin/devices/{}/revoke", segment(device_id));
        self.json(&path, self.http.post(self.url(&path)).json(revocation)).await
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.hub_url)
    }

    fn network(&self, source: reqwest::Error) -> SyncError {
        SyncError::Network { url: self.hub_url.clone(), source }
    }

    async fn send(&self, mut request: RequestBuilder) -> Result<reqwest::Response, SyncError> {
        let token = self.session.read().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        super::send_as(self.device.as_ref(), &self.hub_url, request).await
    }

    /// A request whose answer says only that it was done.
    async fn done(&self, path: &str, request: RequestBuilder) -> Result<(), SyncError> {
        self.json::<serde_json::Value>(path, request).await.map(drop)
    }

    pub(super) async fn json<T: DeserializeOwned>(&self, path: &str, request: RequestBuilder) -> Result<T, SyncError> {
        let answer = self.send(request).await?.bytes().await.map_err(|source| self.network(source))?;
        serde_json::from_slice(&answer).map_err(|e| unreadable(path, &e))
    }
}
