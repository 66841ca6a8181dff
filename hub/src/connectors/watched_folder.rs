//! The folder the planning department's daily export is dropped into (from the USB stick,
//! a share, a scheduled copy): every CSV or XLSX that appears is imported, then moved to
//! `已导入/`, or to `无法导入/` with a note of why beside it, so the folder shows at a
//! glance what is still to do.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use super::ConnectorKind;
use super::legacy_import::CONNECTOR;
use crate::error::HubError;
use crate::hub::Hub;

pub const DONE: &str = "已导入";
pub const FAILED: &str = "无法导入";

/// A file changed this recently may still be being copied in.
const SETTLE: Duration = Duration::from_secs(2);
/// How often the last file is compared with the hub when nothing new comes in.
const VERIFY_EVERY: Duration = Duration::from_secs(3600);

/// Imports what appears in `dir` every `every`, and compares the last file imported with
/// the hub after each import and hourly, until `shutdown`.
pub async fn watch(hub: Hub, dir: PathBuf, every: Duration, shutdown: CancellationToken) {
    tracing::info!(dir = %dir.display(), "监视规划审批导出文件夹");
    let mut verified: Option<Instant> = None;
    loop {
        match scan(&hub, &dir).await {
            Ok(imported) => {
                let _ = hub.store().connector_heartbeat(CONNECTOR, ConnectorKind::LegacyFile, None).await;
                if imported > 0 || verified.is_none_or(|at| at.elapsed() >= VERIFY_EVERY) {
                    if let Err(error) = hub.verify_last_import().await {
                        tracing::error!(%error, "最近导入的文件无法与数据中心核对");
                    }
                    verified = Some(Instant::now());
                }
            }
            Err(error) => {
                tracing::error!(dir = %dir.display(), %error, "导出文件夹无法处理");
                let _ = hub
                    .store()
                    .connector_failed(CONNECTOR, ConnectorKind::LegacyFile, &error)
                    .await;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Imports every settled export in `dir`, oldest first; returns how many it took in.
pub async fn scan(hub: &Hub, dir: &Path) -> Result<usize, String> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("无法读取文件夹 {}：{e}", dir.display()))?;
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let path = entry.path();
        let is_export = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("xlsx"));
        let Ok(meta) = entry.metadata() else { continue };
        let modified = meta.modified().unwrap_or(now);
        if is_export && meta.is_file() && now.duration_since(modified).unwrap_or_default() >= SETTLE {
            files.push((modified, path));
        }
    }
    files.sort();
    let mut imported = 0;
    for (_, path) in files {
        imported += usize::from(import_one(hub, dir, &path).await?);
    }
    Ok(imported)
}

/// Whether the file was imported (rather than filed as unreadable).
async fn import_one(hub: &Hub, dir: &Path, path: &Path) -> Result<bool, String> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let bytes = std::fs::read(path).map_err(|e| format!("无法读取 {name}：{e}"))?;
    match hub.import_planning_file(&name, &bytes, |_, _| {}).await {
        Ok(report) => {
            tracing::info!(file = %name, changed = report.delivery.changed, quarantined = report.delivery.quarantined, again = report.already_imported, "导出文件已处理");
            move_into(path, &dir.join(DONE)).map(|_| true)
        }
        // Not the file's fault: leave it where it is for the next scan.
        Err(HubError::Store(error)) => Err(format!("导入 {name} 时数据库出错：{error}")),
        Err(error) => {
            let failed = dir.join(FAILED);
            let moved = move_into(path, &failed)?;
            let note = failed.join(format!("{}.错误.txt", moved_name(&moved)));
            std::fs::write(&note, format!("{error}\n")).map_err(|e| format!("无法写入 {}：{e}", note.display()))?;
            Ok(false)
        }
    }
}

/// Moves `path` into `folder` (made if missing) under a name not yet taken there.
fn move_into(path: &Path, folder: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(folder).map_err(|e| format!("无法建立文件夹 {}：{e}", folder.display()))?;
    let name = moved_name(path);
    let mut target = folder.join(&name);
    let mut n = 1;
    while target.exists() {
        n += 1;
        target = folder.join(format!("{n}-{name}"));
    }
    std::fs::rename(path, &target).map_err(|e| format!("无法移动 {name}：{e}"))?;
    Ok(target)
}

fn moved_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
