//! Alerts at the counter. The hub's arrive as `alert` rows and carry every answer; this
//! counter also runs the same rules (`yizhan_core::alert`) on its own rows and clock, so a
//! deadline that passes while the hub is unreachable still raises its alert here. What the
//! counter raised itself is kept in `local_alerts` (active ones only); `alert_view` holds
//! what is shown of the two.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};
use time::{Date, OffsetDateTime};
use yizhan_core::alert::engine::{FeeDue, Firing, SystemSignal, project_subject};
use yizhan_core::alert::lifecycle::{advance, escalate};
use yizhan_core::alert::rules::{Input, RuleFiles, RuleSet};
use yizhan_core::alert::Alert;
use yizhan_core::entity::{EntityKind, FeeKind};

use super::alert_view::{self, parse};
use super::{ReplicaError, text};

/// What an evaluation judges by: the day, the instant, and the rules in force.
pub(crate) struct Evaluation {
    pub today: Date,
    pub now: OffsetDateTime,
    pub rules: Arc<RuleSet>,
}

impl Evaluation {
    pub fn new(conn: &Connection, today: Date, now: OffsetDateTime) -> Result<Evaluation, ReplicaError> {
        Ok(Evaluation { today, now, rules: Arc::new(rules_in_force(conn)?) })
    }
}

/// The rules the hub handed down, or the built-in ones before it has. Rules this counter
/// cannot read (a newer hub's) leave it on the built-in set rather than on none.
pub(crate) fn rules_in_force(conn: &Connection) -> Result<RuleSet, ReplicaError> {
    let payload: Option<String> = conn
        .query_row(
            "SELECT payload FROM rows WHERE entity = ?1 AND key = 'active'",
            [EntityKind::AlertRules.as_str()],
            |row| row.get(0),
        )
        .optional()?;
    let Some(payload) = payload else { return Ok(RuleSet::built_in()) };
    let files: RuleFiles = serde_json::from_str(&payload).map_err(|source| ReplicaError::Payload {
        entity: EntityKind::AlertRules.as_str(),
        key: "active".into(),
        source,
    })?;
    Ok(RuleSet::from_sources(files.files).unwrap_or_else(|error| {
        tracing::warn!(%error, "数据中心下发的预警规则本机无法使用，沿用内置规则");
        RuleSet::built_in()
    }))
}

fn local_of(conn: &Connection, project_code: &str) -> Result<Vec<Alert>, ReplicaError> {
    let mut stmt = conn.prepare_cached("SELECT key, payload FROM local_alerts WHERE project_code = ?1")?;
    let mut rows = stmt.query([project_code])?;
    let mut alerts = Vec::new();
    while let Some(row) = rows.next()? {
        alerts.push(parse(text(row, 0)?, text(row, 1)?)?);
    }
    Ok(alerts)
}

/// Keeps what evaluation decided: an active alert is stored, a resolved one removed (the
/// hub keeps the history); what is shown under its key follows.
fn keep(conn: &Connection, eval: &Evaluation, next: Option<Alert>) -> Result<bool, ReplicaError> {
    let Some(alert) = next else { return Ok(false) };
    if alert.is_active() {
        conn.prepare_cached(
            "INSERT OR REPLACE INTO local_alerts (key, project_code, level, respond_by, escalates_at, message, payload) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            alert.key(),
            alert.project_code,
            alert_view::level_rank(alert.level),
            alert.respond_by.unix_timestamp(),
            alert.escalates_at().map(OffsetDateTime::unix_timestamp),
            alert.message,
            serde_json::to_string(&alert).expect("an alert serialises to JSON")
        ])?;
    } else {
        conn.prepare_cached("DELETE FROM local_alerts WHERE key = ?1")?.execute([alert.key()])?;
    }
    alert_view::refresh_keys(conn, eval, [alert.key().as_str()])?;
    Ok(true)
}

/// The fees of a view row, as the deadline rules read them.
pub(crate) fn dues_of(infra: (Option<i32>, i64), civil_defence: (Option<i32>, i64)) -> Vec<FeeDue> {
    [(FeeKind::Infra, infra), (FeeKind::CivilDefence, civil_defence)]
        .into_iter()
        .filter_map(|(fee_kind, (due, outstanding_fen))| {
            let due_on = Date::from_julian_day(due?).ok()?;
            Some(FeeDue { fee_kind, due_on, outstanding_fen })
        })
        .collect()
}

