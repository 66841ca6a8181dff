//! 终端 (the system administrator's): every counter PC with its state, when it was last
//! heard from, how far its clock is off and what it had not uploaded; the one-time code of
//! a new PC; retiring one or reporting it lost. The hub checks `device:manage` again.

use tauri::State;
use yizhan_core::access::Permission;
use yizhan_sync::protocol::device::{DeviceListing, EnrolmentCode, NewDevice, Revocation};

use crate::admin::Admin;
use crate::error::CommandError;
use crate::session::Session;

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn list_devices(admin: State<'_, Admin>, session: State<'_, Session>) -> Result<Vec<DeviceListing>, CommandError> {
    session.clerk(Permission::DeviceManage)?;
    admin.hub().devices().await.map_err(CommandError::from)
}

/// The code a new PC enrols with, valid 24 hours, shown this once.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn new_device(admin: State<'_, Admin>, session: State<'_, Session>, device: NewDevice) -> Result<EnrolmentCode, CommandError> {
    session.clerk(Permission::DeviceManage)?;
    admin.hub().new_device(&device).await.map_err(CommandError::from)
}

/// 退役 (it uploads what it holds, then clears itself) or 挂失 (refused at once).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session, revocation), fields(state = revocation.state.as_str()))]
pub async fn revoke_device(
    admin: State<'_, Admin>,
    session: State<'_, Session>,
    device_id: String,
    revocation: Revocation,
) -> Result<DeviceListing, CommandError> {
    session.clerk(Permission::DeviceManage)?;
    admin.hub().revoke_device(&device_id, &revocation).await.map_err(CommandError::from)
}
