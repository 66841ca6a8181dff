//! What a command that fails answers the screens: `{code, message, field?}`. The `code`
//! is stable, so the screens can say it in their own language and tests can tell one
//! failure from another; the `message` is the backend's own Chinese text, which names
//! the project, the state and what to do; `field` names the argument at fault.

use serde::{Serialize, Serializer};
use yizhan_sync::client::SyncError;
use yizhan_sync::replica::ReplicaError;
use yizhan_voucher::preview::PreviewError;
use yizhan_voucher::print::PrintError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    /// An argument the clerk typed or scanned is malformed; `field` says which.
    InvalidInput,
    /// No such project, document or conflict here.
    NotFound,
    /// The replica has not loaded the data centre's data yet.
    NotReady,
    /// The data centre cannot be reached.
    Offline,
    /// The replica file could not be read or written.
    LocalStore,
    /// What the data centre sent failed its integrity check.
    Integrity,
    /// This counter cannot sign documents (no key in the OS keyring, no settings).
    SigningUnavailable,
    /// The printer or the print system failed.
    Printing,
    /// The app itself failed.
    Internal,
    /// A domain rule or the data centre refused, under its own code, carried unchanged
    /// (`not_cleared`, `already_checked`, `invalid_body`, …).
    Refused(String),
}

impl ErrorCode {
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotFound => "not_found",
            ErrorCode::NotReady => "not_ready",
            ErrorCode::Offline => "offline",
            ErrorCode::LocalStore => "local_store",
            ErrorCode::Integrity => "integrity",
            ErrorCode::SigningUnavailable => "signing_unavailable",
            ErrorCode::Printing => "printing",
            ErrorCode::Internal => "internal",
            ErrorCode::Refused(code) => code,
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// On the wire a code is its text; the open set (the hub's codes) makes it a `string`.
impl specta::Type for ErrorCode {
    fn definition(types: &mut specta::Types) -> specta::datatype::DataType {
        <String as specta::Type>::definition(types)
    }
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> CommandError {
        CommandError { code, message: message.into(), field: None }
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> CommandError {
        CommandError { code: ErrorCode::InvalidInput, message: message.into(), field: Some(field.to_owned()) }
    }
}

impl From<ReplicaError> for CommandError {
    fn from(e: ReplicaError) -> CommandError {
        let code = match &e {
            ReplicaError::Refused(rejection) => ErrorCode::Refused(rejection.code.clone()),
            ReplicaError::NoSuchConflict(_) => ErrorCode::NotFound,
            ReplicaError::NotCreated | ReplicaError::NotBootstrapped => ErrorCode::NotReady,
            e if e.is_integrity() => ErrorCode::Integrity,
            _ => ErrorCode::LocalStore,
        };
        CommandError::new(code, e.to_string())
    }
}

impl From<SyncError> for CommandError {
    fn from(e: SyncError) -> CommandError {
        match e {
            SyncError::Replica(e) => e.into(),
            SyncError::Hub { ref code, ref field, .. } => {
                CommandError { code: ErrorCode::Refused(code.clone()), message: e.to_string(), field: field.clone() }
            }
            SyncError::Network { .. } => CommandError::new(ErrorCode::Offline, e.to_string()),
            SyncError::Internal(_) | SyncError::Cancelled => CommandError::new(ErrorCode::Internal, e.to_string()),
        }
    }
}

impl From<PrintError> for CommandError {
    fn from(e: PrintError) -> CommandError {
        CommandError::new(ErrorCode::Printing, e.to_string())
    }
}

impl From<PreviewError> for CommandError {
    fn from(e: PreviewError) -> CommandError {
        match e {
            PreviewError::Width(_) => CommandError::invalid("width", e.to_string()),
            _ => CommandError::new(ErrorCode::Internal, e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yizhan_core::command::Rejection;

    #[test]
    fn a_failure_reaches_the_screens_as_code_message_and_field() {
        let refused: CommandError = ReplicaError::Refused(Rejection::new("not_cleared", "项目尚未完费，不能复核。")).into();
        assert_eq!(
            serde_json::to_value(&refused).unwrap(),
            serde_json::json!({ "code": "not_cleared", "message": "项目尚未完费，不能复核。" })
        );
        let typed = CommandError::invalid("project_code", "项目代码不能为空");
        assert_eq!(
            serde_json::to_value(&typed).unwrap(),
            serde_json::json!({ "code": "invalid_input", "message": "项目代码不能为空", "field": "project_code" })
        );
    }

    #[test]
    fn each_kind_of_failure_has_its_own_code() {
        let code = |e: CommandError| e.code.as_str().to_owned();
        assert_eq!(code(ReplicaError::NotBootstrapped.into()), "not_ready");
        assert_eq!(code(ReplicaError::NoSuchConflict("c1".parse().unwrap()).into()), "not_found");
        assert_eq!(code(ReplicaError::Integrity("封印不符".into()).into()), "integrity");
        assert_eq!(code(ReplicaError::SchemaTooNew("20990101".into()).into()), "local_store");
        let hub = SyncError::Hub { status: 400, code: "invalid_body".into(), message: "请求体结构不正确".into(), field: None };
        assert_eq!(code(hub.into()), "invalid_body", "the hub's code is carried through unchanged");
        let policy = SyncError::Hub {
            status: 422,
            code: "invalid_policy".into(),
            message: "idle_minutes：应在 1–30 之间，收到 45".into(),
            field: Some("idle_minutes".into()),
        };
        assert_eq!(CommandError::from(policy).field.as_deref(), Some("idle_minutes"), "the field the hub named reaches the form");
        assert_eq!(code(SyncError::Replica(ReplicaError::NotCreated).into()), "not_ready");
        assert_eq!(code(SyncError::Cancelled.into()), "internal");
    }
}
