//! Telling applicants: when a project's document is issued or its construction permit
//! linked, a message to the builder's contact is queued at the hub (in the same store as
//! everything else, so nothing is lost across a restart) and sent by a pluggable channel.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use yizhan_core::command::ClerkAction;
use yizhan_core::document::DocumentState;
use yizhan_core::entity::{EntityKind, Project};
use yizhan_core::mask::mask_mobile;

use crate::error::HubError;
use crate::hub::Hub;
use crate::store::Notification;

/// Attempts before a message is left as failed for an operator to look at.
pub const ATTEMPTS: u32 = 5;

/// How a message reaches the applicant (SMS gateway, government messaging platform, …).
#[async_trait::async_trait]
pub trait Channel: Send + Sync + 'static {
    /// The channel's name in logs.
    fn name(&self) -> &'static str;
    async fn send(&self, notification: &Notification) -> Result<(), String>;
}

/// Writes each message as a JSON line to a file, recipient masked: the channel for tests
/// and for sites whose SMS gateway is not connected yet.
pub struct LogChannel {
    pub path: PathBuf,
}

#[async_trait::async_trait]
impl Channel for LogChannel {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn send(&self, n: &Notification) -> Result<(), String> {
        let line = serde_json::json!({
            "event": n.event_key,
            "project_code": n.project_code,
            "recipient": mask_mobile(&n.recipient),
            "message": n.message,
        });
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(|e| format!("无法打开通知日志 {}：{e}", self.path.display()))?;
        file.write_all(format!("{line}\n").as_bytes()).await.map_err(|e| format!("无法写入通知日志：{e}"))
    }
}

impl Hub {
    /// Queues the message an accepted command calls for, if the project has a contact.
    pub(crate) async fn notify_applicant(&self, action: &ClerkAction) -> Result<(), HubError> {
        let Some(code) = action.project_code() else { return Ok(()) };
        let (event_key, what) = match action {
            ClerkAction::IssueDocument { document, .. } => {
                let number = document.number.display();
                let Some(doc) = self.issued_document(&number).await? else { return Ok(()) };
                if doc.state != DocumentState::Issued {
                    return Ok(());
                }
                (format!("issued:{number}"), format!("{}（{number}）已开具", document.number.kind.name_zh()))
            }
            ClerkAction::LinkPermit { construction_permit_no, .. } => (
                format!("permit:{code}:{}", construction_permit_no.trim()),
                format!("已关联施工许可证 {}", construction_permit_no.trim()),
            ),
            _ => return Ok(()),
        };
        let Some(row) = self.store().get(EntityKind::Project, code.as_str()).await? else { return Ok(()) };
        let Ok(project) = serde_json::from_str::<Project>(&row.payload) else { return Ok(()) };
        let Some(phone) = project.contact_phone.filter(|p| !p.trim().is_empty()) else {
            tracing::info!(project_code = %code, "项目无联系人手机，不发送通知");
            return Ok(());
        };
        let message = format!("【一站式收费窗口】贵单位项目「{}」（{code}）{what}。如有疑问请联系收费窗口。", project.name);
        self.store().queue_notification(&event_key, code.as_str(), &phone, &message).await?;
        self.notifications_queued();
        Ok(())
    }
}

/// Sends pending messages whenever some are queued, and every `retry` for the ones whose
/// channel failed, until `closing`.
pub async fn run(hub: Hub, channel: Arc<dyn Channel>, retry: Duration, mut closing: watch::Receiver<bool>) {
    let mut queued = hub.notification_signal();
    loop {
        match hub.store().pending_notifications(100).await {
            Ok(pending) => {
                for n in pending {
                    let error = channel.send(&n).await.err();
                    match &error {
                        None => tracing::info!(id = n.id, channel = channel.name(), "通知已发送"),
                        Some(e) => tracing::warn!(id = n.id, channel = channel.name(), error = e, "通知发送失败"),
                    }
                    if let Err(e) = hub.store().notification_attempted(n.id, error, ATTEMPTS).await {
                        tracing::error!(error = %e, "通知状态无法记录");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "待发通知无法读取"),
        }
        tokio::select! {
            _ = queued.changed() => {}
            _ = tokio::time::sleep(retry) => {}
            _ = closing.wait_for(|c| *c) => return,
        }
    }
}