/// What the deadline rules read of one project's view; nothing when it has no view.
pub(crate) fn view_dues(conn: &Connection, project_code: &str) -> Result<Vec<FeeDue>, ReplicaError> {
    let dues = conn
        .prepare_cached(
            "SELECT infra_due, infra_outstanding_fen, civil_defence_due, civil_defence_outstanding_fen \
             FROM project_view WHERE project_code = ?1",
        )?
        .query_row([project_code], |row| Ok(dues_of((row.get(0)?, row.get(1)?), (row.get(2)?, row.get(3)?))))
        .optional()?;
    Ok(dues.unwrap_or_default())
}

/// The deadline rules on one project, after its rows changed.
pub(crate) fn evaluate_project(
    conn: &Connection,
    eval: &Evaluation,
    project_code: &str,
    dues: &[FeeDue],
) -> Result<(), ReplicaError> {
    // The system's and the counter's own alerts are kept under no project.
    if project_code.is_empty() {
        return Ok(());
    }
    let mut local: HashMap<String, Alert> = local_of(conn, project_code)?.into_iter().map(|a| (a.key(), a)).collect();
    let firings = eval.rules.project_firings(project_code, dues, eval.today);
    for rule in eval.rules.rules.iter().filter(|r| r.input.is_project()) {
        let key = Alert::key_for(&rule.id, &project_subject(project_code));
        let firing = firings.iter().find(|f| f.rule_id == rule.id);
        keep(conn, eval, advance(local.remove(&key).as_ref(), firing.map(|f| (f, rule)), eval.now))?;
    }
    // Whatever is left was raised by a rule no longer in force.
    for alert in local.into_values() {
        keep(conn, eval, advance(Some(&alert), None, eval.now))?;
    }
    Ok(())
}

/// The deadline rules over every project: when the day turns or the rules change. Reads
/// the view alone; a project with nothing outstanding cannot fire, so only those with a
/// due date are read, and alerts left on any other are resolved. Returns how many alerts
/// changed.
pub(crate) fn evaluate_all(conn: &Connection, eval: &Evaluation) -> Result<u64, ReplicaError> {
    let mut local: HashMap<String, Kept> = HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT key, level, escalates_at, message, payload FROM local_alerts WHERE project_code <> ''")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let kept = Kept { level: row.get(1)?, escalates_at: row.get(2)?, message: row.get(3)?, payload: row.get(4)? };
            local.insert(row.get(0)?, kept);
        }
    }
    let project_rules: Vec<_> = eval.rules.rules.iter().filter(|r| r.input.is_project()).collect();
    let now = eval.now.unix_timestamp();
    let mut changed = 0;
    let mut stmt = conn.prepare(
        "SELECT project_code, infra_due, infra_outstanding_fen, civil_defence_due, civil_defence_outstanding_fen \
         FROM project_view INDEXED BY project_view_dues WHERE infra_due IS NOT NULL OR civil_defence_due IS NOT NULL",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let code = text(row, 0)?;
        let dues = dues_of((row.get(1)?, row.get(2)?), (row.get(3)?, row.get(4)?));
        let firings = eval.rules.project_firings(code, &dues, eval.today);
        if firings.is_empty() && local.is_empty() {
            continue;
        }
        let subject = project_subject(code);
        for rule in &project_rules {
            let key = Alert::key_for(&rule.id, &subject);
            let kept = local.remove(&key);
            let firing = firings.iter().find(|f| f.rule_id == rule.id);
            let (kept, firing) = match (kept, firing) {
                (None, None) => continue,
                // The same finding on an alert whose deadline has not passed: nothing to do,
                // and nothing to parse.
                (Some(kept), Some(firing)) if kept.unchanged_by(firing, now) => continue,
                (kept, firing) => (kept.map(|k| parse(&key, &k.payload)).transpose()?, firing),
            };
            changed += u64::from(keep(conn, eval, advance(kept.as_ref(), firing.map(|f| (f, *rule)), eval.now))?);
        }
    }
    for (key, kept) in local {
        changed += u64::from(keep(conn, eval, advance(Some(&parse(&key, &kept.payload)?), None, eval.now))?);
    }
    Ok(changed)
}

/// What `local_alerts` keeps beside an alert's JSON.
struct Kept {
    level: i64,
    escalates_at: Option<i64>,
    message: String,
    payload: String,
}

