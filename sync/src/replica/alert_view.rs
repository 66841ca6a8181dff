//! `alert_view`: the alerts as the screens show them, one row per rule and subject. The
//! hub's alert wins while it is active, or when it was resolved after this counter raised
//! its own; otherwise this counter's own is shown. The hub's is shown escalated as of now,
//! in case a deadline passed while the hub was out of reach.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;
use yizhan_core::alert::lifecycle::escalate;
use yizhan_core::alert::queue::AlertOrigin;
use yizhan_core::alert::rules::RuleSet;
use yizhan_core::alert::{Alert, AlertLevel};

use super::alerts::Evaluation;
use super::{ReplicaError, text};

pub(crate) fn parse(key: &str, payload: &str) -> Result<Alert, ReplicaError> {
    serde_json::from_str(payload).map_err(|source| ReplicaError::Payload { entity: "alert", key: key.to_owned(), source })
}

pub(crate) fn level_rank(level: AlertLevel) -> i64 {
    match level {
        AlertLevel::Yellow => 0,
        AlertLevel::Orange => 1,
        AlertLevel::Red => 2,
    }
}

pub(crate) fn level_of_rank(rank: i64) -> AlertLevel {
    match rank {
        0 => AlertLevel::Yellow,
        1 => AlertLevel::Orange,
        _ => AlertLevel::Red,
    }
}

pub(crate) fn origin_str(origin: AlertOrigin) -> &'static str {
    match origin {
        AlertOrigin::Hub => "hub",
        AlertOrigin::Counter => "counter",
    }
}

pub(crate) fn parse_origin(text: &str) -> AlertOrigin {
    if text == "counter" { AlertOrigin::Counter } else { AlertOrigin::Hub }
}

/// Which of the hub's and this counter's alert under one key is shown.
pub(crate) fn merge(hub: Option<Alert>, local: Option<Alert>, rules: &RuleSet, now: OffsetDateTime) -> Option<(Alert, AlertOrigin)> {
    let hub = hub.map(|alert| rules.rule(&alert.rule_id).and_then(|rule| escalate(&alert, rule, now)).unwrap_or(alert));
    match (hub, local) {
        (Some(hub), Some(local)) => {
            let hub_answers = hub.is_active() || hub.resolution.as_ref().is_some_and(|r| r.at >= local.raised_at);
            Some(if hub_answers { (hub, AlertOrigin::Hub) } else { (local, AlertOrigin::Counter) })
        }
        (Some(hub), None) => Some((hub, AlertOrigin::Hub)),
        (None, Some(local)) => Some((local, AlertOrigin::Counter)),
        (None, None) => None,
    }
}

/// Recomputes the shown alert under each of `keys`.
pub(crate) fn refresh_keys<'a>(conn: &Connection, eval: &Evaluation, keys: impl IntoIterator<Item = &'a str>) -> Result<(), ReplicaError> {
    for key in keys {
        let hub: Option<String> = conn
            .prepare_cached("SELECT payload FROM rows WHERE entity = 'alert' AND key = ?1")?
            .query_row([key], |row| row.get(0))
            .optional()?;
        let local: Option<String> = conn
            .prepare_cached("SELECT payload FROM local_alerts WHERE key = ?1")?
            .query_row([key], |row| row.get(0))
            .optional()?;
        let hub = hub.map(|p| parse(key, &p)).transpose()?;
        let local = local.map(|p| parse(key, &p)).transpose()?;
        match merge(hub, local, &eval.rules, eval.now) {
            Some((alert, origin)) => write(conn, &alert, origin)?,
            None => {
                conn.prepare_cached("DELETE FROM alert_view WHERE key = ?1")?.execute([key])?;
            }
        }
    }
    Ok(())
}

/// Recomputes the shown alerts of `project_code` ("" for the system's and the counter's).
pub(crate) fn refresh_project(conn: &Connection, eval: &Evaluation, project_code: &str) -> Result<(), ReplicaError> {
    let mut keys = BTreeSet::new();
    for sql in [
        // By project first: SQLite would otherwise walk every alert row by entity.
        "SELECT key FROM rows INDEXED BY rows_project WHERE project_code = ?1 AND entity = 'alert'",
        "SELECT key FROM local_alerts WHERE project_code = ?1",
        "SELECT key FROM alert_view WHERE project_code = ?1",
    ] {
        let mut stmt = conn.prepare_cached(sql)?;
        let found = stmt.query_map([project_code], |row| row.get::<_, String>(0))?;
        for key in found {
            keys.insert(key?);
        }
    }
    refresh_keys(conn, eval, keys.iter().map(String::as_str))
}

/// Recomputes every shown alert (after a snapshot, or when the day turns).
pub(crate) fn rebuild(conn: &Connection, eval: &Evaluation) -> Result<(), ReplicaError> {
    conn.execute("DELETE FROM alert_view", [])?;
    let mut keys = BTreeSet::new();
    for sql in ["SELECT key FROM rows WHERE entity = 'alert'", "SELECT key FROM local_alerts"] {
        let mut stmt = conn.prepare(sql)?;
        let found = stmt.query_map([], |row| row.get::<_, String>(0))?;
        for key in found {
            keys.insert(key?);
        }
    }
    refresh_keys(conn, eval, keys.iter().map(String::as_str))
}

