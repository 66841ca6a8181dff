//! A counter's replica against a real hub over HTTP, both in this process: bootstrap,
//! live changes, restarts of either side, and a repeated ingest.

use tokio_util::sync::CancellationToken;
use yizhan_sync::client::ClientOptions;
use yizhan_sync::replica::ProjectQuery;
use yizhan_sync::status::SyncState;
use yizhan_tests::counter::Running;
use yizhan_tests::hub::TestHub;
use yizhan_tests::replica::{assert_consistent, replica_state};

use yizhan_tests::counter::options_issuing_nothing as options;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_bootstrapped_from_a_seeded_hub_holds_exactly_its_snapshot() {
    let hub = TestHub::start(300).await;
    let counter = hub.counter().await;
    let client = counter.client(&hub, options());
    let status = client.status();
    let cursor = client.catch_up(&CancellationToken::new()).await.expect("catch up");

    assert_eq!(cursor, hub.head().await);
    counter.assert_matches(&hub, "after bootstrap").await;
    let page = counter
        .reader()
        .list_projects(&ProjectQuery {
            limit: 10,
            ..ProjectQuery::default()
        })
        .unwrap();
    assert_eq!((page.total, page.counts.all), (300, 300), "one view per demo project");
    assert!(
        page.counts.cleared > 0 && page.counts.due + page.counts.partly_paid > 0,
        "{:?}",
        page.counts
    );

    let status = status.borrow().clone();
    assert_eq!(
        (
            status.state,
            status.cursor,
            status.hub_head,
            status.lag_changes,
            status.lag_seconds
        ),
        (SyncState::Online, cursor, Some(cursor), Some(0), Some(0))
    );
    assert!(status.last_success.is_some() && status.last_error.is_none() && status.bootstrap.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_ingested_at_the_hub_reaches_the_running_replica() {
    let hub = TestHub::start(50).await;
    let counter = hub.counter().await;
    let mut running = Running::start(counter.client(&hub, options()));
    running.wait_status("online", |s| s.state == SyncState::Online).await;

    let code = counter.project_codes(1).remove(0);
    let payments = hub.new_payments(std::slice::from_ref(&code), 1, 0);
    let report = hub.ingest("payments", payments.clone()).await;
    assert_eq!(report.changed, 1);

    let changed = running
        .wait_changed("the payment's batch", |c| c.project_codes.iter().any(|p| *p == code.as_str()))
        .await;
    assert_eq!(
        changed,
        yizhan_sync::status::ReplicaChanged {
            cursor: report.head,
            project_codes: vec![code.to_string()]
        }
    );
    let detail = counter.reader().get_project(&code).unwrap().expect("the project");
    assert_eq!(
        detail.timeline[0].key, payments[0].payment_id,
        "the timeline starts with the new payment"
    );
    assert!(detail.payments.iter().any(|p| p.payment_id == payments[0].payment_id));
    let status = running.wait_status("caught up", |s| s.cursor == report.head).await;
    assert_eq!((status.state, status.lag_changes), (SyncState::Online, Some(0)));
    running.stop().await;
    counter.assert_matches(&hub, "after a live payment").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_stopped_mid_stream_resumes_from_its_cursor() {
    let hub = TestHub::start(50).await;
    let counter = hub.counter().await;
    let base = counter.catch_up(&hub).await;
    let codes = counter.project_codes(50);
    for round in 0..6 {
        hub.ingest("payments", hub.new_payments(&codes, 500, round * 1_000))
            .await;
    }
    let head = hub.head().await;

    let mut running = Running::start(counter.client(
        &hub,
        ClientOptions {
            batch_limit: 100,
            ..options()
        },
    ));
    running.wait_changed("a first batch", |_| true).await;
    running.stop().await;
    let log = hub.all_changes().await;
    let cursor = assert_consistent(&counter.path, &log, "stopped mid-stream").expect("a cursor");
    assert!(
        base < cursor && cursor < head,
        "stopped mid-stream: {base} < {cursor} < {head}"
    );

    assert_eq!(counter.catch_up(&hub).await, head);
    counter.assert_matches(&hub, "resumed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_hub_restart_the_client_reconnects_and_catches_up() {
    let mut hub = TestHub::start(50).await;
    let counter = hub.counter().await;
    let mut running = Running::start(counter.client(&hub, options()));
    running.wait_status("online", |s| s.state == SyncState::Online).await;

    hub.stop().await;
    let offline = running.wait_status("offline", |s| s.state == SyncState::Offline).await;
    assert!(
        offline
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("无法连接数据中心")),
        "{offline:?}"
    );

    hub.restart().await;
    let codes = counter.project_codes(5);
    let report = hub.ingest("payments", hub.new_payments(&codes, 10, 0)).await;
    let status = running
        .wait_status("back in step", |s| {
            s.state == SyncState::Online && s.cursor == report.head
        })
        .await;
    assert!(status.last_error.is_none());
    running.stop().await;
    counter.assert_matches(&hub, "after the hub restarted").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_sent_twice_changes_nothing_the_second_time() {
    let hub = TestHub::start(50).await;
    let counter = hub.counter().await;
    counter.catch_up(&hub).await;
    let payments = hub.new_payments(&counter.project_codes(10), 20, 0);

    let first = hub.ingest("payments", payments.clone()).await;
    assert_eq!(first.changed, 20);
    assert_eq!(counter.catch_up(&hub).await, first.head);
    let before = replica_state(&counter.path);

    let second = hub.ingest("payments", payments).await;
    assert_eq!((second.changed, second.unchanged, second.head), (0, 20, first.head));
    assert_eq!(counter.catch_up(&hub).await, first.head);
    assert_eq!(
        replica_state(&counter.path),
        before,
        "the repeat must leave cursor and rows as they were"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_of_a_rebuilt_hub_loads_the_new_snapshot() {
    let mut hub = TestHub::start(50).await;
    let counter = hub.counter().await;
    let old_cursor = counter.catch_up(&hub).await;
    hub.rebuild(10).await;
    assert!(
        hub.head().await < old_cursor,
        "the rebuilt hub's log is shorter than what the counter applied"
    );

    assert_eq!(counter.catch_up(&hub).await, hub.head().await);
    counter.assert_matches(&hub, "after the rebuild").await;
    let page = counter
        .reader()
        .list_projects(&ProjectQuery {
            limit: 50,
            ..ProjectQuery::default()
        })
        .unwrap();
    assert_eq!(page.total, 10, "only the rebuilt hub's projects remain");
}
