//! Alerts at the hub: the built-in rules fire on crafted data and clear when it is put
//! right, deadlines escalate unanswered alerts, repeats raise nothing twice, rule files
//! change without a restart (and a broken one changes nothing), and dashboards read the
//! queue and the metrics.

mod common;

use std::time::Duration;

use common::{CODE, TestHub, notice, payment, planning};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use yizhan_core::clock::SimulatedClock;
use yizhan_core::entity::{EntityKind, FeeAssessment, FeeKind};
use yizhan_hub::alerts::AlertDesk;
use yizhan_hub::connectors::{Connector, ConnectorKind, SourceChange};
use yizhan_sync::protocol::{CivilDefenceNotice, SourceComparison};

async fn hub_on(hands: &SimulatedClock, rules_dir: Option<std::path::PathBuf>) -> TestHub {
    TestHub::start_with_alerts(AlertDesk::new(rules_dir, hands.clock(), Duration::from_millis(50))).await
}

/// Every alert the hub keeps, resolved included, by key.
async fn alerts(hub: &TestHub) -> Vec<Value> {
    let (status, page) = hub.get("/v1/alerts?state=all&limit=500").await;
    assert_eq!(status, 200, "{page}");
    page["alerts"].as_array().unwrap().clone()
}

/// Waits (a few seconds at most) until the alert under `key` satisfies `holds`.
async fn until(hub: &TestHub, key: &str, what: &str, holds: impl Fn(Option<&Value>) -> bool) -> Value {
    for _ in 0..200 {
        let all = alerts(hub).await;
        let alert = all.iter().find(|a| a["key"] == key);
        if holds(alert) {
            return alert.cloned().unwrap_or(Value::Null);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("alert {key}: {what} never came; the hub keeps {:#}", Value::Array(alerts(hub).await));
}

fn active_at(level: &'static str) -> impl Fn(Option<&Value>) -> bool {
    move |a| a.is_some_and(|a| a["level"] == level && a["state"] != "resolved")
}

fn resolved(a: Option<&Value>) -> bool {
    a.is_some_and(|a| a["state"] == "resolved")
}

const DUE_SOON: &str = "payment-due-soon:project/2025-320115-70-01-000001";
const OVERDUE: &str = "payment-overdue:project/2025-320115-70-01-000001";

#[tokio::test]
async fn deadline_alerts_fire_escalate_once_and_clear_when_paid() {
    // The planning record's infrastructure fee falls due on 2025-07-01 (approval + 30 days).
    let hands = SimulatedClock::starting_at(datetime!(2025-06-27 02:00 UTC));
    let hub = hub_on(&hands, None).await;
    let (status, _) = hub.post("planning", json!([planning("G1", CODE)])).await;
    assert_eq!(status, 200);

    let due_soon = until(&hub, DUE_SOON, "yellow due-soon", active_at("yellow")).await;
    assert_eq!(due_soon["department"], "收费窗口");
    assert!(due_soon["message"].as_str().unwrap().contains("2025年7月1日"), "{due_soon}");
    assert_eq!(due_soon["sla"], "pending");

    // The same record again and a few ticks: still one alert, unchanged.
    let alert_changes = |log: &[Value]| log.iter().filter(|c| c["entity"] == "alert").count();
    let before = alert_changes(&hub.log().await);
    hub.post("planning", json!([planning("G1", CODE)])).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(alert_changes(&hub.log().await), before, "repeats write nothing");
    assert_eq!(alerts(&hub).await.len(), 1);

    // The due date passes with nothing paid: overdue (orange) replaces due-soon.
    hands.advance(time::Duration::days(5));
    let overdue = until(&hub, OVERDUE, "orange overdue", active_at("orange")).await;
    assert_eq!(overdue["owner_role"], "supervisor");
    until(&hub, DUE_SOON, "due-soon cleared", resolved).await;

    // Nobody answers within the orange deadline (one day): it escalates to red, once.
    hands.advance(time::Duration::days(1) + time::Duration::minutes(1));
    let red = until(&hub, OVERDUE, "escalation to red", active_at("red")).await;
    let escalations = red["escalations"].as_array().unwrap();
    assert_eq!(escalations.len(), 1, "{red}");
    assert_eq!((escalations[0]["from"].as_str(), escalations[0]["cause"].as_str()), (Some("orange"), Some("unanswered")));
    assert_eq!(red["sla"], "missed");

    // Paid in full: the alert resolves itself, saying so.
    let assessment = hub.hub.store().get(EntityKind::FeeAssessment, &FeeAssessment::key_for(CODE, FeeKind::Infra)).await;
    let owed = serde_json::from_str::<FeeAssessment>(&assessment.unwrap().unwrap().payload).unwrap().net_fen();
    let (status, body) = hub.post("payments", json!([payment("PAY-1", CODE, owed)])).await;
    assert_eq!(status, 200, "{body}");
    let cleared = until(&hub, OVERDUE, "overdue cleared", resolved).await;
    assert_eq!(cleared["resolution"]["by"], Value::Null);
    assert_eq!(cleared["resolution"]["condition_cleared"], true);
}

#[tokio::test]
async fn feed_alerts_fire_on_failure_lag_and_mismatch_and_clear_when_put_right() {
    // Connector times are the store's own (now); the desk's clock runs from now.
    let hands = SimulatedClock::starting_at(OffsetDateTime::now_utc());
    let hub = hub_on(&hands, None).await;
    let store = hub.hub.store();
    let down = "connector-down:connector/planning-cdc";

    store.connector_heartbeat("planning-cdc", yizhan_hub::store::ConnectorKind::PostgresCdc, Some(0)).await.unwrap();
    store.connector_failed("planning-cdc", yizhan_hub::store::ConnectorKind::PostgresCdc, "连接被拒绝 (127.0.0.1:5433)").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(alerts(&hub).await.iter().all(|a| a["key"] != down), "down for less than five minutes: no alert yet");
    hands.advance(time::Duration::minutes(6));
    let red = until(&hub, down, "connector down", active_at("red")).await;
    assert!(red["message"].as_str().unwrap().contains("连接被拒绝"), "{red}");
    assert!(red["runbook"].as_str().unwrap().starts_with("应急处置"), "{red}");
    assert_eq!(red["project_code"], "");
    store.connector_heartbeat("planning-cdc", yizhan_hub::store::ConnectorKind::PostgresCdc, Some(0)).await.unwrap();
    until(&hub, down, "connector back", resolved).await;

    let lag = "slot-lag:connector/planning-cdc";
    store.connector_heartbeat("planning-cdc", yizhan_hub::store::ConnectorKind::PostgresCdc, Some(3 << 30)).await.unwrap();
    until(&hub, lag, "slot lag", active_at("red")).await;
    store.connector_heartbeat("planning-cdc", yizhan_hub::store::ConnectorKind::PostgresCdc, Some(0)).await.unwrap();
    until(&hub, lag, "slot drained", resolved).await;

    let mismatch = "reconciliation-mismatch:connector/planning-file";
    let comparison = |matching: u64| SourceComparison {
        checked_at: OffsetDateTime::now_utc(),
        source: "规划审批20260301.csv".into(),
        source_rows: 10,
        matching,
        missing: if matching < 10 { vec!["project 2025-320115-70-01-000009".into()] } else { Vec::new() },
        differing: Vec::new(),
    };
    store.record_verification("planning-file", yizhan_hub::store::ConnectorKind::LegacyFile, comparison(9)).await.unwrap();
    let red = until(&hub, mismatch, "verification mismatch", active_at("red")).await;
    assert!(red["message"].as_str().unwrap().contains("缺 1 条"), "{red}");
    store.record_verification("planning-file", yizhan_hub::store::ConnectorKind::LegacyFile, comparison(10)).await.unwrap();
    until(&hub, mismatch, "verification agrees", resolved).await;
}

#[tokio::test]
async fn a_quarantined_civil_defence_notice_raises_orange_alerts_linked_to_it_until_dismissed() {
    let hands = SimulatedClock::starting_at(datetime!(2025-07-02 02:00 UTC));
    let hub = hub_on(&hands, None).await;
    hub.post("planning", json!([planning("G1", CODE)])).await;
    let mut wrong = notice("RF-1", CODE);
    wrong["amount_fen"] = json!(1);
    let change = SourceChange::<CivilDefenceNotice>::Upsert {
        location: "请求 r-1 第1条".into(),
        raw: wrong.to_string(),
        record: Ok(serde_json::from_value(wrong).unwrap()),
    };
    let connector = Connector::new("push:civil-defence", ConnectorKind::Push);
    let report = hub.hub.deliver(&connector, vec![change], None, None).await.unwrap();
    assert_eq!(report.quarantined, 1);
    let (_, quarantine) = hub.get("/v1/quarantine?state=open").await;
    let id = quarantine[0]["id"].as_u64().unwrap();

    let mismatch = format!("civil-defence-mismatch:quarantine/{id}");
    let alert = until(&hub, &mismatch, "civil-defence mismatch", active_at("orange")).await;
    assert_eq!((alert["quarantine_id"].as_u64(), alert["project_code"].as_str()), (Some(id), Some(CODE)));
    assert_eq!(alert["department"], "人防办");
    until(&hub, &format!("validation-failed:quarantine/{id}"), "validation failed", active_at("orange")).await;

    let path = format!("/v1/quarantine/{id}/dismiss");
    let (status, body) = hub.post_json_to(&path, serde_json::to_vec(&json!({ "reason": "人防办已重新出具联系单" })).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    until(&hub, &mismatch, "dismissed", resolved).await;
}

#[tokio::test]
async fn rule_files_apply_without_restart_and_a_broken_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hands = SimulatedClock::starting_at(datetime!(2025-06-10 02:00 UTC));
    let hub = hub_on(&hands, Some(dir.path().to_owned())).await;
    hub.post("planning", json!([planning("G1", CODE)])).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(alerts(&hub).await.is_empty(), "due in 21 days: not within the built-in 7");

    let window = yizhan_core::alert::rules::BUILT_IN[0].1.replace("days = 7", "days = 30");
    std::fs::write(dir.path().join("window.toml"), &window).unwrap();
    until(&hub, DUE_SOON, "the 30-day rule", active_at("yellow")).await;

    std::fs::write(dir.path().join("finance.toml"), "department = \"财务科\"\n\n[[rule]]\nid = \"x\"\ninput = \"overdue\"\nlevel = \"紫\"\n").unwrap();
    let mut refused = Value::Null;
    for _ in 0..200 {
        refused = hub.get("/v1/alert-rules").await.1["refused"].clone();
        if !refused.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!((refused["file"].as_str(), refused["line"].as_u64()), (Some("finance.toml"), Some(3)), "{refused}");
    let (_, in_force) = hub.get("/v1/alert-rules").await;
    let ids: Vec<&str> = in_force["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"payment-due-soon") && !ids.contains(&"x"), "{ids:?}");
    assert_eq!(alerts(&hub).await[0]["state"], "open", "the alerts of the rules in force stay");

    std::fs::remove_file(dir.path().join("finance.toml")).unwrap();
    std::fs::write(dir.path().join("window.toml"), yizhan_core::alert::rules::BUILT_IN[0].1).unwrap();
    until(&hub, DUE_SOON, "back to 7 days", resolved).await;
    assert!(hub.get("/v1/alert-rules").await.1["refused"].is_null());

    // Each change of the rules in force, and the edit refused, is a configuration change on record.
    let query = yizhan_hub::store::AuditQuery { event: Some("config_changed".into()), limit: 10, ..Default::default() };
    let changes = hub.hub.store().search_audit(&query).await.unwrap();
    let results: Vec<&str> = changes.iter().rev().map(|r| r.result.as_str()).collect();
    assert!(changes.iter().all(|r| r.object == "alert_rules"), "{changes:#?}");
    assert_eq!((results.first(), results.last()), (Some(&"success"), Some(&"success")), "{changes:#?}");
    assert!(
        changes.iter().any(|r| r.result == "failure" && r.reason.contains("finance.toml")),
        "the refused edit is on record with its file: {changes:#?}"
    );
}

#[tokio::test]
async fn dashboards_filter_the_queue_and_read_open_alerts_as_metrics() {
    let hands = SimulatedClock::starting_at(datetime!(2025-07-05 02:00 UTC));
    let hub = hub_on(&hands, None).await;
    hub.post("planning", json!([planning("G1", CODE), planning("G2", "2025-320115-70-01-000002")])).await;
    until(&hub, OVERDUE, "overdue", active_at("orange")).await;
    until(&hub, "payment-overdue:project/2025-320115-70-01-000002", "second overdue", active_at("orange")).await;

    let (status, page) = hub.get("/v1/alerts?levels=orange,red&department=收费窗口&owner_role=supervisor").await;
    assert_eq!(status, 200);
    assert_eq!((page["total"].as_u64(), page["counts"]["orange"].as_u64()), (Some(2), Some(2)));
    let (_, page) = hub.get(&format!("/v1/alerts?project_code={CODE}")).await;
    assert_eq!(page["total"], 1);
    let (_, page) = hub.get("/v1/alerts?levels=yellow").await;
    assert_eq!(page["total"], 0);

    for (query, field) in [("levels=purple", "levels"), ("state=later", "state"), ("sla=soon", "sla"), ("owner_role=boss", "owner_role")] {
        let (status, body) = hub.get(&format!("/v1/alerts?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(body["message"].as_str().unwrap().contains(field), "{query}: {body}");
    }

    let metrics = hub.text("/metrics").await;
    assert!(metrics.contains("yizhan_alerts_open{level=\"orange\"} 2"), "{metrics}");
    assert!(metrics.contains("yizhan_alerts_open{level=\"red\"} 0"), "{metrics}");
    assert!(metrics.contains("department=\"收费窗口\""), "{metrics}");
}

/// Reads one of `/metrics`' series, as a number.
async fn metric(hub: &TestHub, series: &str) -> Option<i64> {
    let text = hub.text("/metrics").await;
    text.lines().find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn a_day_turn_re_evaluates_every_project_and_shows_how_far_it_came_at_metrics() {
    let hands = SimulatedClock::starting_at(datetime!(2025-06-10 02:00 UTC));
    let hub = hub_on(&hands, None).await;
    let codes = ["2025-320115-70-01-000001", "2025-320115-70-01-000002", "2025-320115-70-01-000003"];
    let records: Vec<Value> = codes.iter().enumerate().map(|(i, code)| planning(&format!("G{i}"), code)).collect();
    assert_eq!(hub.post("planning", Value::Array(records)).await.0, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(alerts(&hub).await.is_empty(), "due in 21 days: nothing yet");

    // Midnight passes in Shanghai with the fees overdue; nothing else happens.
    hands.advance(time::Duration::days(25));
    let running = "yizhan_alert_pass_running{reason=\"day_turn\"}";
    for _ in 0..200 {
        if metric(&hub, running).await == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(metric(&hub, running).await, Some(0), "the day turn's pass ran and finished");
    assert_eq!(metric(&hub, "yizhan_alert_pass_projects{reason=\"day_turn\"}").await, Some(3));
    assert_eq!(metric(&hub, "yizhan_alert_pass_evaluated{reason=\"day_turn\"}").await, Some(3));
    assert_eq!(metric(&hub, "yizhan_alert_pass_changes{reason=\"day_turn\"}").await, Some(3), "one overdue alert each");
    for code in codes {
        until(&hub, &format!("payment-overdue:project/{code}"), "overdue", active_at("orange")).await;
    }
}

/// `POST /v1/auth/login` with a wrong password for `account`.
async fn fail_sign_in(hub: &TestHub, account: &str) -> u16 {
    let body = serde_json::to_vec(&json!({"account": account, "password": "Wrong-Password-1"})).unwrap();
    hub.post_json_to("/v1/auth/login", body).await.0
}

#[tokio::test]
async fn a_burst_of_failed_sign_ins_raises_an_orange_alert_that_clears_when_it_passes() {
    let hands = SimulatedClock::starting_at(datetime!(2026-12-07 02:00 UTC));
    let hub = hub_on(&hands, None).await;
    const BURST: &str = "login-burst:security/sign-in";
    // Twenty failures within ten minutes, across accounts that exist and accounts that do not
    // (the hub's per-address throttle answers 429 from the twentieth on).
    for n in 0..20 {
        let status = fail_sign_in(&hub, &format!("guess{n:02}")).await;
        assert!(status == 401 || status == 429, "{status}");
    }
    let burst = until(&hub, BURST, "orange login burst", active_at("orange")).await;
    assert!(burst["message"].as_str().unwrap().contains("登录失败 20 次"), "{burst}");
    assert_eq!(burst["department"], "数据中心");

    hands.advance(time::Duration::minutes(11));
    until(&hub, BURST, "the burst's alert resolved once it is over ten minutes old", resolved).await;
}

#[tokio::test]
async fn an_audit_record_that_cannot_be_written_fails_the_action_and_raises_a_red_alert() {
    let hands = SimulatedClock::starting_at(datetime!(2026-12-07 02:00 UTC));
    let hub = hub_on(&hands, None).await;
    assert_eq!(fail_sign_in(&hub, "clerk01").await, 401);
    // The trail stops taking records under the running hub, as on a full disk.
    let conn = rusqlite::Connection::open(&hub.db).unwrap();
    conn.execute_batch("CREATE TRIGGER audit_log_full BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
        .unwrap();
    drop(conn);

    let status = fail_sign_in(&hub, "clerk01").await;
    assert_eq!(status, 500, "a sign-in that cannot be audited does not happen");
    let alert = until(&hub, "audit-failure:security/audit", "red audit failure", active_at("red")).await;
    assert!(alert["message"].as_str().unwrap().contains("login_failure 的审计记录未能写入"), "{alert}");
}