impl Kept {
    /// Whether evaluation would leave the alert as it is: the rule finds the same, at no
    /// higher level, and the clock has not come to escalate it.
    fn unchanged_by(&self, firing: &Firing, now: i64) -> bool {
        alert_view::level_rank(firing.level) <= self.level
            && firing.message == self.message
            && self.escalates_at.is_none_or(|at| now < at)
    }
}

/// How this counter stands with the hub, as its own alert rules read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterLink {
    /// The last time the hub answered; `None` before it ever did.
    pub last_contact: Option<OffsetDateTime>,
    /// When the sync client started (how long "never" has lasted).
    pub started_at: OffsetDateTime,
    /// A change-log batch or snapshot that did not check out, until repaired.
    pub log_problem: Option<String>,
    /// What the last reconciliation found, when it disagreed.
    pub mismatch: Option<String>,
    /// How far the hub last found this PC's clock off, beyond its margin.
    pub clock_skew_seconds: Option<i64>,
}

/// Serials left per kind, named for the alert, on a counter enrolled at the hub with its
/// key (one not enrolled issues no documents and has no segments to run low on).
pub(crate) fn serials_signal(conn: &Connection) -> Result<Vec<(String, u64)>, ReplicaError> {
    let enrolment: Option<String> = conn.query_row("SELECT enrolment FROM meta", [], |r| r.get(0))?;
    if enrolment.is_none() {
        return Ok(Vec::new());
    }
    Ok(super::documents::serials_left_in(conn)?.into_iter().map(|s| (s.kind.name_zh().to_owned(), s.left)).collect())
}

impl CounterLink {
    pub(crate) fn signal(&self, device: &str, serials_left: Vec<(String, u64)>) -> SystemSignal {
        SystemSignal::Counter {
            device: device.to_owned(),
            last_contact: self.last_contact,
            started_at: self.started_at,
            log_problem: self.log_problem.clone(),
            mismatch: self.mismatch.clone(),
            serials_left,
            clock_skew_seconds: self.clock_skew_seconds,
        }
    }
}

/// The counter's own rules (its link to the hub, the change log it received) on `signal`,
/// and every shown alert's deadline. Returns the projects whose alerts changed ("" for
/// the counter's own).
pub(crate) fn evaluate_counter(
    conn: &Connection,
    eval: &Evaluation,
    device: &str,
    signal: &SystemSignal,
) -> Result<Vec<String>, ReplicaError> {
    let mut changed = HashSet::new();
    let subject = format!("counter/{device}");
    let firings = eval.rules.system_firings(signal, eval.now);
    let counter_rules = eval
        .rules
        .rules
        .iter()
        .filter(|r| matches!(r.input, Input::SyncLag { .. } | Input::LogGap | Input::ReconciliationMismatch | Input::SerialsLow { .. } | Input::ClockSkew));
    let mut local: HashMap<String, Alert> = local_of(conn, "")?.into_iter().map(|a| (a.key(), a)).collect();
    for rule in counter_rules {
        let key = Alert::key_for(&rule.id, &subject);
        let firing = firings.iter().find(|f| f.rule_id == rule.id);
        if keep(conn, eval, advance(local.remove(&key).as_ref(), firing.map(|f| (f, rule)), eval.now))? {
            changed.insert(String::new());
        }
    }
    // The counter's own alerts left over were raised by a rule no longer in force.
    for alert in local.into_values() {
        if keep(conn, eval, advance(Some(&alert), None, eval.now))? {
            changed.insert(String::new());
        }
    }
    // Of the project alerts, only those the clock escalates now can change with it: read
    // just those, not every alert on every step.
    let mut stmt = conn.prepare_cached(
        "SELECT key, payload FROM local_alerts INDEXED BY local_alerts_escalation \
         WHERE escalates_at <= ?1 AND project_code <> ''",
    )?;
    let due: Vec<Alert> = stmt
        .query_map([eval.now.unix_timestamp()], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?
        .map(|r| r.map_err(ReplicaError::from).and_then(|(key, payload)| parse(&key, &payload)))
        .collect::<Result<_, _>>()?;
    for alert in due {
        let next = match eval.rules.rule(&alert.rule_id) {
            Some(rule) => escalate(&alert, rule, eval.now),
            None => advance(Some(&alert), None, eval.now),
        };
        let project = alert.project_code.clone();
        if keep(conn, eval, next)? {
            changed.insert(project);
        }
    }
    changed.extend(alert_view::escalate_due(conn, eval)?);
    Ok(changed.into_iter().collect())
}
