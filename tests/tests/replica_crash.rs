//! The counter's sync client killed with SIGKILL while it writes, as in a power cut: the
//! replica must come back at a whole-batch cursor (or empty, mid-snapshot) holding exactly
//! the hub's state as of that cursor, and converge to the hub with nothing missing or
//! repeated. Each kill is checked to have landed inside a transaction (the WAL then holds
//! frames after its last commit) or, in a snapshot loaded part by part, between two parts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use yizhan_core::code::ProjectCode;
use yizhan_core::id::CommandId;
use tempfile::TempDir;
use yizhan_tests::hub::TestHub;
use yizhan_tests::replica::{assert_consistent, assert_same_state, replica_state, state_of};
use yizhan_tests::wait_until;
use yizhan_tests::worker::{Worker, file_len, uncommitted_wal_frames, wal_path};

const WORKER: &str = env!("CARGO_BIN_EXE_yizhan-replica-worker");
const WITHIN: Duration = Duration::from_secs(120);
const MIB: u64 = 1 << 20;

struct Counter {
    dir: TempDir,
    db: PathBuf,
}

impl Counter {
    /// A PC enrolled at `hub` with the suites' key.
    async fn enrolled(hub: &TestHub) -> Counter {
        let dir = TempDir::new().unwrap();
        let db = dir.path().join("replica.sqlite3");
        hub.enrol_replica(&db, &yizhan_tests::counter::COUNTER_KEY).await;
        Counter { dir, db }
    }

    fn worker(&self, hub: &TestHub, args: &[&str]) -> Worker {
        // The suites' counter key, registered before the notes it signed go up.
        let key = self.dir.path().join("counter.key");
        std::fs::write(&key, yizhan_tests::counter::COUNTER_KEY.secret_hex()).unwrap();
        let key = key.to_str().unwrap().to_owned();
        let mut all = vec!["--counter-key", key.as_str()];
        all.extend_from_slice(args);
        Worker::spawn(WORKER, &self.db, &hub.url, &all, self.dir.path())
    }

    /// Runs the worker until it has caught up with the hub.
    fn catch_up(&self, hub: &TestHub) {
        tokio::task::block_in_place(|| self.worker(hub, &["--once"]).finish(WITHIN));
    }

    /// Starts a worker and SIGKILLs it once the WAL has grown by `grown` bytes; `false`
    /// when the worker finished before that.
    fn kill_when_wal_grows(&self, hub: &TestHub, args: &[&str], grown: u64) -> bool {
        let wal = wal_path(&self.db);
        let start = file_len(&wal);
        let mut worker = self.worker(hub, args);
        tokio::task::block_in_place(|| {
            wait_until(WITHIN, "the worker to write or finish", || {
                file_len(&wal) > start + grown || worker.exited().is_some()
            });
            if worker.exited().is_some() {
                return false;
            }
            worker.kill();
            true
        })
    }
}

/// Whether a snapshot load was under way in the replica at `db`. Opening the file recovers
/// it: read [`uncommitted_wal_frames`] first.
fn load_begun(db: &Path) -> bool {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM snapshot_load", [], |r| r.get::<_, i64>(0)).unwrap() > 0
}

