//! What a clerk does with an alert: acknowledge it, assign it to a colleague's account,
//! add a note, resolve it with a reason; a supervisor may also escalate it by hand. Each is a clerk command (`crate::command::ClerkAction::HandleAlert`),
//! queued at the counter and decided again at the hub.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Alert, AlertNote, AlertState, Escalation, EscalationCause, Handled, Resolution};
use crate::account::Account;
use crate::id::MAX_ID_CHARS;
use crate::command::{MAX_NOTE_CHARS, MAX_REMARK_CHARS, Rejection, check_text};

/// Notes an alert can carry: beyond that the conversation belongs in the project's notes.
pub const MAX_ALERT_NOTES: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum AlertHandling {
    Acknowledge,
    /// To the account of a person who handles alerts (the hub checks who holds it).
    Assign { assignee: String },
    Note { text: String },
    Resolve { reason: String },
    /// One level up, now: what the clock would do when nobody answers, done at once
    /// because the supervisor judges it cannot wait.
    Escalate { reason: String },
}

/// The account an alert is assigned to, as typed; refused, naming the field, when it is
/// no account (a name, say).
pub fn assignee_account(assignee: &str) -> Result<Account, Rejection> {
    let assignee = assignee.trim();
    check_text("assignee", "指派给", assignee, 1, MAX_ID_CHARS)?;
    assignee.parse().map_err(|e: crate::account::AccountError| {
        Rejection::new("invalid_command", format!("指派给（assignee）应为人员账号：{e}"))
    })
}

