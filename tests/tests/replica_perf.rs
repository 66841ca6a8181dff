//! The replica at scale: bootstrap throughput and peak memory, apply rate, list and search
//! times. A benchmark, so ignored by default; run it optimised:
//!
//! `YIZHAN_PERF_PROJECTS=1000000 cargo test --release -p yizhan-tests --test replica_perf -- --ignored --nocapture`
//!
//! It fails when a target is missed: peak RSS of the bootstrapping process under 300 MB,
//! and (optimised builds only) 1,000,000 projects loaded in 10 s, pro rata.

use std::io::{BufReader, Write};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;
use yizhan_core::status::FeeStatus;
use yizhan_sync::client::{ClientOptions, SyncClient};
use yizhan_sync::protocol::ChangeBatch;
use yizhan_sync::replica::{ProjectQuery, Replica, ReplicaReader};
use yizhan_tests::hub::TestHub;
use yizhan_tests::worker::Worker;

const WORKER: &str = env!("CARGO_BIN_EXE_yizhan-replica-worker");
const PEAK_RSS_LIMIT_MIB: u64 = 300;
/// The target: a million projects in ten seconds.
const PROJECTS_PER_SECOND: f64 = 100_000.0;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run optimised with --ignored (see the module's doc)"]
async fn the_replica_at_scale() {
    let projects: usize = std::env::var("YIZHAN_PERF_PROJECTS").map_or(100_000, |v| v.parse().expect("a number"));
    let optimised = !cfg!(debug_assertions);
    let start = Instant::now();
    let hub = TestHub::start(projects).await;
    eprintln!("hub seeded with {projects} projects in {:.1} s", start.elapsed().as_secs_f64());
    let dir = TempDir::new().unwrap();

    // Over HTTP, in its own process, as a counter does it: time and peak memory.
    let db = dir.path().join("worker.sqlite3");
    let start = Instant::now();
    let mut worker = Worker::spawn(WORKER, &db, &hub.url, &["--once"], dir.path());
    let mut peak_kib = 0;
    tokio::task::block_in_place(|| {
        while worker.exited().is_none() {
            peak_kib = peak_kib.max(worker.peak_rss_kib().unwrap_or(0));
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    worker.finish(Duration::ZERO);
    let over_http = start.elapsed();
    let rows = worker.statuses().iter().filter_map(|s| s.bootstrap).map(|b| b.total).max().expect("progress lines");
    eprintln!(
        "bootstrap over HTTP (gzip): {rows} rows in {:.2} s = {:.0} rows/s; peak RSS {} MiB",
        over_http.as_secs_f64(),
        rows as f64 / over_http.as_secs_f64(),
        peak_kib / 1024
    );

    // The replica alone, from the decompressed snapshot in a file.
    let snapshot = dir.path().join("snapshot.ndjson");
    {
        let response = reqwest::get(format!("{}/v1/snapshot", hub.url)).await.unwrap();
        let mut file = std::io::BufWriter::new(std::fs::File::create(&snapshot).unwrap());
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            file.write_all(&chunk.unwrap()).unwrap();
        }
        file.flush().unwrap();
    }
    let path = dir.path().join("replica.sqlite3");
    let mut replica = Replica::open(&path).unwrap();
    let start = Instant::now();
    let report = tokio::task::block_in_place(|| {
        let reader = BufReader::with_capacity(1 << 16, std::fs::File::open(&snapshot).unwrap());
        replica.bootstrap(&hub.url, reader, |_| {}).unwrap()
    });
    let alone = start.elapsed();
    eprintln!(
        "bootstrap from a file: {} rows, {} projects in {:.2} s = {:.0} rows/s",
        report.rows,
        report.projects,
        alone.as_secs_f64(),
        report.rows as f64 / alone.as_secs_f64()
    );

    // Queries, median of several runs.
    let reader = ReplicaReader::open(&path).unwrap();
    let first = reader.list_projects(&ProjectQuery { limit: 50, ..ProjectQuery::default() }).unwrap();
    let sample = &first.rows[first.rows.len() / 2];
    let fragment: String = sample.name.chars().skip(2).take(2).collect();
    let queries = [
        ("first page", ProjectQuery { limit: 50, ..ProjectQuery::default() }),
        ("full code", ProjectQuery { search: Some(sample.project_code.clone()), limit: 50, ..ProjectQuery::default() }),
        ("part of a code", ProjectQuery { search: Some(sample.project_code[5..16].to_owned()), limit: 50, ..ProjectQuery::default() }),
        ("USCC", ProjectQuery { search: Some(sample.uscc.clone()), limit: 50, ..ProjectQuery::default() }),
        (&*format!("name fragment {fragment:?}"), ProjectQuery { search: Some(fragment.clone()), limit: 50, ..ProjectQuery::default() }),
        ("status + district", ProjectQuery { status: Some(FeeStatus::PartlyPaid), district: Some("320115".into()), limit: 50, ..ProjectQuery::default() }),
        ("overdue, page 100", ProjectQuery { overdue: Some(true), offset: 5_000, limit: 50, ..ProjectQuery::default() }),
    ];
    for (what, query) in &queries {
        let page = reader.list_projects(query).unwrap();
        let took = time(7, || reader.list_projects(query).unwrap());
        eprintln!("list {what}: {:.1} ms ({} matching)", took.as_secs_f64() * 1000.0, page.total);
    }
    let took = time(7, || reader.get_project(&sample.project_code).unwrap());
    eprintln!("detail: {:.2} ms", took.as_secs_f64() * 1000.0);

    // Applying: 20,000 payments, fetched first so only the replica is timed.
    let codes: Vec<String> = first.rows.iter().map(|r| r.project_code.clone()).collect();
    for round in 0..10 {
        hub.ingest("payments", hub.new_payments(&codes, 2_000, round * 10_000)).await;
    }
    let mut batches = Vec::new();
    let mut after = replica.meta().unwrap().cursor.unwrap();
    while after < hub.head().await {
        let url = format!("{}/v1/changes?after={after}&limit=5000", hub.url);
        let batch: ChangeBatch = reqwest::get(url).await.unwrap().json().await.unwrap();
        after = batch.upto;
        batches.push(batch);
    }
    let changes: usize = batches.iter().map(|b| b.changes.len()).sum();
    let start = Instant::now();
    tokio::task::block_in_place(|| batches.iter().for_each(|b| drop(replica.apply(b).unwrap())));
    let applying = start.elapsed();
    eprintln!(
        "apply: {changes} changes in batches of 5000 in {:.2} s = {:.0} changes/s",
        applying.as_secs_f64(),
        changes as f64 / applying.as_secs_f64()
    );
    drop(replica);
    let start = Instant::now();
    let client = SyncClient::new(Replica::open(&db).unwrap(), &hub.url, ClientOptions::default()).unwrap();
    client.catch_up(&CancellationToken::new()).await.unwrap();
    eprintln!("catch-up of the same {changes} changes over HTTP: {:.2} s", start.elapsed().as_secs_f64());

    assert!(peak_kib / 1024 < PEAK_RSS_LIMIT_MIB, "peak RSS {} MiB", peak_kib / 1024);
    if optimised {
        let target = projects as f64 / PROJECTS_PER_SECOND;
        assert!(alone.as_secs_f64() <= target, "bootstrap took {:.1} s, target {target:.1} s", alone.as_secs_f64());
    }
}
