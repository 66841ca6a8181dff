//! The counters' benchmark: many counters on one hub, clerk commands delivered after an
//! outage, and reconciliation of a large replica. Results and commands in docs/perf.md.
//!
//! ```text
//! cargo bench -p yizhan-tests --bench counters                  # every scenario
//! cargo bench -p yizhan-tests --bench counters -- fleet         # one (substring match)
//! ```
//!
//! Scenarios: `fleet-latency` (one payment ingested at the hub until every one of
//! `YIZHAN_BENCH_REPLICAS` (200) running counters has verified and applied it; over
//! `YIZHAN_BENCH_EVENTS` (50) events), `outbox-drain` (`YIZHAN_BENCH_COMMANDS` (10,000)
//! commands queued offline, delivered and acknowledged), `reconcile` (a replica of
//! `YIZHAN_BENCH_RECONCILE_PROJECTS` (200,000 projects, about a million rows) with 10 rows
//! altered behind its back, compared with the hub and repaired; bytes exchanged reported).
//! The fleet and outbox scenarios use a hub of `YIZHAN_BENCH_PROJECTS` (10,000) projects.
//!
//! Without `--bench` (as under `cargo test --benches`) every scenario runs once on small
//! sizes: a check that the benchmark works, not a measurement.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use yizhan_core::clock::Clock;
use yizhan_core::command::ClerkAction;
use yizhan_sync::client::{CancellationToken, ClientOptions};
use yizhan_sync::replica::{Replica, ReplicaReader};
use yizhan_tests::bench::{
    Report, ServedHub, cached_hub, copy_db, load_average, ms, percentile, project_codes, scratch_dir, thousands,
};
use yizhan_tests::hub::{DEMO_TODAY, new_payments};

const SCENARIOS: [&str; 3] = ["fleet-latency", "outbox-drain", "reconcile"];
const FLEET_P99_MS: f64 = 100.0;
const DRAIN_SECONDS: f64 = 10.0;
const RECONCILE_SECONDS: f64 = 5.0;
const ALTERED_ROWS: usize = 10;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().map_or(default, |v| {
        v.replace(['_', ','], "").parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
    })
}

struct Config {
    measuring: bool,
    filters: Vec<String>,
}

impl Config {
    fn size(&self, measured: usize, smoke: usize) -> usize {
        if self.measuring { measured } else { smoke }
    }

    fn wants(&self, scenario: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| scenario.contains(f.as_str()))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = Config {
        measuring: args.iter().any(|a| a == "--bench"),
        filters: args.iter().filter(|a| !a.starts_with('-')).cloned().collect(),
    };
    if !config.measuring {
        println!("smoke mode: small sizes (pass --bench, as `cargo bench` does, to measure)");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut report = Report::default();
    for scenario in SCENARIOS.into_iter().filter(|s| config.wants(s)) {
        println!("\n== {scenario} (load average {}, demo data as of {DEMO_TODAY})", load_average());
        runtime.block_on(async {
            match scenario {
                "fleet-latency" => fleet_latency(&config, &mut report).await,
                "outbox-drain" => outbox_drain(&config, &mut report).await,
                _ => reconcile(&config, &mut report).await,
            }
        });
    }
    if let Ok(path) = std::env::var("YIZHAN_BENCH_MARKDOWN") {
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&report.markdown("### Counters"));
        std::fs::write(&path, text).expect("write the markdown report");
    }
}

fn options() -> ClientOptions {
    ClientOptions {
        counter_key: Some(yizhan_tests::counter::COUNTER_KEY.clone()),
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
        // Reconciliation is its own scenario.
        reconcile_every: Duration::from_secs(24 * 3600),
        ..ClientOptions::default()
    }
}

/// A hub seeded with `projects` demo projects, serving a copy of the cached seed in `dir`:
/// the scenarios write to it, and the cache must stay as seeded.
async fn served_hub(projects: usize, dir: &Path) -> ServedHub {
    ServedHub::start(&copy_db(&cached_hub(projects, 42).await, dir, "hub.sqlite3")).await
}

