//! What administrators do to accounts: the first administrators (`yizhan-hub admin init`),
//! accounts and their status, password resets and unlocking (系统管理员 / 安全管理员),
//! roles, grants and the policy (安全管理员), online sessions and force-logout. Separation
//! of duties is checked here, whatever the routes allow.

use std::collections::BTreeSet;

use rand::Rng;
use time::OffsetDateTime;
use yizhan_core::access::{BuiltinRole, DataScope, GrantError, Permission, RoleError, check_grant, duty_of};
use yizhan_core::account::{Account, PolicyError, SecurityPolicy};

use super::{AuthError, Principal, hash_password};
use crate::audit::{Actor, AuditEvent, Entry};
use crate::hub::Hub;
use crate::store::{GrantRecord, RoleRecord, SessionRecord, Standing, StoreError, UserRecord, UserStatus};
use yizhan_sync::protocol::{NewUser, OneTimePassword, UserView};

/// Why an administrator's request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("账号 {0} 已存在")]
    AccountTaken(String),
    #[error("没有账号 {0}")]
    NoSuchAccount(String),
    #[error("没有角色 {0}")]
    NoSuchRole(String),
    #[error("没有这个在线会话")]
    NoSuchSession,
    #[error("{0}")]
    Field(FieldProblem),
    #[error(transparent)]
    Role(#[from] RoleError),
    #[error(transparent)]
    Grant(#[from] GrantError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("已有管理员账号：初始化只能在没有任何账号时进行")]
    AlreadyInitialised,
    #[error("不能停用或强制下线自己的账号")]
    OwnAccount,
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A field of a request and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}：{problem}")]
pub struct FieldProblem {
    pub field: &'static str,
    pub problem: String,
}

fn field(field: &'static str, problem: impl Into<String>) -> AdminError {
    AdminError::Field(FieldProblem { field, problem: problem.into() })
}

/// A password an administrator hands over, to be changed at first sign-in: 14 characters
/// of four classes, about 70 bits.
pub fn one_time_password() -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    let mut rng = rand::rng();
    let mut pick = |set: &[u8], n: usize| -> String { (0..n).map(|_| set[rng.random_range(0..set.len())] as char).collect() };
    format!("{}{}-{}-{}", pick(UPPER, 3), pick(LOWER, 4), pick(DIGIT, 3), pick(LOWER, 3))
}

fn parse_account(text: &str) -> Result<Account, AdminError> {
    Account::parse(text.trim()).map_err(|e| field("account", e.to_string()))
}

fn check_name(name: &'static str, value: &str) -> Result<String, AdminError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 64 || value.chars().any(char::is_control) {
        return Err(field(name, "应为 1–64 个字符，不含控制字符"));
    }
    Ok(value.to_owned())
}

impl Hub {
    /// Puts the built-in roles in place on a hub that has none of them yet, with their
    /// default grants; grants a security administrator changed stay as changed.
    pub async fn ensure_builtin_roles(&self) -> Result<(), StoreError> {
        let have = self.store().roles().await?;
        for role in BuiltinRole::ALL {
            if !have.iter().any(|r| r.id == role.id()) {
                self.store()
                    .put_role(&RoleRecord {
                        id: role.id().to_owned(),
                        name: role.name().to_owned(),
                        permissions: role.default_permissions(),
                        builtin: true,
                    })
                    .await?;
            }
        }
        Ok(())
    }

