//! Alerts (DOMAIN.md "Alerts"): three levels, each with a word and a response deadline;
//! rules read from department files (`rules`), evaluated over what the hub and the
//! counters know (`engine`), raised, deduplicated, escalated and resolved (`lifecycle`),
//! and handled by clerks through commands (`handling`).
//!
//! An alert is a row like any other: the hub keeps it under `{rule}:{subject}` and sends
//! it down the change log, so every counter sees the same alert, handled or not.

pub mod engine;
pub mod handling;
pub mod lifecycle;
pub mod queue;
pub mod rules;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How serious an alert is. Ordered: a later level is more serious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AlertLevel {
    /// 黄: an ordinary anomaly, a reminder to the clerk responsible.
    Yellow,
    /// 橙: serious, escalated to the supervisor.
    Orange,
    /// 红: major, emergency response.
    Red,
}

impl AlertLevel {
    pub const ALL: [AlertLevel; 3] = [AlertLevel::Yellow, AlertLevel::Orange, AlertLevel::Red];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Yellow => "yellow",
            AlertLevel::Orange => "orange",
            AlertLevel::Red => "red",
        }
    }

    /// The word that goes with the colour, so colour is never the only signal.
    pub fn name_zh(self) -> &'static str {
        match self {
            AlertLevel::Yellow => "黄色预警",
            AlertLevel::Orange => "橙色预警",
            AlertLevel::Red => "红色预警",
        }
    }

    /// `黄`/`橙`/`红` or the English word.
    pub fn parse(text: &str) -> Option<AlertLevel> {
        match text.trim() {
            "黄" | "yellow" => Some(AlertLevel::Yellow),
            "橙" | "orange" => Some(AlertLevel::Orange),
            "红" | "red" => Some(AlertLevel::Red),
            _ => None,
        }
    }

    /// The level an unanswered alert escalates to; `None` at red.
    pub fn escalated(self) -> Option<AlertLevel> {
        match self {
            AlertLevel::Yellow => Some(AlertLevel::Orange),
            AlertLevel::Orange => Some(AlertLevel::Red),
            AlertLevel::Red => None,
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Raised, nobody has answered yet: its response deadline runs.
    Open,
    /// Someone took it (acknowledged or was assigned it): it no longer escalates.
    Acknowledged,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }
}

/// Who did something to an alert, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Handled {
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct AlertNote {
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub at: OffsetDateTime,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum EscalationCause {
    /// Nobody answered within the response deadline.
    Unanswered,
    /// The condition itself grew worse (a sync delay that became an outage).
    Worsened,
    /// A supervisor raised it by hand (`alert:escalate`), with a reason.
    ByHand,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub at: OffsetDateTime,
    pub from: AlertLevel,
    pub to: AlertLevel,
    pub cause: EscalationCause,
    /// Who raised it by hand, and why; absent for the clock's and the condition's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// The clerk who resolved it; `None` when it resolved itself because the condition
    /// cleared.
    pub by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub at: OffsetDateTime,
    pub reason: String,
    /// Whether the condition had cleared. A clerk may resolve an alert whose condition
    /// still holds (the builder has promised to pay); it is not raised again until the
    /// condition has cleared once.
    pub condition_cleared: bool,
}

/// One alert: a rule firing on a subject, and everything done about it since. Every field
/// is written, empty ones as `null` or `[]`, so the screens read one shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Alert {
    pub rule_id: String,
    /// What it is about: `project/{code}`, `connector/{name}`, `quarantine/{id}`,
    /// `counter/{device}`.
    pub subject: String,
    /// The project it is about; empty for system alerts.
    pub project_code: String,
    pub department: String,
    /// The role expected to answer (`rules::OWNER_ROLES`); it follows the rule while the
    /// alert is active.
    pub owner_role: String,
    /// The level it was raised at, and the level it stands at now.
    pub raised_level: AlertLevel,
    pub level: AlertLevel,
    pub message: String,
    /// What to do, from the rule: shown on the emergency banner.
    #[serde(default)]
    pub runbook: String,
    /// The quarantined record a validation alert is about.
    #[serde(default)]
    pub quarantine_id: Option<u64>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub raised_at: OffsetDateTime,
    /// Answer by then, or it escalates.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub respond_by: OffsetDateTime,
    pub state: AlertState,
    /// The first answer: acknowledgement or assignment.
    #[serde(default)]
    pub responded: Option<Handled>,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub notes: Vec<AlertNote>,
    #[serde(default)]
    pub escalations: Vec<Escalation>,
    #[serde(default)]
    pub resolution: Option<Resolution>,
}

/// Whether an alert was answered within its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Sla {
    /// Open, deadline not yet passed.
    Pending,
    /// Answered in time, or cleared before anyone needed to.
    Met,
    /// The deadline passed unanswered.
    Missed,
}

impl Sla {
    pub fn as_str(self) -> &'static str {
        match self {
            Sla::Pending => "pending",
            Sla::Met => "met",
            Sla::Missed => "missed",
        }
    }
}

impl Alert {
    /// The row key: one alert per rule and subject.
    pub fn key_for(rule_id: &str, subject: &str) -> String {
        format!("{rule_id}:{subject}")
    }

    pub fn key(&self) -> String {
        Alert::key_for(&self.rule_id, &self.subject)
    }

    pub fn is_active(&self) -> bool {
        self.state != AlertState::Resolved
    }

    /// When the clock alone next changes this alert: its response deadline while it is
    /// open and below red; never once answered, resolved or already red. What a store
    /// indexes so that a tick reads only the alerts whose time has come.
    pub fn escalates_at(&self) -> Option<OffsetDateTime> {
        (self.state == AlertState::Open && self.level.escalated().is_some()).then_some(self.respond_by)
    }

    pub fn sla(&self, now: OffsetDateTime) -> Sla {
        if self.escalations.iter().any(|e| e.cause == EscalationCause::Unanswered) {
            return Sla::Missed;
        }
        let answered_at = self
            .responded
            .as_ref()
            .map(|h| h.at)
            .or(self.resolution.as_ref().map(|r| r.at));
        match answered_at {
            Some(at) if at <= self.respond_by => Sla::Met,
            Some(_) => Sla::Missed,
            None if now > self.respond_by => Sla::Missed,
            None => Sla::Pending,
        }
    }
}

/// An open alert for the suites: `project` empty makes it a system alert.
#[cfg(test)]
pub(crate) fn open_alert(rule: &str, project: &str, level: AlertLevel, raised_at: OffsetDateTime, department: &str) -> Alert {
    Alert {
        rule_id: rule.into(),
        subject: if project.is_empty() { "connector/planning-cdc".into() } else { format!("project/{project}") },
        project_code: project.into(),
        department: department.into(),
        owner_role: "supervisor".into(),
        raised_level: level,
        level,
        message: "逾期".into(),
        runbook: String::new(),
        quarantine_id: None,
        raised_at,
        respond_by: raised_at + time::Duration::hours(4),
        state: AlertState::Open,
        responded: None,
        assignee: None,
        notes: Vec::new(),
        escalations: Vec::new(),
        resolution: None,
    }
}
