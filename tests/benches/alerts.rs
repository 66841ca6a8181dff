//! The alert benchmark: the counter's own evaluation of the deadline rules over a large
//! replica. Results and commands in docs/perf.md.
//!
//! ```text
//! cargo bench -p yizhan-tests --bench alerts                 # every scenario
//! cargo bench -p yizhan-tests --bench alerts -- per-change   # one (substring match)
//! ```
//!
//! Scenarios, over a replica of `YIZHAN_BENCH_ALERT_PROJECTS` (1,000,000) demo projects
//! bootstrapped once from a cached hub and kept in `target/bench-sync/replicas/`:
//! `full` (every project evaluated: on the day of the bootstrap, which finds nothing new,
//! and two weeks on, when every deadline alert moves), `per-change` (one project evaluated, as each applied change does, for
//! 10,000 random projects), `no-stall` (the app's list and alert queries while a full
//! evaluation that changes every alert runs on the writer).
//!
//! Without `--bench` every scenario runs once on 20,000 projects: a check, not a measurement.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use time::{Date, Time};
use yizhan_core::alert::queue::AlertQuery;
use yizhan_core::clock::{Clock, SHANGHAI};
use yizhan_sync::replica::{ProjectQuery, Replica, ReplicaReader};
use yizhan_tests::bench::{
    BenchArgs, Report, ServedHub, announce, bootstrap_replica, bench_dir, cached_hub, copy_db, env_or, finish_report, median,
    ms, percentile, project_codes, scratch_dir, thousands, Rng,
};
use yizhan_tests::hub::DEMO_TODAY;

const SCENARIOS: [&str; 3] = ["full", "per-change", "no-stall"];
const FULL_SECONDS: f64 = 1.0;
const PER_CHANGE_P99_MS: f64 = 1.0;
/// A read the clerk waits on longer than this is a stall he notices.
const READ_P99_MS: f64 = 100.0;

fn at(date: Date) -> Clock {
    let now = date.with_time(Time::from_hms(9, 0, 0).unwrap()).assume_offset(SHANGHAI);
    Clock::from_fn(move || now)
}

/// A replica of `projects` demo projects, bootstrapped once and kept.
async fn cached_replica(projects: usize) -> PathBuf {
    let dir = bench_dir().join("replicas");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("replica-{projects}p-{DEMO_TODAY}-v{}.sqlite3", env!("CARGO_PKG_VERSION")));
    if !path.exists() {
        let scratch = scratch_dir();
        let hub = ServedHub::start(&copy_db(&cached_hub(projects, 42).await, scratch.path(), "hub.sqlite3")).await;
        let partial = scratch.path().join("replica.sqlite3");
        let took = bootstrap_replica(&partial, &hub).await;
        eprintln!("bootstrapped a replica of {projects} projects in {:.0} s", took.as_secs_f64());
        hub.stop().await;
        // Opening the writer again checkpoints the WAL into the file before it is kept.
        drop(Replica::open(&partial).unwrap());
        std::fs::rename(&partial, &path).unwrap();
    }
    path
}

/// A fresh copy of the cached replica, opened on `clock`, with no alerts of its own yet.
fn working_copy(template: &Path, dir: &Path, clock: Clock) -> (PathBuf, Replica) {
    let path = copy_db(template, dir, "replica.sqlite3");
    let replica = Replica::open_with_clock(&path, clock).unwrap();
    (path, replica)
}

fn main() {
    let args = BenchArgs::parse();
    let projects = args.size(env_or("YIZHAN_BENCH_ALERT_PROJECTS", 1_000_000), 20_000);
    let load = announce("alerts", &format!("deadline rules over a replica of {} projects", thousands(projects as f64)));
    let runtime = yizhan_tests::bench::bench_runtime();
    let template = runtime.block_on(cached_replica(projects));
    let mut report = Report::default();
    let wants = |s: &str| args.filters.is_empty() || args.filters.iter().any(|f| s.contains(f.as_str()));
    for scenario in SCENARIOS.into_iter().filter(|s| wants(s)) {
        println!("\n== {scenario}");
        match scenario {
            "full" => full(&template, projects, &mut report, args.size(3, 1)),
            "per-change" => per_change(&template, &mut report, args.size(10_000, 500)),
            _ => no_stall(&template, &mut report),
        }
    }
    finish_report(&report, args.markdown.as_deref(), &format!("Alerts over {} projects", thousands(projects as f64)), &load);
}

