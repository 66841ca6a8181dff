//! What the audit trail records: the events, by the names the audit administrator searches.
//! One list for the hub, which records most of them, and the counters, which record what
//! happens at the window and send it up (`reported_by_counter`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! audit_events {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal $(, $counter:ident)?; )*) => {
        /// What happened, as the audit administrator searches it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        pub enum AuditEvent {
            $( $(#[$doc])* #[serde(rename = $name)] $variant, )*
        }

        impl AuditEvent {
            /// Every event, in the order the search lists them.
            pub const ALL: &[AuditEvent] = &[$(AuditEvent::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditEvent::$variant => $name,)*
                }
            }

            /// Whether a counter may report it: what happens at the window, never what
            /// only the hub can witness (a command's outcome, an account changed).
            pub fn reported_by_counter(self) -> bool {
                match self {
                    $(AuditEvent::$variant => audit_events!(@counter $($counter)?),)*
                }
            }
        }
    };
    (@counter counter) => { true };
    (@counter) => { false };
}

audit_events! {
    /// A sign-in; at a counter, one made offline against what the counter keeps.
    LoginSuccess = "login_success", counter;
    LoginFailure = "login_failure", counter;
    Lockout = "lockout", counter;
    Logout = "logout", counter;
    /// A session ended by its idle timeout; at a counter, the screen locked when idle.
    Timeout = "timeout", counter;
    /// The screen locked by hand at a counter (the work on it stays).
    ScreenLocked = "screen_locked", counter;
    /// An unlock, or a wrong password typed on the lock screen.
    ScreenUnlocked = "screen_unlocked", counter;
    PasswordChange = "password_change";
    PasswordReset = "password_reset";
    SecondFactorEnrolled = "second_factor_enrolled";
    UserCreated = "user_created";
    UserChanged = "user_changed";
    UserUnlocked = "user_unlocked";
    RoleChanged = "role_changed";
    RoleGranted = "role_granted";
    RoleRevoked = "role_revoked";
    PolicyChanged = "policy_changed";
    SessionEnded = "session_ended";
    AuditSearched = "audit_searched";
    AuditExported = "audit_exported";
    AuditPruned = "audit_pruned";
    /// A clerk command received from a counter, with its outcome.
    ClerkCommand = "clerk_command";
    /// A clerk command from an account disabled since the clerk issued it at the counter:
    /// accepted when the clerk held the permission then, and flagged for a supervisor.
    ClerkCommandDisabledAccount = "clerk_command_disabled_account";
    /// A document looked at: its preview or its check at a counter, its record at the hub.
    DocumentViewed = "document_viewed", counter;
    /// A document sent to a printer at a counter, or failing to print.
    DocumentPrinted = "document_printed", counter;
    /// A document's PDF fetched from the hub.
    DocumentDownloaded = "document_downloaded";
    /// A quarantined record corrected or re-checked, or set aside with a reason.
    QuarantineReprocessed = "quarantine_reprocessed";
    QuarantineDismissed = "quarantine_dismissed";
    /// A legacy export uploaded (a configuration of the feeds: what the hub takes in).
    PlanningImported = "planning_imported";
    /// A configuration change: document settings, alert rule files.
    ConfigChanged = "config_changed";
    /// An enrolment code made for a counter PC, and the PC enrolling with it (or failing to).
    DeviceCodeIssued = "device_code_issued";
    DeviceEnrolled = "device_enrolled";
    /// A counter PC retired or reported lost.
    DeviceRevoked = "device_revoked";
    /// A revoked PC calling again: told to wipe itself.
    DeviceRefused = "device_refused";
    /// A counter PC whose clock is off by more than the margin (or back within it).
    DeviceClockSkew = "device_clock_skew";
}

impl fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no audit event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的审计事件：{0}")]
pub struct UnknownEvent(pub String);

impl FromStr for AuditEvent {
    type Err = UnknownEvent;

    fn from_str(s: &str) -> Result<AuditEvent, UnknownEvent> {
        AuditEvent::ALL.iter().copied().find(|e| e.as_str() == s).ok_or_else(|| UnknownEvent(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_reads_back_from_its_name_and_serialises_as_it() {
        for &event in AuditEvent::ALL {
            assert_eq!(event.as_str().parse::<AuditEvent>(), Ok(event));
            assert_eq!(serde_json::to_string(&event).unwrap(), format!("\"{event}\""));
        }
        assert_eq!("clerk_commandx".parse::<AuditEvent>(), Err(UnknownEvent("clerk_commandx".into())));
    }

    #[test]
    fn a_counter_reports_what_happens_at_the_window_only() {
        assert!(AuditEvent::LoginFailure.reported_by_counter());
        assert!(AuditEvent::DocumentPrinted.reported_by_counter());
        assert!(!AuditEvent::ClerkCommand.reported_by_counter(), "a command's outcome is the hub's to record");
        assert!(!AuditEvent::RoleGranted.reported_by_counter());
        assert!(!AuditEvent::AuditExported.reported_by_counter());
    }
}
