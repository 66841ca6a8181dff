//! Clerk commands from counters to a real hub over HTTP, through a proxy the suite
//! controls: an outage of three days (on a clock the suite moves) with a thousand queued
//! commands while departments and other counters go on, and commands the hub refuses or
//! fails on amid the rest.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use time::{Date, OffsetDateTime};
use yizhan_core::code::ProjectCode;
use yizhan_core::id::CommandId;
use yizhan_core::clock::{SHANGHAI, shanghai_date};
use yizhan_core::entity::FollowUpNote;

use yizhan_core::command::ClerkAction;
use yizhan_core::entity::EntityKind;
use yizhan_sync::client::{GIVE_UP_AFTER, Outbox};
use yizhan_sync::protocol::Change;
use yizhan_sync::replica::{HUB_ERROR, ProjectQuery};
use yizhan_sync::status::SyncState;
// The counters here issue no documents: each test compares the replica with the hub's head,
// which a PC's first number segment would move (its key goes to the log with it).
use yizhan_tests::counter::options_issuing_nothing as options;
use yizhan_tests::counter::{Counter, Running, SimulatedClock, WITHIN, cleared_project_and_its_reversal, issuer};
use yizhan_tests::hub::TestHub;
use yizhan_tests::proxy::Proxy;


fn note(project_code: &ProjectCode, text: String) -> ClerkAction {
    ClerkAction::FollowUpNote {
        project_code: project_code.clone(),
        text,
    }
}

async fn issue(outbox: &Outbox, action: ClerkAction) -> CommandId {
    outbox.issue(action, &issuer("clerk02")).await.expect("the counter queues the command").command_id
}

/// How many times the hub's log carries each key of `entity`.
fn logged(changes: &[Change], entity: EntityKind) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for change in changes.iter().filter(|c| c.entity == entity) {
        *counts.entry(change.key.clone()).or_default() += 1;
    }
    counts
}

/// The project with an unpaid fee falling due soonest, and that date.
fn project_falling_due(counter: &Counter) -> (ProjectCode, Date) {
    let reader = counter.reader();
    let page = reader.list_projects(&ProjectQuery { limit: 300, ..ProjectQuery::default() }).unwrap();
    page.rows
        .iter()
        .filter(|row| row.outstanding_fen > 0)
        .filter_map(|row| {
            let detail = reader.get_project(&row.project_code).unwrap().unwrap();
            let due = detail.fees.iter().filter(|f| f.outstanding_fen > 0).filter_map(|f| f.due_on).min()?;
            Some((row.project_code.clone(), due))
        })
        .min_by_key(|(_, due)| *due)
        .expect("demo data has unpaid fees with due dates")
}

/// 09:00 in Shanghai on `day`.
fn morning(day: Date) -> OffsetDateTime {
    day.with_hms(9, 0, 0).unwrap().assume_offset(SHANGHAI)
}

