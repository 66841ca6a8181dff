//! The store's contract, written once against [`Store`]: every backend runs this suite
//! unchanged through [`conformance_suite!`] (SQLite today; PostgreSQL must pass it as it
//! stands). Nothing here reaches behind the trait.

use std::collections::HashSet;

use futures_util::StreamExt;
use yizhan_core::command::{ClerkAction, Rejection};
use yizhan_core::document::DocumentKind;
use yizhan_core::entity::EntityKind;
use yizhan_sync::integrity::{ChainHash, RowDigest};
use yizhan_sync::protocol::{CommandEnvelope, FieldError, KeyRange, RangeSum};

use super::{Delivery, QuarantineItem, RowWrite, StateRow, Store, StoreError};

const CODE: &str = "2025-320115-47-01-000001";

fn row(key: &str, payload: &str) -> RowWrite {
    RowWrite { entity: EntityKind::Payment, key: key.into(), project_code: CODE.into(), payload: payload.into() }
}

async fn snapshot_rows(store: &dyn Store) -> Vec<StateRow> {
    let snapshot = store.snapshot(None).await.unwrap();
    snapshot.rows.collect::<Vec<_>>().await.into_iter().flat_map(|chunk| chunk.unwrap()).collect()
}

pub(crate) async fn state_and_log_are_written_together_with_gap_free_seq(store: &dyn Store) {
    let first = store.write("test", vec![row("a", "1"), row("b", "2")]).await.unwrap();
    assert_eq!((first.seqs.as_slice(), first.head), ([Some(1), Some(2)].as_slice(), 2));
    let second = store.write("test", vec![row("a", "10"), row("c", "3"), row("a", "11")]).await.unwrap();
    assert_eq!(second.seqs, [Some(3), Some(4), Some(5)], "a later row of the same call overwrites an earlier one");
    let a = store.get(EntityKind::Payment, "a").await.unwrap().unwrap();
    assert_eq!((a.version, a.seq, a.payload.as_str()), (3, 5, "11"));
    let log = store.changes_after(0, 100).await.unwrap();
    assert_eq!(log.iter().map(|c| c.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(log.iter().map(|c| c.version).collect::<Vec<_>>(), [1, 1, 2, 1, 3]);
    assert_eq!(store.changes_after(3, 1).await.unwrap()[0].seq, 4, "a page starts after the cursor");
    assert_eq!(store.head().await.unwrap(), 5);
}

pub(crate) async fn an_identical_payload_writes_nothing_and_wakes_nobody(store: &dyn Store) {
    store.write("test", vec![row("a", "1")]).await.unwrap();
    let mut head = store.subscribe();
    head.mark_unchanged();
    let again = store.write("test", vec![row("a", "1")]).await.unwrap();
    assert_eq!((again.head, again.changed(), again.unchanged()), (1, 0, 1));
    assert_eq!(store.get(EntityKind::Payment, "a").await.unwrap().unwrap().version, 1);
    assert!(!head.has_changed().unwrap(), "a write that changed nothing must not wake long-polls");
    // Equal as JSON is not identical: the bytes decide.
    let reordered = store.write("test", vec![row("a", " 1")]).await.unwrap();
    assert_eq!(reordered.seqs, [Some(2)]);
    assert!(head.has_changed().unwrap(), "a commit wakes long-polls");
}

pub(crate) async fn payload_bytes_are_kept_as_written(store: &dyn Store) {
    let payload = r#"{"b": 2,"a":"到账",  "n":1.50}"#;
    store.write("test", vec![row("p", payload)]).await.unwrap();
    assert_eq!(store.get(EntityKind::Payment, "p").await.unwrap().unwrap().payload, payload);
    assert_eq!(store.changes_after(0, 1).await.unwrap()[0].payload.as_deref(), Some(payload));
    assert_eq!(snapshot_rows(store).await[0].payload, payload);
    assert_eq!(store.project_rows(CODE).await.unwrap()[0].payload, payload);
}

pub(crate) async fn keys_are_ordered_bytewise(store: &dyn Store) {
    let keys = ["中", "B", "é", "a", "A", "b-1", "b"];
    store.write("test", keys.iter().map(|k| row(k, "1")).collect()).await.unwrap();
    let mut bytewise: Vec<&str> = keys.to_vec();
    bytewise.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    let snapshot: Vec<String> = snapshot_rows(store).await.into_iter().map(|r| r.key).collect();
    assert_eq!(snapshot, bytewise);
    let range = KeyRange { entity: EntityKind::Payment, after: Some("B".into()), upto: Some("é".into()) };
    let in_range: Vec<String> = store.range_rows(range, 100).await.unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(in_range, ["a", "b", "b-1", "é"]);
}

pub(crate) async fn every_change_is_chained_to_the_one_before(store: &dyn Store) {
    store.write("test", vec![row("a", "1"), row("b", "2")]).await.unwrap();
    store.write("test", vec![row("a", "3")]).await.unwrap();
    let log = store.changes_after(0, 100).await.unwrap();
    let mut chain = ChainHash::ZERO;
    for change in &log {
        chain = chain.link(&change.frame());
        assert_eq!(change.chain, chain, "seq {}", change.seq);
        assert_eq!(store.chain_at(change.seq).await.unwrap(), chain);
    }
    assert_eq!(store.chain_at(0).await.unwrap(), ChainHash::ZERO);
    let snapshot = store.snapshot(None).await.unwrap();
    assert_eq!((snapshot.position.as_of, snapshot.position.chain), (3, chain));
}

pub(crate) async fn compaction_keeps_the_horizon_and_the_chain_goes_on(store: &dyn Store) {
    for i in 0..5 {
        store.write("test", vec![row(&format!("k{i}"), &i.to_string())]).await.unwrap();
    }
    let chain_at_3 = store.chain_at(3).await.unwrap();
    assert_eq!(store.compact(3).await.unwrap(), 3);
    assert_eq!(store.compact(2).await.unwrap(), 3, "the horizon never goes back");
    assert_eq!(store.horizon().await.unwrap(), 3);
    assert!(matches!(store.changes_after(2, 10).await, Err(StoreError::BelowHorizon { after: 2, horizon: 3 })));
    let rest = store.changes_after(3, 10).await.unwrap();
    assert_eq!(rest.iter().map(|c| c.seq).collect::<Vec<_>>(), [4, 5]);
    assert_eq!(store.chain_at(3).await.unwrap(), chain_at_3);
    assert_eq!(store.compact(99).await.unwrap(), 5, "at most the head");
    assert_eq!(store.head().await.unwrap(), 5, "an empty log keeps its head");
    let written = store.write("test", vec![row("k9", "9")]).await.unwrap();
    assert_eq!(written.seqs, [Some(6)]);
    let next = &store.changes_after(5, 10).await.unwrap()[0];
    assert_eq!(next.chain, store.chain_at(5).await.unwrap().link(&next.frame()));
    assert_eq!(snapshot_rows(store).await.len(), 6, "the state is untouched");
}

pub(crate) async fn range_sums_count_and_digest_the_rows(store: &dyn Store) {
    store.write("test", vec![row("a", "1"), row("b", "2"), row("c", "3")]).await.unwrap();
    store.write("test", vec![row("b", "20")]).await.unwrap();
    let expected = |rows: &[(&str, u64, &str)]| {
        rows.iter().fold(RangeSum::default(), |sum, (key, version, payload)| {
            let d = RowDigest::of("payment", key, CODE, *version, payload);
            RangeSum { count: sum.count + 1, hi: sum.hi + d.hi, lo: sum.lo + d.lo }
        })
    };
    let whole = KeyRange::whole(EntityKind::Payment);
    let tail = KeyRange { entity: EntityKind::Payment, after: Some("a".into()), upto: None };
    let head = KeyRange { entity: EntityKind::Payment, after: None, upto: Some("b".into()) };
    let empty = KeyRange::whole(EntityKind::TaxClearance);
    let sums = store.range_sums(vec![whole, tail, head, empty]).await.unwrap();
    assert_eq!(
        sums,
        [
            expected(&[("a", 1, "1"), ("b", 2, "20"), ("c", 1, "3")]),
            expected(&[("b", 2, "20"), ("c", 1, "3")]),
            expected(&[("a", 1, "1"), ("b", 2, "20")]),
            RangeSum::default(),
        ]
    );
    let page: Vec<String> = store.range_rows(KeyRange::whole(EntityKind::Payment), 2).await.unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(page, ["a", "b"]);
}

fn envelope(id: &str, remark: &str) -> CommandEnvelope {
    CommandEnvelope {
        command_id: id.parse().unwrap(),
        device_id: "counter-03".parse().unwrap(),
        clerk: "王芳".into(),
        issued_at: time::macros::datetime!(2026-11-24 02:00 UTC),
        account: Some("clerk01".parse().unwrap()),
        base_seq: 0,
        action: ClerkAction::FinalCheck { project_code: CODE.parse().unwrap(), remark: remark.into() },
        signature: None,
    }
}

/// Records each run in the audit trail, as the hub does, with its outcome.
fn audited() -> super::CommandAudit {
    Box::new(|run: &super::CommandRun, tail: &super::AuditTail| super::AuditRecord {
        id: tail.id + 1,
        at: time::macros::datetime!(2026-11-24 02:00:01 UTC),
        local_at: Some(time::macros::datetime!(2026-11-24 02:00 UTC)),
        user: "clerk01".into(),
        role: "clerk".into(),
        device: "counter-03".into(),
        address: "10.0.0.3".into(),
        event: "clerk_command".into(),
        object: CODE.into(),
        result: if run.outcome.is_ok() { "success" } else { "failure" }.into(),
        reason: run.outcome.as_ref().err().map(|r| r.code.clone()).unwrap_or_default(),
        detail: serde_json::json!({"repeated": run.repeated}).to_string(),
        mac: format!("{}+1", tail.mac),
    })
}

async fn audited_reasons(store: &dyn Store) -> Vec<(u64, String, String)> {
    store.audit_after(0, 100).await.unwrap().into_iter().map(|r| (r.id, r.reason, r.detail)).collect()
}

pub(crate) async fn a_command_runs_once_per_id(store: &dyn Store) {
    store.write("test", vec![row("p", "1")]).await.unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let decide = |seen: std::sync::Arc<std::sync::Mutex<Vec<usize>>>| -> super::Decider {
        Box::new(move |rows: &[StateRow]| {
            seen.lock().unwrap().push(rows.len());
            Ok(Ok(vec![RowWrite { entity: EntityKind::FinalCheck, key: CODE.into(), project_code: CODE.into(), payload: "{}".into() }]))
        })
    };
    let first = store.run_command(envelope("c1", ""), decide(seen.clone()), audited()).await.unwrap();
    assert_eq!((first.outcome.clone(), first.repeated), (Ok(Some(2)), false));
    assert_eq!(*seen.lock().unwrap(), [1], "decided on the project's rows read in the transaction");
    let again = store.run_command(envelope("c1", ""), decide(seen.clone()), audited()).await.unwrap();
    assert_eq!((again.outcome, again.repeated), (first.outcome, true));
    assert_eq!(seen.lock().unwrap().len(), 1, "a repeated command is not decided again");
    let reused = store.run_command(envelope("c1", "另一条"), decide(seen.clone()), audited()).await.unwrap();
    assert!(matches!(reused.outcome, Err(ref r) if r.code == "command_id_reused"), "{reused:?}");
    assert_eq!(store.head().await.unwrap(), 2);

    let refuse: super::Decider = Box::new(|_| Ok(Err(Rejection::new("not_cleared", "尚未完费"))));
    let refused = store.run_command(envelope("c2", ""), refuse, audited()).await.unwrap();
    assert!(matches!(refused.outcome, Err(ref r) if r.code == "not_cleared"));
    let refuse_again: super::Decider = Box::new(|_| panic!("a recorded rejection is answered, not decided again"));
    assert!(store.run_command(envelope("c2", ""), refuse_again, audited()).await.unwrap().repeated);
    assert_eq!(store.head().await.unwrap(), 2, "a rejection writes no change");
    let first = |repeated: bool| serde_json::json!({"repeated": repeated}).to_string();
    assert_eq!(
        audited_reasons(store).await,
        [
            (1, String::new(), first(false)),
            (2, String::new(), first(true)),
            (3, "command_id_reused".into(), first(false)),
            (4, "not_cleared".into(), first(false)),
            (5, "not_cleared".into(), first(true)),
        ],
        "every arrival of a command is in the audit trail, chained in order"
    );
}

pub(crate) async fn a_failed_decision_or_update_writes_nothing(store: &dyn Store) {
    store.write("test", vec![row("a", "1")]).await.unwrap();
    let failing: super::Decider = Box::new(|_| Err(StoreError::Corrupt("决定时出错".into())));
    assert!(store.run_command(envelope("c1", ""), failing, audited()).await.is_err());
    assert!(audited_reasons(store).await.is_empty(), "a command that failed is not recorded as run");
    let decided: super::Decider = Box::new(|_| Ok(Ok(vec![row("b", "1")])));
    store.run_command(envelope("c0", ""), decided, audited()).await.unwrap();
    let head = store.head().await.unwrap();
    // Chained to no record, so its id is taken: the trail refuses it.
    let unwritable: super::CommandAudit = Box::new(|run, _| audited()(run, &super::AuditTail::default()));
    let decided: super::Decider = Box::new(|_| Ok(Ok(vec![row("b", "3")])));
    assert!(store.run_command(envelope("c9", ""), decided, unwritable).await.is_err(), "a command whose audit record cannot be written fails");
    assert_eq!(store.head().await.unwrap(), head, "and writes nothing");
    let retried: super::Decider = Box::new(|_| Ok(Ok(vec![row("b", "2")])));
    assert!(!store.run_command(envelope("c1", ""), retried, audited()).await.unwrap().repeated, "a failed command left no record");

    let mut calls = 0;
    let update: super::Updater = Box::new(move |code, rows| {
        assert_eq!((code, rows.len()), (CODE, 1));
        calls += 1;
        if calls == 2 {
            return Err(StoreError::Corrupt("第二个项目出错".into()));
        }
        Ok(vec![row("c", "3")])
    });
    let head = store.head().await.unwrap();
    assert!(store.update_projects("alerts", vec![CODE.into(), CODE.into()], update).await.is_err());
    assert_eq!(store.head().await.unwrap(), head, "the first project's writes went with the failure");
    assert!(store.get(EntityKind::Payment, "c").await.unwrap().is_none());
}

pub(crate) async fn a_delivery_is_written_whole_with_its_position(store: &dyn Store) {
    store.write("test", vec![row("gone", "1")]).await.unwrap();
    let problem = FieldError { record: 0, source_id: Some("P-2".into()), field: "residential_area_m2".into(), problem: "面积应为非负数".into() };
    let bad = || QuarantineItem { source: "planning".into(), source_id: Some("P-2".into()), location: "LSN 0/2".into(), record: "{\"a\":1}".into(), problems: vec![problem.clone()] };
    let delivery = || Delivery {
        connector: "planning-cdc".into(),
        kind: super::ConnectorKind::PostgresCdc,
        origin: "cdc:planning".into(),
        rows: vec![row("new", "1")],
        removals: vec![(EntityKind::Payment, "gone".into()), (EntityKind::Payment, "never".into())],
        quarantine: vec![bad()],
        received: 3,
        applied: 2,
        position: Some("0/2".into()),
        newest_source_at: None,
    };
    let delivered = store.deliver(delivery()).await.unwrap();
    assert_eq!((delivered.written.seqs.as_slice(), delivered.removed.as_slice(), delivered.quarantined), ([Some(2)].as_slice(), [Some(3), None].as_slice(), 1));
    assert_eq!(store.connector_position("planning-cdc").await.unwrap().as_deref(), Some("0/2"));
    assert!(store.get(EntityKind::Payment, "gone").await.unwrap().is_none());
    let delete = &store.changes_after(2, 10).await.unwrap()[0];
    assert_eq!((delete.op, delete.version, delete.payload.as_deref()), (yizhan_sync::protocol::Op::Delete, 1, None));
    let again = store.deliver(delivery()).await.unwrap();
    assert_eq!((again.written.changed(), again.removed.as_slice(), again.quarantined), (0, [None, None].as_slice(), 0), "a redelivery adds nothing");
    let listed = store.quarantine(Some(yizhan_sync::protocol::QuarantineState::Open), Some("planning-cdc".into()), 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    let dismissed = super::QuarantineClosing::Dismissed;
    assert!(store.close_quarantine(listed[0].id, dismissed, "数据中心-王敏", "重复").await.unwrap());
    assert!(!store.close_quarantine(listed[0].id, dismissed, "数据中心-王敏", "重复").await.unwrap(), "closed once");
    let closed = store.quarantined(listed[0].id).await.unwrap().unwrap();
    assert_eq!((closed.state, closed.closed_by.as_deref()), (yizhan_sync::protocol::QuarantineState::Dismissed, Some("数据中心-王敏")));
}

pub(crate) async fn segments_never_overlap(store: &dyn Store) {
    let a = store.allocate_segment("counter-01", DocumentKind::Voucher, 200).await.unwrap();
    let b = store.allocate_segment("counter-02", DocumentKind::Voucher, 50).await.unwrap();
    let c = store.allocate_segment("counter-01", DocumentKind::Invoice, 10).await.unwrap();
    assert_eq!((a.first, a.last, b.first, b.last, c.first, c.last), (1, 200, 201, 250, 1, 10));
    assert_eq!(store.segment_owner(DocumentKind::Voucher, 200).await.unwrap().as_deref(), Some("counter-01"));
    assert_eq!(store.segment_owner(DocumentKind::Voucher, 201).await.unwrap().as_deref(), Some("counter-02"));
    assert_eq!(store.segment_owner(DocumentKind::Voucher, 251).await.unwrap(), None);
}

pub(crate) async fn projects_are_known_by_their_project_row(store: &dyn Store) {
    let project = RowWrite { entity: EntityKind::Project, key: "C1".into(), project_code: "C1".into(), payload: "{}".into() };
    store.write("test", vec![project, row("p", "1")]).await.unwrap();
    assert_eq!(store.known_projects(vec!["C1".into(), "C2".into(), CODE.into()]).await.unwrap(), HashSet::from(["C1".to_owned()]));
    assert_eq!(store.project_rows(CODE).await.unwrap().len(), 1);
}

pub(crate) async fn a_notification_is_queued_once_and_given_up_after_its_attempts(store: &dyn Store) {
    store.queue_notification("issued/PZ1", CODE, "13812341234", "票据已开具").await.unwrap();
    store.queue_notification("issued/PZ1", CODE, "13812341234", "票据已开具").await.unwrap();
    let pending = store.pending_notifications(10).await.unwrap();
    assert_eq!(pending.len(), 1);
    store.notification_attempted(pending[0].id, Some("短信网关超时".into()), 2).await.unwrap();
    assert_eq!(store.pending_notifications(10).await.unwrap().len(), 1, "tried again");
    store.notification_attempted(pending[0].id, Some("短信网关超时".into()), 2).await.unwrap();
    let listed = store.notifications(CODE).await.unwrap();
    assert_eq!((listed[0].state, listed[0].attempts), (super::NotificationState::Failed, 2));
    assert!(store.pending_notifications(10).await.unwrap().is_empty());
}

pub(crate) async fn an_import_keeps_only_the_last_files_bytes(store: &dyn Store) {
    store.record_import("sum-1", "planning-file", "a.csv", "{}".into(), b"one".to_vec()).await.unwrap();
    store.record_import("sum-2", "planning-file", "b.csv", "{}".into(), b"two".to_vec()).await.unwrap();
    assert_eq!(store.imported_file("sum-1").await.unwrap().as_deref(), Some("{}"));
    assert_eq!(store.imported_file("sum-3").await.unwrap(), None);
    assert_eq!(store.last_import("planning-file").await.unwrap(), Some(super::ImportedFile { file_name: "b.csv".into(), bytes: b"two".to_vec() }));
}

pub(crate) async fn a_counter_keeps_only_its_latest_report(store: &dyn Store) {
    store.record_counter("counter-02", "{\"n\":1}".into()).await.unwrap();
    store.record_counter("counter-01", "{\"n\":1}".into()).await.unwrap();
    store.record_counter("counter-02", "{\"n\":2}".into()).await.unwrap();
    let kept: Vec<String> = store.counters().await.unwrap().into_iter().map(|k| k.report).collect();
    assert_eq!(kept, ["{\"n\":1}", "{\"n\":2}"], "one per counter, by device id, the latest");
}

/// An alert row as the alert desk writes it.
fn alert(project: &str, subject: &str, level: &str, state: &str, respond_by: &str) -> RowWrite {
    let alert = serde_json::json!({
        "rule_id": "r", "subject": subject, "project_code": project, "department": "收费窗口", "owner_role": "clerk",
        "raised_level": "yellow", "level": level, "message": "m", "raised_at": "2026-11-24T00:00:00Z",
        "respond_by": respond_by, "state": state,
    });
    let parsed: yizhan_core::alert::Alert = serde_json::from_value(alert).expect("a well-formed alert");
    RowWrite::upsert(EntityKind::Alert, parsed.key(), project, &parsed)
}

pub(crate) async fn alerts_are_found_by_what_the_desk_asks_of_them(store: &dyn Store) {
    use time::macros::datetime;
    store
        .write(
            "alerts",
            vec![
                alert("P-DUE", "project/P-DUE", "yellow", "open", "2026-11-24T08:00:00Z"),
                alert("P-LATER", "project/P-LATER", "yellow", "open", "2026-11-25T08:00:00Z"),
                alert("P-TAKEN", "project/P-TAKEN", "orange", "acknowledged", "2026-11-24T01:00:00Z"),
                alert("P-RED", "project/P-RED", "red", "open", "2026-11-24T01:00:00Z"),
                alert("P-DONE", "project/P-DONE", "yellow", "resolved", "2026-11-24T01:00:00Z"),
                alert("", "connector/planning-cdc", "red", "acknowledged", "2026-12-31T00:00:00Z"),
            ],
        )
        .await
        .unwrap();
    let mut due = store.alert_projects_to_tick(datetime!(2026-11-24 09:00 UTC)).await.unwrap();
    due.sort();
    assert_eq!(due, ["", "P-DUE"], "the system's alerts, and only those the clock changes now");
    let mut counts: Vec<(yizhan_core::alert::AlertLevel, u64)> =
        store.open_alert_counts().await.unwrap().into_iter().map(|o| (o.level, o.count)).collect();
    counts.sort();
    use yizhan_core::alert::AlertLevel::*;
    assert_eq!(counts, [(Yellow, 2), (Orange, 1), (Red, 2)], "resolved alerts are not counted");
    store.write("alerts", vec![alert("P-DUE", "project/P-DUE", "yellow", "resolved", "2026-11-24T08:00:00Z")]).await.unwrap();
    assert_eq!(store.alert_projects_to_tick(datetime!(2026-11-24 09:00 UTC)).await.unwrap(), [""], "what is resolved leaves the tick");
}

/// A counter's audit records as the hub's builder makes them: those after `held`, when
/// they continue from it.
fn counter_records(seqs: std::ops::RangeInclusive<u64>) -> super::CounterAuditBuilder {
    Box::new(move |held, tail| {
        if *seqs.start() != held + 1 {
            return (Vec::new(), held);
        }
        let mut mac = tail.mac.clone();
        let records = seqs
            .clone()
            .enumerate()
            .map(|(i, seq)| {
                mac = format!("{mac}+{seq}");
                super::AuditRecord {
                    id: tail.id + 1 + i as u64,
                    at: time::macros::datetime!(2026-11-24 02:00:01 UTC),
                    local_at: Some(time::macros::datetime!(2026-11-24 01:00 UTC)),
                    user: "clerk01".into(),
                    role: "clerk".into(),
                    device: "counter-03".into(),
                    address: "10.0.0.3".into(),
                    event: "document_printed".into(),
                    object: format!("JF-2026-{seq:06}"),
                    result: "success".into(),
                    reason: String::new(),
                    detail: String::new(),
                    mac: mac.clone(),
                }
            })
            .collect();
        (records, *seqs.end())
    })
}

pub(crate) async fn a_counters_audit_trail_is_taken_once_each_in_order(store: &dyn Store) {
    assert_eq!(store.append_counter_audit("counter-03".into(), counter_records(1..=2)).await.unwrap(), 2);
    assert_eq!(store.append_counter_audit("counter-03".into(), counter_records(1..=2)).await.unwrap(), 2, "a repeat adds nothing");
    assert_eq!(store.append_counter_audit("counter-03".into(), counter_records(5..=6)).await.unwrap(), 2, "nor does a gap");
    assert_eq!(store.append_counter_audit("counter-07".into(), counter_records(1..=1)).await.unwrap(), 1, "each counter has its own numbers");
    assert_eq!(store.append_counter_audit("counter-03".into(), counter_records(3..=3)).await.unwrap(), 3);
    let trail = store.audit_after(0, 100).await.unwrap();
    assert_eq!(
        trail.iter().map(|r| (r.id, r.object.as_str())).collect::<Vec<_>>(),
        [(1, "JF-2026-000001"), (2, "JF-2026-000002"), (3, "JF-2026-000001"), (4, "JF-2026-000003")],
        "chained on the one trail in the order taken"
    );
    assert_eq!(trail[3].mac, format!("{}+3", trail[2].mac));
}

/// Runs every test of the contract against a backend: `$open` is an expression giving a
/// fresh store (and whatever must live as long as it, such as its folder).
macro_rules! conformance_suite {
    ($open:expr) => {
        mod conformance {
            use super::*;
            $crate::store::conformance::conformance_suite!(@tests $open;
                state_and_log_are_written_together_with_gap_free_seq,
                an_identical_payload_writes_nothing_and_wakes_nobody,
                payload_bytes_are_kept_as_written,
                keys_are_ordered_bytewise,
                every_change_is_chained_to_the_one_before,
                compaction_keeps_the_horizon_and_the_chain_goes_on,
                range_sums_count_and_digest_the_rows,
                a_command_runs_once_per_id,
                a_failed_decision_or_update_writes_nothing,
                a_delivery_is_written_whole_with_its_position,
                segments_never_overlap,
                projects_are_known_by_their_project_row,
                a_notification_is_queued_once_and_given_up_after_its_attempts,
                an_import_keeps_only_the_last_files_bytes,
                alerts_are_found_by_what_the_desk_asks_of_them,
                a_counter_keeps_only_its_latest_report,
                a_counters_audit_trail_is_taken_once_each_in_order,
            );
        }
    };
    (@tests $open:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_keep, store) = $open;
                crate::store::conformance::$name(&store).await;
            }
        )*
    };
}
pub(crate) use conformance_suite;
