//! Planning department CDC: sustained inserts at the source → the hub's change log
//! (docs/perf.md, section "Planning CDC"). Needs PostgreSQL with wal_level=logical, as the
//! tests do (YIZHAN_TEST_POSTGRES, default `host=127.0.0.1 port=5432 user=postgres`).
//!
//!   cargo bench -p yizhan-hub --bench planning_cdc
//!
//! - **sustained**: a writer inserts YIZHAN_CDC_RATE rows/s (default 6,000) in
//!   transactions of YIZHAN_CDC_BATCH rows (default 60) for YIZHAN_CDC_SECONDS (20) while
//!   the connector runs. Reports the rate the hub's log kept, and the latency of each row
//!   from the source commit to the hub's log commit: measured from the moment the writer's
//!   autocommit INSERT returned (the commit happened just before) and, as an upper bound,
//!   from the moment the statement was sent.
//! - **catch-up**: YIZHAN_CDC_BACKLOG rows (default 100,000, in transactions of 1,000)
//!   written while the connector is stopped, then read through: the connector's ceiling.
//!
//! Without `--bench` (what `cargo test --benches` runs) both run briefly, as a smoke test.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio_postgres::{Client, NoTls};
use tokio_util::sync::CancellationToken;
use yizhan_core::entity::EntityKind;
use yizhan_hub::connectors::planning_cdc::{self, CONNECTOR, CdcConfig, SCHEMA_SQL};
use yizhan_hub::{Hub, HubConfig};

const INSERT: &str =
    "INSERT INTO planning_approval (planning_permit_no, project_code, project_name, builder,
        builder_uscc, district_code, contact_phone, approved_on, residential_area_m2,
        non_residential_area_m2, civil_defence_area_m2)
    SELECT 'B-' || lpad(i::text, 8, '0'), '2026-320115-47-01-' || lpad((i % 1000000)::text, 6, '0'),
           '规划项目' || i, '南京钟山置业有限公司', '91350100M000100Y43', '320115', '13812341234',
           date '2026-06-01', round(i * 1.25, 2), 100.50, 0
    FROM generate_series($1::int, $2::int) AS i";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn server() -> String {
    std::env::var("YIZHAN_TEST_POSTGRES")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres".into())
}