/// Waits for the counter's views to stand at `day`: its clock is read as it retries the
/// hub, and the day rolls over offline as online.
async fn views_stand_at(counter: &Counter, day: Date) {
    let deadline = tokio::time::Instant::now() + WITHIN;
    while counter.reader().meta().unwrap().view_date != Some(day) {
        assert!(tokio::time::Instant::now() < deadline, "the views never rolled over to {day}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_offline_for_three_days_with_a_thousand_queued_commands_delivers_them_all_on_reconnect() {
    let hub = TestHub::start(300).await;
    let proxy = Proxy::start(&hub.url).await;
    let counter = hub.counter().await;
    let clock = SimulatedClock::starting_at(OffsetDateTime::now_utc());
    let client = counter.client_on(&proxy.url, options(), clock.clock());
    client.catch_up(&Default::default()).await.expect("first snapshot through the proxy");
    let outbox = client.outbox();
    let codes = counter.project_codes(200);
    let (cleared, reversal) = cleared_project_and_its_reversal(&counter);
    // The outage starts the morning before a fee falls due and lasts into the third day.
    let (falling_due, due_on) = project_falling_due(&counter);
    let days = [due_on.previous_day().unwrap(), due_on, due_on.next_day().unwrap()];
    clock.set(morning(days[0]));

    proxy.cut();
    let mut running = Running::start(client);
    running.wait_status("offline", |s| s.state == SyncState::Offline).await;

    // The window keeps working through the three days: a final check and 999 notes and
    // tracking flags, a third of them each day.
    let check = issue(&outbox, ClerkAction::FinalCheck { project_code: cleared.clone(), remark: String::new() }).await;
    let mut notes = Vec::new();
    for i in 1..1000 {
        let day = i * 3 / 1000;
        if i > 1 && (i - 1) * 3 / 1000 != day {
            clock.set(morning(days[day]));
            views_stand_at(&counter, days[day]).await;
        }
        let code = &codes[i % codes.len()];
        if i % 10 == 0 {
            issue(&outbox, ClerkAction::Tracking { project_code: code.clone(), tracked: i % 20 == 0 }).await;
        } else {
            notes.push(issue(&outbox, note(code, format!("离线第{}天第{i}条：已电话联系建设单位", day + 1))).await);
        }
        if i == 600 {
            let on_due_day = counter.reader().get_project(&falling_due).unwrap().unwrap();
            assert!(!on_due_day.overdue, "due today is not yet overdue");
        }
    }
    let queued = running.wait_status("1,000 commands queued", |s| s.outbox.pending == 1000).await;
    assert_eq!(queued.state, SyncState::Offline);
    assert!(counter.reader().get_project(&codes[1]).unwrap().unwrap().notes[0].pending);
    let overdue = counter.reader().get_project(&falling_due).unwrap().unwrap();
    assert!(overdue.overdue, "the day after its due date the fee is overdue, with the hub out of reach");
    let listed = counter
        .reader()
        .list_projects(&ProjectQuery { overdue: Some(true), limit: 500, ..ProjectQuery::default() })
        .unwrap();
    assert!(listed.rows.iter().any(|r| r.project_code == falling_due), "and listed as overdue");

    // Meanwhile the departments and another counter go on at the hub.
    hub.ingest("payments", hub.new_payments(&codes, 40, 1)).await;
    hub.ingest("payments", vec![reversal]).await;
    let other = hub.counter().await;
    let other_client = other.client(&hub, options());
    other_client.catch_up(&Default::default()).await.unwrap();
    let other_outbox = other_client.outbox();
    let mut other_running = Running::start(other_client);
    let mut other_notes = Vec::new();
    for (i, code) in codes.iter().take(20).enumerate() {
        other_notes.push(
            other_outbox
                .issue(note(code, format!("二号窗口第{i}条")), &issuer("clerk01"))
                .await
                .unwrap()
                .command_id,
        );
    }
    other_running.wait_status("the other counter's outbox drained", |s| s.outbox.pending == 0).await;

    proxy.restore();
    let drained = running.wait_status("the outbox drained", |s| s.outbox.pending == 0).await;
    assert_eq!(drained.outbox.conflicts, 1, "{drained:?}");
    let conflicts = counter.reader().conflicts().unwrap();
    assert_eq!(conflicts[0].command_id, check);
    let reason = conflicts[0].reject_reason.as_deref().unwrap();
    assert!(reason.contains("「部分到账」"), "the clerk is told why: {reason}");

    let head = hub.head().await;
    running.wait_status("caught up", |s| s.cursor >= head && s.state == SyncState::Online).await;
    other_running.wait_status("caught up", |s| s.cursor >= head).await;
    running.stop().await;
    other_running.stop().await;

    let changes = hub.all_changes().await;
    let notes_at_hub = logged(&changes, EntityKind::FollowUpNote);
    for id in notes.iter().chain(&other_notes) {
        assert_eq!(notes_at_hub.get(id.as_str()), Some(&1), "note {id} applied exactly once");
    }
    assert_eq!(notes_at_hub.len(), notes.len() + other_notes.len());
    assert!(logged(&changes, EntityKind::FinalCheck).is_empty());
    // Each note keeps the time the clerk wrote it, on whichever day of the outage that was.
    let written_on: BTreeSet<Date> = changes
        .iter()
        .filter(|c| c.entity == EntityKind::FollowUpNote && notes.iter().any(|n| *n == c.key.as_str()))
        .map(|c| {
            let note: FollowUpNote = serde_json::from_str(c.payload.as_ref().unwrap().get()).unwrap();
            shanghai_date(note.written_at)
        })
        .collect();
    assert_eq!(written_on, BTreeSet::from(days));
    counter.assert_matches(&hub, "the counter back from its outage").await;
    other.assert_matches(&hub, "the other counter").await;
    let shown = counter.reader().get_project(&codes[1]).unwrap().unwrap();
    assert!(shown.notes.iter().all(|n| !n.pending), "confirmed notes are no longer marked 待上传");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_the_hub_refuses_or_fails_on_do_not_hold_up_the_rest() {
    let hub = TestHub::start(60).await;
    let proxy = Proxy::start(&hub.url).await;
    let counter = hub.counter().await;
    let client = counter.client_at(&proxy.url, options());
    client.catch_up(&Default::default()).await.unwrap();
    let outbox = client.outbox();
    let codes = counter.project_codes(5);
    let (cleared, reversal) = cleared_project_and_its_reversal(&counter);
    hub.ingest("payments", vec![reversal]).await;
    proxy.fail_requests_with("POISON-7f3a");

    // Queued before the uploader runs, so they travel together in one batch.
    let first = issue(&outbox, note(&codes[0], "第一条".into())).await;
    let poisoned = issue(&outbox, note(&codes[1], "POISON-7f3a".into())).await;
    let refused = issue(&outbox, ClerkAction::FinalCheck { project_code: cleared, remark: String::new() }).await;
    let last = issue(&outbox, note(&codes[2], "最后一条".into())).await;

    let mut running = Running::start(client);
    let drained = running.wait_status("the outbox drained", |s| s.outbox.pending == 0).await;
    assert_eq!(drained.outbox.conflicts, 2, "{:?}", counter.reader().conflicts().unwrap());
    running.stop().await;

    let conflicts: HashMap<CommandId, _> =
        counter.reader().conflicts().unwrap().into_iter().map(|c| (c.command_id.clone(), c)).collect();
    let failed = &conflicts[&poisoned];
    assert_eq!((failed.reject_code.as_deref(), failed.attempts), (Some(HUB_ERROR), GIVE_UP_AFTER));
    assert!(failed.reject_reason.as_deref().unwrap().contains("HTTP 500"), "{failed:?}");
    assert_eq!(conflicts[&refused].reject_code.as_deref(), Some("not_cleared"));

    let notes = logged(&hub.all_changes().await, EntityKind::FollowUpNote);
    assert_eq!(notes.get(first.as_str()), Some(&1));
    assert_eq!(notes.get(last.as_str()), Some(&1));
    assert_eq!(notes.len(), 2, "the poisoned command never reached the hub");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_behind_the_compacted_log_reloads_the_snapshot_and_keeps_its_outbox() {
    let hub = TestHub::start(100).await;
    let proxy = Proxy::start(&hub.url).await;
    let counter = hub.counter().await;
    let client = counter.client_at(&proxy.url, options());
    client.catch_up(&Default::default()).await.unwrap();
    let codes = counter.project_codes(10);
    let outbox = client.outbox();
    proxy.cut();
    let mut running = Running::start(client);
    running.wait_status("offline", |s| s.state == SyncState::Offline).await;
    let queued = issue(&outbox, note(&codes[0], "压缩期间记录".into())).await;

    // While the counter is away the data centre moves on and compacts its log.
    hub.ingest("payments", hub.new_payments(&codes, 30, 11)).await;
    let horizon = hub.head().await;
    assert_eq!(hub.compact(horizon).await, horizon);
    let head = horizon;

    proxy.restore();
    let back = running.wait_status("back and drained", |s| s.cursor >= head && s.outbox.pending == 0).await;
    assert_eq!(back.outbox.conflicts, 0);
    let head = hub.head().await;
    running.wait_status("caught up", |s| s.cursor >= head).await;
    running.stop().await;
    counter.assert_matches(&hub, "after reloading past the horizon").await;
    let reloaded = counter.reader().meta().unwrap().snapshot_as_of.unwrap();
    assert!(reloaded >= horizon, "a new snapshot was loaded (as of {reloaded}, horizon {horizon})");
    let notes = logged(&hub.changes_since(horizon).await, EntityKind::FollowUpNote);
    assert_eq!(notes.get(queued.as_str()), Some(&1), "the note queued before the reload was delivered once");
    let compacted = hub.send(reqwest::Client::new().get(format!("{}/v1/changes?after=0", hub.url))).await;
    assert_eq!(compacted.status().as_u16(), 410, "a cursor behind the horizon is told so");
}
