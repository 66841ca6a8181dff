//! The app's reading of alerts: the supervisor's queue, the chart of recent days, and the
//! alerts on a project, all from `alert_view`.

use std::collections::HashMap;

use rusqlite::params_from_iter;
use rusqlite::types::Value;
use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};
use yizhan_core::alert::queue::{AlertOrigin, AlertPage, AlertQuery, AlertView, LevelCounts, StateFilter};
use yizhan_core::alert::{Alert, AlertLevel};
use yizhan_core::clock::{SHANGHAI, shanghai_date};

use super::alert_view::{level_of_rank, level_rank, of_project, parse, parse_origin};
use super::outbox::overlay_alerts;
use super::query::Filter;
use super::{ReplicaError, ReplicaReader, text};

/// Most days the chart covers.
pub const MAX_TREND_DAYS: u32 = 90;

/// An alert's SLA state at `?` (now, Unix seconds), as `Alert::sla` decides it.
const SLA: &str = "(CASE WHEN missed THEN 'missed' WHEN answered_at IS NOT NULL THEN 'met' \
                   WHEN ? > respond_by THEN 'missed' ELSE 'pending' END)";

/// One day of the alert chart (Asia/Shanghai).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AlertTrendDay {
    #[serde(with = "yizhan_core::serde_date")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub date: Date,
    /// Active at the end of the day, by the level each stands at now.
    pub open: LevelCounts,
    /// Raised that day, and of those how many were answered (or cleared) within their
    /// deadline and how many missed it; the rest are still within it.
    pub raised: u64,
    pub answered_in_time: u64,
    pub missed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AlertTrend {
    /// Oldest first, ending today.
    pub days: Vec<AlertTrendDay>,
}

