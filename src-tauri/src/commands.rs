//! The commands the UI invokes (ui/src/api.ts). Each one is a call into the replica; errors
//! reach the clerk as they are, so they are the replica's Chinese messages.

use tauri::State;
use yizhan_core::district::NANJING_DISTRICTS;
use yizhan_sync::replica::{ProjectDetail, ProjectPage, ProjectQuery};
use yizhan_sync::status::SyncStatus;

use crate::Counter;

#[tauri::command(async)]
pub fn list_projects(counter: State<'_, Counter>, query: ProjectQuery) -> Result<ProjectPage, String> {
    counter.read(|r| r.list_projects(&query))
}

#[tauri::command(async)]
pub fn get_project(counter: State<'_, Counter>, project_code: String) -> Result<ProjectDetail, String> {
    let code = project_code.trim();
    counter
        .read(|r| r.get_project(code))?
        .ok_or_else(|| format!("本机副本中没有项目代码为 {code} 的项目。请核对项目代码；如项目刚审批，请等待同步完成后再查。"))
}

#[tauri::command]
pub fn sync_status(counter: State<'_, Counter>) -> SyncStatus {
    counter.status()
}

#[derive(serde::Serialize)]
pub struct District {
    code: &'static str,
    name: &'static str,
}

#[tauri::command]
pub fn districts() -> Vec<District> {
    NANJING_DISTRICTS.iter().map(|&(code, name)| District { code, name }).collect()
}