    /// `password`: none for a one-time password, to be changed at first sign-in.
    async fn add_user(&self, by: &Actor, new: NewUser, role: &str, scope: DataScope, password: Option<&str>) -> Result<OneTimePassword, AdminError> {
        let account = parse_account(&new.account)?;
        let real_name = check_name("real_name", &new.real_name)?;
        let department = check_name("department", &new.department)?;
        let must_change_password = password.is_none();
        let password = password.map_or_else(one_time_password, str::to_owned);
        let now = self.clock().now();
        let user = UserRecord {
            account: account.clone(),
            real_name,
            department,
            status: UserStatus::Active,
            password_hash: hash_password(password.clone()).await,
            password_changed_at: now,
            must_change_password,
            locked_until: None,
            totp_secret: None,
            totp_pending: None,
            totp_last_step: None,
            recovery_codes: Vec::new(),
            created_at: now,
            created_by: by.user.clone(),
        };
        if !self.store().insert_user(user).await? {
            return Err(AdminError::AccountTaken(account.to_string()));
        }
        self.audit(
            Entry::new(by, AuditEvent::UserCreated, account.as_str())
                .detail(serde_json::json!({"after": {"real_name": new.real_name, "department": new.department}})),
        )
        .await?;
        if !role.is_empty() {
            self.store()
                .put_grant(&GrantRecord { account: account.clone(), role: role.to_owned(), scope, granted_by: by.user.clone(), granted_at: now })
                .await?;
            self.audit(Entry::new(by, AuditEvent::RoleGranted, account.as_str()).detail(serde_json::json!({"role": role})))
                .await?;
        }
        self.note_standing(&account).await?;
        Ok(OneTimePassword { account, password })
    }

    /// `yizhan-hub admin init`: on a hub with no accounts at all, the first security and
    /// system administrators, each with a one-time password to change at first sign-in.
    pub async fn init_administrators(&self, security: NewUser, system: NewUser) -> Result<[OneTimePassword; 2], AdminError> {
        self.ensure_builtin_roles().await?;
        if !self.store().users().await?.is_empty() {
            return Err(AdminError::AlreadyInitialised);
        }
        let installer = Actor { user: "admin-init".into(), role: "installer".into(), ..Actor::default() };
        let security = self.add_user(&installer, security, BuiltinRole::SecurityAdmin.id(), DataScope::All, None).await?;
        let system = self.add_user(&installer, system, BuiltinRole::SystemAdmin.id(), DataScope::All, None).await?;
        Ok([security, system])
    }

    /// A new account (系统管理员), with no role: the security administrator grants one.
    pub async fn create_user(&self, by: &Principal, new: NewUser) -> Result<OneTimePassword, AdminError> {
        self.add_user(&by.actor(), new, "", DataScope::All, None).await
    }


    async fn user_or_refuse(&self, account: &str) -> Result<UserRecord, AdminError> {
        let parsed = parse_account(account)?;
        self.store().user(&parsed).await?.ok_or_else(|| AdminError::NoSuchAccount(account.to_owned()))
    }

    pub async fn user_views(&self) -> Result<Vec<UserView>, AdminError> {
        let mut views = Vec::new();
        for u in self.store().users().await? {
            let grants = self.store().grants(&u.account).await?;
            views.push(UserView {
                second_factor: u.totp_secret.is_some(),
                account: u.account,
                real_name: u.real_name,
                department: u.department,
                status: u.status,
                locked_until: u.locked_until.filter(|t| *t > self.clock().now()),
                must_change_password: u.must_change_password,
                password_changed_at: u.password_changed_at,
                grants,
            });
        }
        Ok(views)
    }

    /// Disables or re-enables an account; disabling ends its sessions at once.
    pub async fn set_user_status(&self, by: &Principal, account: &str, status: UserStatus) -> Result<(), AdminError> {
        let mut user = self.user_or_refuse(account).await?;
        if user.account == by.account {
            return Err(AdminError::OwnAccount);
        }
        let before = user.status;
        user.status = status;
        self.store().update_user(&user).await?;
        self.audit(
            Entry::new(&by.actor(), AuditEvent::UserChanged, user.account.as_str())
                .detail(serde_json::json!({"before": {"status": before}, "after": {"status": status}})),
        )
        .await?;
        self.note_standing(&user.account).await?;
        if status == UserStatus::Disabled {
            self.end_sessions_of(&user.account, "disabled", None, by).await?;
        }
        Ok(())
    }

    /// A new one-time password for someone who forgot theirs; their sessions end.
    pub async fn reset_password(&self, by: &Principal, account: &str) -> Result<OneTimePassword, AdminError> {
        let mut user = self.user_or_refuse(account).await?;
        if user.account == by.account {
            return Err(AdminError::OwnAccount);
        }
        let password = one_time_password();
        let previous = std::mem::replace(&mut user.password_hash, hash_password(password.clone()).await);
        user.password_changed_at = self.clock().now();
        user.must_change_password = true;
        self.store().set_password(&user, &previous).await?;
        self.audit(Entry::new(&by.actor(), AuditEvent::PasswordReset, user.account.as_str())).await?;
        self.end_sessions_of(&user.account, "password_changed", None, by).await?;
        Ok(OneTimePassword { account: user.account, password })
    }

