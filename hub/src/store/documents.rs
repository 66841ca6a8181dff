//! What the store keeps beside the change log for documents: messages to applicants.

use serde::Serialize;
use time::OffsetDateTime;

/// A message to an applicant and how its delivery went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub id: u64,
    pub event_key: String,
    pub project_code: String,
    /// The applicant's contact (mobile number); masked wherever it is shown or logged.
    pub recipient: String,
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub state: NotificationState,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// Where a message's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationState {
    /// Queued, or tried and to be tried again.
    Pending,
    Sent,
    /// Given up after its attempts; the last error says why.
    Failed,
}

impl NotificationState {
    pub fn parse(text: &str) -> Option<NotificationState> {
        match text {
            "pending" => Some(NotificationState::Pending),
            "sent" => Some(NotificationState::Sent),
            "failed" => Some(NotificationState::Failed),
            _ => None,
        }
    }
}
