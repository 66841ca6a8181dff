//! Counter PCs: enrolled with a one-time code the system administrator makes, proving on
//! every request that they are that PC, retired or reported lost. A device proves itself
//! by signing a fresh challenge of the hub's with its SM2 device key, for a token that its
//! requests then carry (docs/api.md "Devices" says why not a signature on every request,
//! nor TLS client certificates).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use time::{Duration, OffsetDateTime};
use yizhan_core::access::DataScope;
use yizhan_core::district::district_name;
use yizhan_core::id::DeviceId;
use yizhan_sync::protocol::device::{
    DeviceChallenge, DeviceListing, DeviceSession, DeviceSessionRequest, DeviceState, ENROLMENT_CODE_HOURS, Enrolment, EnrolmentCode,
    EnrolmentRequest, MAX_DEVICE_NAME_CHARS, NewDevice, Revocation,
};
use yizhan_voucher::signature::PublicKey;

use crate::accounts::token_id;
use crate::audit::{Actor, AuditEvent, Entry};
use crate::documents::{off_the_workers, signed_by};
use crate::error::HubError;
use crate::hub::Hub;
use crate::store::{DeviceRecord, DeviceToken, LoginFailure, StoreError};

/// How long a device token works; the device asks for the next one before then.
pub const DEVICE_TOKEN_HOURS: i64 = 8;
/// How far a counter's clock may drift before it is told, unless the hub is started with
/// another margin.
pub const DEFAULT_CLOCK_MARGIN_SECONDS: u32 = 120;
/// How long a challenge may wait to be signed, by the hub's clock; a signed challenge is
/// taken once (kept with its token, which outlives it).
const CHALLENGE_SECONDS: i64 = 120;
/// How often a device's last contact is written while nothing about it changes.
const SEEN_EVERY: Duration = Duration::minutes(1);
/// Characters of an enrolment code: no 0/O, 1/I/L, so it is read off a slip without doubt.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_CHARS: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("请求没有终端凭据")]
    NoDevice,
    #[error("终端凭据无效或已过期")]
    TokenEnded,
    #[error("终端 {0} 已退役")]
    Retired(String),
    #[error("终端 {0} 已挂失")]
    Lost(String),
    #[error("终端 {0} 未登记")]
    Unknown(String),
    #[error("登录会话不是在这台终端上打开的")]
    OtherDevice,
    #[error("请求中的终端编号 {0} 与发出请求的终端不符")]
    Mismatch(String),
    #[error("登记码不正确")]
    WrongCode,
    #[error("登记码已过期")]
    CodeExpired,
    #[error("登记码已经用过")]
    CodeUsed,
    #[error("终端编号 {0} 已被使用")]
    Taken(String),
    #[error("{field}：{problem}")]
    Field { field: &'static str, problem: String },
    #[error("终端签名不正确")]
    BadProof,
    #[error("该验证串已用过")]
    Replayed,
    #[error("验证串无效或已过期")]
    StaleChallenge,
    #[error("没有终端 {0}")]
    NoSuch(String),
    #[error("终端 {0} 已注销，不能再改")]
    AlreadyRevoked(String),
    #[error("本机登记失败次数过多，请稍后再试")]
    Throttled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DeviceError {
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            DeviceError::NoDevice | DeviceError::TokenEnded | DeviceError::OtherDevice => S::UNAUTHORIZED,
            DeviceError::BadProof | DeviceError::Replayed | DeviceError::StaleChallenge => S::UNAUTHORIZED,
            DeviceError::Retired(_) | DeviceError::Lost(_) | DeviceError::Unknown(_) | DeviceError::Mismatch(_) => S::FORBIDDEN,
            DeviceError::WrongCode | DeviceError::CodeExpired | DeviceError::CodeUsed => S::FORBIDDEN,
            DeviceError::Taken(_) | DeviceError::AlreadyRevoked(_) => S::CONFLICT,
            DeviceError::Field { .. } => S::UNPROCESSABLE_ENTITY,
            DeviceError::NoSuch(_) => S::NOT_FOUND,
            DeviceError::Throttled => S::TOO_MANY_REQUESTS,
            DeviceError::Store(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            DeviceError::NoDevice => "device_required",
            DeviceError::TokenEnded => "device_session_ended",
            DeviceError::Retired(_) => "device_retired",
            DeviceError::Lost(_) => "device_lost",
            DeviceError::Unknown(_) => "unknown_device",
            DeviceError::OtherDevice => "session_other_device",
            DeviceError::Mismatch(_) => "device_mismatch",
            DeviceError::WrongCode => "enrolment_code_wrong",
            DeviceError::CodeExpired => "enrolment_code_expired",
            DeviceError::CodeUsed => "enrolment_code_used",
            DeviceError::Taken(_) => "device_taken",
            DeviceError::Field { .. } => "invalid_field",
            DeviceError::BadProof => "device_proof_invalid",
            DeviceError::Replayed => "device_proof_replayed",
            DeviceError::StaleChallenge => "device_challenge_stale",
            DeviceError::NoSuch(_) => "no_such_device",
            DeviceError::AlreadyRevoked(_) => "device_already_revoked",
            DeviceError::Throttled => "too_many_attempts",
            DeviceError::Store(_) => "internal",
        }
    }

    pub fn advice(&self) -> &'static str {
        match self {
            DeviceError::NoDevice | DeviceError::TokenEnded => "终端会自动重新认证；如反复出现，请联系系统管理员。",
            DeviceError::Retired(_) | DeviceError::Lost(_) => "本终端将清除本地数据并回到首次设置；如需继续使用，请系统管理员重新登记。",
            DeviceError::Unknown(_) => "请系统管理员为本终端生成登记码后重新登记。",
            DeviceError::OtherDevice => "请在本终端重新登录。",
            DeviceError::Mismatch(_) => "终端只能以自己的编号收发数据；如非本单位终端所发，请立即报告。",
            DeviceError::WrongCode => "请核对系统管理员给出的登记码（12 位，可含短横线）。",
            DeviceError::CodeExpired | DeviceError::CodeUsed => "请系统管理员重新生成登记码。",
            DeviceError::Taken(_) => "终端编号不能重复使用，请另取一个编号。",
            DeviceError::Field { .. } => "请按提示更正后重试。",
            DeviceError::BadProof | DeviceError::Replayed => "如非本单位终端所发，请立即报告。",
            DeviceError::StaleChallenge => "终端会重新取验证串；如反复出现，请联系系统管理员。",
            DeviceError::NoSuch(_) | DeviceError::AlreadyRevoked(_) => "请刷新终端列表。",
            DeviceError::Throttled => "请稍后再试，或联系系统管理员。",
            DeviceError::Store(_) => "数据中心内部错误，请稍后重试；如持续出现请联系技术人员。",
        }
    }
}

