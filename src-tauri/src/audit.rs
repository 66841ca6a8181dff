//! The audit administrator's screen: searching the hub's audit trail and exporting what a
//! search finds. Both need the hub (the trail lives there) and are recorded there.

use tauri::State;
use time::OffsetDateTime;
use yizhan_core::access::Permission;
use yizhan_sync::protocol::{AuditEntry, AuditSearch};

use crate::admin::Admin;
use crate::error::{CommandError, ErrorCode};
use crate::session::Session;

/// A page of the trail, newest first.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn search_audit(admin: State<'_, Admin>, session: State<'_, Session>, search: AuditSearch) -> Result<Vec<AuditEntry>, CommandError> {
    session.clerk(Permission::AuditRead)?;
    admin.hub().audit(&search).await.map_err(CommandError::from)
}

/// Everything `search` finds, as a CSV or XLSX file in the user's download folder; answers
/// the file's path.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(admin, session))]
pub async fn export_audit(
    admin: State<'_, Admin>,
    session: State<'_, Session>,
    search: AuditSearch,
    format: String,
) -> Result<String, CommandError> {
    session.clerk(Permission::AuditExport)?;
    if format != "csv" && format != "xlsx" {
        return Err(CommandError::invalid("format", "导出格式应为 csv 或 xlsx。"));
    }
    let bytes = admin.hub().export_audit(&search, &format).await.map_err(CommandError::from)?;
    let folder = dirs::download_dir()
        .or_else(|| dirs::home_dir().map(|home| home.join("Downloads")))
        .ok_or_else(|| CommandError::new(ErrorCode::Internal, "找不到下载文件夹。".to_owned()))?;
    std::fs::create_dir_all(&folder).map_err(|e| CommandError::new(ErrorCode::Internal, format!("无法建立下载文件夹 {}：{e}", folder.display())))?;
    let stamp = OffsetDateTime::now_utc()
        .to_offset(yizhan_core::clock::SHANGHAI)
        .format(time::macros::format_description!("[year][month][day]-[hour][minute][second]"))
        .expect("a time formats");
    let path = folder.join(format!("审计记录-{stamp}.{format}"));
    std::fs::write(&path, bytes).map_err(|e| CommandError::new(ErrorCode::Internal, format!("无法写入 {}：{e}", path.display())))?;
    Ok(path.display().to_string())
}
