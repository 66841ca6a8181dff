//! The incremental path — each batch refreshing only the projects it touched, each sync
//! step escalating only the alerts whose time has come — must leave the replica exactly
//! as a full recomputation would: views, this counter's own alerts, the alert view and
//! the queue read from it.

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value;
use time::Duration;
use yizhan_core::alert::engine::FeeDue;
use yizhan_core::alert::lifecycle::{advance, escalate};
use yizhan_core::alert::queue::{AlertQuery, StateFilter};
use yizhan_core::alert::rules::RuleSet;
use yizhan_core::alert::{Alert, AlertLevel, AlertState, Handled};
use yizhan_core::clock::SimulatedClock;

use super::*;

/// 10:00 in Shanghai, two days after `DUE`: assessments due then are overdue.
const START: OffsetDateTime = datetime!(2026-04-02 02:00 UTC);
const PROJECTS: usize = 60;
/// The batches touch these first projects only: the others change with the clock alone.
const TOUCHED: usize = 40;
const BATCHES: usize = 48;
const CHANGES_PER_BATCH: usize = 24;

fn code(i: usize) -> String {
    format!("2026-320105-47-01-{i:06}")
}

/// Each project's fee falls due on one of a few days around the start, so some are long
/// overdue, some due soon, some due later and become overdue as the clock moves on.
fn due_on(i: usize) -> Date {
    [DUE, date!(2026 - 04 - 04), date!(2026 - 04 - 08), date!(2026 - 05 - 30)][i % 4]
}

/// What the hub holds of one project's alert, as the hub's own evaluation and its clerks
/// move it along.
struct HubAlert {
    alert: Alert,
    version: u64,
}

/// A small deterministic generator (SplitMix64), so a failure is the same every run.
struct Pick(u64);