impl ReplicaReader {
    /// The alert queue, filtered and ordered for the supervisor; answers issued here and
    /// still on their way show on the alerts they answer.
    pub fn list_alerts(&self, query: &AlertQuery) -> Result<AlertPage, ReplicaError> {
        let now = self.clock.now();
        let now_s = Value::Integer(now.unix_timestamp());
        let mut filter = Filter::default();
        match query.state {
            StateFilter::Active => filter.and("state <> 'resolved'", []),
            StateFilter::Resolved => filter.and("state = 'resolved'", []),
            StateFilter::All => {}
        }
        if !query.levels.is_empty() {
            let marks = vec!["?"; query.levels.len()].join(", ");
            filter.and(&format!("level IN ({marks})"), query.levels.iter().map(|l| Value::Integer(level_rank(*l))));
        }
        for (column, value) in [("department", &query.department), ("owner_role", &query.owner_role), ("project_code", &query.project_code)] {
            if let Some(value) = value {
                filter.and(&format!("{column} = ?"), [Value::Text(value.clone())]);
            }
        }
        if query.system_only {
            filter.and("project_code = ''", []);
        }
        if let Some(minutes) = query.min_age_minutes {
            filter.and("raised_at <= ?", [Value::Integer(now.unix_timestamp() - i64::from(minutes) * 60)]);
        }
        if let Some(sla) = query.sla {
            filter.and(&format!("{SLA} = ?"), [now_s.clone(), Value::Text(sla.as_str().to_owned())]);
        }
        let total: u64 = self
            .conn
            .prepare_cached(&format!("SELECT count(*) FROM alert_view{}", filter.sql))?
            .query_row(params_from_iter(&filter.values), |row| row.get(0))?;
        let mut values = filter.values.clone();
        values.push(Value::Integer(query.page_limit() as i64));
        values.push(Value::Integer(query.offset.into()));
        let mut page: Vec<(Alert, AlertOrigin)> = Vec::new();
        {
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT key, payload, origin FROM alert_view{} \
                 ORDER BY state = 'resolved', level DESC, state = 'open' DESC, raised_at, key LIMIT ? OFFSET ?",
                filter.sql
            ))?;
            let mut rows = stmt.query(params_from_iter(&values))?;
            while let Some(row) = rows.next()? {
                page.push((parse(text(row, 0)?, text(row, 1)?)?, parse_origin(text(row, 2)?)));
            }
        }
        let mut counts = LevelCounts::default();
        {
            // By state and level, the index's order: no sort of every alert.
            let mut stmt = self
                .conn
                .prepare_cached("SELECT level, count(*) FROM alert_view WHERE state <> 'resolved' GROUP BY state, level")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                counts.add_many(level_of_rank(row.get(0)?), row.get(1)?);
            }
        }
        let departments = self
            .conn
            .prepare_cached("SELECT DISTINCT department FROM alert_view ORDER BY department")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let pending = overlay_alerts(&self.conn, self.meta()?.cursor.unwrap_or(0), &mut page)?;
        let alerts = page
            .into_iter()
            .map(|(alert, origin)| {
                let is_pending = pending.contains(&alert.key());
                AlertView::new(alert, origin, is_pending, now)
            })
            .collect();
        Ok(AlertPage { total, counts, departments, alerts })
    }

    /// The most serious active alert of each of `project_codes` that has one.
    pub(crate) fn alert_levels(&self, project_codes: &[String]) -> Result<HashMap<String, AlertLevel>, ReplicaError> {
        if project_codes.is_empty() {
            return Ok(HashMap::new());
        }
        let marks = vec!["?"; project_codes.len()].join(", ");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT project_code, max(level) FROM alert_view WHERE state <> 'resolved' AND project_code IN ({marks}) GROUP BY project_code"
        ))?;
        let levels = stmt
            .query_map(params_from_iter(project_codes), |row| Ok((row.get(0)?, level_of_rank(row.get(1)?))))?
            .collect::<Result<_, _>>()?;
        Ok(levels)
    }

    /// One project's alerts, active first, then newest first.
    pub(crate) fn alerts_of_project(&self, project_code: &str) -> Result<Vec<AlertView>, ReplicaError> {
        let now = self.clock.now();
        let mut alerts = of_project(&self.conn, project_code)?;
        let pending = overlay_alerts(&self.conn, self.meta()?.cursor.unwrap_or(0), &mut alerts)?;
        alerts.sort_by(|(a, _), (b, _)| b.is_active().cmp(&a.is_active()).then(b.raised_at.cmp(&a.raised_at)));
        Ok(alerts
            .into_iter()
            .map(|(alert, origin)| {
                let is_pending = pending.contains(&alert.key());
                AlertView::new(alert, origin, is_pending, now)
            })
            .collect())
    }

    /// Open alerts at the end of each of the last `days` days (at most
    /// [`MAX_TREND_DAYS`]), and how promptly each day's alerts were answered.
    pub fn alert_trend(&self, days: u32) -> Result<AlertTrend, ReplicaError> {
        let now = self.clock.now();
        let today = shanghai_date(now);
        let days = days.clamp(1, MAX_TREND_DAYS);
        let first = today - Duration::days(i64::from(days - 1));
        let start_of = |date: Date| date.midnight().assume_offset(SHANGHAI);
        let mut trend: Vec<AlertTrendDay> = (0..days)
            .map(|i| AlertTrendDay {
                date: first + Duration::days(i64::from(i)),
                open: LevelCounts::default(),
                raised: 0,
                answered_in_time: 0,
                missed: 0,
            })
            .collect();
        let mut open = self.conn.prepare_cached(
            "SELECT level, count(*) FROM alert_view WHERE raised_at < ?1 AND (resolved_at IS NULL OR resolved_at > ?1) GROUP BY level",
        )?;
        for day in &mut trend {
            let end = start_of(day.date + Duration::days(1)).min(now).unix_timestamp();
            let mut rows = open.query([end])?;
            while let Some(row) = rows.next()? {
                day.open.set(level_of_rank(row.get(0)?), row.get(1)?);
            }
        }
        let mut raised = self.conn.prepare_cached(&format!("SELECT raised_at, {SLA} FROM alert_view WHERE raised_at >= ?"))?;
        let mut rows = raised.query([now.unix_timestamp(), start_of(first).unix_timestamp()])?;
        while let Some(row) = rows.next()? {
            let at = OffsetDateTime::from_unix_timestamp(row.get(0)?).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Integer, Box::new(e))
            })?;
            let Some(day) = trend.iter_mut().find(|d| d.date == shanghai_date(at)) else { continue };
            day.raised += 1;
            match text(row, 1)? {
                "met" => day.answered_in_time += 1,
                "missed" => day.missed += 1,
                _ => {}
            }
        }
        Ok(AlertTrend { days: trend })
    }
}
