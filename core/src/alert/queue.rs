//! The alert queue as supervisors filter it, the same at the hub (`GET /v1/alerts`) and
//! in the counter app.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Alert, AlertLevel, Sla};

/// Most alerts one page may ask for.
pub const MAX_ALERT_PAGE: u32 = 500;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum StateFilter {
    /// Open or acknowledged: what still needs someone.
    #[default]
    Active,
    Resolved,
    All,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AlertQuery {
    /// Any of these levels; empty: every level.
    #[serde(default)]
    pub levels: Vec<AlertLevel>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub owner_role: Option<String>,
    #[serde(default)]
    pub state: StateFilter,
    #[serde(default)]
    pub sla: Option<Sla>,
    /// Raised at least this long ago.
    #[serde(default)]
    pub min_age_minutes: Option<u32>,
    #[serde(default)]
    pub project_code: Option<String>,
    /// Only alerts about the system (no project): what the emergency banner shows.
    #[serde(default)]
    pub system_only: bool,
    #[serde(default)]
    pub offset: u32,
    /// At most [`MAX_ALERT_PAGE`]; 0 means the largest page.
    #[serde(default)]
    pub limit: u32,
}

impl AlertQuery {
    pub fn matches(&self, alert: &Alert, now: OffsetDateTime) -> bool {
        let state_ok = match self.state {
            StateFilter::Active => alert.is_active(),
            StateFilter::Resolved => !alert.is_active(),
            StateFilter::All => true,
        };
        state_ok
            && (self.levels.is_empty() || self.levels.contains(&alert.level))
            && self.department.as_ref().is_none_or(|d| *d == alert.department)
            && self.owner_role.as_ref().is_none_or(|r| *r == alert.owner_role)
            && self.sla.is_none_or(|s| s == alert.sla(now))
            && self
                .min_age_minutes
                .is_none_or(|m| (now - alert.raised_at).whole_minutes() >= i64::from(m))
            && self.project_code.as_ref().is_none_or(|c| *c == alert.project_code)
            && (!self.system_only || alert.project_code.is_empty())
    }

    pub fn page_limit(&self) -> usize {
        match self.limit {
            0 => MAX_ALERT_PAGE as usize,
            n => n.min(MAX_ALERT_PAGE) as usize,
        }
    }
}

/// The queue's order: active before resolved, the most serious first, unanswered before
/// acknowledged, then the oldest first (it has waited longest), then by key so pages are
/// stable.
pub fn queue_order(a: &Alert, b: &Alert) -> Ordering {
    let unanswered = |x: &Alert| x.state == super::AlertState::Open;
    b.is_active()
        .cmp(&a.is_active())
        .then(b.level.cmp(&a.level))
        .then(unanswered(b).cmp(&unanswered(a)))
        .then(a.raised_at.cmp(&b.raised_at))
        .then_with(|| a.key().cmp(&b.key()))
}

/// Where an alert shown at a counter comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AlertOrigin {
    /// Raised by the hub and replicated.
    Hub,
    /// Raised by this counter's own evaluation while the hub's word is not here yet
    /// (offline): the same rules on the same rows, so the hub raises it too.
    Counter,
}

/// An alert as the queue shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AlertView {
    #[serde(flatten)]
    pub alert: Alert,
    pub key: String,
    pub sla: Sla,
    pub origin: AlertOrigin,
    /// An answer issued at this counter is on its way to the hub.
    pub pending: bool,
}

impl AlertView {
    pub fn new(alert: Alert, origin: AlertOrigin, pending: bool, now: OffsetDateTime) -> AlertView {
        AlertView {
            key: alert.key(),
            sla: alert.sla(now),
            alert,
            origin,
            pending,
        }
    }
}

/// Active alerts per level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LevelCounts {
    pub yellow: u64,
    pub orange: u64,
    pub red: u64,
}

impl LevelCounts {
    fn of(&mut self, level: AlertLevel) -> &mut u64 {
        match level {
            AlertLevel::Yellow => &mut self.yellow,
            AlertLevel::Orange => &mut self.orange,
            AlertLevel::Red => &mut self.red,
        }
    }

    pub fn add(&mut self, level: AlertLevel) {
        *self.of(level) += 1;
    }

    pub fn set(&mut self, level: AlertLevel, count: u64) {
        *self.of(level) = count;
    }

