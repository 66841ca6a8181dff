//! People at the counter: signing in at the hub (the session the admin area's requests
//! carry), and the same person kept here so that they can unlock the screen, and sign in
//! offline within the policy's window, against a verifier made here from the password
//! they typed. Failed attempts here count towards a lockout of their own, as the hub's do.

use std::sync::{Arc, Mutex};

use rand_core::{OsRng, RngCore};
use time::{Duration, OffsetDateTime};
use yizhan_core::account::SecurityPolicy;
use yizhan_core::clock::Clock;
use yizhan_core::password::{self, ITERATIONS, SALT_BYTES};

use super::{AuditTrail, CancellationToken, HubAdmin, SyncClient, SyncError, with_replica};
use crate::protocol::{
    MAX_SIGN_IN_CHECKS, Person, RecoveryCodes, SecondFactorEnrolment, SignInCheck, SignInRequest, SignInStanding, SignedIn,
};
use crate::replica::{CounterAudit, KeptSignIn, Replica};
use yizhan_core::audit::AuditEvent;

/// Why a sign-in or an unlock at the counter was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Offline: an unknown account, a wrong password, a lapsed window or a lockout, all
    /// answered alike so that nobody learns which.
    #[error("账号或密码错误，或账号暂时不能登录。数据中心暂时无法连接：只有近期在本机在线登录过的人员可以离线登录。")]
    OfflineRefused,
    /// The person signs in with a second factor, which only the hub can check.
    #[error("该账号须使用动态口令登录，只能在线登录。数据中心暂时无法连接，请稍后再试。")]
    OnlineOnly,
    /// Unlocking: not the password of the person signed in.
    #[error("密码不正确。")]
    WrongPassword,
    /// Unlocking: too many wrong passwords; the person is signed out.
    #[error("密码错误次数过多，已退出登录，请重新登录。")]
    TooManyAttempts,
    /// Unlocking: the counter no longer keeps the person (the account was disabled or its
    /// password changed at the hub); they are signed out.
    #[error("本机的登录记录已失效（账号已停用或密码已在别处修改），请重新登录。")]
    Forgotten,
    #[error(transparent)]
    Sync(#[from] SyncError),
}

impl SignInError {
    /// The stable code the screens tell failures apart by.
    pub fn code(&self) -> &str {
        match self {
            SignInError::OfflineRefused => "offline_login_failed",
            SignInError::OnlineOnly => "second_factor_online_only",
            SignInError::WrongPassword => "wrong_password",
            SignInError::TooManyAttempts => "too_many_attempts",
            SignInError::Forgotten => "sign_in_expired",
            SignInError::Sync(SyncError::Hub { code, .. }) => code.as_str(),
            SignInError::Sync(_) => "",
        }
    }
}

/// Who is signed in at the counter, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterSignedIn {
    pub person: Person,
    pub policy: SecurityPolicy,
    /// Signed in at the hub (a session the admin area's requests carry), or offline here.
    pub online: bool,
    pub must_change_password: bool,
    pub must_enrol_second_factor: bool,
    /// Days until the password expires, when the hub said.
    pub password_expires_in_days: Option<i64>,
}

/// Signs people in at this counter: at the hub when it answers, else from what is kept.
#[derive(Clone)]
pub struct CounterSignIn {
    replica: Arc<Mutex<Replica>>,
    hub: Arc<HubAdmin>,
    clock: Clock,
    /// What happens here without the hub (offline sign-ins, the lock screen) is recorded
    /// here; the hub records what goes through it.
    audit: AuditTrail,
}

impl SyncClient {
    /// Signing in at this counter, through its hub client (whose requests then carry the
    /// session).
    pub fn sign_ins(&self) -> CounterSignIn {
        CounterSignIn { replica: Arc::clone(&self.replica), hub: self.hub_admin(), clock: self.clock.clone(), audit: self.audit_trail() }
    }
}

/// What a record of this counter's says of a sign-in or sign-out the hub did not see.
fn offline() -> serde_json::Value {
    serde_json::json!({ "offline": true })
}

/// How often a connected counter asks the hub how the people it keeps stand.
pub(super) const PEOPLE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

