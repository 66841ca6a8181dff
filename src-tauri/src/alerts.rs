//! The alert commands (the supervisor's queue, its chart, answering an alert) and the
//! desktop notification of a new red alert.

use std::collections::HashSet;

use tauri::{AppHandle, Runtime, State};
use tauri_plugin_notification::NotificationExt;
use yizhan_core::alert::handling::AlertHandling;
use yizhan_core::alert::queue::{AlertPage, AlertQuery};
use yizhan_core::access::Permission;
use yizhan_core::alert::AlertLevel;
use yizhan_core::command::ClerkAction;
use yizhan_sync::protocol::AlertAssignee;
use yizhan_sync::replica::{AlertTrend, OutboxEntry, ReplicaReader};

use crate::admin::Admin;
use crate::error::CommandError;
use crate::Counter;
use crate::session::Session;
use crate::projects::{issue, typed_code};

#[tauri::command(async)]
#[specta::specta]
pub fn list_alerts(counter: State<'_, Counter>, session: State<'_, Session>, query: AlertQuery) -> Result<AlertPage, CommandError> {
    session.clerk(Permission::ProjectRead)?;
    counter.read(|r| r.list_alerts(&query))
}

#[tauri::command(async)]
#[specta::specta]
pub fn alert_trend(counter: State<'_, Counter>, session: State<'_, Session>, days: u32) -> Result<AlertTrend, CommandError> {
    session.clerk(Permission::ProjectRead)?;
    counter.read(|r| r.alert_trend(days))
}

/// Whom the supervisor may assign an alert to, as the hub knows them now.
#[tauri::command]
#[specta::specta]
pub async fn alert_assignees(admin: State<'_, Admin>, session: State<'_, Session>) -> Result<Vec<AlertAssignee>, CommandError> {
    session.clerk(Permission::AlertAssign)?;
    admin.hub().alert_assignees().await.map_err(CommandError::from)
}

/// 确认、指派、备注、解除、升级: queued like every clerk command.
#[tauri::command]
#[specta::specta]
pub async fn handle_alert(
    counter: State<'_, Counter>,
    session: State<'_, Session>,
    alert_key: String,
    project_code: String,
    handling: AlertHandling,
) -> Result<OutboxEntry, CommandError> {
    // A system alert belongs to no project: the screens send its code as "".
    let project_code = match project_code.trim() {
        "" => None,
        code => Some(typed_code(code)?),
    };
    issue(&counter, &session, ClerkAction::HandleAlert { alert_key, project_code, handling }).await
}

/// Tells the desktop about red alerts it has not told of yet: a supervisor away from the
/// window still hears of a feed going down.
pub struct RedAlertNotifier {
    reader: ReplicaReader,
    told: HashSet<String>,
}

impl RedAlertNotifier {
    /// Red alerts already active when the app starts are on screen, not news.
    pub fn new(reader: ReplicaReader) -> RedAlertNotifier {
        let mut notifier = RedAlertNotifier { reader, told: HashSet::new() };
        notifier.told = notifier.active_red().into_iter().map(|(key, _)| key).collect();
        notifier
    }

    fn active_red(&self) -> Vec<(String, String)> {
        let query = AlertQuery { levels: vec![AlertLevel::Red], ..AlertQuery::default() };
        match self.reader.list_alerts(&query) {
            Ok(page) => page.alerts.into_iter().map(|v| (v.key, v.alert.message)).collect(),
            Err(error) => {
                tracing::warn!(%error, "red alerts unreadable for notification");
                Vec::new()
            }
        }
    }

    pub fn check<R: Runtime>(&mut self, app: &AppHandle<R>) {
        for (key, message) in self.active_red() {
            if self.told.insert(key) {
                let shown = app.notification().builder().title("一站 · 红色预警").body(&message).show();
                if let Err(error) = shown {
                    tracing::warn!(%error, "desktop notification not shown");
                }
            }
        }
    }
}