impl Pick {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// The hub's alert on `code` after one more thing happened to it at `now`: raised as the
/// rules find it, escalated, acknowledged by a clerk, or resolved.
fn next_hub_alert(rules: &RuleSet, held: Option<&Alert>, i: usize, now: OffsetDateTime, what: usize) -> Option<Alert> {
    let code = code(i);
    let dues = [FeeDue { fee_kind: FeeKind::Infra, due_on: due_on(i), outstanding_fen: 100_000 }];
    let today = yizhan_core::clock::shanghai_date(now);
    let firing = rules.project_firings(&code, &dues, today).into_iter().next();
    match (held, what) {
        (None, _) | (Some(_), 0) => {
            let firing = firing?;
            let rule = rules.rule(&firing.rule_id)?;
            advance(held.filter(|a| a.rule_id == firing.rule_id), Some((&firing, rule)), now)
        }
        (Some(alert), 1) => escalate(alert, rules.rule(&alert.rule_id)?, now + Duration::days(2)),
        (Some(alert), 2) if alert.state == AlertState::Open => {
            let mut next = alert.clone();
            next.state = AlertState::Acknowledged;
            next.responded = Some(Handled { by: "窗口一".into(), at: now });
            Some(next)
        }
        (Some(alert), _) => advance(Some(alert), None, now),
    }
}

fn alert_change(alert: &Alert, version: u64) -> ChangeSpec {
    spec(EntityKind::Alert, &alert.key(), &alert.project_code, alert).v(version)
}

/// Every row of `table`, every column, in key order.
fn dump(conn: &rusqlite::Connection, table: &str, key: &str) -> Vec<Vec<Value>> {
    let mut stmt = conn.prepare(&format!("SELECT * FROM {table} ORDER BY {key}")).unwrap();
    let columns = stmt.column_count();
    stmt.query_map([], |row| (0..columns).map(|i| row.get::<_, Value>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[derive(Debug, PartialEq)]
struct Derived {
    project_view: Vec<Vec<Value>>,
    local_alerts: Vec<Vec<Value>>,
    alert_view: Vec<Vec<Value>>,
    queue: Vec<String>,
}

fn derived(f: &Fixture) -> Derived {
    let conn = &f.replica.conn;
    let page = f
        .reader_on(f.replica.clock().clone())
        .list_alerts(&AlertQuery { state: StateFilter::All, ..AlertQuery::default() })
        .unwrap();
    Derived {
        project_view: dump(conn, "project_view", "project_code"),
        local_alerts: dump(conn, "local_alerts", "key"),
        alert_view: dump(conn, "alert_view", "key"),
        queue: std::iter::once(format!("{} {:?}", page.total, page.counts))
            .chain(page.alerts.iter().map(|a| format!("{} {:?} {:?} {:?} {:?}", a.key, a.alert.level, a.alert.state, a.sla, a.origin)))
            .collect(),
    }
}

#[test]
fn alert_changes_applied_batch_by_batch_leave_what_a_full_recomputation_gives() {
    let clock = SimulatedClock::starting_at(START);
    let mut f = Fixture::on(clock.clock(), yizhan_core::clock::shanghai_date(START));
    let rules = RuleSet::built_in();
    let mut pick = Pick(13);

    let mut seed = Vec::new();
    for i in 0..PROJECTS {
        let code = code(i);
        seed.push(project(&code, &format!("项目{i}"), "南京建设有限公司", USCC_A, "320105"));
        seed.push(assessment_due(&code, 100_000, None, due_on(i)));
    }
    f.apply(seed).unwrap();

    let mut hub: HashMap<usize, HubAlert> = HashMap::new();
    let mut paid = 0;
    for step in 0..BATCHES {
        // A sync step: the day turns when it does, the clock escalates what is due.
        clock.advance(Duration::hours(7));
        let now = clock.clock().now();
        f.replica.roll_day(clock.clock().today()).unwrap();
        let link = CounterLink { last_contact: Some(now), started_at: START, log_problem: None, mismatch: None, clock_skew_seconds: None };
        f.replica.tick_alerts(link.clone()).unwrap();

        let mut changes = Vec::new();
        let mut in_batch = HashSet::new();
        for _ in 0..CHANGES_PER_BATCH {
            let i = pick.below(TOUCHED);
            if !in_batch.insert(i) {
                continue;
            }
            if pick.below(10) == 0 {
                // Paid in full: the counter's own alerts on it resolve themselves.
                paid += 1;
                changes.push(payment(&code(i), &format!("P{step}-{i}"), 100_000, now));
                continue;
            }
            let held = hub.get(&i);
            if let Some(alert) = next_hub_alert(&rules, held.map(|h| &h.alert), i, now, pick.below(4)) {
                let version = held.map_or(1, |h| h.version + 1);
                changes.push(alert_change(&alert, version));
                hub.insert(i, HubAlert { alert, version });
            }
        }
        f.apply(changes).unwrap();
        f.replica.tick_alerts(link).unwrap();
        assert_as_recomputed(&mut f, step);
    }

    let shown = derived(&f);
    let origins = |origin: &str| shown.alert_view.iter().filter(|r| r[2] == Value::Text(origin.into())).count();
    let states = |state: &str| shown.alert_view.iter().filter(|r| r[4] == Value::Text(state.into())).count();
    assert!(paid > 0 && !shown.local_alerts.is_empty(), "the counter raised alerts of its own");
    assert!(origins("hub") > 10 && origins("counter") > 0, "both the hub's and the counter's alerts are shown");
    assert!(states("resolved") > 0 && states("acknowledged") > 0 && states("open") > 0, "alerts in every state");
    assert!(shown.alert_view.iter().any(|r| r[3] == Value::Integer(2)), "some escalated to red");
    assert!(
        hub.values().any(|h| h.alert.level == AlertLevel::Red && f.hub_alert_level(&h.alert) == Some(AlertLevel::Red)),
        "the hub's red alerts are shown red"
    );
}

/// Compares what the incremental path left with a full recomputation at the same instant.
fn assert_as_recomputed(f: &mut Fixture, step: usize) {
    let incremental = derived(f);
    let view_date = f.replica.meta().unwrap().view_date.unwrap();
    let now = f.replica.clock().now();
    let tx = f.replica.conn.transaction().unwrap();
    let eval = alerts::Evaluation::new(&tx, view_date, now).unwrap();
    view::rebuild_all(&tx, &eval).unwrap();
    tx.commit().unwrap();
    let recomputed = derived(f);
    assert_eq!(incremental.project_view, recomputed.project_view, "project views after step {step}");
    assert_eq!(incremental.local_alerts, recomputed.local_alerts, "the counter's own alerts after step {step}");
    assert_eq!(incremental.alert_view, recomputed.alert_view, "the alert view after step {step}");
    assert_eq!(incremental.queue, recomputed.queue, "the alert queue after step {step}");
}

impl Fixture {
    fn reader_on(&self, clock: Clock) -> ReplicaReader {
        ReplicaReader::open_with_clock(&self.path, clock).unwrap()
    }

    /// The level shown for the hub's alert under the same key.
    fn hub_alert_level(&self, alert: &Alert) -> Option<AlertLevel> {
        self.replica
            .conn
            .query_row("SELECT level FROM alert_view WHERE key = ?1", [alert.key()], |r| r.get::<_, i64>(0))
            .ok()
            .map(alert_view::level_of_rank)
    }
}