impl SyncClient {
    /// Brings the people kept here in line with the hub: a disabled or removed account, or
    /// a password changed since it was kept, is forgotten (no more offline sign-in here);
    /// a role change updates what the person may do. Answers how many were forgotten.
    pub async fn refresh_kept_sign_ins(&self, shutdown: &CancellationToken) -> Result<usize, SyncError> {
        let accounts = self.with_replica(|r| r.kept_accounts()).await?;
        if accounts.is_empty() {
            return Ok(0);
        }
        let mut forgotten = 0;
        for chunk in accounts.chunks(MAX_SIGN_IN_CHECKS) {
            let body = serde_json::to_vec(&SignInCheck { accounts: chunk.to_vec() }).expect("a check serialises");
            let standing: Vec<SignInStanding> = self.post_json("/v1/counters/sign-ins", body, shutdown).await?;
            forgotten += self
                .with_replica(move |r| {
                    let mut forgotten = 0;
                    for one in standing {
                        let Some(mut kept) = r.kept_sign_in(&one.account)? else { continue };
                        match one.person {
                            Some(person) if one.password_changed_at.is_none_or(|at| at <= kept.online_at) => {
                                if kept.person != person {
                                    kept.person = person;
                                    r.keep_sign_in(&kept)?;
                                }
                            }
                            _ => {
                                r.forget_sign_in(&one.account)?;
                                forgotten += 1;
                            }
                        }
                    }
                    Ok(forgotten)
                })
                .await?;
        }
        if forgotten > 0 {
            tracing::info!(forgotten, "已停用或已改密码的账号不能再在本机离线登录");
        }
        Ok(forgotten)
    }
}

/// A verifier of `password` with a fresh salt, made off the async threads.
async fn new_verifier(password: String) -> Result<String, SyncError> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; SALT_BYTES];
        OsRng.fill_bytes(&mut salt);
        password::hash_with_salt(&password, &salt, ITERATIONS)
    })
    .await
    .map_err(|e| SyncError::Internal(e.to_string()))
}

async fn matches(verifier: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || password::verify(&verifier, &password) != password::Verified::No)
        .await
        .unwrap_or(false)
}

/// `kept` after one more failed attempt at `now`: locked once the policy's count is
/// reached within its window.
fn failed(mut kept: KeptSignIn, now: OffsetDateTime) -> KeptSignIn {
    let window = Duration::minutes(kept.policy.lockout_window_minutes.into());
    match kept.first_failure_at {
        Some(first) if now - first <= window => kept.failures += 1,
        _ => {
            kept.failures = 1;
            kept.first_failure_at = Some(now);
        }
    }
    if kept.failures >= kept.policy.lockout_failures {
        kept.locked_until = Some(now + Duration::minutes(kept.policy.lockout_minutes.into()));
    }
    kept
}

fn cleared(mut kept: KeptSignIn) -> KeptSignIn {
    kept.failures = 0;
    kept.first_failure_at = None;
    kept.locked_until = None;
    kept
}