/// The device a request comes from, as the access layer found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCaller {
    pub device_id: DeviceId,
    pub state: DeviceState,
    pub scope: DataScope,
    /// Its clock against the hub's, in seconds (positive: ahead), when it said its time.
    pub clock_skew_seconds: Option<i64>,
}

impl DeviceCaller {
    /// `claimed`, the device a request's body names, when it is the caller.
    pub fn owns(&self, claimed: &DeviceId) -> Result<(), DeviceError> {
        if claimed == &self.device_id { Ok(()) } else { Err(DeviceError::Mismatch(claimed.to_string())) }
    }
}

/// The last contact written per device, and whether its clock was off then.
#[derive(Default)]
pub(crate) struct SeenDevices(Mutex<HashMap<DeviceId, (OffsetDateTime, bool)>>);

/// A code as typed: case, spaces and dashes do not matter.
fn normalise_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

fn new_code() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let chars: String = (0..CODE_CHARS).map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char).collect();
    format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12])
}

fn field(field: &'static str, problem: impl Into<String>) -> DeviceError {
    DeviceError::Field { field, problem: problem.into() }
}

fn listing(device: DeviceRecord, report: Option<&yizhan_sync::protocol::CounterReport>) -> DeviceListing {
    DeviceListing {
        device_id: device.device_id,
        name: device.name,
        scope: device.scope,
        state: device.state,
        enrolled_at: device.enrolled_at,
        last_seen_at: device.last_seen_at,
        clock_skew_seconds: device.clock_skew_seconds,
        revoked_at: device.revoked_at,
        revoked_by: device.revoked_by,
        commands_not_uploaded: report.map(|r| r.outbox.pending),
        documents_not_uploaded: report.map(|r| r.documents_pending),
    }
}

