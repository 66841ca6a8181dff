//! Who works at this counter: signing in (at the hub, or offline against what the counter
//! kept), the lock screen, one's own password and second factor. Every clerk command asks
//! [`Session::clerk`] for its clerk, so nothing is done by nobody or without the right.

use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use tauri::State;
use yizhan_core::access::Permission;
use yizhan_sync::client::{CounterSignIn, CounterSignedIn, SignInError};
use yizhan_core::audit::AuditEvent;
use yizhan_sync::protocol::Person;
use yizhan_sync::replica::CounterAudit;

use crate::error::{CommandError, ErrorCode};

/// The signed-in person, if any, and whether the screen is locked.
pub struct Session {
    sign_ins: CounterSignIn,
    current: Mutex<Option<Current>>,
}

struct Current {
    signed_in: CounterSignedIn,
    locked: bool,
}

/// What the screens know of the person signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct SignedInPerson {
    pub account: String,
    pub real_name: String,
    /// Role ids (`clerk`, `supervisor`, …) and, in the same order, their names for the toolbar.
    pub roles: Vec<String>,
    pub role_names: Vec<String>,
    pub permissions: Vec<Permission>,
    /// Signed in against this counter's kept verifier, the hub being unreachable: the
    /// admin area and password changes wait until the next online sign-in.
    pub offline: bool,
    pub locked: bool,
    pub must_change_password: bool,
    pub must_enrol_second_factor: bool,
    /// After this long without a key or a click the screen locks.
    pub idle_minutes: u32,
    pub password_expires_in_days: Option<i64>,
}

/// An authenticator to bind: its QR code, and the secret for one that cannot scan.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SecondFactorEnrolment {
    pub secret: String,
    pub otpauth_url: String,
    /// The QR code of `otpauth_url`, as SVG.
    pub qr_svg: String,
}

impl From<&Current> for SignedInPerson {
    fn from(current: &Current) -> SignedInPerson {
        let s = &current.signed_in;
        SignedInPerson {
            account: s.person.account.to_string(),
            real_name: s.person.real_name.clone(),
            roles: s.person.roles.clone(),
            role_names: s.person.role_names.clone(),
            permissions: s.person.permissions.iter().copied().collect(),
            offline: !s.online,
            locked: current.locked,
            must_change_password: s.must_change_password,
            must_enrol_second_factor: s.must_enrol_second_factor,
            idle_minutes: s.policy.idle_minutes,
            password_expires_in_days: s.password_expires_in_days,
        }
    }
}

impl From<SignInError> for CommandError {
    fn from(e: SignInError) -> CommandError {
        match e {
            SignInError::Sync(e) => e.into(),
            e => CommandError::new(ErrorCode::Refused(e.code().to_owned()), e.to_string()),
        }
    }
}

fn refused(code: &str, message: &str) -> CommandError {
    CommandError::new(ErrorCode::Refused(code.to_owned()), message)
}