impl CounterSignIn {
    /// Signs `account` in at the hub; when the hub cannot be reached, offline against the
    /// kept verifier, if the person signed in online here within the policy's window and
    /// needs no second factor.
    pub async fn sign_in(&self, account: &str, password: &str, code: Option<&str>) -> Result<CounterSignedIn, SignInError> {
        let account = account.trim();
        let request = SignInRequest {
            account: account.to_owned(),
            password: password.to_owned(),
            code: code.map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned),
        };
        match self.hub.sign_in(&request).await {
            Ok(signed_in) => {
                // A one-time password is not kept: offline, it would let in someone who
                // never chose a password of their own. The new one is kept once changed.
                if !signed_in.must_change_password {
                    self.keep(&signed_in.person, &signed_in.policy, password).await?;
                }
                Ok(CounterSignedIn {
                    person: signed_in.person,
                    policy: signed_in.policy,
                    online: true,
                    must_change_password: signed_in.must_change_password,
                    must_enrol_second_factor: signed_in.must_enrol_second_factor,
                    password_expires_in_days: Some(signed_in.password_expires_in_days),
                })
            }
            Err(SyncError::Network { .. }) => self.sign_in_offline(account, password).await,
            Err(e) => Err(e.into()),
        }
    }

    async fn sign_in_offline(&self, account: &str, password: &str) -> Result<CounterSignedIn, SignInError> {
        let now = self.clock.now();
        let owned = account.to_owned();
        let Some(kept) = self.with_replica(move |r| r.kept_sign_in(&owned)).await? else {
            return Err(self.refuse_offline(account, "本机没有该账号的登录记录").await);
        };
        let window = Duration::days(kept.policy.offline_days.into());
        if kept.locked_until.is_some_and(|t| t > now) {
            return Err(self.refuse_offline(account, "账号在本机锁定中").await);
        }
        if now - kept.online_at > window {
            let lapsed = format!("上次在本机在线登录已超过 {} 天", kept.policy.offline_days);
            return Err(self.refuse_offline(account, &lapsed).await);
        }
        if !matches(kept.verifier.clone(), password.to_owned()).await {
            self.fail(kept, now).await?;
            return Err(self.refuse_offline(account, "密码错误").await);
        }
        if kept.person.second_factor {
            self.audit
                .record(CounterAudit::new(account, AuditEvent::LoginFailure, account).failed("须使用动态口令，只能在线登录").detail(offline()))
                .await?;
            return Err(SignInError::OnlineOnly);
        }
        let kept = cleared(kept);
        self.save(kept.clone()).await?;
        self.audit.record(CounterAudit::new(account, AuditEvent::LoginSuccess, account).detail(offline())).await?;
        tracing::info!(account, "离线登录");
        Ok(CounterSignedIn {
            person: kept.person,
            policy: kept.policy,
            online: false,
            must_change_password: false,
            must_enrol_second_factor: false,
            password_expires_in_days: None,
        })
    }

    /// An offline sign-in refused for `reason`, on record: the clerk is told the same
    /// whatever the reason (nobody learns which accounts exist), the audit trail says which.
    async fn refuse_offline(&self, account: &str, reason: &str) -> SignInError {
        let entry = CounterAudit::new(account, AuditEvent::LoginFailure, account).failed(reason).detail(offline());
        match self.audit.record(entry).await {
            Ok(()) => SignInError::OfflineRefused,
            Err(e) => e.into(),
        }
    }

    /// Unlocks the screen for `account` if `password` is theirs: against the verifier kept
    /// here, online or not. Too many wrong ones end the sign-in.
    pub async fn unlock(&self, account: &str, password: &str) -> Result<(), SignInError> {
        let now = self.clock.now();
        let owned = account.to_owned();
        let outcome = match self.with_replica(move |r| r.kept_sign_in(&owned)).await? {
            None => Err(SignInError::Forgotten),
            Some(kept) if kept.locked_until.is_some_and(|t| t > now) => Err(SignInError::TooManyAttempts),
            Some(kept) => {
                if matches(kept.verifier.clone(), password.to_owned()).await {
                    self.save(cleared(kept)).await?;
                    Ok(())
                } else if self.fail(kept, now).await? {
                    Err(SignInError::TooManyAttempts)
                } else {
                    Err(SignInError::WrongPassword)
                }
            }
        };
        let entry = CounterAudit::new(account, AuditEvent::ScreenUnlocked, account);
        self.audit.record(match &outcome { Ok(()) => entry, Err(e) => entry.failed(&e.to_string()) }).await?;
        outcome
    }

    /// Records what happened at this counter to whoever is signed in (the screen locked).
    pub async fn record(&self, entry: CounterAudit) -> Result<(), SignInError> {
        Ok(self.audit.record(entry).await?)
    }

    /// Counts one more failed attempt of `kept`'s at `now`; true, and a lockout on
    /// record, when it locks the account here.
    async fn fail(&self, kept: KeptSignIn, now: OffsetDateTime) -> Result<bool, SignInError> {
        let was_locked = kept.locked_until.is_some_and(|t| t > now);
        let kept = failed(kept, now);
        let locked = kept.locked_until.is_some_and(|t| t > now);
        let account = kept.person.account.to_string();
        let minutes = kept.policy.lockout_minutes;
        self.save(kept).await?;
        if locked && !was_locked {
            let lockout = CounterAudit::new(&account, AuditEvent::Lockout, &account)
                .detail(serde_json::json!({ "offline": true, "minutes": minutes }));
            self.audit.record(lockout).await?;
        }
        Ok(locked)
    }

    /// Changes the signed-in person's password at the hub (online only), and the verifier
    /// kept here with it.
    pub async fn change_password(&self, person: &Person, policy: &SecurityPolicy, current: &str, new: &str) -> Result<(), SignInError> {
        self.hub.change_password(current, new).await?;
        self.keep(person, policy, new).await
    }

    /// The hub client the session is held by.
    pub fn hub(&self) -> &Arc<HubAdmin> {
        &self.hub
    }

    /// Ends the hub session, if there is one, which the hub records; a sign-out the hub
    /// does not hear of (offline, or it did not answer) is recorded here.
    pub async fn sign_out(&self, account: &str) -> Result<(), SignInError> {
        let heard = self.hub.signed_in() && {
            let ended = self.hub.sign_out().await;
            if let Err(e) = &ended {
                tracing::warn!(error = %e, "退出登录时未能通知数据中心，会话将按超时结束");
            }
            ended.is_ok()
        };
        if !heard {
            self.audit.record(CounterAudit::new(account, AuditEvent::Logout, account).detail(offline())).await?;
        }
        Ok(())
    }

    async fn keep(&self, person: &Person, policy: &SecurityPolicy, password: &str) -> Result<(), SignInError> {
        let kept = KeptSignIn {
            person: person.clone(),
            policy: policy.clone(),
            verifier: new_verifier(password.to_owned()).await?,
            online_at: self.clock.now(),
            failures: 0,
            first_failure_at: None,
            locked_until: None,
        };
        self.save(kept).await
    }

    async fn save(&self, kept: KeptSignIn) -> Result<(), SignInError> {
        Ok(self.with_replica(move |r| r.keep_sign_in(&kept)).await?)
    }

    async fn with_replica<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Replica) -> Result<T, crate::replica::ReplicaError> + Send + 'static,
    ) -> Result<T, SyncError> {
        with_replica(&self.replica, f).await
    }
}

