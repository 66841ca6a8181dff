//! The sync benchmark: how fast a counter's replica loads, hears of and applies the hub's
//! changes. Results and the commands that produced them are in docs/perf.md.
//!
//! ```text
//! cargo bench -p yizhan-tests --bench sync                       # every scenario, 100,000 projects
//! cargo bench -p yizhan-tests --bench sync -- bootstrap          # one scenario (substring match)
//! YIZHAN_BENCH_PROJECTS=1000000 cargo bench -p yizhan-tests --bench sync -- bootstrap
//! cargo bench -p yizhan-tests --bench sync -- --markdown target/bench-sync/report.md
//! ```
//!
//! Scenarios: `bootstrap` (a fresh replica over HTTP, as a separate process: wall time,
//! rows/s, peak RSS; then where the time goes), `ingest-latency` (a payment posted to the
//! hub until a running client has applied it), `apply` (`Replica::apply` on batches of
//! 5,000 payments and assessments), `queries` (the list and detail queries of the app on
//! a bootstrapped replica), `alert-pass` (the hub's pass over every project on the demo
//! day, the counter applying what it wrote, and a live payment's wait meanwhile). `seed`
//! only seeds the cached hub. Every replica stands at 10:00 Shanghai on the demo day.
//!
//! Without `--bench` (as under `cargo test --benches`) it only checks itself: every
//! scenario once on 2,000 projects.
//!
//! Settings (environment): `YIZHAN_BENCH_PROJECTS` (100000), `YIZHAN_BENCH_SEED` (42),
//! `YIZHAN_BENCH_RUNS` (3; bootstrap of 500,000 projects or more: 1), `YIZHAN_BENCH_EVENTS`
//! (1000), `YIZHAN_BENCH_CHANGES` (50000), `YIZHAN_BENCH_BATCH` (5000),
//! `YIZHAN_BENCH_SPREAD` (apply: send the changes to only this many projects; default all),
//! `YIZHAN_BENCH_BREAKDOWN=0` (skip the bootstrap breakdown), `YIZHAN_BENCH_MARKDOWN`
//! (a file for the results as a markdown table, as `--markdown PATH`),
//! `YIZHAN_BENCH_DIR` (cache and scratch; default `target/bench-sync`).
//!
//! The seeded hub is cached in `target/bench-sync/hubs/`, keyed by project count and seed
//! (a million projects take about 7 minutes to seed here).

