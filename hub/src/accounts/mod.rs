//! People at the hub: signing in (password, lockout, per-address throttling, the second
//! factor), sessions (idle timeout, absolute lifetime, logout, force-logout), passwords
//! (policy, history, expiry, forced change) and the first administrators. The rules are
//! written here once, over the plain records of `AccountStore`; every outcome is audited.

pub mod admin;
pub mod password;
pub(crate) mod standing;
pub mod totp;

use std::collections::BTreeSet;

use rand::RngCore;
use serde::Serialize;
use sm3::{Digest, Sm3};
use time::Duration;
use yizhan_core::access::{BuiltinRole, DataScope, Permission};
use yizhan_core::account::{Account, PasswordProblem, SecurityPolicy, check_password};
use yizhan_core::id::DeviceId;

use crate::audit::{Actor, AuditEvent, Entry};
use crate::hub::Hub;
use yizhan_sync::protocol::{AlertAssignee, Person, SecondFactorEnrolment, SignInRequest, SignInStanding, SignedIn};

use crate::store::{LoginFailure, SessionRecord, StoreError, UserRecord, UserStatus};

/// Failed sign-ins from one address, within the policy's lockout window, after which that
/// address is slowed to a refusal: one person mistyping never gets near it; a script
/// trying accounts does.
pub const ADDRESS_FAILURES: u32 = 20;

/// Why a request or a sign-in was refused. The sign-in failure says the same whatever
/// the reason, so that nobody learns whether an account exists or is locked.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("请先登录")]
    NoSession,
    #[error("登录已失效（{0}）")]
    SessionEnded(&'static str),
    #[error("账号或密码错误，或账号暂时不能登录")]
    LoginFailed,
    #[error("本机登录失败次数过多，请稍后再试")]
    Throttled,
    #[error("需要第二因素验证码")]
    SecondFactorNeeded,
    #[error("首次登录或密码被重置后须先修改密码")]
    PasswordChangeRequired,
    #[error("须先绑定第二因素（动态口令）")]
    SecondFactorEnrolmentRequired,
    #[error("没有权限：需要 {0}")]
    Forbidden(Permission),
    #[error("当前密码不正确")]
    WrongPassword,
    #[error("{0}")]
    PasswordRejected(PasswordProblem),
    #[error("验证码不正确或已使用")]
    WrongCode,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A signed-in person, as a request carries them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub account: Account,
    pub real_name: String,
    pub roles: Vec<String>,
    pub permissions: BTreeSet<Permission>,
    /// Where the person's grants hold, together.
    pub scopes: Vec<DataScope>,
    #[serde(skip)]
    pub session_id: String,
    /// Until the password is changed, the session may do only that (and sign out).
    pub must_change_password: bool,
    /// Until a second factor is bound, the session may do only that (and sign out).
    pub must_enrol_second_factor: bool,
    pub address: String,
    #[serde(skip)]
    pub device: Option<String>,
}

impl Principal {
    pub fn may(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// Whether the session is held to changing the password or binding a second factor.
    pub fn restricted(&self) -> Option<AuthError> {
        if self.must_change_password {
            Some(AuthError::PasswordChangeRequired)
        } else if self.must_enrol_second_factor {
            Some(AuthError::SecondFactorEnrolmentRequired)
        } else {
            None
        }
    }

    /// How records name this person: `王芳（clerk01）`.
    pub fn clerk(&self) -> String {
        yizhan_sync::protocol::clerk_label(&self.real_name, &self.account)
    }

    pub fn actor(&self) -> Actor {
        Actor {
            user: self.account.to_string(),
            role: self.roles.join(","),
            device: self.device.clone().unwrap_or_default(),
            address: self.address.clone(),
        }
    }
}

/// SM3 of a token, hex: how sessions are kept and named.
pub fn token_id(token: &str) -> String {
    hex::encode(Sm3::digest(token.as_bytes()))
}

pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A verifier nobody's password matches, checked when the account does not exist so that
/// a failure takes as long either way.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| password::hash(&new_token()))
}

async fn verify_password(stored: String, offered: String) -> password::Verified {
    tokio::task::spawn_blocking(move || password::verify(&stored, &offered))
        .await
        .unwrap_or(password::Verified::No)
}