    /// Lifts a lockout before its time (安全管理员).
    pub async fn unlock_user(&self, by: &Principal, account: &str) -> Result<(), AdminError> {
        let mut user = self.user_or_refuse(account).await?;
        user.locked_until = None;
        self.store().update_user(&user).await?;
        self.store().clear_login_failures(user.account.as_str()).await?;
        self.audit(Entry::new(&by.actor(), AuditEvent::UserUnlocked, user.account.as_str())).await?;
        Ok(())
    }

    /// Sets a role's name and permissions (安全管理员). Built-in roles keep their duty; no
    /// role mixes duties.
    pub async fn put_role(&self, by: &Principal, id: &str, name: &str, permissions: BTreeSet<Permission>) -> Result<RoleRecord, AdminError> {
        let id = id.trim();
        if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(field("id", "应为 1–32 个字母、数字或下划线"));
        }
        let name = check_name("name", name)?;
        let duty = duty_of(&permissions)?;
        if let Some(builtin) = BuiltinRole::from_id(id).filter(|r| r.duty() != duty) {
            return Err(AdminError::Role(RoleError::OutsideDuty {
                role: builtin.name().to_owned(),
                duty: builtin.duty().name(),
                permission: *permissions.iter().find(|p| p.duty() != builtin.duty()).expect("a permission of another duty"),
            }));
        }
        let before = self.store().roles().await?.into_iter().find(|r| r.id == id);
        let role = RoleRecord { id: id.to_owned(), name, permissions, builtin: BuiltinRole::from_id(id).is_some() };
        self.store().put_role(&role).await?;
        self.note_standing_of_holders(&role.id).await?;
        self.audit(
            Entry::new(&by.actor(), AuditEvent::RoleChanged, id)
                .detail(serde_json::json!({"before": before.map(|r| r.permissions), "after": &role.permissions})),
        )
        .await?;
        Ok(role)
    }

    /// Grants `role` to `account` where `scope` says (安全管理员): never to oneself, never a
    /// second duty.
    pub async fn grant_role(&self, by: &Principal, account: &str, role: &str, scope: DataScope) -> Result<(), AdminError> {
        let user = self.user_or_refuse(account).await?;
        let roles = self.store().roles().await?;
        let wanted = roles.iter().find(|r| r.id == role).ok_or_else(|| AdminError::NoSuchRole(role.to_owned()))?;
        let held: Vec<_> = self
            .store()
            .grants(&user.account)
            .await?
            .iter()
            .filter(|g| g.role != role)
            .filter_map(|g| roles.iter().find(|r| r.id == g.role))
            .filter_map(|r| duty_of(&r.permissions).ok())
            .collect();
        let outcome = check_grant(by.account.as_str(), user.account.as_str(), &held, duty_of(&wanted.permissions)?);
        if let Err(e) = outcome {
            self.audit(Entry::new(&by.actor(), AuditEvent::RoleGranted, user.account.as_str()).failed(e.to_string()))
                .await?;
            return Err(e.into());
        }
        self.store()
            .put_grant(&GrantRecord {
                account: user.account.clone(),
                role: role.to_owned(),
                scope: scope.clone(),
                granted_by: by.account.to_string(),
                granted_at: self.clock().now(),
            })
            .await?;
        self.audit(
            Entry::new(&by.actor(), AuditEvent::RoleGranted, user.account.as_str())
                .detail(serde_json::json!({"role": role, "scope": scope})),
        )
        .await?;
        self.note_standing(&user.account).await?;
        Ok(())
    }

    pub async fn revoke_role(&self, by: &Principal, account: &str, role: &str) -> Result<(), AdminError> {
        let user = self.user_or_refuse(account).await?;
        if user.account == by.account {
            return Err(GrantError::ToSelf.into());
        }
        if !self.store().remove_grant(&user.account, role).await? {
            return Err(AdminError::NoSuchRole(role.to_owned()));
        }
        self.audit(Entry::new(&by.actor(), AuditEvent::RoleRevoked, user.account.as_str()).detail(serde_json::json!({"role": role})))
            .await?;
        self.note_standing(&user.account).await?;
        Ok(())
    }

    /// Sets the policy (安全管理员); one weaker than level 3's floor is refused.
    pub async fn set_security_policy(&self, by: &Principal, policy: SecurityPolicy) -> Result<(), AdminError> {
        policy.check()?;
        let before = self.security_policy().await?;
        self.store().set_policy(&serde_json::to_string(&policy).expect("a policy serialises")).await?;
        self.audit(
            Entry::new(&by.actor(), AuditEvent::PolicyChanged, "security_policy")
                .detail(serde_json::json!({"before": before, "after": policy})),
        )
        .await?;
        Ok(())
    }

    pub async fn online_sessions(&self) -> Result<Vec<SessionRecord>, AdminError> {
        let policy = self.security_policy().await?;
        let now = self.clock().now();
        let idle = time::Duration::minutes(policy.idle_minutes.into());
        Ok(self.store().open_sessions().await?.into_iter().filter(|s| now - s.last_seen <= idle).collect())
    }

    /// Ends someone's session (系统管理员).
    pub async fn force_logout(&self, by: &Principal, session_id: &str) -> Result<(), AdminError> {
        let mut session = self.store().session(session_id).await?.filter(|s| s.ended_at.is_none()).ok_or(AdminError::NoSuchSession)?;
        if session.id == by.session_id {
            return Err(AdminError::OwnAccount);
        }
        self.end_session(&mut session, "forced", Some(by)).await?;
        Ok(())
    }
}

