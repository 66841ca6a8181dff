//! The admin area's commands: the data centre's connectors and quarantine, and the upload
//! of a planning export. They talk to the hub directly (an operator's work needs it
//! online); a failure carries the hub's own code and Chinese message.

use std::sync::Arc;

use serde::Serialize;
use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, Runtime, State};
use yizhan_sync::client::HubAdmin;

use crate::contract;
use crate::session::Session;
use yizhan_core::access::Permission;
use crate::error::CommandError;
use yizhan_sync::protocol::{ConnectorStatus, DeliveryReport, ImportReport, QuarantineEntry, QuarantineState};

/// The header that names the uploaded file, percent-encoded (header values are ASCII).
const FILE_NAME_HEADER: &str = "x-file-name";

/// The hub's operator endpoints, called under the session of the person signed in.
pub struct Admin {
    hub: Arc<HubAdmin>,
}

impl Admin {
    pub fn new(hub: Arc<HubAdmin>) -> Admin {
        Admin { hub }
    }

    pub fn hub(&self) -> &HubAdmin {
        &self.hub
    }
}

/// Who may look at the data feeds: whoever works their connectors or their quarantine.
const FEED_WORK: [Permission; 2] = [Permission::ConnectorOperate, Permission::QuarantineCorrect];

/// How far an upload of a planning export has got.
#[derive(Debug, Clone, Copy, Serialize, specta::Type, tauri_specta::Event)]
pub struct ImportProgress {
    pub done: usize,
    pub total: usize,
}

#[tauri::command]
#[specta::specta]
pub async fn list_connectors(admin: State<'_, Admin>, session: State<'_, Session>) -> Result<Vec<ConnectorStatus>, CommandError> {
    session.clerk_holding(&FEED_WORK)?;
    admin.hub.connectors().await.map_err(CommandError::from)
}

#[tauri::command]
#[specta::specta]
pub async fn list_quarantine(
    admin: State<'_, Admin>,
    session: State<'_, Session>,
    state: Option<QuarantineState>,
) -> Result<Vec<QuarantineEntry>, CommandError> {
    session.clerk_holding(&FEED_WORK)?;
    admin.hub.quarantine(state).await.map_err(CommandError::from)
}

/// Re-checks a quarantined record, as `record` corrects it or as it was.
#[tauri::command]
#[specta::specta]
pub async fn reprocess_quarantined(
    admin: State<'_, Admin>,
    session: State<'_, Session>,
    id: u64,
    record: Option<serde_json::Value>,
) -> Result<DeliveryReport, CommandError> {
    session.clerk(Permission::QuarantineCorrect)?;
    admin.hub.reprocess(id, record).await.map_err(CommandError::from)
}

#[tauri::command]
#[specta::specta]
pub async fn dismiss_quarantined(admin: State<'_, Admin>, session: State<'_, Session>, id: u64, reason: String) -> Result<(), CommandError> {
    session.clerk(Permission::QuarantineCorrect)?;
    admin.hub.dismiss(id, &reason).await.map_err(CommandError::from)
}

/// The file's bytes as the raw body, its name in `x-file-name`; progress goes out as
/// `import-progress` events.
#[tauri::command]
pub async fn import_planning_file<R: Runtime>(
    app: AppHandle<R>,
    admin: State<'_, Admin>,
    session: State<'_, Session>,
    request: Request<'_>,
) -> Result<ImportReport, CommandError> {
    session.clerk(Permission::ConnectorOperate)?;
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
