//! The alert queue for dashboards (`GET /v1/alerts`), the rules in force
//! (`GET /v1/alert-rules`) and Prometheus metrics (`GET /metrics`).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Deserialize;
use time::OffsetDateTime;
use yizhan_core::alert::queue::{AlertOrigin, AlertPage, AlertQuery, StateFilter};
use yizhan_core::alert::rules::OWNER_ROLES;
use yizhan_core::alert::{AlertLevel, Sla};

use crate::alerts::RulesInForce;
use crate::error::HubError;
use crate::hub::Hub;

/// The query string: lists are comma-separated (`levels=red,orange`).
#[derive(Debug, Deserialize)]
pub struct AlertParams {
    levels: Option<String>,
    department: Option<String>,
    owner_role: Option<String>,
    state: Option<String>,
    sla: Option<String>,
    min_age_minutes: Option<u32>,
    project_code: Option<String>,
    system_only: Option<bool>,
    offset: Option<u32>,
    limit: Option<u32>,
}

impl AlertParams {
    fn query(self) -> Result<AlertQuery, HubError> {
        let bad = |field: &str, value: &str, expected: &str| {
            HubError::BadQuery(format!("{field}={value} 无效，应为 {expected}"))
        };
        let levels = match self.levels.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|l| AlertLevel::parse(l).ok_or_else(|| bad("levels", l, "yellow、orange、red（可用逗号分隔多个）")))
                .collect::<Result<_, _>>()?,
        };
        let state = match self.state.as_deref() {
            None | Some("active") => StateFilter::Active,
            Some("resolved") => StateFilter::Resolved,
            Some("all") => StateFilter::All,
            Some(other) => return Err(bad("state", other, "active、resolved 或 all")),
        };
        let sla = match self.sla.as_deref() {
            None => None,
            Some("pending") => Some(Sla::Pending),
            Some("met") => Some(Sla::Met),
            Some("missed") => Some(Sla::Missed),
            Some(other) => return Err(bad("sla", other, "pending、met 或 missed")),
        };
        if let Some(role) = self.owner_role.as_deref()
            && !OWNER_ROLES.contains(&role)
        {
            return Err(bad("owner_role", role, "clerk 或 supervisor"));
        }
        Ok(AlertQuery {
            levels,
            department: self.department,
            owner_role: self.owner_role,
            state,
            sla,
            min_age_minutes: self.min_age_minutes,
            project_code: self.project_code,
            system_only: self.system_only.unwrap_or(false),
            offset: self.offset.unwrap_or(0),
            limit: self.limit.unwrap_or(0),
        })
    }
}

/// `GET /v1/alerts`: the queue, filtered like the supervisor view.
pub async fn alerts(
    State(hub): State<Hub>,
    params: Result<Query<AlertParams>, QueryRejection>,
) -> Result<Json<AlertPage>, HubError> {
    let Query(params) = params.map_err(|e| HubError::BadQuery(format!("查询参数有误：{}", e.body_text())))?;
    let query = params.query()?;
    let now = hub.alert_desk().map_or_else(OffsetDateTime::now_utc, |desk| desk.clock().now());
    let alerts = hub.alerts().await?.into_iter().map(|a| (a, AlertOrigin::Hub, false)).collect();
    Ok(Json(AlertPage::of(alerts, &query, now)))
}

/// `GET /v1/alert-rules`: the rules in force and the last file refused; 404 when this hub
/// does not evaluate alerts.
pub async fn rules(State(hub): State<Hub>) -> Result<Json<RulesInForce>, HubError> {
    hub.alert_desk().map(|desk| Json(desk.in_force())).ok_or(HubError::AlertsOff)
}

/// `GET /metrics`: open alerts by level and department, and the change log's head.
pub async fn metrics(State(hub): State<Hub>) -> Result<impl IntoResponse, HubError> {
    // Every level listed, zero included, so a dashboard tells "none" from "no data".
    let open = Family::<Vec<(String, String)>, Gauge>::default();
    for level in AlertLevel::ALL {
        open.get_or_create(&vec![("level".into(), level.as_str().into())]).set(0);
    }
    let by_department = Family::<Vec<(String, String)>, Gauge>::default();
    for open_alerts in hub.store().open_alert_counts().await? {
        let level = open_alerts.level.as_str().to_owned();
        let count = i64::try_from(open_alerts.count).unwrap_or(i64::MAX);
        open.get_or_create(&vec![("level".into(), level.clone())]).inc_by(count);
        by_department.get_or_create(&vec![("level".into(), level), ("department".into(), open_alerts.department)]).set(count);
    }
    let head = Gauge::<i64>::default();
    head.set(i64::try_from(hub.store().head().await?).unwrap_or(i64::MAX));
    let mut registry = Registry::default();
    if let Some(pass) = hub.alert_desk().and_then(|desk| desk.pass()) {
        let labels = vec![("reason".to_owned(), pass.reason.as_str().to_owned())];
        let gauge = |value: u64| {
            let family = Family::<Vec<(String, String)>, Gauge>::default();
            family.get_or_create(&labels).set(i64::try_from(value).unwrap_or(i64::MAX));
            family
        };
        registry.register("yizhan_alert_pass_running", "1 while a pass over every project evaluates alerts", gauge(u64::from(!pass.done)));
        registry.register("yizhan_alert_pass_projects", "Projects the current or last pass covers", gauge(pass.projects));
        registry.register("yizhan_alert_pass_evaluated", "Projects the current or last pass has evaluated", gauge(pass.evaluated));
        registry.register("yizhan_alert_pass_changes", "Alert rows the current or last pass has written", gauge(pass.changes));
    }
    registry.register("yizhan_alerts_open", "Active alerts by level", open);
    registry.register("yizhan_alerts_open_by_department", "Active alerts by level and department", by_department);
    registry.register("yizhan_change_log_head", "Newest seq of the change log", head);
    let mut text = String::new();
    encode(&mut text, &registry).expect("writing metrics into a String cannot fail");
    Ok(([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text))
}

/// `GET /v1/alerts/assignees`: whom a supervisor may assign an alert to.
pub async fn assignees(State(hub): State<Hub>) -> Result<Json<Vec<yizhan_sync::protocol::AlertAssignee>>, HubError> {
    Ok(Json(hub.alert_assignees().await?))
}