impl Session {
    pub fn new(sign_ins: CounterSignIn) -> Session {
        Session { sign_ins, current: Mutex::new(None) }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Option<Current>) -> T) -> T {
        f(&mut self.current.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The clerk a command holding `permission` is issued by: the person signed in, with
    /// the screen unlocked, the password current and the permission granted.
    pub fn clerk(&self, permission: Permission) -> Result<String, CommandError> {
        self.clerk_holding(&[permission])
    }

    /// [`Session::clerk`] for work any one of `permissions` allows.
    pub fn clerk_holding(&self, permissions: &[Permission]) -> Result<String, CommandError> {
        self.acting(permissions).map(|person| person.clerk())
    }

    /// The person signed in, if they may do work any one of `permissions` allows now.
    pub fn acting(&self, permissions: &[Permission]) -> Result<Person, CommandError> {
        self.with(|current| {
            let Some(current) = current else {
                return Err(refused("not_signed_in", "请先登录。"));
            };
            if current.locked {
                return Err(refused("screen_locked", "屏幕已锁定，请先解锁。"));
            }
            let s = &current.signed_in;
            if s.must_change_password {
                return Err(refused("password_change_required", "首次登录或密码被重置后须先修改密码。"));
            }
            if s.must_enrol_second_factor {
                return Err(refused("second_factor_enrolment_required", "须先绑定第二因素（动态口令）。"));
            }
            if !permissions.iter().any(|p| s.person.may(*p)) {
                let needed: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
                return Err(refused("forbidden", &format!("没有权限：需要 {}", needed.join(" 或 "))));
            }
            Ok(s.person.clone())
        })
    }

    fn person(&self) -> Option<SignedInPerson> {
        self.with(|current| current.as_ref().map(SignedInPerson::from))
    }

    fn signed_in(&self) -> Result<CounterSignedIn, CommandError> {
        self.with(|current| current.as_ref().map(|c| c.signed_in.clone())).ok_or_else(|| refused("not_signed_in", "请先登录。"))
    }

    /// Signs out whoever is signed in. They are signed out even when the sign-out
    /// cannot be recorded; the error says so.
    async fn end(&self) -> Result<(), CommandError> {
        match self.with(Option::take) {
            Some(ended) => Ok(self.sign_ins.sign_out(ended.signed_in.person.account.as_str()).await?),
            None => Ok(()),
        }
    }
}

/// Signs `account` in; whoever was signed in (the screen locked on them) is signed out.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(session, password, code))]
pub async fn sign_in(session: State<'_, Session>, account: String, password: String, code: Option<String>) -> Result<SignedInPerson, CommandError> {
    if account.trim().is_empty() {
        return Err(CommandError::invalid("account", "请输入账号。"));
    }
    if password.is_empty() {
        return Err(CommandError::invalid("password", "请输入密码。"));
    }
    session.end().await?;
    let signed_in = session.sign_ins.sign_in(&account, &password, code.as_deref()).await?;
    tracing::info!(online = signed_in.online, "已登录");
    let current = Current { signed_in, locked: false };
    let person = SignedInPerson::from(&current);
    session.with(|c| *c = Some(current));
    Ok(person)
}

#[tauri::command]
#[specta::specta]
pub async fn sign_out(session: State<'_, Session>) -> Result<(), CommandError> {
    session.end().await
}

#[tauri::command]
#[specta::specta]
pub fn current_person(session: State<'_, Session>) -> Option<SignedInPerson> {
    session.person()
}

/// Locks the screen, `idle` or by hand; the work on it stays. Locked first, then put on
/// record: a record that cannot be written does not leave the screen open.
#[tauri::command]
#[specta::specta]
pub async fn lock_screen(session: State<'_, Session>, idle: bool) -> Result<Option<SignedInPerson>, CommandError> {
    let locked = session.with(|current| {
        current.as_mut().map(|c| {
            c.locked = true;
            SignedInPerson::from(&*c)
        })
    });
    if let Some(person) = &locked {
        let event = if idle { AuditEvent::Timeout } else { AuditEvent::ScreenLocked };
        session.sign_ins.record(CounterAudit::new(&person.account, event, &person.account)).await?;
    }
    Ok(locked)
}

/// Unlocks with the signed-in person's password; too many wrong ones sign them out.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(session, password))]
pub async fn unlock(session: State<'_, Session>, password: String) -> Result<SignedInPerson, CommandError> {
    let account = session.signed_in()?.person.account.to_string();
    match session.sign_ins.unlock(&account, &password).await {
        Ok(()) => session
            .with(|current| {
                current.as_mut().map(|c| {
                    c.locked = false;
                    SignedInPerson::from(&*c)
                })
            })
            .ok_or_else(|| refused("not_signed_in", "请先登录。")),
        Err(ended @ (SignInError::TooManyAttempts | SignInError::Forgotten)) => {
            session.end().await?;
            Err(ended.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Changes the signed-in person's password at the hub.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn change_password(session: State<'_, Session>, current_password: String, new_password: String) -> Result<SignedInPerson, CommandError> {
    let signed_in = session.signed_in()?;
    if !signed_in.online {
        return Err(CommandError::new(ErrorCode::Offline, "修改密码须连接数据中心，请联网后再试。"));
    }
    session
        .sign_ins
        .change_password(&signed_in.person, &signed_in.policy, &current_password, &new_password)
        .await?;
    session
        .with(|current| {
            current.as_mut().map(|c| {
                c.signed_in.must_change_password = false;
                c.signed_in.password_expires_in_days = Some(c.signed_in.policy.expiry_days.into());
                SignedInPerson::from(&*c)
            })
        })
        .ok_or_else(|| refused("not_signed_in", "请先登录。"))
}

/// A new authenticator secret to bind, with its QR code.
#[tauri::command]
#[specta::specta]
pub async fn begin_second_factor(session: State<'_, Session>) -> Result<SecondFactorEnrolment, CommandError> {
    let enrolment = session.sign_ins.hub().begin_second_factor().await?;
    let qr_svg = yizhan_voucher::qr::svg(&enrolment.otpauth_url).map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?;
    Ok(SecondFactorEnrolment { secret: enrolment.secret, otpauth_url: enrolment.otpauth_url, qr_svg })
}

/// Binds the authenticator with a code from it; answers the recovery codes, shown once.
#[tauri::command]
#[specta::specta]
pub async fn confirm_second_factor(session: State<'_, Session>, code: String) -> Result<Vec<String>, CommandError> {
    if code.trim().is_empty() {
        return Err(CommandError::invalid("code", "请输入动态口令 App 显示的 6 位验证码。"));
    }
    let codes = session.sign_ins.hub().confirm_second_factor(&code).await?;
    session.with(|current| {
        if let Some(c) = current.as_mut() {
            c.signed_in.must_enrol_second_factor = false;
        }
    });
    Ok(codes)
}