async fn assert_matches_hub(db: &Path, hub: &TestHub, context: &str) {
    let (header, rows) = hub.snapshot().await;
    let (cursor, state) = replica_state(db);
    assert_eq!(cursor, Some(header.as_of), "{context}: cursor");
    assert_same_state(&state, &state_of(rows), context);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_snapshot_the_replica_stays_empty_then_loads_whole() {
    let hub = TestHub::start(20_000).await;
    let counter = Counter::enrolled(&hub).await;

    assert!(
        counter.kill_when_wal_grows(&hub, &["--once"], 4 * MIB),
        "the snapshot loaded before the kill"
    );
    // The load commits part by part, so that a cut-off one goes on where it stopped: the
    // kill lands inside a part's transaction, or between two parts with the load begun.
    let torn = uncommitted_wal_frames(&counter.db) > 0;
    assert!(torn || load_begun(&counter.db), "the kill must land inside the snapshot's load");
    let log = hub.all_changes().await;
    assert_eq!(
        assert_consistent(&counter.db, &log, "killed mid-snapshot"),
        None,
        "no cursor without a whole snapshot"
    );

    counter.catch_up(&hub);
    assert_matches_hub(&counter.db, &hub, "after the restart").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_batch_the_replica_keeps_whole_batches_then_converges() {
    let hub = TestHub::start(2_000).await;
    let counter = Counter::enrolled(&hub).await;
    counter.catch_up(&hub);
    let (_, state) = replica_state(&counter.db);
    // Rows of the system (the document settings) belong to no project.
    let codes: Vec<ProjectCode> = state
        .values()
        .filter(|r| !r.project_code.is_empty())
        .map(|r| r.project_code.parse().unwrap())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for round in 0..20 {
        hub.ingest("payments", hub.new_payments(&codes, 2_000, round * 10_000))
            .await;
    }
    let log = hub.all_changes().await;
    let head = log.last().expect("a change log").seq;

    let mut torn = 0;
    let mut cursors = Vec::new();
    for attempt in 1..=6 {
        if !counter.kill_when_wal_grows(&hub, &["--once", "--limit", "10000"], attempt * MIB / 2) {
            break;
        }
        torn += u64::from(uncommitted_wal_frames(&counter.db) > 0);
        let context = format!("after kill {attempt}");
        cursors.push(assert_consistent(&counter.db, &log, &context).expect("a cursor"));
    }
    assert!(
        torn > 0,
        "no kill landed inside a batch's transaction (cursors after each kill: {cursors:?})"
    );
    assert!(
        cursors.windows(2).all(|w| w[0] <= w[1]),
        "the cursor never goes back: {cursors:?}"
    );

    counter.catch_up(&hub);
    assert_eq!(replica_state(&counter.db).0, Some(head));
    assert_matches_hub(&counter.db, &hub, "after the last restart").await;
}

/// Notes on the first projects of the replica, queued in its outbox as the app queues them.
fn queue_notes(db: &Path, count: usize) -> Vec<CommandId> {
    let codes = yizhan_tests::bench::project_codes(db);
    let mut replica = yizhan_sync::replica::Replica::open(db).unwrap();
    (0..count)
        .map(|i| {
            let action = yizhan_core::command::ClerkAction::FollowUpNote {
                project_code: codes[i % codes.len()].clone(),
                text: format!("断电测试第{i}条"),
            };
            replica.issue(action, &yizhan_tests::counter::issuer("clerk01"), time::OffsetDateTime::now_utc()).unwrap().command_id
        })
        .collect()
}

/// Every queued note is at the hub exactly once and the outbox is empty.
async fn assert_delivered_once(db: &Path, hub: &TestHub, notes: &[CommandId]) {
    let mut at_hub = std::collections::HashMap::<String, usize>::new();
    for change in hub.all_changes().await.iter().filter(|c| c.entity == yizhan_core::entity::EntityKind::FollowUpNote) {
        *at_hub.entry(change.key.clone()).or_default() += 1;
    }
    for id in notes {
        assert_eq!(at_hub.get(id.as_str()), Some(&1), "note {id} at the hub exactly once");
    }
    assert_eq!(at_hub.len(), notes.len());
    let counts = yizhan_sync::replica::ReplicaReader::open(db).unwrap().outbox_counts().unwrap();
    assert_eq!((counts.pending, counts.conflicts), (0, 0));
}

async fn notes_at_hub(hub: &TestHub) -> usize {
    hub.all_changes().await.iter().filter(|c| c.entity == yizhan_core::entity::EntityKind::FollowUpNote).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_upload_no_command_is_lost_or_applied_twice() {
    let hub = TestHub::start(200).await;
    let counter = Counter::enrolled(&hub).await;
    counter.catch_up(&hub);
    let notes = queue_notes(&counter.db, 3_000);

    let mut worker = counter.worker(&hub, &[]);
    let delivered = loop {
        let delivered = notes_at_hub(&hub).await;
        if delivered > 0 || worker.exited().is_some() {
            break delivered;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    tokio::task::block_in_place(|| worker.kill());
    assert!(delivered < notes.len(), "the kill came after the whole outbox was delivered");
    let pending = yizhan_sync::replica::ReplicaReader::open(&counter.db).unwrap().outbox_counts().unwrap().pending;
    assert!(pending > 0, "killed mid-upload: some commands still queued");

    counter.catch_up(&hub);
    assert_delivered_once(&counter.db, &hub, &notes).await;
    assert_matches_hub(&counter.db, &hub, "after the restart").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_apply_with_a_full_outbox_no_command_is_lost_or_applied_twice() {
    let hub = TestHub::start(1_000).await;
    let counter = Counter::enrolled(&hub).await;
    counter.catch_up(&hub);
    let notes = queue_notes(&counter.db, 500);
    let codes = yizhan_tests::bench::project_codes(&counter.db);
    for round in 0..10 {
        hub.ingest("payments", hub.new_payments(&codes, 2_000, round * 10_000)).await;
    }
    let mut killed = 0;
    for attempt in 1..=4 {
        if !counter.kill_when_wal_grows(&hub, &["--once", "--limit", "10000"], attempt * MIB / 2) {
            break;
        }
        killed += 1;
    }
    assert!(killed > 0, "the worker finished before any kill");
    counter.catch_up(&hub);
    assert_delivered_once(&counter.db, &hub, &notes).await;
    assert_matches_hub(&counter.db, &hub, "after the last restart").await;
}
