//! The admin area's commands: the data centre's connectors and quarantine, and the upload
//! of a planning export. They talk to the hub directly (an operator's work needs it
//! online); a failure carries the hub's own code and Chinese message.

use serde::Serialize;
use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, Runtime, State};
use yizhan_sync::client::HubAdmin;

use crate::contract;
use crate::error::CommandError;
use yizhan_sync::protocol::{ConnectorStatus, DeliveryReport, ImportReport, QuarantineEntry, QuarantineState};

/// The header that names the uploaded file, percent-encoded (header values are ASCII).
const FILE_NAME_HEADER: &str = "x-file-name";

/// The hub's operator endpoints, and who works them from this PC.
pub struct Admin {
    hub: HubAdmin,
    operator: String,
}

impl Admin {
    pub fn new(hub_url: &str, operator: &str) -> Result<Admin, String> {
        Ok(Admin { hub: HubAdmin::new(hub_url).map_err(|e| e.to_string())?, operator: operator.to_owned() })
    }
}

/// How far an upload of a planning export has got.
#[derive(Debug, Clone, Copy, Serialize, specta::Type, tauri_specta::Event)]
pub struct ImportProgress {
    pub done: usize,
    pub total: usize,
}

#[tauri::command]
#[specta::specta]
pub async fn list_connectors(admin: State<'_, Admin>) -> Result<Vec<ConnectorStatus>, CommandError> {
    admin.hub.connectors().await.map_err(CommandError::from)
}

#[tauri::command]
#[specta::specta]
pub async fn list_quarantine(admin: State<'_, Admin>, state: Option<QuarantineState>) -> Result<Vec<QuarantineEntry>, CommandError> {
    admin.hub.quarantine(state).await.map_err(CommandError::from)
}

/// Re-checks a quarantined record, as `record` corrects it or as it was.
#[tauri::command]
#[specta::specta]
pub async fn reprocess_quarantined(
    admin: State<'_, Admin>,
    id: u64,
    record: Option<serde_json::Value>,
) -> Result<DeliveryReport, CommandError> {
    admin.hub.reprocess(id, record, &admin.operator).await.map_err(CommandError::from)
}

#[tauri::command]
#[specta::specta]
pub async fn dismiss_quarantined(admin: State<'_, Admin>, id: u64, reason: String) -> Result<(), CommandError> {
    admin.hub.dismiss(id, &admin.operator, &reason).await.map_err(CommandError::from)
}

/// The file's bytes as the raw body, its name in `x-file-name`; progress goes out as
/// `import-progress` events.
#[tauri::command]
pub async fn import_planning_file<R: Runtime>(
    app: AppHandle<R>,
    admin: State<'_, Admin>,
    request: Request<'_>,
) -> Result<ImportReport, CommandError> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(CommandError::invalid("file", "请选择要导入的文件（CSV 或 XLSX）。"));
    };
    let file_name = request
        .headers()
        .get(FILE_NAME_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| CommandError::invalid("file_name", "缺少文件名，请重新选择文件。"))?;
    admin
        .hub
        .import_planning(&file_name, bytes.clone(), |done, total| {
            contract::emit(&app, ImportProgress { done, total });
        })
        .await
        .map_err(CommandError::from)
}
