//! One project's alerts, decided from its current rows (read inside the write transaction,
//! see `Store::update_projects`): what the rules find now against what is kept.

use std::collections::{HashMap, HashSet};

use time::{Date, OffsetDateTime};
use yizhan_core::alert::engine::{FeeDue, Firing, project_subject};
use yizhan_core::alert::lifecycle::{advance, escalate};
use yizhan_core::alert::rules::RuleSet;
use yizhan_core::alert::Alert;
use yizhan_core::entity::EntityKind;

use crate::store::{RowWrite, StateRow, StoreError, project_records};

/// What the system rules found on this tick, by alert key, with the project each is kept
/// under ("" for the system itself).
#[derive(Debug, Default)]
pub(crate) struct SystemFirings {
    pub by_project: HashMap<String, Vec<Firing>>,
}

impl SystemFirings {
    pub fn add(&mut self, firing: Firing) {
        self.by_project.entry(firing.project_code.clone()).or_default().push(firing);
    }
}

/// The alert rows to write for one project: project rules evaluated on its standing
/// `today`; on a tick (`system` given) the system rules' findings on subjects kept under
/// it; every other alert escalated when its deadline passed, or resolved when its rule is
/// gone.
pub(crate) fn project_alerts(
    rules: &RuleSet,
    project_code: &str,
    rows: &[StateRow],
    system: Option<&SystemFirings>,
    today: Date,
    now: OffsetDateTime,
) -> Result<Vec<RowWrite>, StoreError> {
    let records = project_records(rows)?;
    let current = |key: &str| records.alerts.iter().find(|a| a.key() == key);
    let mut writes = Vec::new();
    let mut seen = HashSet::new();

    if !project_code.is_empty() {
        let dues = if records.is_empty() { Vec::new() } else { FeeDue::of(&records.standing(today)) };
        let mut firings = rules.project_firings(project_code, &dues, today);
        firings.extend(rules.record_firings(&records));
        for rule in rules.rules.iter().filter(|r| r.input.is_project()) {
            let key = Alert::key_for(&rule.id, &project_subject(project_code));
            let firing = firings.iter().find(|f| f.rule_id == rule.id);
            keep(advance(current(&key), firing.map(|f| (f, rule)), now), &mut writes);
            seen.insert(key);
        }
    }
    if let Some(system) = system {
        for firing in system.by_project.get(project_code).into_iter().flatten() {
            let Some(rule) = rules.rule(&firing.rule_id) else { continue };
            let key = firing.key();
            keep(advance(current(&key), Some((firing, rule)), now), &mut writes);
            seen.insert(key);
        }
        // A system alert kept here that nothing fired on this tick has cleared.
        for alert in &records.alerts {
            let is_system = rules.rule(&alert.rule_id).is_some_and(|r| !r.input.is_project());
            if is_system && seen.insert(alert.key()) {
                keep(advance(Some(alert), None, now), &mut writes);
            }
        }
    }
    for alert in records.alerts.iter().filter(|a| !seen.contains(&a.key())) {
        let next = match rules.rule(&alert.rule_id) {
            Some(rule) => escalate(alert, rule, now),
            None => advance(Some(alert), None, now),
        };
        keep(next, &mut writes);
    }
    Ok(writes)
}

fn keep(next: Option<Alert>, writes: &mut Vec<RowWrite>) {
    if let Some(alert) = next {
        writes.push(RowWrite::upsert(EntityKind::Alert, alert.key(), &alert.project_code, &alert));
    }
}