impl Hub {
    /// Makes the enrolment code for a counter PC to be enrolled as `new`; a code made
    /// before for the same PC, not used, stops working.
    pub async fn new_device(&self, by: &Actor, new: NewDevice) -> Result<EnrolmentCode, HubError> {
        let name = new.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_DEVICE_NAME_CHARS {
            return Err(field("name", format!("终端名称应为 1–{MAX_DEVICE_NAME_CHARS} 个字符")).into());
        }
        match &new.scope {
            DataScope::All => {}
            DataScope::Districts(districts) if districts.is_empty() => {
                return Err(field("scope", "至少选择一个区").into());
            }
            DataScope::Districts(districts) => {
                if let Some(unknown) = districts.iter().find(|d| district_name(d).is_none()) {
                    return Err(field("scope", format!("不认识的区划代码 {unknown}")).into());
                }
            }
        }
        if let Some(known) = self.store().device(&new.device_id).await?
            && known.state != DeviceState::Pending
        {
            return Err(DeviceError::Taken(new.device_id.to_string()).into());
        }
        let now = self.clock().now();
        let code = new_code();
        let expires_at = now + Duration::hours(ENROLMENT_CODE_HOURS);
        let device = DeviceRecord {
            device_id: new.device_id.clone(),
            name,
            scope: new.scope,
            state: DeviceState::Pending,
            public_key: None,
            code_sm3: Some(token_id(&normalise_code(&code))),
            code_expires_at: Some(expires_at),
            created_at: now,
            created_by: by.user.clone(),
            enrolled_at: None,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            last_seen_at: None,
            clock_skew_seconds: None,
        };
        self.audit(
            Entry::new(by, AuditEvent::DeviceCodeIssued, device.device_id.as_str())
                .detail(serde_json::json!({"name": device.name, "scope": device.scope, "expires_at": expires_at})),
        )
        .await?;
        self.store().put_device(&device).await?;
        Ok(EnrolmentCode { device_id: new.device_id, code, expires_at })
    }

    /// A PC's first contact: the code makes it the device it was made for, its key is
    /// registered (the change log carries it to every counter, to check its documents),
    /// and it learns the hub key to pin.
    pub async fn enrol(&self, request: EnrolmentRequest, address: &str) -> Result<Enrolment, HubError> {
        let now = self.clock().now();
        let window = now - Duration::minutes(self.security_policy().await?.lockout_window_minutes.into());
        if self.store().address_failures_since(address, window).await? >= crate::accounts::ADDRESS_FAILURES {
            return Err(DeviceError::Throttled.into());
        }
        let code_sm3 = token_id(&normalise_code(&request.code));
        let refuse = |error: DeviceError, object: String| async move {
            self.store()
                .record_login_failure(LoginFailure { account: "(enrolment)".into(), address: address.to_owned(), at: now })
                .await?;
            let actor = Actor { address: address.to_owned(), ..Actor::default() };
            self.audit(Entry::new(&actor, AuditEvent::DeviceEnrolled, object).failed(error.to_string())).await?;
            Err::<Enrolment, HubError>(error.into())
        };
        let Some(device) = self.store().device_by_code(&code_sm3).await? else {
            return refuse(DeviceError::WrongCode, String::new()).await;
        };
        let object = device.device_id.to_string();
        if device.state != DeviceState::Pending {
            return refuse(DeviceError::CodeUsed, object).await;
        }
        if device.code_expires_at.is_none_or(|t| t <= now) {
            return refuse(DeviceError::CodeExpired, object).await;
        }
        let key = PublicKey::from_hex(&request.public_key).map_err(|e| field("public_key", e.to_string()))?;
        if !self.store().claim_enrolment(&code_sm3, &key.to_hex(), now).await? {
            return refuse(DeviceError::CodeUsed, object).await;
        }
        let actor = Actor { device: object.clone(), address: address.to_owned(), ..Actor::default() };
        self.audit(Entry::new(&actor, AuditEvent::DeviceEnrolled, object).detail(serde_json::json!({"name": device.name, "scope": device.scope})))
            .await?;
        tracing::info!(device_id = %device.device_id, name = device.name, "终端已登记");
        Ok(Enrolment {
            device_id: device.device_id,
            name: device.name,
            scope: device.scope,
            hub_key: self.signer().public_key().to_hex(),
            clock_margin_seconds: self.clock_margin_seconds(),
        })
    }