impl HubAdmin {
    /// Signs in at the hub; the session's token is kept for this client's requests.
    pub async fn sign_in(&self, request: &SignInRequest) -> Result<SignedIn, SyncError> {
        let path = "/v1/auth/login";
        let signed_in: SignedIn = self.json(path, self.http.post(self.url(path)).json(request)).await?;
        *self.session.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(signed_in.token.clone());
        Ok(signed_in)
    }

    /// Ends the session at the hub and forgets its token.
    pub async fn sign_out(&self) -> Result<(), SyncError> {
        let had = self.session.read().unwrap_or_else(std::sync::PoisonError::into_inner).is_some();
        let ended = if had {
            let path = "/v1/auth/logout";
            self.json::<serde_json::Value>(path, self.http.post(self.url(path))).await.map(|_| ())
        } else {
            Ok(())
        };
        *self.session.write().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        ended
    }

    /// Whether a hub session is held.
    pub fn signed_in(&self) -> bool {
        self.session.read().unwrap_or_else(std::sync::PoisonError::into_inner).is_some()
    }

    pub async fn change_password(&self, current: &str, new: &str) -> Result<(), SyncError> {
        let path = "/v1/auth/password";
        let body = serde_json::json!({ "current_password": current, "new_password": new });
        self.json::<serde_json::Value>(path, self.http.post(self.url(path)).json(&body)).await.map(|_| ())
    }

    /// A new authenticator secret to bind.
    pub async fn begin_second_factor(&self) -> Result<SecondFactorEnrolment, SyncError> {
        let path = "/v1/auth/second-factor";
        self.json(path, self.http.post(self.url(path))).await
    }

    /// Binds the pending authenticator with a code from it; answers the recovery codes.
    pub async fn confirm_second_factor(&self, code: &str) -> Result<Vec<String>, SyncError> {
        let path = "/v1/auth/second-factor/confirm";
        let body = serde_json::json!({ "code": code.trim() });
        let codes: RecoveryCodes = self.json(path, self.http.post(self.url(path)).json(&body)).await?;
        Ok(codes.recovery_codes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(policy: SecurityPolicy) -> KeptSignIn {
        KeptSignIn {
            person: Person {
                account: "clerk01".parse().unwrap(),
                real_name: "王芳".into(),
                roles: vec![],
                role_names: vec![],
                permissions: Default::default(),
                scopes: vec![],
                second_factor: false,
            },
            policy,
            verifier: String::new(),
            online_at: OffsetDateTime::UNIX_EPOCH,
            failures: 0,
            first_failure_at: None,
            locked_until: None,
        }
    }

    #[test]
    fn failures_lock_at_the_policys_count_within_its_window_only() {
        let policy = SecurityPolicy { lockout_failures: 3, lockout_window_minutes: 10, lockout_minutes: 15, ..SecurityPolicy::default() };
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let after_two = failed(failed(kept(policy.clone()), t0), t0 + Duration::minutes(1));
        assert_eq!((after_two.failures, after_two.locked_until), (2, None));
        let late = failed(after_two.clone(), t0 + Duration::minutes(11));
        assert_eq!((late.failures, late.locked_until), (1, None), "outside the window the count starts again");
        let third = failed(after_two, t0 + Duration::minutes(9));
        assert_eq!(third.locked_until, Some(t0 + Duration::minutes(24)));
        assert_eq!(cleared(third).failures, 0);
    }
}
