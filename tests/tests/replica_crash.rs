//! The counter's sync client killed with SIGKILL while it writes, as in a power cut: the
//! replica must come back at a whole-batch cursor (or empty, mid-snapshot) holding exactly
//! the hub's state as of that cursor, and converge to the hub with nothing missing or
//! repeated. Each kill is checked to have landed inside a transaction: the WAL then holds
//! frames after its last commit.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    fn new() -> Counter {
        let dir = TempDir::new().unwrap();
        let db = dir.path().join("replica.sqlite3");
        Counter { dir, db }
    }

    fn worker(&self, hub: &TestHub, args: &[&str]) -> Worker {
        Worker::spawn(WORKER, &self.db, &hub.url, args, self.dir.path())
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

async fn assert_matches_hub(db: &Path, hub: &TestHub, context: &str) {
    let (header, rows) = hub.snapshot().await;
    let (cursor, state) = replica_state(db);
    assert_eq!(cursor, Some(header.as_of), "{context}: cursor");
    assert_same_state(&state, &state_of(rows), context);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_snapshot_the_replica_stays_empty_then_loads_whole() {
    let hub = TestHub::start(20_000).await;
    let counter = Counter::new();

    assert!(
        counter.kill_when_wal_grows(&hub, &["--once"], 4 * MIB),
        "the snapshot loaded before the kill"
    );
    assert!(
        uncommitted_wal_frames(&counter.db) > 0,
        "the kill must land inside the snapshot's transaction"
    );
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
    let counter = Counter::new();
    counter.catch_up(&hub);
    let (_, state) = replica_state(&counter.db);
    let codes: Vec<String> = state
        .values()
        .map(|r| r.project_code.clone())
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