    /// A challenge for a device to sign: its expiry and 16 random bytes, with their
    /// HMAC-SM3 under this hub's challenge key, so the hub keeps nothing until it is used.
    pub fn device_challenge(&self) -> DeviceChallenge {
        use rand::RngCore;
        let mut random = [0u8; 16];
        rand::rng().fill_bytes(&mut random);
        let expires = (self.clock().now() + Duration::seconds(CHALLENGE_SECONDS)).unix_timestamp();
        let body = format!("{expires}.{}", hex::encode(random));
        DeviceChallenge { challenge: format!("{body}.{}", self.challenge_mac(&body)) }
    }

    fn challenge_mac(&self, body: &str) -> String {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sm3::Sm3>::new_from_slice(self.challenge_key()).expect("HMAC takes a key of any length");
        mac.update(body.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `challenge` is one this hub made and it has not expired.
    fn fresh_challenge(&self, challenge: &str) -> bool {
        let Some((body, mac)) = challenge.rsplit_once('.') else { return false };
        let Some(expires) = body.split_once('.').and_then(|(e, _)| e.parse::<i64>().ok()) else { return false };
        let expected = self.challenge_mac(body);
        let same = expected.len() == mac.len() && expected.bytes().zip(mac.bytes()).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0;
        same && expires >= self.clock().now().unix_timestamp()
    }

    /// A token for a device that signed a fresh challenge of this hub's with its key.
    pub async fn open_device_session(&self, request: DeviceSessionRequest, address: &str) -> Result<DeviceSession, HubError> {
        let now = self.clock().now();
        let device = self.store().device(&request.device_id).await?;
        let device = self.usable(device, &request.device_id, address).await?;
        if !self.fresh_challenge(&request.challenge) {
            return Err(DeviceError::StaleChallenge.into());
        }
        let key = device
            .public_key
            .as_deref()
            .map(PublicKey::from_hex)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("终端 {} 的公钥：{e}", device.device_id)))?
            .ok_or_else(|| DeviceError::Unknown(device.device_id.to_string()))?;
        let (text, signature) = (request.signed_text(), request.signature.clone());
        if !off_the_workers(move || signed_by(&key, &text, &signature)).await {
            return Err(DeviceError::BadProof.into());
        }
        let token = crate::accounts::new_token();
        let expires_at = now + Duration::hours(DEVICE_TOKEN_HOURS);
        let record = DeviceToken { token_sm3: token_id(&token), device_id: device.device_id, challenge: request.challenge, issued_at: now, expires_at };
        if !self.store().insert_device_token(&record).await? {
            return Err(DeviceError::Replayed.into());
        }
        // A token outlives its challenge, so a pruned one's challenge has long expired.
        self.store().prune_device_tokens(now).await?;
        Ok(DeviceSession { token, expires_in_seconds: Duration::hours(DEVICE_TOKEN_HOURS).whole_seconds().unsigned_abs() })
    }

    /// The device a request's token names, refused when it is lost (or unknown); its clock
    /// compared with the hub's when the request says the time there.
    pub async fn authenticate_device(&self, token: &str, device_time: Option<OffsetDateTime>, address: &str) -> Result<DeviceCaller, HubError> {
        let now = self.clock().now();
        let Some(held) = self.store().device_token(&token_id(token)).await? else {
            return Err(DeviceError::TokenEnded.into());
        };
        if held.expires_at <= now {
            return Err(DeviceError::TokenEnded.into());
        }
        let device = self.store().device(&held.device_id).await?;
        let device = self.usable(device, &held.device_id, address).await?;
        let skew = device_time.map(|t| (t - now).whole_seconds());
        if let Some(skew) = skew {
            self.note_contact(&device, skew, now, address).await?;
        }
        Ok(DeviceCaller { device_id: device.device_id, state: device.state, scope: device.scope, clock_skew_seconds: skew })
    }

    /// The device when it may call at all: a lost one is refused, and its call recorded.
    async fn usable(&self, device: Option<DeviceRecord>, device_id: &DeviceId, address: &str) -> Result<DeviceRecord, HubError> {
        match device {
            Some(d) if matches!(d.state, DeviceState::Active | DeviceState::Retired) => Ok(d),
            Some(d) if d.state == DeviceState::Lost => {
                let actor = Actor { device: device_id.to_string(), address: address.to_owned(), ..Actor::default() };
                self.audit(Entry::new(&actor, AuditEvent::DeviceRefused, device_id.as_str()).failed("终端已挂失")).await?;
                Err(DeviceError::Lost(device_id.to_string()).into())
            }
            _ => Err(DeviceError::Unknown(device_id.to_string()).into()),
        }
    }

