//! The administrators' account screens: accounts and their one-time passwords (系统管理员),
//! roles, grants, the security policy and unlocking (安全管理员), and the online sessions.
//! Each command checks the permission here so that a screen opened by mistake fails at
//! once, and the hub checks it again (and separation of duties, and "not to oneself")
//! on its own records; its refusal reaches the screens with its code and field.

use tauri::State;
use yizhan_core::access::{DataScope, Permission};
use yizhan_core::account::SecurityPolicy;
use yizhan_sync::protocol::{NewUser, OneTimePassword, RoleBody, RoleRecord, SessionRecord, UserStatus, UserView};

use crate::admin::Admin;
use crate::error::CommandError;
use crate::session::Session;

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn list_users(admin: State<'_, Admin>, session: State<'_, Session>) -> Result<Vec<UserView>, CommandError> {
    session.clerk(Permission::UserManage)?;
    admin.hub().users().await.map_err(CommandError::from)
}

/// A new account with no role; answers its one-time password, which nobody sees again.
#[tauri::command]
#[specta::specta]
// The real name is personal: only the account goes in the log.
#[tracing::instrument(skip(admin, session, user), fields(account = %user.account))]
pub async fn create_user(admin: State<'_, Admin>, session: State<'_, Session>, user: NewUser) -> Result<OneTimePassword, CommandError> {
    session.clerk(Permission::UserManage)?;
    admin.hub().create_user(&user).await.map_err(CommandError::from)
}

/// 停用 ends the account's sessions at once; 启用 lets it sign in again.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn set_user_status(admin: State<'_, Admin>, session: State<'_, Session>, account: String, status: UserStatus) -> Result<(), CommandError> {
    session.clerk(Permission::UserManage)?;
    admin.hub().set_user_status(&account, status).await.map_err(CommandError::from)
}

/// A new one-time password for `account`, to be changed at its next sign-in.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn reset_password(admin: State<'_, Admin>, session: State<'_, Session>, account: String) -> Result<OneTimePassword, CommandError> {
    session.clerk(Permission::UserManage)?;
    admin.hub().reset_password(&account).await.map_err(CommandError::from)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn unlock_user(admin: State<'_, Admin>, session: State<'_, Session>, account: String) -> Result<(), CommandError> {
    session.clerk(Permission::UserUnlock)?;
    admin.hub().unlock_user(&account).await.map_err(CommandError::from)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn grant_role(
    admin: State<'_, Admin>,
    session: State<'_, Session>,
    account: String,
    role: String,
    scope: DataScope,
) -> Result<(), CommandError> {
    session.clerk(Permission::RoleGrant)?;
    admin.hub().grant_role(&account, &role, scope).await.map_err(CommandError::from)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn revoke_role(admin: State<'_, Admin>, session: State<'_, Session>, account: String, role: String) -> Result<(), CommandError> {
    session.clerk(Permission::RoleGrant)?;
    admin.hub().revoke_role(&account, &role).await.map_err(CommandError::from)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn list_roles(admin: State<'_, Admin>, session: State<'_, Session>) -> Result<Vec<RoleRecord>, CommandError> {
    session.clerk(Permission::RoleGrant)?;
    admin.hub().roles().await.map_err(CommandError::from)
}

/// Sets role `id`'s name and permissions (a new id makes a role); all of one duty.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn put_role(admin: State<'_, Admin>, session: State<'_, Session>, id: String, role: RoleBody) -> Result<RoleRecord, CommandError> {
    session.clerk(Permission::RoleGrant)?;
    admin.hub().put_role(&id, &role).await.map_err(CommandError::from)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn security_policy(admin: State<'_, Admin>, session: State<'_, Session>) -> Result<SecurityPolicy, CommandError> {
    session.clerk(Permission::PolicyChange)?;
    admin.hub().security_policy().await.map_err(CommandError::from)
}

/// A policy weaker than level 3's floor is refused with the field at fault.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn set_security_policy(admin: State<'_, Admin>, session: State<'_, Session>, policy: SecurityPolicy) -> Result<(), CommandError> {
    session.clerk(Permission::PolicyChange)?;
    admin.hub().set_security_policy(&policy).await.map_err(CommandError::from)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn list_sessions(admin: State<'_, Admin>, session: State<'_, Session>) -> Result<Vec<SessionRecord>, CommandError> {
    session.clerk(Permission::UserManage)?;
    admin.hub().sessions().await.map_err(CommandError::from)
}

/// 强制下线: the session's token stops working at once.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn end_session(admin: State<'_, Admin>, session: State<'_, Session>, id: String) -> Result<(), CommandError> {
    session.clerk(Permission::UserManage)?;
    admin.hub().end_session(&id).await.map_err(CommandError::from)
}
