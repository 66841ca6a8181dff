//! Alerts across processes: deadlines that pass while the hub is out of reach still raise
//! their alerts at the counter, and a clerk's answers to an alert travel through the hub
//! to every other counter.

use std::time::Duration;

use time::{Date, OffsetDateTime, Time};
use yizhan_core::alert::handling::AlertHandling;
use yizhan_core::alert::queue::{AlertOrigin, AlertQuery, AlertView, StateFilter};
use yizhan_core::alert::{AlertLevel, AlertState, EscalationCause};
use yizhan_core::clock::SHANGHAI;
use yizhan_core::command::ClerkAction;
use yizhan_core::status::FeeStatus;
use yizhan_sync::replica::{ProjectQuery, ReplicaReader, TrackedReason};
use yizhan_tests::counter::{Running, SimulatedClock, WITHIN, issuer, options};
use yizhan_tests::hub::{DEMO_TODAY, TestHub};
use yizhan_tests::proxy::Proxy;

fn morning(date: Date) -> OffsetDateTime {
    date.with_time(Time::from_hms(9, 0, 0).unwrap()).assume_offset(SHANGHAI)
}

/// Waits until the alerts `query` finds satisfy `holds`; returns them.
async fn until_alerts(reader: &ReplicaReader, query: &AlertQuery, what: &str, holds: impl Fn(&[AlertView]) -> bool) -> Vec<AlertView> {
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let alerts = reader.list_alerts(query).unwrap().alerts;
        if holds(&alerts) {
            return alerts;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}; alerts now {alerts:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn of_project(code: &str) -> AlertQuery {
    AlertQuery { project_code: Some(code.to_owned()), state: StateFilter::All, ..AlertQuery::default() }
}

fn rule_of(alerts: &[AlertView], rule: &str) -> Option<AlertView> {
    alerts.iter().find(|a| a.alert.rule_id == rule && a.alert.state != AlertState::Resolved).cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_pass_and_raise_alerts_at_a_counter_the_hub_cannot_reach() {
    let hub = TestHub::start(300).await;
    let proxy = Proxy::start(&hub.url).await;
    let clock = SimulatedClock::starting_at(morning(DEMO_TODAY));
    let counter = hub.counter().await;
    let mut running = Running::start(counter.client_on(&proxy.url, options(), clock.clock()));
    running.wait_status("caught up", |s| s.cursor > 0 && s.lag_changes == Some(0)).await;
    let reader = counter.reader_on(clock.clock());

    // A project that owes one fee, due more than a week from now: nothing to say yet.
    let (code, due_on) = reader
        .list_projects(&ProjectQuery { status: Some(FeeStatus::Due), limit: 500, ..ProjectQuery::default() })
        .unwrap()
        .rows
        .iter()
        .find_map(|row| {
            let detail = reader.get_project(&row.project_code).unwrap().unwrap();
            let owed: Vec<Date> = detail.fees.iter().filter(|f| f.outstanding_fen > 0).filter_map(|f| f.due_on).collect();
            match owed.as_slice() {
                [due] if *due > DEMO_TODAY + time::Duration::days(9) => Some((row.project_code.clone(), *due)),
                _ => None,
            }
        })
        .expect("demo data has a project with one fee due well ahead");
    assert!(rule_of(&reader.list_alerts(&of_project(code.as_str())).unwrap().alerts, "payment-due-soon").is_none());

    proxy.cut();
    running.wait_status("offline", |s| s.state == yizhan_sync::status::SyncState::Offline).await;

    // A week before the due date, with nothing from the hub: the counter's own clock tick
    // raises the yellow reminder.
    clock.set(morning(due_on - time::Duration::days(7)));
    let alerts = until_alerts(&reader, &of_project(code.as_str()), "due soon offline", |a| rule_of(a, "payment-due-soon").is_some()).await;
    let due_soon = rule_of(&alerts, "payment-due-soon").unwrap();
    assert_eq!((due_soon.alert.level, due_soon.origin), (AlertLevel::Yellow, AlertOrigin::Counter));

    // The day after the due date: overdue (orange), the reminder gone, and the project in
    // 项目跟踪 on its own.
    clock.set(morning(due_on + time::Duration::days(1)));
    let alerts = until_alerts(&reader, &of_project(code.as_str()), "overdue offline", |a| {
        rule_of(a, "payment-overdue").is_some() && rule_of(a, "payment-due-soon").is_none()
    })
    .await;
    assert_eq!(rule_of(&alerts, "payment-overdue").unwrap().alert.level, AlertLevel::Orange);
    let tracked = reader
        .list_projects(&ProjectQuery { tracked: Some(true), search: Some(code.to_string()), limit: 10, ..ProjectQuery::default() })
        .unwrap();
    assert_eq!(tracked.rows.len(), 1, "the overdue project is in 项目跟踪");
    assert_eq!(tracked.rows[0].tracked_reason, Some(TrackedReason::Overdue));
    assert_eq!(tracked.rows[0].alert_level, Some(AlertLevel::Orange));

    // Still nobody answers: a day later (the orange deadline) it escalates to red, here.
    clock.advance(time::Duration::days(1) + time::Duration::hours(1));
    let alerts = until_alerts(&reader, &of_project(code.as_str()), "escalation offline", |a| {
        rule_of(a, "payment-overdue").is_some_and(|o| o.alert.level == AlertLevel::Red)
    })
    .await;
    assert_eq!(rule_of(&alerts, "payment-overdue").unwrap().alert.escalations.len(), 1);

    // The counter's link to the hub has been silent for days: its own red sync alert.
    let silent = until_alerts(&reader, &AlertQuery { system_only: true, ..AlertQuery::default() }, "sync lag", |a| {
        a.iter().any(|v| v.alert.rule_id == "sync-lag" && v.alert.level == AlertLevel::Red)
    })
    .await;
    assert!(silent.iter().any(|v| !v.alert.runbook.is_empty()));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_to_an_alert_travel_through_the_hub_to_another_counter() {
    let clock = SimulatedClock::starting_at(morning(DEMO_TODAY));
    let hub = TestHub::start_with_alerts(300, clock.clock()).await;
    let (first, second) = (hub.counter().await, hub.counter().await);
    let first_client = first.client_on(&hub.url, options(), clock.clock());
    let outbox = first_client.outbox();
    let mut at_first = Running::start(first_client);
    let mut at_second = Running::start(second.client_on(&hub.url, options(), clock.clock()));
    for running in [&mut at_first, &mut at_second] {
        running.wait_status("caught up", |s| s.cursor > 0).await;
    }

    // The hub raises an orange overdue alert; it reaches both counters through the feed.
    let overdue = AlertQuery { levels: vec![AlertLevel::Orange], ..AlertQuery::default() };
    let reader = first.reader_on(clock.clock());
    let alerts = until_alerts(&reader, &overdue, "the hub's overdue alerts", |a| a.iter().any(|v| v.origin == AlertOrigin::Hub)).await;
    let alert = alerts.into_iter().find(|v| v.origin == AlertOrigin::Hub).unwrap();
    let (key, project_code) = (alert.key.clone(), alert.alert.project_code.clone());

    for handling in [
        AlertHandling::Escalate { reason: "建设单位失联，需分管领导协调".into() },
        AlertHandling::Acknowledge,
        AlertHandling::Assign { assignee: "clerk02".into() },
        AlertHandling::Note { text: "已电话催缴，建设单位称本周内缴清。".into() },
        AlertHandling::Resolve { reason: "建设单位书面承诺11月30日前缴清".into() },
    ] {
        // Assigning and escalating are the supervisor's (alert:assign, alert:escalate); the
        // hub refuses them from a clerk.
        let supervisors = matches!(handling, AlertHandling::Assign { .. } | AlertHandling::Escalate { .. });
        let by = if supervisors { issuer("chief01") } else { issuer("clerk02") };
        let action = ClerkAction::HandleAlert { alert_key: key.clone(), project_code: Some(project_code.parse().unwrap()), handling };
        outbox.issue(action, &by).await.expect("the answer is queued");
    }
    // At once, here: shown as answered, marked on its way.
    let here = reader.list_alerts(&AlertQuery { state: StateFilter::All, ..of_project(&project_code) }).unwrap();
    let shown = here.alerts.iter().find(|v| v.key == key).unwrap();
    assert_eq!((shown.alert.state, shown.pending), (AlertState::Resolved, true));

    // At the other counter, through the hub: every answer, by whom, and no longer pending.
    let there = second.reader_on(clock.clock());
    let alerts = until_alerts(&there, &of_project(&project_code), "the answers at the second counter", |a| {
        a.iter().any(|v| v.key == key && v.alert.state == AlertState::Resolved)
    })
    .await;
    let answered = alerts.into_iter().find(|v| v.key == key).unwrap();
    assert!(!answered.pending);
    assert_eq!(answered.alert.responded.as_ref().map(|h| h.by.as_str()), Some("陈静（clerk02）"));
    assert_eq!(answered.alert.assignee.as_deref(), Some("clerk02"), "assigned to a person's account");
    let by_hand = answered.alert.escalations.last().expect("the supervisor's escalation");
    assert_eq!((answered.alert.level, by_hand.cause, by_hand.by.as_deref()), (AlertLevel::Red, EscalationCause::ByHand, Some("李建国（chief01）")));
    assert_eq!(answered.alert.notes.len(), 1);
    let resolution = answered.alert.resolution.unwrap();
    assert_eq!((resolution.by.as_deref(), resolution.condition_cleared), (Some("陈静（clerk02）"), false));

    // The hub's queue agrees, and its change log says which counter answered.
    let page = hub.get_json(&format!("/v1/alerts?state=resolved&project_code={project_code}")).await;
    assert!(page["alerts"].as_array().unwrap().iter().any(|a| a["key"] == key.as_str()), "{page}");
    let answered_from = hub
        .all_changes()
        .await
        .into_iter()
        .filter(|c| c.key == key)
        .map(|c| c.origin)
        .collect::<Vec<_>>();
    assert!(answered_from.iter().any(|o| o.starts_with("command:counter-")), "{answered_from:?}");

    // Still overdue, but resolved by a clerk: the hub does not raise it again.
    clock.advance(time::Duration::hours(1));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let page = hub.get_json(&format!("/v1/alerts?state=all&project_code={project_code}")).await;
    let states: Vec<&str> = page["alerts"].as_array().unwrap().iter().filter(|a| a["key"] == key.as_str()).map(|a| a["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["resolved"]);
    at_first.stop().await;
    at_second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_with_a_legacy_uscc_reaches_the_counter_flagged_orange() {
    let hub_clock = SimulatedClock::starting_at(morning(DEMO_TODAY));
    let hub = TestHub::start_with_alerts(0, hub_clock.clock()).await;
    let code = "2026-320115-70-01-700001";
    // Well formed, its check character wrong: a code still printed on older licences.
    let legacy = "91350100M000100Y44";
    let record = yizhan_sync::protocol::PlanningRecord {
        planning_permit_no: "建字第320115202670001号".into(),
        project_code: code.into(),
        name: "秣陵街道旧城改造一期".into(),
        builder: "南京钟山置业有限公司".into(),
        uscc: legacy.into(),
        district_code: "320115".into(),
        contact_phone: None,
        approved_on: DEMO_TODAY,
        residential_area: yizhan_core::area::Area::from_m2(10_000),
        non_residential_area: yizhan_core::area::Area::ZERO,
        civil_defence_area: yizhan_core::area::Area::ZERO,
        infra_exemption: None,
    };
    let report = hub.ingest("planning", vec![record]).await;
    assert_eq!((report.received, report.changed), (1, 1), "the record is kept: {report:?}");

    let counter = hub.counter().await;
    let clock = SimulatedClock::starting_at(morning(DEMO_TODAY));
    let running = Running::start(counter.client_on(&hub.url, options(), clock.clock()));
    let reader = counter.reader_on(clock.clock());
    let alerts = until_alerts(&reader, &of_project(code), "the legacy USCC alert", |a| rule_of(a, "uscc-check-failed").is_some()).await;
    let flagged = rule_of(&alerts, "uscc-check-failed").unwrap();
    assert_eq!((flagged.alert.level, flagged.origin), (AlertLevel::Orange, AlertOrigin::Hub));
    assert!(flagged.alert.message.contains(legacy) && flagged.alert.message.contains("校验位"), "{}", flagged.alert.message);
    let project = reader.get_project(&code.parse().unwrap()).unwrap().expect("the project is at the counter");
    assert_eq!(project.project.uscc, legacy, "kept as the department sent it");
    running.stop().await;
}
