//! What the store keeps beside the change log for documents: messages to applicants.

use serde::Serialize;
use time::OffsetDateTime;

/// A message to an applicant and how its delivery went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub id: i64,
    pub event_key: String,
    pub project_code: String,
    /// The applicant's contact (mobile number); masked wherever it is shown or logged.
    pub recipient: String,
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// `pending`, `sent` or `failed`.
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}