fn full(template: &Path, projects: usize, report: &mut Report, runs: usize) {
    let scratch = scratch_dir();
    // The bootstrap evaluated every project already: a run today finds nothing new.
    let (path, mut replica) = working_copy(template, scratch.path(), at(DEMO_TODAY));
    let mut steady = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        assert_eq!(replica.evaluate_alerts().unwrap(), 0, "nothing changed since the last evaluation");
        steady.push(started.elapsed().as_secs_f64());
    }
    let steady = median(&steady);
    drop(replica);
    // Two weeks on, every deadline alert moves: due-soon ones turn overdue, overdue ones
    // escalate, new ones come due.
    let mut later = Replica::open_with_clock(&path, at(DEMO_TODAY + time::Duration::days(14))).unwrap();
    let started = Instant::now();
    let changed = later.evaluate_alerts().unwrap();
    let moved = started.elapsed().as_secs_f64();
    report.add(
        "full",
        "evaluation, nothing new (median)",
        format!("{steady:.2} s"),
        Some(("≤ 1 s", steady <= FULL_SECONDS)),
        format!("{} projects, median of {runs}", thousands(projects as f64)),
    );
    report.add(
        "full",
        "evaluation two weeks on",
        format!("{moved:.2} s"),
        Some(("≤ 1 s", moved <= FULL_SECONDS)),
        format!("{} alerts raised, escalated or resolved", thousands(changed as f64)),
    );
}

fn per_change(template: &Path, report: &mut Report, samples: usize) {
    let scratch = scratch_dir();
    let (path, mut replica) = working_copy(template, scratch.path(), at(DEMO_TODAY));
    replica.evaluate_alerts().unwrap();
    let mut codes = project_codes(&path);
    Rng::new(7).shuffle(&mut codes);
    let mut took: Vec<Duration> = codes
        .iter()
        .cycle()
        .take(samples)
        .map(|code| {
            let started = Instant::now();
            replica.evaluate_project_alerts(code.as_str()).unwrap();
            started.elapsed()
        })
        .collect();
    took.sort();
    let p99 = percentile(&took, 99.0);
    report.add(
        "per-change",
        "one project evaluated, p99",
        format!("{:.3} ms", ms(p99)),
        Some(("≤ 1 ms", ms(p99) <= PER_CHANGE_P99_MS)),
        format!("p50 {:.3} ms over {samples} random projects; its own transaction each", ms(percentile(&took, 50.0))),
    );
}

fn no_stall(template: &Path, report: &mut Report) {
    let scratch = scratch_dir();
    let (path, mut replica) = working_copy(template, scratch.path(), at(DEMO_TODAY));
    replica.evaluate_alerts().unwrap();
    // Two weeks later every deadline alert changes: due-soon ones turn overdue or escalate.
    let mut later = Replica::open_with_clock(&path, at(DEMO_TODAY + time::Duration::days(14))).unwrap();
    drop(replica);
    let reader = ReplicaReader::open(&path).unwrap();
    let read = || {
        let started = Instant::now();
        reader.list_projects(&ProjectQuery { limit: 50, ..ProjectQuery::default() }).unwrap();
        reader.list_alerts(&AlertQuery { limit: 50, ..AlertQuery::default() }).unwrap();
        started.elapsed()
    };
    let mut quiet: Vec<Duration> = (0..20).map(|_| read()).collect();
    quiet.sort();
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let started = Instant::now();
            let changed = later.evaluate_alerts().unwrap();
            done.store(true, Ordering::SeqCst);
            (started.elapsed(), changed)
        })
    };
    let mut reads = Vec::new();
    while !done.load(Ordering::SeqCst) {
        reads.push(read());
    }
    let (writing, changed) = writer.join().unwrap();
    reads.sort();
    let p99 = percentile(&reads, 99.0);
    report.add(
        "no-stall",
        "list + alert queue read during evaluation, p99",
        format!("{:.1} ms", ms(p99)),
        Some(("≤ 100 ms", ms(p99) <= READ_P99_MS)),
        format!(
            "{} reads, max {:.1} ms, while an evaluation changing {} alerts ran for {:.2} s; the same reads on a quiet replica: p99 {:.1} ms",
            reads.len(),
            ms(*reads.last().unwrap()),
            thousands(changed as f64),
            writing.as_secs_f64(),
            ms(percentile(&quiet, 99.0))
        ),
    );
}