use std::ffi::OsStr;
use std::io::{BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use yizhan_core::entity::FeeKind;
use yizhan_core::status::FeeStatus;
use yizhan_hub::demo::Generator;
use yizhan_sync::client::{CancellationToken, ClientOptions};
use yizhan_sync::protocol::{ChangeBatch, IngestBatch, IngestReport, PaymentRecord};
use yizhan_sync::status::SyncStatus;
use yizhan_sync::replica::{ProjectQuery, Replica, ReplicaReader};
use yizhan_tests::bench::{
    BenchArgs, Report, Rng, ServedHub, announce, bench_runtime, bootstrap_replica, cached_hub,
    copy_db, demo_clock, env_or, file_size, finish_report, load_average, measure_process, median, mib, ms,
    own_cpu, percentile, project_codes, scratch_dir, statuses, thousands, with_suffix,
};
use yizhan_tests::hub::DEMO_TODAY;

const WORKER: &str = env!("CARGO_BIN_EXE_yizhan-replica-worker");
const SCENARIOS: [&str; 5] = ["bootstrap", "ingest-latency", "apply", "queries", "alert-pass"];

/// A million projects in ten seconds.
const BOOTSTRAP_PROJECTS_PER_SECOND: f64 = 100_000.0;
const BOOTSTRAP_PEAK_RSS_MIB: f64 = 300.0;
const LATENCY_P99_MS: f64 = 50.0;
const APPLY_CHANGES_PER_SECOND: f64 = 150_000.0;
const ALERT_CHANGES_PER_SECOND: f64 = 20_000.0;
const LIVE_DURING_PASS_P99_MS: f64 = 1_000.0;
/// Events posted before the measured ones: connections opened, caches warm.
const LATENCY_WARMUP: usize = 20;

struct Config {
    projects: usize,
    seed: u64,
    runs: Option<usize>,
    events: usize,
    changes: usize,
    batch: usize,
    /// The apply scenario's changes go to this many projects (0: all of them).
    spread: usize,
    breakdown: bool,
    markdown: Option<PathBuf>,
    filters: Vec<String>,
}

fn config() -> Config {
    let args = BenchArgs::parse();
    let small = |measured, smoke| args.size(measured, smoke);
    Config {
        projects: env_or("YIZHAN_BENCH_PROJECTS", small(100_000, 2_000)),
        seed: env_or("YIZHAN_BENCH_SEED", 42),
        runs: std::env::var("YIZHAN_BENCH_RUNS")
            .ok()
            .map(|_| env_or("YIZHAN_BENCH_RUNS", 3))
            .or((!args.measuring).then_some(1)),
        events: env_or("YIZHAN_BENCH_EVENTS", small(1_000, 50)),
        changes: env_or("YIZHAN_BENCH_CHANGES", small(50_000, 10_000)),
        batch: env_or("YIZHAN_BENCH_BATCH", 5_000),
        spread: env_or("YIZHAN_BENCH_SPREAD", 0),
        breakdown: env_or("YIZHAN_BENCH_BREAKDOWN", 1) != 0,
        markdown: args.markdown,
        filters: args.filters,
    }
}

fn main() {
    let config = config();
    let selected: Vec<&str> = SCENARIOS
        .into_iter()
        .filter(|s| {
            config.filters.is_empty() || config.filters.iter().any(|f| s.contains(f.as_str()))
        })
        .collect();
    let seed_only = config.filters.iter().any(|f| f == "seed");
    let runtime = bench_runtime();
    let what = format!(
        "{} projects, seed {}",
        thousands(config.projects as f64),
        config.seed
    );
    let load_before = announce("sync", &what);
    let mut report = Report::default();
    runtime.block_on(async {
        if seed_only {
            let path = cached_hub(config.projects, config.seed).await;
            println!("cached hub: {}", path.display());
            return;
        }
        for scenario in &selected {
            println!("\n== {scenario} (load average {})", load_average());
            match *scenario {
                "bootstrap" => bootstrap(&config, &mut report).await,
                "ingest-latency" => ingest_latency(&config, &mut report).await,
                "apply" => apply(&config, &mut report).await,
                "queries" => queries(&config, &mut report).await,
                "alert-pass" => alert_pass(&config, &mut report).await,
                _ => unreachable!("a known scenario"),
            }
        }
    });
    if seed_only {
        return;
    }
    finish_report(&report, config.markdown.as_deref(), &what, &load_before);
}

/// Scenario 1: a fresh replica, in its own process as on a counter, loads the snapshot of
/// a hub served in this process over loopback HTTP (gzip), then catches up and exits.
async fn bootstrap(config: &Config, report: &mut Report) {
    let hub_db = cached_hub(config.projects, config.seed).await;
    let hub = ServedHub::start(&hub_db).await;
    let head = hub.head().await;
    let runs = config
        .runs
        .unwrap_or(if config.projects >= 500_000 { 1 } else { 3 });
    let (mut walls, mut peaks, mut replica_cpus, mut hub_cpus) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut rows = 0;
    for run in 1..=runs {
        let dir = scratch_dir();
        let db = dir.path().join("replica.sqlite3");
        let args = [
            OsStr::new("--db"),
            db.as_os_str(),
            OsStr::new("--hub"),
            OsStr::new(&hub.url),
            OsStr::new("--once"),
        ];
        let cpu_before = own_cpu();
        let child = {
            let dir = dir.path().to_owned();
            let args: Vec<_> = args.iter().map(|a| a.to_os_string()).collect();
            tokio::task::spawn_blocking(move || {
                let args: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
                measure_process(Path::new(WORKER), &args, &dir)
            })
            .await
            .expect("measure the replica process")
        };
        let hub_cpu = own_cpu() - cpu_before;
        assert!(child.success, "the replica failed: {}", child.stderr);
        let lines = statuses(&child.stdout);
        rows = lines
            .iter()
            .filter_map(|s| s.bootstrap)
            .map(|b| b.total)
            .max()
            .expect("the replica reported its bootstrap");
        let cursor = lines.last().map_or(0, |s| s.cursor);
        assert_eq!(cursor, head, "the replica ends at the hub's head");
        let wall = child.wall.as_secs_f64();
        let cpu = child
            .cpu
            .map_or("?".to_owned(), |(u, s)| format!("{:.1} s", u + s));
        println!(
            "  run {run}: {wall:.2} s, {} rows/s, {} projects/s; replica peak RSS {:.0} MiB, CPU {cpu}; \
             hub (this process) CPU {:.1} s; replica file {:.0} MiB",
            thousands(rows as f64 / wall),
            thousands(config.projects as f64 / wall),
            mib(child.peak_rss_kib),
            hub_cpu.as_secs_f64(),
            file_size(&db) as f64 / 1048576.0,
        );
        walls.push(wall);
        peaks.push(child.peak_rss_kib);
        replica_cpus.extend(child.cpu.map(|(u, s)| u + s));
        hub_cpus.push(hub_cpu.as_secs_f64());
    }
    let wall = median(&walls);
    let peak = mib(*peaks.iter().max().expect("a run"));
    let scenario = format!("bootstrap, {} projects", thousands(config.projects as f64));
    let runs_note = if runs == 1 {
        "single run".to_owned()
    } else {
        format!("median of {runs} runs")
    };
    let goal = config.projects as f64 / BOOTSTRAP_PROJECTS_PER_SECOND;
    println!("  ({} rows; {runs_note})", thousands(rows as f64));
    report.add(
        &scenario,
        "wall time, fresh replica over HTTP",
        format!("{wall:.1} s"),
        Some((
            &format!("≤ {goal:.prec$} s", prec = usize::from(goal < 10.0)),
            wall <= goal,
        )),
        format!("{runs_note}; {} rows", thousands(rows as f64)),
    );
    report.add(
        &scenario,
        "rows/s",
        thousands(rows as f64 / wall),
        None,
        String::new(),
    );
    report.add(
        &scenario,
        "projects/s",
        thousands(config.projects as f64 / wall),
        Some((
            "≥ 100,000",
            config.projects as f64 / wall >= BOOTSTRAP_PROJECTS_PER_SECOND,
        )),
        String::new(),
    );
    report.add(
        &scenario,
        "peak RSS of the replica process",
        format!("{peak:.0} MiB"),
        Some(("≤ 300 MB", peak <= BOOTSTRAP_PEAK_RSS_MIB)),
        if runs == 1 { "" } else { "largest of the runs" },
    );
    if !replica_cpus.is_empty() {
        report.add(
            &scenario,
            "CPU: replica process / hub",
            format!(
                "{:.1} s / {:.1} s",
                median(&replica_cpus),
                median(&hub_cpus)
            ),
            None,
            "user+sys; the hub serves from the benchmark's process",
        );
    }
    if config.breakdown {
        bootstrap_breakdown(&hub, rows, &scenario, report).await;
    }
    hub.stop().await;
}

/// Where a bootstrap's time goes: the hub's side alone (snapshot read, gzip, loopback,
/// gunzip, to a file), then the replica's side alone from that file, split by its
/// progress reports into loading rows, indexes + views + commit, and the WAL checkpoint.
async fn bootstrap_breakdown(hub: &ServedHub, rows: u64, scenario: &str, report: &mut Report) {
    let dir = scratch_dir();
    let snapshot = dir.path().join("snapshot.ndjson");
    let http = reqwest::Client::builder()
        .gzip(true)
        .build()
        .expect("HTTP client");
    let start = Instant::now();
    let mut bytes = 0u64;
    {
        let response = http
            .get(format!("{}/v1/snapshot", hub.url))
            .send()
            .await
            .expect("snapshot request");
        assert!(
            response.status().is_success(),
            "snapshot: HTTP {}",
            response.status()
        );
        let mut file = std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(&snapshot).expect("snapshot file"),
        );
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.expect("snapshot body");
            bytes += chunk.len() as u64;
            file.write_all(&chunk).expect("write the snapshot");
        }
        file.flush().expect("write the snapshot");
    }
    let download = start.elapsed().as_secs_f64();
    println!(
        "  breakdown: snapshot alone (hub reads, gzips; client gunzips): {download:.1} s, {} rows/s, {:.0} MiB of NDJSON",
        thousands(rows as f64 / download),
        bytes as f64 / 1048576.0
    );

    let db = dir.path().join("replica.sqlite3");
    let url = hub.url.clone();
    let (total, marks) = tokio::task::spawn_blocking(move || {
        let mut replica = Replica::open_with_clock(&db, demo_clock()).expect("open a fresh replica");
        let reader = BufReader::with_capacity(
            1 << 16,
            std::fs::File::open(&snapshot).expect("the snapshot file"),
        );
        let start = Instant::now();
        let mut marks = Vec::new();
        replica
            .bootstrap(&url, None, reader, |p| {
                marks.push((start.elapsed(), p.received))
            })
            .expect("bootstrap from the file");
        (start.elapsed(), marks)
    })
    .await
    .expect("bootstrap from the file");
    // Progress comes every 10,000 rows and once more after the commit: the one before the
    // last marks the rows loaded (to within 10,000 rows).
    let committed = marks.last().map_or(total, |m| m.0);
    let loaded = marks
        .len()
        .checked_sub(2)
        .map_or(Duration::ZERO, |i| marks[i].0);
    let (total_s, loaded_s) = (total.as_secs_f64(), loaded.as_secs_f64());
    let finish_s = (committed - loaded).as_secs_f64();
    let checkpoint_s = (total - committed).as_secs_f64();
    println!(
        "  breakdown: replica alone from the file: {total_s:.1} s = rows parsed and inserted {loaded_s:.1} s \
         ({} rows/s) + indexes, views, commit {finish_s:.1} s + WAL checkpoint {checkpoint_s:.1} s",
        thousands(rows as f64 / loaded_s.max(1e-9)),
    );
    report.add(
        scenario,
        "breakdown: snapshot alone (hub + gzip + loopback)",
        format!("{download:.1} s"),
        None,
        format!(
            "{} rows/s; nothing stored",
            thousands(rows as f64 / download)
        ),
    );
    report.add(
        scenario,
        "breakdown: replica alone, from a file",
        format!("{total_s:.1} s"),
        None,
        format!(
            "rows {loaded_s:.1} s ({} rows/s) + indexes, views, commit {finish_s:.1} s + checkpoint {checkpoint_s:.1} s",
            thousands(rows as f64 / loaded_s.max(1e-9))
        ),
    );
}