pub(crate) async fn hash_password(password: String) -> String {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .expect("hashing a password does not panic")
}

impl Hub {
    /// The policy in force: the security administrator's, or the default.
    pub async fn security_policy(&self) -> Result<SecurityPolicy, StoreError> {
        Ok(match self.store().policy().await? {
            Some(json) => serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("安全策略：{e}")))?,
            None => SecurityPolicy::default(),
        })
    }

    /// Records `entry` in the audit trail now; an action whose record cannot be written
    /// fails with it.
    pub async fn audit(&self, entry: Entry) -> Result<(), StoreError> {
        let event = entry.event;
        crate::audit::append(self.store(), self.audit_key(), entry, self.clock().now()).await.map(|_| ()).inspect_err(|e| {
            self.audit_in_doubt(format!("{} 的审计记录未能写入（{e}），该操作已失败", event.as_str()));
        })
    }

    async fn fail_login(&self, typed: &str, address: &str, policy: &SecurityPolicy, reason: &str, user: Option<UserRecord>) -> AuthError {
        let now = self.clock().now();
        let actor = Actor { user: typed.chars().take(64).collect(), address: address.to_owned(), ..Actor::default() };
        let recorded = async {
            self.store()
                .record_login_failure(LoginFailure { account: actor.user.clone(), address: address.to_owned(), at: now })
                .await?;
            self.audit(Entry::new(&actor, AuditEvent::LoginFailure, &actor.user).failed(reason)).await?;
            if let Some(mut user) = user {
                let since = now - Duration::minutes(policy.lockout_window_minutes.into());
                let failures = self.store().account_failures_since(user.account.as_str(), since).await?;
                if failures >= policy.lockout_failures && user.locked_until.is_none_or(|t| t <= now) {
                    user.locked_until = Some(now + Duration::minutes(policy.lockout_minutes.into()));
                    self.store().update_user(&user).await?;
                    self.audit(
                        Entry::new(&actor, AuditEvent::Lockout, user.account.as_str())
                            .detail(serde_json::json!({"failures": failures, "minutes": policy.lockout_minutes})),
                    )
                    .await?;
                    tracing::warn!(account = %user.account, failures, "账号因连续登录失败被锁定");
                }
            }
            Ok::<_, StoreError>(())
        };
        match recorded.await {
            Ok(()) => AuthError::LoginFailed,
            Err(e) => AuthError::Store(e),
        }
    }

    /// Signs a person in from `address`: throttled per address, locked per account after
    /// the policy's failures, a second factor for whoever must give one.
    /// The session is bound to `device`, the enrolled PC the request came from.
    pub async fn login(&self, request: SignInRequest, address: &str, device: &DeviceId) -> Result<SignedIn, AuthError> {
        let policy = self.security_policy().await?;
        let now = self.clock().now();
        let window = now - Duration::minutes(policy.lockout_window_minutes.into());
        if self.store().address_failures_since(address, window).await? >= ADDRESS_FAILURES {
            return Err(AuthError::Throttled);
        }
        let user = match Account::parse(request.account.trim()) {
            Ok(account) => self.store().user(&account).await?,
            Err(_) => None,
        };
        let Some(mut user) = user else {
            verify_password(decoy_hash().to_owned(), request.password).await;
            return Err(self.fail_login(&request.account, address, &policy, "账号不存在", None).await);
        };
        if user.locked_until.is_some_and(|t| t > now) {
            verify_password(decoy_hash().to_owned(), request.password).await;
            return Err(self.fail_login(&request.account, address, &policy, "账号已锁定", Some(user)).await);
        }
        let verified = verify_password(user.password_hash.clone(), request.password.clone()).await;
        if verified == password::Verified::No {
            return Err(self.fail_login(&request.account, address, &policy, "密码错误", Some(user)).await);
        }
        if user.status == UserStatus::Disabled {
            return Err(self.fail_login(&request.account, address, &policy, "账号已停用", Some(user)).await);
        }
        let person = self.person_of(&user, &policy).await?;
        let needs_factor = person.second_factor;
        if let (true, Some(secret)) = (needs_factor, user.totp_secret.clone()) {
            let Some(code) = request.code.as_deref().filter(|c| !c.trim().is_empty()) else {
                return Err(AuthError::SecondFactorNeeded);
            };
            if let Some(step) = totp::accept(&secret, code, now.unix_timestamp(), user.totp_last_step) {
                user.totp_last_step = Some(step);
            } else if let Some(at) = user.recovery_codes.iter().position(|h| *h == totp::recovery_hash(code)) {
                user.recovery_codes.remove(at);
            } else {
                return Err(self.fail_login(&request.account, address, &policy, "第二因素验证码错误", Some(user)).await);
            }
        }
        if verified == password::Verified::YesRehash {
            user.password_hash = hash_password(request.password.clone()).await;
        }
        user.locked_until = None;
        self.store().update_user(&user).await?;
        self.store().clear_login_failures(user.account.as_str()).await?;

        let expired = now - user.password_changed_at > Duration::days(policy.expiry_days.into());
        let token = new_token();
        let session = SessionRecord {
            id: token_id(&token),
            account: user.account.clone(),
            address: address.to_owned(),
            device: Some(device.to_string()),
            created_at: now,
            last_seen: now,
            ended_at: None,
            end_reason: None,
            awaiting_second_factor: needs_factor && user.totp_secret.is_none(),
        };
        let mut principal = self.principal(&user, &session).await?;
        principal.must_change_password |= expired;
        // Recorded before the session exists: a sign-in that cannot be audited does not happen.
        self.audit(
            Entry::new(&principal.actor(), AuditEvent::LoginSuccess, user.account.as_str())
                .detail(serde_json::json!({"second_factor": needs_factor && user.totp_secret.is_some()})),
        )
        .await?;
        self.store().insert_session(&session).await?;
        let expires_in = Duration::days(policy.expiry_days.into()) - (now - user.password_changed_at);
        Ok(SignedIn {
            token,
            must_change_password: principal.must_change_password,
            must_enrol_second_factor: principal.must_enrol_second_factor,
            person,
            expires_at: now + Duration::hours(policy.session_hours.into()),
            password_expires_in_days: expires_in.whole_days().max(0),
            policy,
        })
    }

    /// Who `user` is and what their grants let them do today.
    async fn person_of(&self, user: &UserRecord, policy: &SecurityPolicy) -> Result<Person, StoreError> {
        let grants = self.store().grants(&user.account).await?;
        let roles = self.store().roles().await?;
        let second_factor = policy.clerk_second_factor
            || grants.iter().any(|g| BuiltinRole::from_id(&g.role).is_none_or(BuiltinRole::needs_second_factor));
        Ok(Person {
            account: user.account.clone(),
            real_name: user.real_name.clone(),
            roles: grants.iter().map(|g| g.role.clone()).collect(),
            role_names: grants
                .iter()
                .map(|g| roles.iter().find(|r| r.id == g.role).map_or_else(|| g.role.clone(), |r| r.name.clone()))
                .collect(),
            permissions: standing::granted(&grants, &roles),
            scopes: grants.into_iter().map(|g| g.scope).collect(),
            second_factor,
        })
    }

    /// Whom an alert may be assigned to: the active accounts holding `alert:handle`.
    pub async fn alert_assignees(&self) -> Result<Vec<AlertAssignee>, StoreError> {
        let policy = self.security_policy().await?;
        let mut assignees = Vec::new();
        for user in self.store().users().await? {
            if user.status != UserStatus::Active {
                continue;
            }
            let person = self.person_of(&user, &policy).await?;
            if person.may(Permission::AlertHandle) {
                assignees.push(AlertAssignee {
                    account: user.account.to_string(),
                    real_name: user.real_name,
                    department: user.department,
                    role_names: person.role_names,
                });
            }
        }
        Ok(assignees)
    }

    /// How the people a counter keeps for offline sign-in stand now: who they are and what
    /// they may do, when their password last changed, or nothing for an account that is
    /// gone or disabled.
    pub async fn sign_in_standing(&self, accounts: &[String]) -> Result<Vec<SignInStanding>, StoreError> {
        let policy = self.security_policy().await?;
        let mut standing = Vec::with_capacity(accounts.len());
        for typed in accounts {
            let user = match Account::parse(typed.as_str()) {
                Ok(account) => self.store().user(&account).await?,
                Err(_) => None,
            };
            standing.push(match user.filter(|u| u.status == UserStatus::Active) {
                Some(user) => SignInStanding {
                    account: typed.clone(),
                    password_changed_at: Some(user.password_changed_at),
                    person: Some(self.person_of(&user, &policy).await?),
                },
                None => SignInStanding { account: typed.clone(), person: None, password_changed_at: None },
            });
        }
        Ok(standing)
    }

    /// The person behind a session, with the permissions their grants give today.
    async fn principal(&self, user: &UserRecord, session: &SessionRecord) -> Result<Principal, StoreError> {
        let grants = self.store().grants(&user.account).await?;
        let roles = self.store().roles().await?;
        let permissions = standing::granted(&grants, &roles);
        let policy = self.security_policy().await?;
        let expired = self.clock().now() - user.password_changed_at > Duration::days(policy.expiry_days.into());
        Ok(Principal {
            account: user.account.clone(),
            real_name: user.real_name.clone(),
            roles: grants.iter().map(|g| g.role.clone()).collect(),
            permissions,
            scopes: grants.into_iter().map(|g| g.scope).collect(),
            session_id: session.id.clone(),
            must_change_password: user.must_change_password || expired,
            must_enrol_second_factor: session.awaiting_second_factor,
            address: session.address.clone(),
            device: session.device.clone(),
        })
    }

    /// The person a bearer token names, if its session is still open: ended here when it
    /// has been idle too long, outlived its lifetime, or its account was disabled.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        let Some(mut session) = self.store().session(&token_id(token)).await? else {
            return Err(AuthError::NoSession);
        };
        if session.ended_at.is_some() {
            return Err(AuthError::SessionEnded(end_text(session.end_reason.as_deref())));
        }
        let policy = self.security_policy().await?;
        let now = self.clock().now();
        let user = self.store().user(&session.account).await?;
        let reason = match &user {
            None => Some("disabled"),
            Some(u) if u.status == UserStatus::Disabled => Some("disabled"),
            Some(_) if now - session.last_seen > Duration::minutes(policy.idle_minutes.into()) => Some("idle"),
            Some(_) if now - session.created_at > Duration::hours(policy.session_hours.into()) => Some("expired"),
            Some(_) => None,
        };
        if let Some(reason) = reason {
            self.end_session(&mut session, reason, None).await?;
            return Err(AuthError::SessionEnded(end_text(Some(reason))));
        }
        let user = user.expect("checked above");
        session.last_seen = now;
        self.store().update_session(&session).await?;
        Ok(self.principal(&user, &session).await?)
    }

    /// Ends a session for `reason` (logout, idle, expired, forced, disabled,
    /// password_changed), audited as `by` did it, or as a timeout when nobody did.
    pub(crate) async fn end_session(&self, session: &mut SessionRecord, reason: &str, by: Option<&Principal>) -> Result<(), StoreError> {
        session.ended_at = Some(self.clock().now());
        session.end_reason = Some(reason.to_owned());
        self.store().update_session(session).await?;
        let owner = Actor {
            user: session.account.to_string(),
            address: session.address.clone(),
            device: session.device.clone().unwrap_or_default(),
            ..Actor::default()
        };
        let (actor, event) = match (reason, by) {
            ("logout", Some(p)) => (p.actor(), AuditEvent::Logout),
            (_, Some(p)) => (p.actor(), AuditEvent::SessionEnded),
            (_, None) => (owner, AuditEvent::Timeout),
        };
        self.audit(
            Entry::new(&actor, event, session.account.as_str())
                .detail(serde_json::json!({"reason": reason, "session": &session.id[..12]})),
        )
        .await
    }

    /// Ends the caller's own session.
    pub async fn logout(&self, principal: &Principal) -> Result<(), AuthError> {
        if let Some(mut session) = self.store().session(&principal.session_id).await? {
            self.end_session(&mut session, "logout", Some(principal)).await?;
        }
        Ok(())
    }

    /// Changes the caller's password: the current one again, the policy, not one of the
    /// last N. Ends the person's other sessions.
    pub async fn change_password(&self, principal: &Principal, current: &str, new: &str) -> Result<(), AuthError> {
        let policy = self.security_policy().await?;
        let mut user = self.store().user(&principal.account).await?.ok_or(AuthError::NoSession)?;
        let actor = principal.actor();
        let refuse = |e: AuthError| async {
            self.audit(Entry::new(&actor, AuditEvent::PasswordChange, principal.account.as_str()).failed(e.to_string()))
                .await?;
            Err::<(), AuthError>(e)
        };
        if verify_password(user.password_hash.clone(), current.to_owned()).await == password::Verified::No {
            return refuse(AuthError::WrongPassword).await;
        }
        if current == new {
            return refuse(AuthError::PasswordRejected(PasswordProblem::Unchanged)).await;
        }
        if let Err(problem) = check_password(&policy, &user.account, new) {
            return refuse(AuthError::PasswordRejected(problem)).await;
        }
        let history = self.store().password_history(&user.account, policy.history as usize).await?;
        let new_owned = new.to_owned();
        let reused = tokio::task::spawn_blocking(move || {
            history.iter().any(|h| password::verify(h, &new_owned) != password::Verified::No)
        })
        .await
        .unwrap_or(true);
        if reused {
            return refuse(AuthError::PasswordRejected(PasswordProblem::Reused(policy.history))).await;
        }
        let previous = std::mem::replace(&mut user.password_hash, hash_password(new.to_owned()).await);
        user.password_changed_at = self.clock().now();
        user.must_change_password = false;
        self.store().set_password(&user, &previous).await?;
        self.audit(Entry::new(&actor, AuditEvent::PasswordChange, principal.account.as_str())).await?;
        self.end_sessions_of(&user.account, "password_changed", Some(&principal.session_id), principal).await?;
        Ok(())
    }

    /// Ends every open session of `account` but `keep`.
    pub(crate) async fn end_sessions_of(&self, account: &Account, reason: &str, keep: Option<&str>, by: &Principal) -> Result<(), StoreError> {
        for mut session in self.store().open_sessions().await? {
            if &session.account == account && Some(session.id.as_str()) != keep {
                self.end_session(&mut session, reason, Some(by)).await?;
            }
        }
        Ok(())
    }

    /// Starts binding an authenticator: a new secret, kept pending until a code from it
    /// is confirmed, and the address its QR code carries.
    pub async fn begin_second_factor(&self, principal: &Principal) -> Result<SecondFactorEnrolment, AuthError> {
        let mut user = self.store().user(&principal.account).await?.ok_or(AuthError::NoSession)?;
        let secret = totp::new_secret();
        let url = totp::enrolment_url(&secret, user.account.as_str()).expect("a fresh secret is long enough");
        user.totp_pending = Some(secret.clone());
        self.store().update_user(&user).await?;
        Ok(SecondFactorEnrolment { secret, otpauth_url: url })
    }

    /// Binds the pending authenticator once a code from it checks out; answers the
    /// recovery codes, shown this once.
    pub async fn confirm_second_factor(&self, principal: &Principal, code: &str) -> Result<Vec<String>, AuthError> {
        let mut user = self.store().user(&principal.account).await?.ok_or(AuthError::NoSession)?;
        let Some(secret) = user.totp_pending.clone() else { return Err(AuthError::WrongCode) };
        let Some(step) = totp::accept(&secret, code, self.clock().now().unix_timestamp(), None) else {
            self.audit(
                Entry::new(&principal.actor(), AuditEvent::SecondFactorEnrolled, principal.account.as_str())
                    .failed("验证码不正确"),
            )
            .await?;
            return Err(AuthError::WrongCode);
        };
        let (codes, hashes) = totp::recovery_codes();
        user.totp_secret = Some(secret);
        user.totp_pending = None;
        user.totp_last_step = Some(step);
        user.recovery_codes = hashes;
        self.store().update_user(&user).await?;
        if let Some(mut session) = self.store().session(&principal.session_id).await? {
            session.awaiting_second_factor = false;
            self.store().update_session(&session).await?;
        }
        self.audit(Entry::new(&principal.actor(), AuditEvent::SecondFactorEnrolled, principal.account.as_str())).await?;
        Ok(codes)
    }
}

fn end_text(reason: Option<&str>) -> &'static str {
    match reason {
        Some("logout") => "已退出登录",
        Some("idle") => "长时间未操作",
        Some("expired") => "超过会话最长时间",
        Some("forced") => "被管理员强制下线",
        Some("disabled") => "账号已停用",
        Some("password_changed") => "密码已修改",
        _ => "会话已结束",
    }
}