    pub fn add_many(&mut self, level: AlertLevel, count: u64) {
        *self.of(level) += count;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AlertPage {
    /// Alerts matching the query.
    pub total: u64,
    /// Active alerts per level over the whole queue, whatever the filter.
    pub counts: LevelCounts,
    /// Every department that has an alert, for the filter.
    pub departments: Vec<String>,
    pub alerts: Vec<AlertView>,
}

impl AlertPage {
    /// Filters, orders and pages `alerts` (each with its origin and pending mark).
    pub fn of(alerts: Vec<(Alert, AlertOrigin, bool)>, query: &AlertQuery, now: OffsetDateTime) -> AlertPage {
        let mut counts = LevelCounts::default();
        let mut departments: Vec<String> = Vec::new();
        let mut matching = Vec::new();
        for (alert, origin, pending) in alerts {
            if alert.is_active() {
                counts.add(alert.level);
            }
            if !departments.contains(&alert.department) {
                departments.push(alert.department.clone());
            }
            if query.matches(&alert, now) {
                matching.push((alert, origin, pending));
            }
        }
        departments.sort();
        matching.sort_by(|a, b| queue_order(&a.0, &b.0));
        let total = matching.len() as u64;
        let alerts = matching
            .into_iter()
            .skip(query.offset as usize)
            .take(query.page_limit())
            .map(|(alert, origin, pending)| AlertView::new(alert, origin, pending, now))
            .collect();
        AlertPage { total, counts, departments, alerts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertState, Handled};
    use time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-24 08:00 UTC);

    fn alert(rule: &str, project: &str, level: AlertLevel, hours_ago: i64, department: &str) -> Alert {
        crate::alert::open_alert(rule, project, level, NOW - Duration::hours(hours_ago), department)
    }

    fn page(alerts: Vec<Alert>, query: &AlertQuery) -> AlertPage {
        AlertPage::of(alerts.into_iter().map(|a| (a, AlertOrigin::Hub, false)).collect(), query, NOW)
    }

    fn keys(page: &AlertPage) -> Vec<&str> {
        page.alerts.iter().map(|v| v.alert.rule_id.as_str()).collect()
    }

    #[test]
    fn the_queue_puts_the_most_serious_and_oldest_first_and_counts_every_level() {
        let mut acked = alert("acked", "P4", AlertLevel::Orange, 1, "收费窗口");
        acked.state = AlertState::Acknowledged;
        acked.responded = Some(Handled { by: "王芳".into(), at: NOW });
        let mut resolved = alert("resolved", "P5", AlertLevel::Red, 9, "收费窗口");
        resolved.state = AlertState::Resolved;
        let all = vec![
            alert("young-orange", "P1", AlertLevel::Orange, 1, "收费窗口"),
            alert("red", "", AlertLevel::Red, 0, "数据中心"),
            alert("old-orange", "P2", AlertLevel::Orange, 5, "人防办"),
            alert("yellow", "P3", AlertLevel::Yellow, 30, "收费窗口"),
            acked,
            resolved,
        ];
        let all_page = page(all.clone(), &AlertQuery::default());
        assert_eq!(keys(&all_page), ["red", "old-orange", "young-orange", "acked", "yellow"]);
        assert_eq!(all_page.counts, LevelCounts { yellow: 1, orange: 3, red: 1 });
        assert_eq!(all_page.departments, ["人防办", "收费窗口", "数据中心"]);

        let filtered = |query: AlertQuery| keys(&page(all.clone(), &query)).into_iter().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(filtered(AlertQuery { levels: vec![AlertLevel::Yellow, AlertLevel::Red], ..Default::default() }), ["red", "yellow"]);
        assert_eq!(filtered(AlertQuery { department: Some("人防办".into()), ..Default::default() }), ["old-orange"]);
        assert_eq!(filtered(AlertQuery { sla: Some(Sla::Missed), ..Default::default() }), ["old-orange", "yellow"]);
        assert_eq!(filtered(AlertQuery { min_age_minutes: Some(120), ..Default::default() }), ["old-orange", "yellow"]);
        assert_eq!(filtered(AlertQuery { system_only: true, ..Default::default() }), ["red"]);
        assert_eq!(filtered(AlertQuery { state: StateFilter::Resolved, ..Default::default() }), ["resolved"]);
        assert_eq!(filtered(AlertQuery { project_code: Some("P3".into()), ..Default::default() }), ["yellow"]);
        let second = page(all.clone(), &AlertQuery { offset: 1, limit: 2, ..Default::default() });
        assert_eq!((second.total, keys(&second)), (5, vec!["old-orange", "young-orange"]));
    }
}
