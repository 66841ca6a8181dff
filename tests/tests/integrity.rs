//! What the hub sends is checked before it is applied: a batch altered on the way stops
//! the counter at its last verified state, raises the red integrity alert, and the
//! counter repairs itself from a fresh snapshot, its outbox intact.

use yizhan_core::command::ClerkAction;
use yizhan_sync::status::SyncState;
// The counters here issue no documents: each test compares the replica with the hub's head,
// which a PC's first number segment would move (its key goes to the log with it).
use yizhan_tests::counter::options_issuing_nothing as options;
use yizhan_tests::counter::{Running, issuer};
use yizhan_tests::front::TamperingFront;
use yizhan_tests::hub::TestHub;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_altered_on_the_way_is_refused_alerted_and_repaired() {
    let hub = TestHub::start(80).await;
    let front = TamperingFront::start(&hub.url).await;
    let counter = hub.counter().await;
    let client = counter.client_at(&front.url, options());
    client.catch_up(&Default::default()).await.expect("first snapshot through the front");
    // The counter registers its key first, as it does on coming online, and hears of it:
    // the batch altered below must be the payment's, not the registration's.
    client.tend_documents(&Default::default()).await.expect("the key registered");
    client.catch_up(&Default::default()).await.expect("the registration heard of");
    let codes = counter.project_codes(3);
    let before = counter.reader().get_project(&codes[0]).unwrap().unwrap();
    let outbox = client.outbox();
    let mut running = Running::start(client);
    running.wait_status("online", |s| s.state == SyncState::Online).await;

    front.alter_next_amount();
    hub.ingest("payments", hub.new_payments(&codes[..1], 1, 3)).await;
    let alert = running.wait_status("the integrity alert", |s| s.integrity.alert).await;
    let reason = alert.integrity.reason.clone().unwrap();
    assert!(reason.contains("哈希链不符"), "{reason}");
    assert!(alert.integrity.detected_at.is_some());

    // Until the repair, nothing of the altered batch is on screen; the clerk can still work.
    let during = counter.reader().get_project(&codes[0]).unwrap().unwrap();
    assert_eq!(during.payments, before.payments);
    outbox
        .issue(ClerkAction::FollowUpNote { project_code: codes[1].clone(), text: "告警期间记录".into() }, &issuer("clerk01"))
        .await
        .expect("commands are still taken");

    let repaired = running
        .wait_status("the repair", |s| !s.integrity.alert && s.integrity.repaired_at.is_some())
        .await;
    assert_eq!(repaired.integrity.reason, alert.integrity.reason, "the alert stays on record");
    let head = hub.head().await;
    running.wait_status("caught up", |s| s.cursor >= head && s.outbox.pending == 0).await;
    running.stop().await;
    counter.assert_matches(&hub, "after the repair").await;
    let after = counter.reader().get_project(&codes[0]).unwrap().unwrap();
    assert_eq!(after.payments.len(), before.payments.len() + 1, "the real payment arrived");
    let noted = counter.reader().get_project(&codes[1]).unwrap().unwrap();
    assert_eq!(noted.notes.len(), 1, "the outbox survived the repair and was delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_altered_behind_the_apps_back_are_found_and_repaired_by_reconciliation() {
    let hub = TestHub::start(300).await;
    let counter = hub.counter().await;
    let client = counter.client(&hub, options());
    client.catch_up(&Default::default()).await.unwrap();

    let clean = client.reconcile(&Default::default()).await.unwrap();
    assert_eq!(clean.rows_repaired, 0);
    let (_, rows) = hub.snapshot().await;
    assert_eq!(clean.rows_compared, rows.len() as u64);

    // Someone edits the replica file with a SQLite tool: an amount changed, a payment
    // removed, a row invented.
    let db = rusqlite::Connection::open(&counter.path).unwrap();
    let altered = db
        .execute(
            "UPDATE rows SET payload = replace(payload, '\"amount_fen\":', '\"amount_fen\":9') \
             WHERE rowid IN (SELECT rowid FROM rows WHERE entity = 'payment' ORDER BY key LIMIT 3)",
            [],
        )
        .unwrap();
    assert_eq!(altered, 3);
    db.execute("DELETE FROM rows WHERE rowid = (SELECT rowid FROM rows WHERE entity = 'payment' ORDER BY key DESC LIMIT 1)", [])
        .unwrap();
    db.execute(
        "INSERT INTO rows (entity, key, project_code, version, seq, committed_at, payload) \
         SELECT entity, key || '-x', project_code, version, seq, committed_at, payload FROM rows \
         WHERE entity = 'tax_clearance' LIMIT 1",
        [],
    )
    .unwrap();
    drop(db);

    let repaired = client.reconcile(&Default::default()).await.unwrap();
    assert_eq!(repaired.rows_repaired, 5, "{repaired:?}");
    assert_eq!(client.status().borrow().reconcile.as_ref(), Some(&repaired));
    counter.assert_matches(&hub, "after reconciliation").await;
    let shipped = repaired.bytes_received + repaired.bytes_sent;
    let whole: usize = rows.iter().map(|r| serde_json::to_vec(r).unwrap().len()).sum();
    assert!(shipped * 10 < whole as u64, "reconciliation exchanged {shipped} bytes for a {whole}-byte state");
    eprintln!("reconciled {} rows, repaired 5, {} ranges, {shipped} bytes", repaired.rows_compared, repaired.ranges_compared);
    // The data centre's operators see it too.
    let status: yizhan_sync::protocol::HubStatus =
        hub.send(reqwest::Client::new().get(format!("{}/v1/status", hub.url))).await.json().await.unwrap();
    let device_id = counter.reader().meta().unwrap().device_id.unwrap();
    let standing = status.counters.iter().find(|c| c.report.device_id == device_id.as_str()).expect("the counter reported");
    assert_eq!(standing.report.reconcile.as_ref().map(|r| r.rows_repaired), Some(5));
    assert_eq!(client.reconcile(&Default::default()).await.unwrap().rows_repaired, 0, "nothing left to repair");
}