/// Scenario 2: a client runs (long-poll) against the hub; payments are posted one at a
/// time through HTTP ingest, each timed from just before its POST until the client says
/// it has applied that seq.
async fn ingest_latency(config: &Config, report: &mut Report) {
    let cached = cached_hub(config.projects, config.seed).await;
    let dir = scratch_dir();
    let hub_db = tokio::task::block_in_place(|| copy_db(&cached, dir.path(), "hub.sqlite3"));
    let hub = ServedHub::start(&hub_db).await;
    let replica_path = dir.path().join("replica.sqlite3");
    let client = hub.client(&replica_path, demo_clock(), ClientOptions::default()).await;
    let shutdown = CancellationToken::new();
    let start = Instant::now();
    client
        .catch_up(&shutdown)
        .await
        .expect("bootstrap the replica");
    println!(
        "  replica bootstrapped in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let codes = tokio::task::block_in_place(|| project_codes(&replica_path));
    let status = client.status();
    let running = tokio::spawn(client.run(shutdown.clone()));

    let http = reqwest::Client::new();
    let mut rng = Rng::new(config.seed ^ 0x5eed_1a7e);
    let runs = config.runs.unwrap_or(3);
    let (mut p50s, mut p99s, mut maxes, mut post_p50s, mut post_p99s) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs as u64 {
        let mut generator =
            Generator::new(config.seed + 100 + run, hub.hub.rules().clone(), DEMO_TODAY)
                .with_serials(900_000, 50_000_000 + run * 1_000_000);
        let (mut visible, mut answered) = (Vec::new(), Vec::new());
        for i in 0..LATENCY_WARMUP + config.events {
            let code = &codes[rng.below(codes.len() as u64) as usize];
            let amount = 100 + rng.below(1_000_000) as i64;
            let payment = generator.payment(code.as_str(), FeeKind::Infra, amount, DEMO_TODAY);
            let (seen, posted) = post_until_visible(&http, &hub.url, payment, status.clone()).await;
            if i >= LATENCY_WARMUP {
                visible.push(seen);
                answered.push(posted);
            }
        }
        let (worst_at, _) = visible
            .iter()
            .enumerate()
            .max_by_key(|(_, d)| **d)
            .expect("samples");
        visible.sort();
        answered.sort();
        let (p50, p99, max) = (
            ms(percentile(&visible, 50.0)),
            ms(percentile(&visible, 99.0)),
            ms(*visible.last().expect("samples")),
        );
        let (post_p50, post_p99) = (
            ms(percentile(&answered, 50.0)),
            ms(percentile(&answered, 99.0)),
        );
        println!(
            "  run {}: {} events: visible p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms (event {}); \
             POST answered p50 {post_p50:.1} ms, p99 {post_p99:.1} ms",
            run + 1,
            visible.len(),
            worst_at + 1,
        );
        p50s.push(p50);
        p99s.push(p99);
        maxes.push(max);
        post_p50s.push(post_p50);
        post_p99s.push(post_p99);
    }
    shutdown.cancel();
    running.await.expect("the client stops");
    hub.stop().await;

    let scenario = format!(
        "ingest → visible, {} projects",
        thousands(config.projects as f64)
    );
    let note = format!("median of {runs} runs of {} events", config.events);
    let p99 = median(&p99s);
    report.add(
        &scenario,
        "p50",
        format!("{:.1} ms", median(&p50s)),
        None,
        note.clone(),
    );
    report.add(
        &scenario,
        "p99",
        format!("{p99:.1} ms"),
        Some(("≤ 50 ms", p99 <= LATENCY_P99_MS)),
        note.clone(),
    );
    report.add(
        &scenario,
        "max",
        format!("{:.1} ms", maxes.iter().copied().fold(0.0, f64::max)),
        None,
        format!("worst of {runs} runs"),
    );
    report.add(
        &scenario,
        "of which: POST answered (hub commit), p50 / p99",
        format!("{:.1} / {:.1} ms", median(&post_p50s), median(&post_p99s)),
        None,
        note,
    );
}

/// Scenario 3: `Replica::apply` on batches of realistic changes after a bootstrap:
/// payments (7 in 10) and 人防 assessments (3 in 10), each for a different project.
async fn apply(config: &Config, report: &mut Report) {
    let cached = cached_hub(config.projects, config.seed).await;
    let dir = scratch_dir();
    let hub_db = tokio::task::block_in_place(|| copy_db(&cached, dir.path(), "hub.sqlite3"));
    let hub = ServedHub::start(&hub_db).await;
    let base = dir.path().join("base.sqlite3");
    bootstrap_replica(&base, &hub).await;
    let codes = tokio::task::block_in_place(|| project_codes(&base));
    let base_cursor = hub.head().await;

    // The changes, written at the hub through its ingest path, then fetched as the client
    // would, so that only the replica is timed.
    let mut generator = Generator::new(config.seed + 7, hub.hub.rules().clone(), DEMO_TODAY)
        .with_serials(900_000, 70_000_000);
    let mut rng = Rng::new(config.seed ^ 0xa9917);
    let mut order: Vec<usize> = (0..codes.len()).collect();
    rng.shuffle(&mut order);
    if config.spread > 0 {
        order.truncate(config.spread);
    }
    let mut made = 0;
    while made < config.changes {
        let n = 1_000.min(config.changes - made);
        let (mut payments, mut notices) = (Vec::new(), Vec::new());
        for i in made..made + n {
            let code = &codes[order[i % order.len()]];
            let day = DEMO_TODAY - time::Duration::days(rng.below(30) as i64);
            if rng.below(10) < 3 {
                let area = yizhan_core::area::Area::from_hundredths(10_000 + rng.below(5_000_000) as i64);
                notices.push(generator.notice(code.as_str(), area, day));
            } else {
                let kind = if rng.below(4) == 0 {
                    FeeKind::CivilDefence
                } else {
                    FeeKind::Infra
                };
                payments.push(generator.payment(
                    code.as_str(),
                    kind,
                    100 + rng.below(5_000_000) as i64,
                    day,
                ));
            }
        }
        hub.hub
            .ingest("bench", payments)
            .await
            .expect("ingest payments");
        hub.hub
            .ingest("bench", notices)
            .await
            .expect("ingest notices");
        made += n;
    }
    let batches = fetch_batches(&hub, base_cursor, config.batch).await;
    hub.stop().await;
    let changes: usize = batches.iter().map(|b| b.changes.len()).sum();
    let projects_per_batch = median(
        &batches
            .iter()
            .map(|b| {
                b.changes
                    .iter()
                    .map(|c| c.project_code.as_str())
                    .collect::<std::collections::HashSet<_>>()
                    .len() as f64
            })
            .collect::<Vec<_>>(),
    );
    println!(
        "  {} changes in {} batches of up to {}, ~{} projects touched per batch",
        thousands(changes as f64),
        batches.len(),
        thousands(config.batch as f64),
        thousands(projects_per_batch)
    );

    let runs = config.runs.unwrap_or(3);
    let (mut rates, mut batch_ms) = (Vec::new(), Vec::new());
    let mut wal_sizes = Vec::new();
    for run in 1..=runs {
        let (times, wal) = tokio::task::block_in_place(|| apply_timed(&base, dir.path(), &batches));
        let total: Duration = times.iter().sum();
        let mut sorted = times.clone();
        sorted.sort();
        let rate = changes as f64 / total.as_secs_f64();
        print!(
            "  run {run}: {} changes/s ({:.0} ms per batch of {}, median; WAL {:.0} MiB ≈ {} pages written by a batch)",
            thousands(rate),
            ms(percentile(&sorted, 50.0)),
            thousands(config.batch as f64),
            wal as f64 / 1048576.0,
            thousands(wal as f64 / 4120.0),
        );
        wal_sizes.push(wal as f64);
        rates.push(rate);
        batch_ms.push(ms(percentile(&sorted, 50.0)));
        println!();
    }
    let scenario = if config.spread > 0 {
        format!(
            "apply, {} projects, changes on {} of them",
            thousands(config.projects as f64),
            thousands(config.spread as f64)
        )
    } else {
        format!("apply, {} projects", thousands(config.projects as f64))
    };
    let note = format!(
        "median of {runs} runs of {} changes; ~{} projects per batch",
        thousands(changes as f64),
        thousands(projects_per_batch)
    );
    let rate = median(&rates);
    report.add(
        &scenario,
        "changes/s, Replica::apply",
        thousands(rate),
        Some(("≥ 150,000/s", rate >= APPLY_CHANGES_PER_SECOND)),
        note.clone(),
    );
    report.add(
        &scenario,
        &format!("ms per batch of {}", thousands(config.batch as f64)),
        format!("{:.0} ms", median(&batch_ms)),
        None,
        format!(
            "a batch writes ≈ {} pages to the WAL ({:.0} MiB)",
            thousands(median(&wal_sizes) / 4120.0),
            median(&wal_sizes) / 1048576.0
        ),
    );
}

/// Every change after `after` up to the hub's head, in batches of `limit` fetched as a
/// client does, so that only the replica is timed applying them.
async fn fetch_batches(hub: &ServedHub, after: u64, limit: usize) -> Vec<ChangeBatch> {
    let head = hub.head().await;
    let http = reqwest::Client::builder().gzip(true).build().expect("HTTP client");
    let mut batches = Vec::new();
    let mut after = after;
    while after < head {
        let url = format!("{}/v1/changes?after={after}&limit={limit}&wait=0", hub.url);
        let batch: ChangeBatch =
            http.get(&url).send().await.expect("changes request").json().await.expect("a change batch");
        after = batch.upto;
        batches.push(batch);
    }
    batches
}

/// Applies `batches` in order to a copy of the replica `base`, on the demo clock; returns
/// how long each took, and the WAL's size at the end (checkpoints reuse the WAL from its
/// start without shrinking it: what the largest batch wrote, a frame per page it dirtied).
fn apply_timed(base: &Path, dir: &Path, batches: &[ChangeBatch]) -> (Vec<Duration>, u64) {
    let db = copy_db(base, dir, "run.sqlite3");
    let mut replica = Replica::open_with_clock(&db, demo_clock()).expect("open the replica copy");
    let times = batches
        .iter()
        .map(|batch| {
            let start = Instant::now();
            replica.apply(batch).expect("apply a batch");
            start.elapsed()
        })
        .collect();
    let wal = std::fs::metadata(with_suffix(&db, "-wal")).map_or(0, |m| m.len());
    drop(replica);
    remove_db(&db);
    (times, wal)
}

/// Scenario 5: a day turn's worth of alert changes. The seeded hub holds no alerts; here it
/// runs its pass over every project on the demo day, as at start, at midnight or when the
/// rules change (about a third of the projects get an alert). A counter bootstrapped just
/// before applies what the pass wrote, batch by batch; then, with a counter running and
/// payments posted one at a time while the pass runs, how long a live change waits.
async fn alert_pass(config: &Config, report: &mut Report) {
    let cached = cached_hub(config.projects, config.seed).await;
    let dir = scratch_dir();
    let hub_db = tokio::task::block_in_place(|| copy_db(&cached, dir.path(), "hub.sqlite3"));
    let base = dir.path().join("base.sqlite3");
    let base_cursor = {
        let hub = ServedHub::start(&hub_db).await;
        bootstrap_replica(&base, &hub).await;
        let head = hub.head().await;
        hub.stop().await;
        head
    };
    let live_db = tokio::task::block_in_place(|| copy_db(&hub_db, dir.path(), "hub-live.sqlite3"));
    let scenario = format!("alert pass, {} projects", thousands(config.projects as f64));

    let hub = ServedHub::start_with_alerts(&hub_db).await;
    let pass = wait_for_pass(&hub).await;
    let batches = fetch_batches(&hub, base_cursor, config.batch).await;
    hub.stop().await;
    let changes: usize = batches.iter().map(|b| b.changes.len()).sum();
    println!(
        "  the hub's pass: {} projects, {} alert rows written in {:.1} s; {} changes in {} batches",
        thousands(pass.projects as f64),
        thousands(pass.changes as f64),
        pass.seconds,
        thousands(changes as f64),
        batches.len()
    );
    report.add(
        &scenario,
        "hub: the pass over every project",
        format!("{:.1} s", pass.seconds),
        None,
        format!("{} alert rows for {} projects", thousands(pass.changes as f64), thousands(pass.projects as f64)),
    );
    let runs = config.runs.unwrap_or(3);
    let (mut rates, mut firsts, mut lasts) = (Vec::new(), Vec::new(), Vec::new());
    let rate = |n: usize, took: Duration| n as f64 / took.as_secs_f64();
    for run in 1..=runs {
        let (times, _) = tokio::task::block_in_place(|| apply_timed(&base, dir.path(), &batches));
        let total: Duration = times.iter().sum();
        let (first, last) = (rate(batches[0].changes.len(), times[0]), {
            let i = batches.len() - 1;
            rate(batches[i].changes.len(), times[i])
        });
        println!(
            "  run {run}: {} changes/s overall; first batch {} /s, last batch {} /s",
            thousands(rate(changes, total)),
            thousands(first),
            thousands(last)
        );
        rates.push(rate(changes, total));
        firsts.push(first);
        lasts.push(last);
    }
    let note = format!("median of {runs} runs; {} changes in batches of up to {}", thousands(changes as f64), thousands(config.batch as f64));
    let overall = median(&rates);
    report.add(&scenario, "counter applies the pass: changes/s", thousands(overall), Some(("≥ 20,000/s", overall >= ALERT_CHANGES_PER_SECOND)), note.clone());
    let (first, last) = (median(&firsts), median(&lasts));
    report.add(&scenario, "first batch / last batch, changes/s", format!("{} / {}", thousands(first), thousands(last)), Some(("flat", last >= 0.8 * first)), note);

    let (visible, reconciled) = live_during_pass(config, &live_db, &base, dir.path()).await;
    report.add(
        &scenario,
        "counter connecting as the pass starts: first reconciliation",
        format!("{:.1} s", reconciled.0),
        None,
        format!("{} rows repaired: what the pass wrote past its cursor", thousands(reconciled.1 as f64)),
    );
    if visible.is_empty() {
        println!("  the pass ended before the counter had reconciled: no payment timed");
        return;
    }
    let note = format!("{} payments posted one at a time while the pass ran, after the counter reconciled", visible.len());
    let p99 = ms(percentile(&visible, 99.0));
    report.add(&scenario, "ingest → visible during the pass, p50", format!("{:.0} ms", ms(percentile(&visible, 50.0))), None, note.clone());
    report.add(&scenario, "ingest → visible during the pass, p99", format!("{p99:.0} ms"), Some(("≤ 1 s", p99 <= LIVE_DURING_PASS_P99_MS)), note.clone());
    report.add(&scenario, "ingest → visible during the pass, max", format!("{:.0} ms", ms(*visible.last().expect("samples"))), None, note);
}

/// What the hub's pass did, once it is over.
struct PassDone {
    projects: u64,
    changes: u64,
    seconds: f64,
}

async fn wait_for_pass(hub: &ServedHub) -> PassDone {
    let desk = hub.hub.alert_desk().expect("the hub evaluates alerts").clone();
    let start = Instant::now();
    loop {
        if let Some(pass) = desk.pass().filter(|p| p.done) {
            return PassDone { projects: pass.projects, changes: pass.changes, seconds: start.elapsed().as_secs_f64() };
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A counter bootstrapped before the pass (a copy of `base`) runs against the hub of
/// `hub_db` while its pass runs. Once the counter has reconciled (it does on connecting,
/// before it pulls on), payments are posted one at a time until the pass is over, each
/// timed until the counter has applied it. Returns those times, sorted, and how long the
/// reconciliation took with the rows it repaired.
async fn live_during_pass(config: &Config, hub_db: &Path, base: &Path, dir: &Path) -> (Vec<Duration>, (f64, u64)) {
    let replica_path = tokio::task::block_in_place(|| copy_db(base, dir, "live.sqlite3"));
    let codes = tokio::task::block_in_place(|| project_codes(&replica_path));
    let hub = ServedHub::start_with_alerts(hub_db).await;
    let client = hub.client(&replica_path, demo_clock(), ClientOptions::default()).await;
    let mut status = client.status();
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let running = tokio::spawn(client.run(shutdown.clone()));
    let desk = hub.hub.alert_desk().expect("the hub evaluates alerts").clone();
    let repaired = status
        .wait_for(|s| s.reconcile.is_some())
        .await
        .expect("the client is running")
        .reconcile
        .as_ref()
        .map_or(0, |r| r.rows_repaired);
    let reconciled = (started.elapsed().as_secs_f64(), repaired);
    let mut generator =
        Generator::new(config.seed + 300, hub.hub.rules().clone(), DEMO_TODAY).with_serials(900_000, 80_000_000);
    let mut rng = Rng::new(config.seed ^ 0x11fe);
    let http = reqwest::Client::new();
    let mut visible = Vec::new();
    while !desk.pass().is_some_and(|p| p.done) {
        let code = &codes[rng.below(codes.len() as u64) as usize];
        let payment = generator.payment(code.as_str(), FeeKind::Infra, 100 + rng.below(1_000_000) as i64, DEMO_TODAY);
        visible.push(post_until_visible(&http, &hub.url, payment, status.clone()).await.0);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    running.await.expect("the client stops");
    hub.stop().await;
    visible.sort();
    (visible, reconciled)
}

/// Posts one payment to the hub's ingest and waits until the client whose status is
/// `status` has applied it. Returns (posted → applied, posted → answered).
async fn post_until_visible(
    http: &reqwest::Client,
    hub_url: &str,
    payment: PaymentRecord,
    mut status: tokio::sync::watch::Receiver<SyncStatus>,
) -> (Duration, Duration) {
    let start = Instant::now();
    let response = http
        .post(format!("{hub_url}/v1/ingest/payments"))
        .json(&IngestBatch { records: vec![payment] })
        .send()
        .await
        .expect("ingest request");
    let status_code = response.status();
    let body = response.text().await.expect("ingest answer");
    assert!(status_code.is_success(), "ingest: HTTP {status_code}: {body}");
    let ingested: IngestReport = serde_json::from_str(&body).expect("an ingest report");
    let posted = start.elapsed();
    tokio::time::timeout(Duration::from_secs(120), status.wait_for(|s| s.cursor >= ingested.head))
        .await
        .expect("the change reached the replica within 120 s")
        .expect("the client is running");
    (start.elapsed(), posted)
}

fn remove_db(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(db, suffix));
    }
}

/// The app's list and detail queries on a replica bootstrapped from the hub: median of 7
/// runs each, after one to warm the cache.
async fn queries(config: &Config, report: &mut Report) {
    let hub_db = cached_hub(config.projects, config.seed).await;
    let hub = ServedHub::start(&hub_db).await;
    let dir = scratch_dir();
    let path = dir.path().join("replica.sqlite3");
    bootstrap_replica(&path, &hub).await;
    hub.stop().await;
    let scenario = format!("queries, {} projects", thousands(config.projects as f64));
    let timings = tokio::task::block_in_place(|| {
        let reader = ReplicaReader::open(&path).expect("open a reader");
        let page = |query: ProjectQuery| ProjectQuery { limit: 50, ..query };
        let first = reader
            .list_projects(&page(ProjectQuery::default()))
            .expect("first page");
        let sample = first.rows[first.rows.len() / 2].clone();
        let fragment: String = sample.name.chars().skip(2).take(2).collect();
        let queries = [
            (
                "list: first page + counts".to_owned(),
                page(ProjectQuery::default()),
            ),
            (
                "search: whole project code".to_owned(),
                page(ProjectQuery {
                    search: Some(sample.project_code.to_string()),
                    ..ProjectQuery::default()
                }),
            ),
            (
                "search: part of a code".to_owned(),
                page(ProjectQuery {
                    search: Some(sample.project_code.as_str()[5..16].to_owned()),
                    ..ProjectQuery::default()
                }),
            ),
            (
                "search: USCC".to_owned(),
                page(ProjectQuery {
                    search: Some(sample.uscc.clone()),
                    ..ProjectQuery::default()
                }),
            ),
            (
                format!("search: part of a name ({fragment})"),
                page(ProjectQuery {
                    search: Some(fragment.clone()),
                    ..ProjectQuery::default()
                }),
            ),
            (
                "filter: status + district".to_owned(),
                page(ProjectQuery {
                    status: Some(FeeStatus::PartlyPaid),
                    district: Some("320115".into()),
                    ..ProjectQuery::default()
                }),
            ),
            (
                "filter: overdue, page 100".to_owned(),
                page(ProjectQuery {
                    overdue: Some(true),
                    offset: 5_000,
                    ..ProjectQuery::default()
                }),
            ),
        ];
        let mut timings = Vec::new();
        for (what, query) in &queries {
            let matching = reader.list_projects(query).expect("query").total;
            let took = median_time(7, || reader.list_projects(query).expect("query"));
            timings.push((what.clone(), took, Some(matching)));
        }
        let took = median_time(7, || {
            reader.get_project(&sample.project_code).expect("detail")
        });
        timings.push(("detail of one project".to_owned(), took, None));
        timings
    });
    for (what, took, matching) in timings {
        report.add(
            &scenario,
            &what,
            format!("{:.2} ms", ms(took)),
            None,
            matching.map_or_else(String::new, |m| {
                format!("{} matching; median of 7", thousands(m as f64))
            }),
        );
    }
}

fn median_time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}