/// The alert after `by` did `handling` at `at`. A note may be added to a resolved alert
/// (what happened afterwards); nothing else may touch it.
pub fn handle(alert: &Alert, handling: &AlertHandling, by: &str, at: OffsetDateTime) -> Result<Alert, Rejection> {
    if !alert.is_active() && !matches!(handling, AlertHandling::Note { .. }) {
        let when = alert.resolution.as_ref().map(|r| crate::clock::shanghai_minute(r.at)).unwrap_or_default();
        return Err(Rejection::new("alert_resolved", format!("该预警已于 {when} 解除，无需再处理。")));
    }
    let mut next = alert.clone();
    let answer = |next: &mut Alert| {
        if next.responded.is_none() {
            next.responded = Some(Handled { by: by.to_owned(), at });
        }
        if next.state == AlertState::Open {
            next.state = AlertState::Acknowledged;
        }
    };
    match handling {
        AlertHandling::Acknowledge => answer(&mut next),
        AlertHandling::Assign { assignee } => {
            let account = assignee_account(assignee)?;
            answer(&mut next);
            next.assignee = Some(account.to_string());
        }
        AlertHandling::Note { text } => {
            let text = text.trim();
            check_text("text", "预警备注", text, 1, MAX_NOTE_CHARS)?;
            if next.notes.len() >= MAX_ALERT_NOTES {
                return Err(Rejection::new(
                    "too_many_notes",
                    format!("该预警已有 {MAX_ALERT_NOTES} 条备注，请在项目的跟进备注中继续记录。"),
                ));
            }
            next.notes.push(AlertNote { by: by.to_owned(), at, text: text.to_owned() });
        }
        AlertHandling::Escalate { reason } => {
            let reason = reason.trim();
            check_text("reason", "升级原因", reason, 1, MAX_REMARK_CHARS)?;
            let Some(to) = next.level.escalated() else {
                return Err(Rejection::new("already_red", "该预警已是红色，不能再升级。"));
            };
            next.escalations.push(Escalation {
                at,
                from: next.level,
                to,
                cause: EscalationCause::ByHand,
                by: Some(by.to_owned()),
                reason: Some(reason.to_owned()),
            });
            next.level = to;
        }
        AlertHandling::Resolve { reason } => {
            let reason = reason.trim();
            check_text("reason", "解除原因", reason, 1, MAX_REMARK_CHARS)?;
            answer(&mut next);
            next.state = AlertState::Resolved;
            next.resolution = Some(Resolution {
                by: Some(by.to_owned()),
                at,
                reason: reason.to_owned(),
                condition_cleared: false,
            });
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertLevel;
    use time::macros::datetime;

    fn alert() -> Alert {
        crate::alert::open_alert("payment-overdue", "2019-320105-47-01-123456", AlertLevel::Orange, datetime!(2026-11-24 01:00 UTC), "收费窗口")
    }

    const AT: OffsetDateTime = datetime!(2026-11-24 02:00 UTC);

    #[test]
    fn acknowledge_assign_note_resolve() {
        let acked = handle(&alert(), &AlertHandling::Acknowledge, "王芳", AT).unwrap();
        assert_eq!(acked.state, AlertState::Acknowledged);
        assert_eq!(acked.responded, Some(Handled { by: "王芳".into(), at: AT }));
        let again = handle(&acked, &AlertHandling::Acknowledge, "李强", AT + time::Duration::hours(1)).unwrap();
        assert_eq!(again, acked, "the first answer stands");

        let assigned = handle(&alert(), &AlertHandling::Assign { assignee: " clerk02 ".into() }, "科长", AT).unwrap();
        assert_eq!((assigned.assignee.as_deref(), assigned.state), (Some("clerk02"), AlertState::Acknowledged));

        let noted = handle(&assigned, &AlertHandling::Note { text: "已电话催缴".into() }, "李强", AT).unwrap();
        assert_eq!(noted.notes[0].text, "已电话催缴");

        let resolved = handle(&noted, &AlertHandling::Resolve { reason: "建设单位承诺月底前缴清".into() }, "李强", AT).unwrap();
        assert_eq!(resolved.state, AlertState::Resolved);
        assert!(!resolved.resolution.as_ref().unwrap().condition_cleared);
        assert_eq!(
            handle(&resolved, &AlertHandling::Acknowledge, "王芳", AT).unwrap_err().code,
            "alert_resolved"
        );
        assert!(handle(&resolved, &AlertHandling::Note { text: "已缴清".into() }, "王芳", AT).is_ok());
    }

    #[test]
    fn a_supervisor_escalates_one_level_with_a_reason_up_to_red() {
        let orange = alert();
        let red = handle(&orange, &AlertHandling::Escalate { reason: "建设单位失联，需分管领导协调".into() }, "李科长（chief01）", AT).unwrap();
        assert_eq!((red.level, red.raised_level, red.state), (AlertLevel::Red, AlertLevel::Orange, AlertState::Open));
        let step = &red.escalations[0];
        assert_eq!((step.from, step.to, step.cause, step.at), (AlertLevel::Orange, AlertLevel::Red, EscalationCause::ByHand, AT));
        assert_eq!((step.by.as_deref(), step.reason.as_deref()), (Some("李科长（chief01）"), Some("建设单位失联，需分管领导协调")));
        assert_eq!(red.sla(AT), orange.sla(AT), "escalating by hand is no missed deadline");
        let refused = handle(&red, &AlertHandling::Escalate { reason: "再升".into() }, "李科长（chief01）", AT).unwrap_err();
        assert_eq!(refused.code, "already_red");
    }

    #[test]
    fn bad_input_is_refused_naming_the_field() {
        let cases = [
            (AlertHandling::Resolve { reason: "  ".into() }, "reason"),
            (AlertHandling::Note { text: "字".repeat(MAX_NOTE_CHARS + 1) }, "text"),
            (AlertHandling::Assign { assignee: "a\u{7}".into() }, "assignee"),
            (AlertHandling::Assign { assignee: "李强".into() }, "assignee"),
            (AlertHandling::Escalate { reason: " ".into() }, "reason"),
        ];
        for (handling, field) in cases {
            let err = handle(&alert(), &handling, "王芳", AT).unwrap_err();
            assert_eq!(err.code, "invalid_command");
            assert!(err.reason.contains(field), "{field} not in {}", err.reason);
        }
        let mut full = alert();
        for _ in 0..MAX_ALERT_NOTES {
            full = handle(&full, &AlertHandling::Note { text: "x".into() }, "王芳", AT).unwrap();
        }
        assert_eq!(handle(&full, &AlertHandling::Note { text: "x".into() }, "王芳", AT).unwrap_err().code, "too_many_notes");
    }
}