    /// Writes the device's last contact now and then, and puts a clock going off (or back
    /// within the margin) on the audit trail.
    async fn note_contact(&self, device: &DeviceRecord, skew: i64, now: OffsetDateTime, address: &str) -> Result<(), HubError> {
        let off = skew.unsigned_abs() > u64::from(self.clock_margin_seconds());
        let was_off = {
            let seen = self.seen_devices().0.lock().unwrap_or_else(PoisonError::into_inner);
            match seen.get(&device.device_id) {
                Some((at, was_off)) if *was_off == off && now - *at < SEEN_EVERY => return Ok(()),
                Some((_, was_off)) => *was_off,
                None => device.clock_skew_seconds.is_some_and(|s| s.unsigned_abs() > u64::from(self.clock_margin_seconds())),
            }
        };
        self.store().device_seen(&device.device_id, now, skew).await?;
        if off != was_off {
            let actor = Actor { device: device.device_id.to_string(), address: address.to_owned(), ..Actor::default() };
            self.audit(
                Entry::new(&actor, AuditEvent::DeviceClockSkew, device.device_id.as_str())
                    .detail(serde_json::json!({"skew_seconds": skew, "margin_seconds": self.clock_margin_seconds(), "off": off})),
            )
            .await?;
        }
        self.seen_devices().0.lock().unwrap_or_else(PoisonError::into_inner).insert(device.device_id.clone(), (now, off));
        Ok(())
    }

    /// Retires a PC or reports it lost: from now on its requests are held to that.
    pub async fn revoke_device(&self, by: &Actor, device_id: &DeviceId, revocation: Revocation) -> Result<DeviceListing, HubError> {
        if !matches!(revocation.state, DeviceState::Retired | DeviceState::Lost) {
            return Err(field("state", "只能是 retired（退役）或 lost（挂失）").into());
        }
        let reason = revocation.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(field("reason", "请写明原因（1–200 个字符）").into());
        }
        let Some(mut device) = self.store().device(device_id).await? else {
            return Err(DeviceError::NoSuch(device_id.to_string()).into());
        };
        match (device.state, revocation.state) {
            (DeviceState::Lost, _) | (DeviceState::Retired, DeviceState::Retired) => {
                return Err(DeviceError::AlreadyRevoked(device_id.to_string()).into());
            }
            _ => {}
        }
        let before = device.state;
        device.state = revocation.state;
        device.revoked_at = Some(self.clock().now());
        device.revoked_by = Some(by.user.clone());
        device.revoke_reason = Some(reason.clone());
        let report = self.counter_reports().await?.remove(device_id);
        let listing = listing(device.clone(), report.as_ref());
        self.audit(
            Entry::new(by, AuditEvent::DeviceRevoked, device_id.as_str()).detail(serde_json::json!({
                "before": before.as_str(),
                "after": device.state.as_str(),
                "reason": reason,
                "commands_not_uploaded": listing.commands_not_uploaded,
                "documents_not_uploaded": listing.documents_not_uploaded,
            })),
        )
        .await?;
        self.store().put_device(&device).await?;
        tracing::warn!(%device_id, state = device.state.as_str(), "终端已注销");
        Ok(listing)
    }

    /// Every PC, with what it had not uploaded at its last report.
    pub async fn devices(&self) -> Result<Vec<DeviceListing>, HubError> {
        let reports = self.counter_reports().await?;
        let devices = self.store().devices().await?;
        Ok(devices.into_iter().map(|d| { let report = reports.get(&d.device_id); listing(d, report) }).collect())
    }

    /// Each PC's last report, by PC; a report that no longer parses counts as none.
    async fn counter_reports(&self) -> Result<HashMap<DeviceId, yizhan_sync::protocol::CounterReport>, HubError> {
        Ok(self
            .store()
            .counters()
            .await?
            .into_iter()
            .filter_map(|kept| serde_json::from_str::<yizhan_sync::protocol::CounterReport>(&kept.report).ok())
            .map(|report| (report.device_id.clone(), report))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_the_same_however_it_is_typed_and_has_no_doubtful_letters() {
        let code = new_code();
        assert_eq!(code.len(), 14);
        assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(normalise_code(&typed), normalise_code(&code));
        assert_ne!(new_code(), code, "codes are random");
    }
}
