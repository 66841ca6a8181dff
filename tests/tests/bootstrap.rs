//! A counter loading the hub's snapshot over a network that breaks: the load goes on from
//! the last row it kept instead of starting over, and ends with the hub's state.

use yizhan_core::code::ProjectCode;
use yizhan_core::entity::EntityKind;
use yizhan_sync::status::SyncState;
// The counters here issue no documents: each test compares the replica with the hub's head,
// which a PC's first number segment would move (its key goes to the log with it).
use yizhan_tests::counter::options_issuing_nothing as options;
use yizhan_tests::counter::Running;
use yizhan_tests::hub::TestHub;
use yizhan_tests::proxy::Proxy;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_cut_off_twice_resumes_where_it_broke_off() {
    let hub = TestHub::start(1_500).await;
    let proxy = Proxy::start(&hub.url).await;
    let counter = hub.counter().await;
    // The first two snapshot answers break off part way.
    proxy.cut_next_answers(2, 150_000);
    let client = counter.client_at(&proxy.url, options());
    let mut running = Running::start(client);
    // The departments go on while the counter loads.
    let (_, rows) = hub.snapshot().await;
    let codes: Vec<ProjectCode> = rows.iter().filter(|r| r.entity == EntityKind::Project).take(20).map(|r| r.key.parse().unwrap()).collect();
    hub.ingest("payments", hub.new_payments(&codes, 20, 1)).await;
    let head = hub.head().await;
    running.wait_status("caught up", |s| s.state == SyncState::Online && s.cursor >= head).await;
    running.stop().await;

    let snapshots: Vec<String> = proxy.requests().into_iter().filter(|r| r.contains("/v1/snapshot")).collect();
    assert!(snapshots.len() >= 3, "{snapshots:?}");
    assert!(!snapshots[0].contains("after_key"), "the first asks for the whole: {snapshots:?}");
    for rest in &snapshots[1..] {
        assert!(rest.contains("after_entity=") && rest.contains("after_key="), "asks for the rest: {snapshots:?}");
    }
    assert_ne!(snapshots[1], snapshots[2], "each attempt goes on from further along");
    counter.assert_matches(&hub, "the counter whose load broke off twice").await;
}