async fn connect(dbname: &str) -> Client {
    let conninfo = format!("{} dbname={dbname}", server());
    let (client, connection) = tokio_postgres::connect(&conninfo, NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL with wal_level=logical is needed at `{conninfo}`: {e}")
        });
    tokio::spawn(connection);
    client
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Bench {
    name: String,
    sql: Client,
    hub: Hub,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn new(tag: &str) -> Bench {
        let admin = connect("postgres").await;
        let name = format!("yzcdc_bench_{tag}");
        // A run that was interrupted leaves its slot and database behind.
        let _ = admin.execute("SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", &[&name]).await;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let sql = connect(&name).await;
        sql.batch_execute(SCHEMA_SQL).await.unwrap();
        sql.batch_execute(&format!(
            "CREATE PUBLICATION {name} FOR TABLE planning_approval"
        ))
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let hub = Hub::open(HubConfig::new(dir.path().join("hub.sqlite3"))).unwrap();
        Bench {
            name,
            sql,
            hub,
            _dir: dir,
        }
    }

    fn start(&self) -> (CancellationToken, tokio::task::JoinHandle<()>) {
        let config = CdcConfig::new(
            &format!("{} dbname={}", server(), self.name),
            &self.name,
            &self.name,
        )
        .unwrap();
        let shutdown = CancellationToken::new();
        (
            shutdown.clone(),
            tokio::spawn(planning_cdc::run(self.hub.clone(), config, shutdown)),
        )
    }

    async fn wait_streaming(&self) {
        while !self
            .hub
            .store()
            .connector_position(CONNECTOR)
            .await
            .unwrap()
            .is_some_and(|p| p.contains('/'))
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Permit → when the hub's log committed it, once all `rows` are there.
    async fn logged(&self, rows: usize) -> HashMap<String, OffsetDateTime> {
        let deadline = Instant::now() + Duration::from_secs(600);
        let mut logged = HashMap::with_capacity(rows);
        let mut after = 0;
        while logged.len() < rows {
            let changes = self.hub.store().changes_after(after, 50_000).await.unwrap();
            match changes.last() {
                Some(last) => after = last.seq,
                None => {
                    assert!(
                        Instant::now() < deadline,
                        "the hub has {} of {rows} rows",
                        logged.len()
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            for change in changes
                .into_iter()
                .filter(|c| c.entity == EntityKind::PlanningApproval)
            {
                logged.insert(change.key, change.committed_at);
            }
        }
        logged
    }

    async fn finish(self, shutdown: CancellationToken, task: tokio::task::JoinHandle<()>) {
        shutdown.cancel();
        task.await.unwrap();
        drop(self.sql);
        let admin = connect("postgres").await;
        for _ in 0..100 {
            let dropped = admin
                .execute("SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", &[&self.name])
                .await
                .unwrap();
            if dropped == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        admin
            .batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .await
            .unwrap();
    }
}

/// One writer transaction: its first and last row, when it was sent and when it returned.
struct Sent {
    rows: (i32, i32),
    sent: OffsetDateTime,
    returned: OffsetDateTime,
}

async fn sustained(rate: u64, batch: u64, seconds: u64) {
    println!(
        "\n== sustained: {rate} rows/s in transactions of {batch}, {seconds} s (load average {})",
        load_average()
    );
    let bench = Bench::new("sustained").await;
    let (shutdown, task) = bench.start();
    bench.wait_streaming().await;

    let transactions = rate * seconds / batch;
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(batch as f64 / rate as f64));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = Vec::with_capacity(transactions as usize);
    let started = Instant::now();
    for t in 0..transactions as i32 {
        ticks.tick().await;
        let rows = (t * batch as i32 + 1, (t + 1) * batch as i32);
        let at = OffsetDateTime::now_utc();
        bench
            .sql
            .execute(INSERT, &[&rows.0, &rows.1])
            .await
            .unwrap();
        sent.push(Sent {
            rows,
            sent: at,
            returned: OffsetDateTime::now_utc(),
        });
    }
    let writing = started.elapsed();
    let total = (transactions * batch) as usize;
    let logged = bench.logged(total).await;

    let mut from_commit = Vec::with_capacity(total);
    let mut from_send = Vec::with_capacity(total);
    for s in &sent {
        for i in s.rows.0..=s.rows.1 {
            let at = logged[&format!("B-{i:08}")];
            from_commit.push((at - s.returned).as_seconds_f64() * 1000.0);
            from_send.push((at - s.sent).as_seconds_f64() * 1000.0);
        }
    }
    from_commit.sort_by(f64::total_cmp);
    from_send.sort_by(f64::total_cmp);
    let first = sent[0].sent;
    let last = logged.values().max().copied().unwrap_or(first);
    let span = (last - first).as_seconds_f64();
    println!(
        "source wrote {total} rows in {:.2} s ({:.0} rows/s); the hub's log took them in {span:.2} s: {:.0} events/s",
        writing.as_secs_f64(),
        total as f64 / writing.as_secs_f64(),
        total as f64 / span
    );
    for (what, l) in [
        ("from the source commit", &from_commit),
        ("from the INSERT sent (upper bound)", &from_send),
    ] {
        println!(
            "latency to the hub's log {what}: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            percentile(l, 0.5),
            percentile(l, 0.95),
            percentile(l, 0.99),
            l[l.len() - 1]
        );
    }
    bench.finish(shutdown, task).await;
}

async fn catch_up(backlog: u64) {
    println!(
        "\n== catch-up: {backlog} rows written while the connector is stopped (load average {})",
        load_average()
    );
    let bench = Bench::new("catchup").await;
    let (shutdown, task) = bench.start();
    bench.wait_streaming().await;
    shutdown.cancel();
    task.await.unwrap();

    let chunk = 1_000;
    for from in (1..=backlog as i32).step_by(chunk) {
        bench
            .sql
            .execute(
                INSERT,
                &[&from, &(from + chunk as i32 - 1).min(backlog as i32)],
            )
            .await
            .unwrap();
    }
    let started = Instant::now();
    let (shutdown, task) = bench.start();
    bench.logged(backlog as usize).await;
    let took = started.elapsed().as_secs_f64();
    println!(
        "the hub's log took {backlog} rows in {took:.2} s: {:.0} events/s",
        backlog as f64 / took
    );
    bench.finish(shutdown, task).await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    if measuring {
        sustained(
            setting("YIZHAN_CDC_RATE", 6_000),
            setting("YIZHAN_CDC_BATCH", 60),
            setting("YIZHAN_CDC_SECONDS", 20),
        )
        .await;
        catch_up(setting("YIZHAN_CDC_BACKLOG", 100_000)).await;
    } else {
        sustained(1_000, 50, 1).await;
        catch_up(2_000).await;
    }
}