/// A replica of the hub at `url`, caught up, in `dir`.
async fn bootstrapped(dir: &Path, hub: &ServedHub) -> std::path::PathBuf {
    let path = dir.join("template.sqlite3");
    let client = hub.client(&path, Clock::system(), options()).await;
    client.catch_up(&CancellationToken::new()).await.expect("bootstrap the template replica");
    drop(client);
    path
}

async fn fleet_latency(config: &Config, report: &mut Report) {
    let projects = config.size(env_or("YIZHAN_BENCH_PROJECTS", 10_000), 500);
    let replicas = config.size(env_or("YIZHAN_BENCH_REPLICAS", 200), 5);
    let events = config.size(env_or("YIZHAN_BENCH_EVENTS", 50), 3);
    let scratch = scratch_dir();
    let hub = served_hub(projects, scratch.path()).await;
    let template = bootstrapped(scratch.path(), &hub).await;
    let codes = project_codes(&template);

    let shutdown = CancellationToken::new();
    let mut heard: Vec<broadcast::Receiver<yizhan_sync::status::ReplicaChanged>> = Vec::new();
    for i in 0..replicas {
        let path = copy_db(&template, scratch.path(), &format!("counter-{i}.sqlite3"));
        let client = hub.client(&path, Clock::system(), options()).await;
        heard.push(client.subscribe());
        tokio::spawn(client.run(shutdown.clone()));
    }
    // Every counter is holding a long-poll before the first event.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut latencies = Vec::new();
    let mut slowest = Vec::new();
    for event in 0..events {
        let payment = new_payments(&hub.hub, &codes[event % codes.len()..][..1], 1, 800_000 + event as u64);
        let posted = Instant::now();
        let seq = hub.hub.ingest("bench", payment).await.expect("ingest").head;
        let mut per_event = Vec::new();
        for receiver in &mut heard {
            loop {
                let changed = receiver.recv().await.expect("the counter runs");
                if changed.cursor >= seq {
                    per_event.push(posted.elapsed());
                    break;
                }
            }
        }
        slowest.push(*per_event.iter().max().unwrap());
        latencies.extend(per_event);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    latencies.sort();
    slowest.sort();
    let p99 = ms(percentile(&latencies, 0.99));
    report.add(
        "fleet-latency",
        &format!("ingest → verified and applied in each of {replicas} counters (all on this machine), p99"),
        format!("{p99:.1} ms"),
        Some(("≤ 100 ms", p99 <= FLEET_P99_MS)),
        format!(
            "p50 {:.1} ms, max {:.1} ms over {} counter-events; all {replicas} done: median {:.1} ms",
            ms(percentile(&latencies, 0.5)),
            ms(*latencies.last().unwrap()),
            latencies.len(),
            ms(percentile(&slowest, 0.5)),
        ),
    );

    // The hub's part alone: the same fan-out to as many bare long-polls, each answered
    // batch read to its end, with no replica behind it to share these two cores.
    let http = reqwest::Client::new();
    let mut polls = Vec::new();
    let head = hub.head().await;
    let (arrived_tx, mut arrived) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    for _ in 0..replicas {
        let (http, url, arrived) = (http.clone(), hub.url.clone(), arrived_tx.clone());
        polls.push(tokio::spawn(async move {
            let mut after = head;
            loop {
                let Ok(answer) = http.get(format!("{url}/v1/changes?after={after}&wait=30")).send().await else { return };
                let Ok(batch) = answer.json::<yizhan_sync::protocol::ChangeBatch>().await else { return };
                if batch.upto > after {
                    after = batch.upto;
                    let _ = arrived.send((after, Instant::now()));
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut fan_out = Vec::new();
    for event in 0..events {
        let payment = new_payments(&hub.hub, &codes[event % codes.len()..][..1], 1, 900_000 + event as u64);
        let posted = Instant::now();
        let seq = hub.hub.ingest("bench", payment).await.expect("ingest").head;
        let mut heard = 0;
        while heard < replicas {
            let (upto, at) = arrived.recv().await.expect("the long-polls run");
            if upto >= seq {
                fan_out.push(at - posted);
                heard += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    polls.iter().for_each(|p| p.abort());
    fan_out.sort();
    let p99 = ms(percentile(&fan_out, 0.99));
    report.add(
        "fleet-latency",
        &format!("ingest → sealed batch received by each of {replicas} long-polls, p99"),
        format!("{p99:.1} ms"),
        Some(("≤ 100 ms", p99 <= FLEET_P99_MS)),
        format!("p50 {:.1} ms, max {:.1} ms over {} polls", ms(percentile(&fan_out, 0.5)), ms(*fan_out.last().unwrap()), fan_out.len()),
    );
    hub.stop().await;
}

async fn outbox_drain(config: &Config, report: &mut Report) {
    let projects = config.size(env_or("YIZHAN_BENCH_PROJECTS", 10_000), 500);
    let commands = config.size(env_or("YIZHAN_BENCH_COMMANDS", 10_000), 300);
    let scratch = scratch_dir();
    let hub = served_hub(projects, scratch.path()).await;
    let path = bootstrapped(scratch.path(), &hub).await;
    let codes = project_codes(&path);
    {
        let mut replica = Replica::open(&path).unwrap();
        for i in 0..commands {
            let action = ClerkAction::FollowUpNote { project_code: codes[i % codes.len()].clone(), text: format!("离线第{i}条") };
            replica.issue(action, &yizhan_tests::counter::issuer("clerk01"), time::OffsetDateTime::now_utc()).expect("queue a command");
        }
    }
    let client = hub.client(&path, Clock::system(), options()).await;
    let started = Instant::now();
    let requests = client.drain_outbox(&CancellationToken::new()).await.expect("drain the outbox");
    let took = started.elapsed();
    let left = ReplicaReader::open(&path).unwrap().outbox_counts().unwrap();
    assert_eq!((left.pending, left.conflicts), (0, 0));
    let rate = commands as f64 / took.as_secs_f64();
    report.add(
        "outbox-drain",
        &format!("{} queued commands uploaded and acknowledged", thousands(commands as f64)),
        format!("{:.2} s", took.as_secs_f64()),
        Some(("≤ 10 s", took.as_secs_f64() <= DRAIN_SECONDS)),
        format!("{} commands/s, {requests} requests", thousands(rate)),
    );
    hub.stop().await;
}

async fn reconcile(config: &Config, report: &mut Report) {
    let projects = config.size(env_or("YIZHAN_BENCH_RECONCILE_PROJECTS", 200_000), 500);
    let scratch = scratch_dir();
    let hub = served_hub(projects, scratch.path()).await;
    let path = bootstrapped(scratch.path(), &hub).await;
    {
        let db = rusqlite::Connection::open(&path).unwrap();
        let altered = db
            .execute(
                &format!(
                    "UPDATE rows SET payload = replace(payload, '\"amount_fen\":', '\"amount_fen\":7') \
                     WHERE rowid IN (SELECT rowid FROM rows WHERE entity = 'payment' ORDER BY random() LIMIT {ALTERED_ROWS})"
                ),
                [],
            )
            .unwrap();
        assert_eq!(altered, ALTERED_ROWS);
    }
    let client = hub.client(&path, Clock::system(), options()).await;
    let started = Instant::now();
    let result = client.reconcile(&CancellationToken::new()).await.expect("reconcile");
    let took = started.elapsed();
    assert_eq!(result.rows_repaired, ALTERED_ROWS as u64, "{result:?}");
    report.add(
        "reconcile",
        &format!("{} rows compared, {ALTERED_ROWS} altered", thousands(result.rows_compared as f64)),
        format!("{:.2} s", took.as_secs_f64()),
        Some(("≤ 5 s", took.as_secs_f64() <= RECONCILE_SECONDS)),
        format!(
            "{} ranges compared; {} bytes sent, {} received",
            thousands(result.ranges_compared as f64),
            thousands(result.bytes_sent as f64),
            thousands(result.bytes_received as f64)
        ),
    );
    hub.stop().await;
}