/// The password of every demo account: printed at the demo's start, never used by a hub
/// started without `--demo`.
pub const DEMO_PASSWORD: &str = "Yizhan-Demo-2026";

/// The demo's accounts: one per built-in role.
pub const DEMO_ACCOUNTS: [(&str, &str, BuiltinRole); 6] = [
    ("clerk01", "王芳", BuiltinRole::Clerk),
    ("clerk02", "陈静", BuiltinRole::Clerk),
    ("chief01", "李建国", BuiltinRole::Supervisor),
    ("sysadmin", "赵敏", BuiltinRole::SystemAdmin),
    ("secadmin", "孙立", BuiltinRole::SecurityAdmin),
    ("auditor", "周静", BuiltinRole::AuditAdmin),
];

impl Hub {
    /// On a demo hub with no accounts: one account per built-in role, all with
    /// [`DEMO_PASSWORD`] and no forced change, so a newcomer signs straight in. Answers the
    /// accounts made (none when the hub had accounts already).
    pub async fn seed_demo_accounts(&self) -> Result<Vec<(Account, BuiltinRole)>, AdminError> {
        if !self.store().users().await?.is_empty() {
            return Ok(Vec::new());
        }
        self.ensure_builtin_roles().await?;
        let seeder = Actor { user: "demo".into(), role: "installer".into(), ..Actor::default() };
        let mut made = Vec::new();
        for (account, name, role) in DEMO_ACCOUNTS {
            let new = NewUser { account: account.into(), real_name: name.into(), department: "一站式收费综合窗口（演示）".into() };
            let created = self.add_user(&seeder, new, role.id(), DataScope::All, Some(DEMO_PASSWORD)).await?;
            made.push((created.account, role));
        }
        Ok(made)
    }

    /// [`Hub::seed_demo_accounts`], the accounts standing as made since `since`: for demo
    /// commands dated before the accounts were made (the suites' counters work on the demo
    /// day, which may lie before the run).
    pub async fn seed_demo_accounts_since(&self, since: OffsetDateTime) -> Result<(), AdminError> {
        for (account, _) in self.seed_demo_accounts().await? {
            if let Some(now) = self.store().standings(&account).await?.pop() {
                self.store().record_standing(&Standing { since, ..now }).await?;
            }
        }
        Ok(())
    }
}