/// The hub's open alerts the clock escalated since they were shown: shown escalated.
/// Returns their projects.
pub(crate) fn escalate_due(conn: &Connection, eval: &Evaluation) -> Result<Vec<String>, ReplicaError> {
    let due: Vec<(String, String)> = conn
        .prepare_cached(
            "SELECT key, project_code FROM alert_view INDEXED BY alert_view_escalation \
             WHERE escalates_at <= ?1 AND origin = 'hub'",
        )?
        .query_map([eval.now.unix_timestamp()], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    refresh_keys(conn, eval, due.iter().map(|(key, _)| key.as_str()))?;
    Ok(due.into_iter().map(|(_, project)| project).collect())
}

fn write(conn: &Connection, alert: &Alert, origin: AlertOrigin) -> Result<(), ReplicaError> {
    let answered_at = alert.responded.as_ref().map(|h| h.at).or(alert.resolution.as_ref().map(|r| r.at));
    let missed = alert.escalations.iter().any(|e| e.cause == yizhan_core::alert::EscalationCause::Unanswered)
        || answered_at.is_some_and(|at| at > alert.respond_by);
    conn.prepare_cached(
        "INSERT OR REPLACE INTO alert_view (key, project_code, origin, level, state, department, owner_role, raised_at, \
         respond_by, escalates_at, answered_at, resolved_at, missed, payload) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        alert.key(),
        alert.project_code,
        origin_str(origin),
        level_rank(alert.level),
        alert.state.as_str(),
        alert.department,
        alert.owner_role,
        alert.raised_at.unix_timestamp(),
        alert.respond_by.unix_timestamp(),
        alert.escalates_at().map(OffsetDateTime::unix_timestamp),
        answered_at.map(OffsetDateTime::unix_timestamp),
        alert.resolution.as_ref().map(|r| r.at.unix_timestamp()),
        missed,
        serde_json::to_string(alert).expect("an alert serialises to JSON"),
    ])?;
    Ok(())
}

/// The shown alerts of one project, with where each comes from.
pub(crate) fn of_project(conn: &Connection, project_code: &str) -> Result<Vec<(Alert, AlertOrigin)>, ReplicaError> {
    let mut stmt = conn.prepare_cached("SELECT key, payload, origin FROM alert_view WHERE project_code = ?1")?;
    let mut rows = stmt.query([project_code])?;
    let mut alerts = Vec::new();
    while let Some(row) = rows.next()? {
        alerts.push((parse(text(row, 0)?, text(row, 1)?)?, parse_origin(text(row, 2)?)));
    }
    Ok(alerts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::{date, datetime};
    use yizhan_core::alert::engine::FeeDue;
    use yizhan_core::alert::lifecycle::advance;
    use yizhan_core::alert::{AlertState, Resolution};
    use yizhan_core::entity::FeeKind;

    const T0: OffsetDateTime = datetime!(2026-11-24 01:00 UTC);

    /// The built-in overdue alert on a project, raised at `raised_at`.
    fn overdue(raised_at: OffsetDateTime) -> Alert {
        let rules = RuleSet::built_in();
        let dues = [FeeDue { fee_kind: FeeKind::Infra, due_on: date!(2026 - 11 - 01), outstanding_fen: 100 }];
        let firing = rules.project_firings("2019-320105-47-01-123456", &dues, date!(2026 - 11 - 24)).remove(0);
        advance(None, Some((&firing, rules.rule(&firing.rule_id).unwrap())), raised_at).unwrap()
    }

    fn resolved(mut alert: Alert, at: OffsetDateTime) -> Alert {
        alert.state = AlertState::Resolved;
        alert.resolution = Some(Resolution { by: None, at, reason: "已缴清".into(), condition_cleared: true });
        alert
    }

    #[test]
    fn the_hubs_alert_wins_unless_this_counter_raised_one_after_the_hub_resolved_its_own() {
        let rules = RuleSet::built_in();
        let now = T0 + Duration::hours(1);
        let origin = |hub: Option<Alert>, local: Option<Alert>| merge(hub, local, &rules, now).map(|(_, o)| o);
        assert_eq!(origin(Some(overdue(T0)), Some(overdue(T0))), Some(AlertOrigin::Hub), "active at the hub");
        assert_eq!(origin(None, Some(overdue(T0))), Some(AlertOrigin::Counter), "the hub has not raised it yet");
        let old = resolved(overdue(T0 - Duration::days(30)), T0 - Duration::days(20));
        assert_eq!(origin(Some(old), Some(overdue(T0))), Some(AlertOrigin::Counter), "a new episode offline");
        let answered = resolved(overdue(T0), T0 + Duration::minutes(30));
        assert_eq!(origin(Some(answered), Some(overdue(T0))), Some(AlertOrigin::Hub), "resolved at the hub since");
        assert_eq!(origin(None, None), None);
    }

    #[test]
    fn the_hubs_alert_is_shown_escalated_when_its_deadline_passed_out_of_reach() {
        let rules = RuleSet::built_in();
        let (shown, _) = merge(Some(overdue(T0)), None, &rules, T0 + Duration::days(2)).unwrap();
        assert_eq!(shown.level, AlertLevel::Red);
        assert_eq!(shown.escalations[0].at, T0 + Duration::days(1));
    }
}
