//! Projects at the counter, as the UI invokes them (ui/src/api.ts): the list and detail,
//! the clerk's actions on a project (复核, notes, 项目跟踪), the commands the hub refused,
//! and the districts. Each one is a call into the replica; a failure reaches the screens as
//! a `CommandError` (its code, the replica's Chinese message, the argument at fault).

use tauri::State;
use yizhan_core::code::{ProjectCode, ProjectCodeError};
use yizhan_core::access::Permission;
use yizhan_core::command::ClerkAction;
use yizhan_core::id::{CommandId, IdError};
use yizhan_core::district::NANJING_DISTRICTS;
use yizhan_sync::replica::{OutboxEntry, ProjectDetail, ProjectPage, ProjectQuery};
use yizhan_sync::status::SyncStatus;

use crate::Counter;
use crate::session::Session;
use crate::error::{CommandError, ErrorCode};

#[tauri::command(async)]
#[specta::specta]
pub fn list_projects(counter: State<'_, Counter>, session: State<'_, Session>, query: ProjectQuery) -> Result<ProjectPage, CommandError> {
    session.clerk(Permission::ProjectRead)?;
    counter.read(|r| r.list_projects(&query))
}

#[tauri::command(async)]
#[specta::specta]
pub fn get_project(counter: State<'_, Counter>, session: State<'_, Session>, project_code: String) -> Result<ProjectDetail, CommandError> {
    session.clerk(Permission::ProjectRead)?;
    let code = typed_code(&project_code)?;
    counter
        .read(|r| r.get_project(&code))?
        .ok_or_else(|| {
            CommandError::new(
                ErrorCode::NotFound,
                format!("本机副本中没有项目代码为 {code} 的项目。请核对项目代码；如项目刚审批，请等待同步完成后再查。"),
            )
        })
}

#[tauri::command]
#[specta::specta]
pub fn sync_status(counter: State<'_, Counter>) -> SyncStatus {
    counter.status()
}

/// 复核 of a cleared project.
#[tauri::command]
#[specta::specta]
pub async fn record_final_check(counter: State<'_, Counter>, session: State<'_, Session>, project_code: String, remark: String) -> Result<OutboxEntry, CommandError> {
    issue(&counter, &session, ClerkAction::FinalCheck { project_code: typed_code(&project_code)?, remark }).await
}

/// 跟进备注.
#[tauri::command]
#[specta::specta]
pub async fn add_follow_up_note(counter: State<'_, Counter>, session: State<'_, Session>, project_code: String, text: String) -> Result<OutboxEntry, CommandError> {
    issue(&counter, &session, ClerkAction::FollowUpNote { project_code: typed_code(&project_code)?, text }).await
}

/// 项目跟踪 on or off.
#[tauri::command]
#[specta::specta]
pub async fn set_tracking(counter: State<'_, Counter>, session: State<'_, Session>, project_code: String, tracked: bool) -> Result<OutboxEntry, CommandError> {
    issue(&counter, &session, ClerkAction::Tracking { project_code: typed_code(&project_code)?, tracked }).await
}

/// A project code as the clerk typed or scanned it: blanks around it dropped (a scanner
/// may add a line end), its shape checked before anything is looked up.
pub(crate) fn typed_code(text: &str) -> Result<ProjectCode, CommandError> {
    text.trim().parse().map_err(|e: ProjectCodeError| CommandError::invalid("project_code", e.to_string()))
}

fn typed_command_id(text: &str) -> Result<CommandId, CommandError> {
    text.parse().map_err(|e: IdError| CommandError::invalid("command_id", format!("指令编号{e}")))
}

/// Queues `action` as the signed-in clerk's, if they may do it.
pub(crate) async fn issue(counter: &Counter, session: &Session, action: ClerkAction) -> Result<OutboxEntry, CommandError> {
    let issuer = counter.issuer(&session.acting(&[action.permission()])?)?;
    counter.outbox().issue(action, &issuer).await.map_err(CommandError::from)
}

/// 待处理冲突, newest first.
#[tauri::command(async)]
#[specta::specta]
pub fn list_conflicts(counter: State<'_, Counter>, session: State<'_, Session>) -> Result<Vec<OutboxEntry>, CommandError> {
    session.clerk(Permission::ProjectRead)?;
    counter.read(|r| r.conflicts())
}

#[tauri::command]
#[specta::specta]
pub async fn discard_conflict(counter: State<'_, Counter>, session: State<'_, Session>, command_id: String) -> Result<(), CommandError> {
    session.clerk(Permission::ProjectRead)?;
    counter.outbox().discard(&typed_command_id(&command_id)?).await.map_err(CommandError::from)
}

#[tauri::command]
#[specta::specta]
pub async fn redo_conflict(counter: State<'_, Counter>, session: State<'_, Session>, command_id: String) -> Result<OutboxEntry, CommandError> {
    let id = typed_command_id(&command_id)?;
    let permission = counter
        .read(|r| r.conflicts())?
        .into_iter()
        .find(|entry| entry.command_id == id)
        .map_or(Permission::ProjectRead, |entry| entry.action.permission());
    let issuer = counter.issuer(&session.acting(&[permission])?)?;
    counter.outbox().redo(&id, &issuer).await.map_err(CommandError::from)
}

#[derive(serde::Serialize, specta::Type)]
pub struct District {
    code: &'static str,
    name: &'static str,
}

#[tauri::command]
#[specta::specta]
pub fn districts() -> Vec<District> {
    NANJING_DISTRICTS.iter().map(|&(code, name)| District { code, name }).collect()
}
