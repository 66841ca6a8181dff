//! The planning department's change capture against a real PostgreSQL with
//! `wal_level = logical` (127.0.0.1:5432, user postgres, trust; another server through
//! YIZHAN_TEST_POSTGRES, e.g. `host=/var/run/postgresql port=5433 user=postgres`). Each test
//! makes its own database, publication and slot and drops them, slot first (a slot left
//! behind pins WAL). Without such a server the tests fail and say how to get one.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio_postgres::{Client, NoTls};
use tokio_util::sync::CancellationToken;
use yizhan_core::entity::EntityKind;
use yizhan_hub::connectors::planning_cdc::{self, CONNECTOR, CdcConfig, SCHEMA_SQL};
use yizhan_hub::connectors::{Connector, ConnectorKind};
use yizhan_core::area::Area;
use yizhan_hub::{Hub, HubConfig};
use yizhan_sync::protocol::{KeyRange, Op, PlanningRecord};

const USCC: &str = "91350100M000100Y43";
const HUB_BIN: &str = env!("CARGO_BIN_EXE_yizhan-hub");

fn server() -> String {
    std::env::var("YIZHAN_TEST_POSTGRES")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres".into())
}

async fn connect(dbname: &str) -> Client {
    let conninfo = format!("{} dbname={dbname}", server());
    let (client, connection) = tokio_postgres::connect(&conninfo, NoTls).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at `{conninfo}` ({e}). These tests need PostgreSQL with \
             wal_level=logical: `apt-get install -y postgresql`, then \
             `psql -U postgres -c \"ALTER SYSTEM SET wal_level = logical\"` and restart it \
             (`pg_ctlcluster --skip-systemctl-redirect 15 main restart`); or point \
             YIZHAN_TEST_POSTGRES at one."
        )
    });
    tokio::spawn(connection);
    client
}

/// The department's side: a database with the approvals table, its publication, and the
/// name of the slot the hub will create.
struct Source {
    name: String,
    sql: Client,
}

impl Source {
    async fn create() -> Source {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let admin = connect("postgres").await;
        let wal_level: String = admin.query_one("SHOW wal_level", &[]).await.unwrap().get(0);
        assert_eq!(
            wal_level, "logical",
            "PostgreSQL runs with wal_level={wal_level}; logical replication needs \
             `ALTER SYSTEM SET wal_level = logical` and a restart"
        );
        drop_leftovers(&admin).await;
        let name = format!(
            "yzcdc_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let sql = connect(&name).await;
        sql.batch_execute(SCHEMA_SQL).await.unwrap();
        sql.batch_execute(&format!(
            "CREATE PUBLICATION {name} FOR TABLE planning_approval;
             CREATE TABLE unpublished_noise (id bigserial PRIMARY KEY, payload text NOT NULL);"
        ))
        .await
        .unwrap();
        Source { name, sql }
    }

    fn conninfo(&self) -> String {
        format!("{} dbname={}", server(), self.name)
    }

    fn config(&self) -> CdcConfig {
        CdcConfig::new(&self.conninfo(), &self.name, &self.name)
            .unwrap()
            .with_heartbeat(Duration::from_millis(200))
    }

    /// Approvals numbered `from..=to`: permit `P-000123`, its own project.
    async fn insert(&self, from: i32, to: i32) {
        self.sql.execute(INSERT, &[&from, &to]).await.unwrap();
    }

    async fn slot_flushed_past(&self, lsn: &str) -> bool {
        self.sql
            .query_one(
                "SELECT coalesce((SELECT confirmed_flush_lsn >= $2::text::pg_lsn FROM pg_replication_slots
                                  WHERE slot_name = $1), false)",
                &[&self.name, &lsn],
            )
            .await
            .unwrap()
            .get(0)
    }

    async fn current_lsn(&self) -> String {
        self.sql
            .query_one("SELECT pg_current_wal_lsn()::text", &[])
            .await
            .unwrap()
            .get(0)
    }

    /// Drops the slot (once its walsender is gone), then the database.
    async fn drop(self) {
        drop(self.sql);
        let admin = connect("postgres").await;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let dropped = admin
                .execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                     WHERE slot_name = $1 AND NOT active",
                    &[&self.name],
                )
                .await
                .unwrap();
            let left: i64 = admin
                .query_one(
                    "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1",
                    &[&self.name],
                )
                .await
                .unwrap()
                .get(0);
            if dropped == 1 || left == 0 {
                break;
            }
            if Instant::now() + Duration::from_secs(10) > deadline {
                admin
                    .execute(
                        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1",
                        &[&self.name],
                    )
                    .await
                    .unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "slot {} is still in use",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        admin
            .batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .await
            .unwrap();
    }
}

/// Slots and databases of test processes that died before cleaning up.
async fn drop_leftovers(admin: &Client) {
    let alive = |name: &str| {
        let pid = name.split('_').nth(1).unwrap_or_default();
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    };
    let slots = admin
        .query("SELECT slot_name::text FROM pg_replication_slots WHERE slot_name LIKE 'yzcdc\\_%' AND NOT active", &[])
        .await
        .unwrap();
    for slot in slots
        .iter()
        .map(|r| r.get::<_, String>(0))
        .filter(|s| !alive(s))
    {
        let _ = admin
            .execute("SELECT pg_drop_replication_slot($1)", &[&slot])
            .await;
    }
    let databases = admin
        .query(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'yzcdc\\_%'",
            &[],
        )
        .await
        .unwrap();
    for db in databases
        .iter()
        .map(|r| r.get::<_, String>(0))
        .filter(|d| !alive(d))
    {
        let _ = admin
            .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
            .await;
    }
    let roles = admin
        .query(
            "SELECT rolname::text FROM pg_roles WHERE rolname LIKE 'yzcdc\\_%'",
            &[],
        )
        .await
        .unwrap();
    for role in roles
        .iter()
        .map(|r| r.get::<_, String>(0))
        .filter(|r| !alive(r))
    {
        let _ = admin.batch_execute(&format!("DROP ROLE {role}")).await;
    }
}

const INSERT: &str = "INSERT INTO planning_approval (planning_permit_no, project_code, project_name, builder,
        builder_uscc, district_code, contact_phone, approved_on, residential_area_m2,
        non_residential_area_m2, civil_defence_area_m2)
    SELECT 'P-' || lpad(i::text, 6, '0'), '2026-320115-47-01-' || lpad(i::text, 6, '0'), '规划项目' || i,
           '南京钟山置业有限公司', '91350100M000100Y43', '320115', '13812341234', date '2026-06-01',
           round(i * 1.25, 2), 100.50, 0
    FROM generate_series($1::int, $2::int) AS i";

/// An INSERT of approval `i` with the USCC and residential area given.
fn one_row(i: i32, uscc: &str, residential_m2: &str) -> String {
    format!(
        "INSERT INTO planning_approval (planning_permit_no, project_code, project_name, builder,
             builder_uscc, district_code, approved_on, residential_area_m2)
         VALUES ('{}', '2026-320115-47-01-{i:06}', '规划项目{i}', '南京钟山置业有限公司', '{uscc}',
             '320115', '2026-06-01', {residential_m2})",
        permit(i)
    )
}

fn permit(i: i32) -> String {
    format!("P-{i:06}")
}

/// Runs `test` with a fresh source and drops the source whatever happens.
async fn with_source<F, Fut>(test: F)
where
    F: FnOnce(Arc<Source>) -> Fut,
    Fut: Future<Output = ()>,
{
    let source = Arc::new(Source::create().await);
    let outcome = std::panic::AssertUnwindSafe(test(source.clone()))
        .catch_unwind()
        .await;
    let source = Arc::try_unwrap(source).unwrap_or_else(|_| panic!("the test kept the source"));
    source.drop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

struct TestHub {
    hub: Hub,
    _dir: tempfile::TempDir,
}

impl TestHub {
    fn open() -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        let hub = Hub::open(HubConfig::new(dir.path().join("hub.sqlite3"))).unwrap();
        TestHub { hub, _dir: dir }
    }
}

/// The connector as a task of this process.
struct Running {
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    fn start(hub: &Hub, config: CdcConfig) -> Running {
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(planning_cdc::run(hub.clone(), config, shutdown.clone()));
        Running { shutdown, task }
    }

    async fn stop(mut self) {
        self.shutdown.cancel();
        let task = &mut self.task;
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .unwrap()
            .unwrap();
    }
}

/// A test that failed stops its connector too, so that its slot can be dropped.
impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn wait_streaming(hub: &Hub) {
    wait_until("the stream runs", || async {
        hub.store()
            .connector_position(CONNECTOR)
            .await
            .unwrap()
            .is_some_and(|p| pgwire_lsn(&p))
    })
    .await;
}

/// Permit number → canonical JSON of each approval the hub holds.
async fn approvals(hub: &Hub) -> BTreeMap<String, serde_json::Value> {
    let range = KeyRange::whole(EntityKind::PlanningApproval);
    let rows = hub.store().range_rows(range, 1_000_000).await.unwrap();
    rows.into_iter()
        .map(|r| (r.key, serde_json::from_str(&r.payload).unwrap()))
        .collect()
}

async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn agrees(hub: &Hub, source: &Source) -> bool {
    planning_cdc::verify(hub, &source.config())
        .await
        .unwrap()
        .agrees()
}

async fn status(hub: &Hub) -> yizhan_hub::store::ConnectorRecord {
    let connectors = hub.store().connectors().await.unwrap();
    connectors
        .into_iter()
        .find(|c| c.name == CONNECTOR)
        .expect("the connector has registered")
}

/// (upserts, deletes) of each planning approval in the hub's change log.
async fn logged(hub: &Hub) -> HashMap<String, (usize, usize)> {
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    let mut after = 0;
    loop {
        let changes = hub.store().changes_after(after, 10_000).await.unwrap();
        let Some(last) = changes.last() else {
            return counts;
        };
        after = last.seq;
        for change in changes
            .iter()
            .filter(|c| c.entity == EntityKind::PlanningApproval)
        {
            assert_eq!(change.origin, "cdc:planning");
            let entry = counts.entry(change.key.clone()).or_default();
            match change.op {
                Op::Upsert => entry.0 += 1,
                Op::Delete => entry.1 += 1,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_then_inserts_updates_and_deletes_reach_the_hub() {
    with_source(|source| async move {
        source.insert(1, 20).await;
        let hub = TestHub::open();
        let running = Running::start(&hub.hub, source.config());
        wait_streaming(&hub.hub).await;
        assert_eq!(approvals(&hub.hub).await.len(), 20, "the snapshot is in before the stream starts");

        source.insert(21, 23).await;
        source
            .sql
            .batch_execute(
                "BEGIN;
                 UPDATE planning_approval SET residential_area_m2 = 999.99 WHERE planning_permit_no = 'P-000001';
                 UPDATE planning_approval SET planning_permit_no = 'P-000902' WHERE planning_permit_no = 'P-000002';
                 DELETE FROM planning_approval WHERE planning_permit_no = 'P-000003';
                 COMMIT;
                 BEGIN;
                 DELETE FROM planning_approval WHERE planning_permit_no = 'P-000004';
                 INSERT INTO planning_approval (planning_permit_no, project_code, project_name, builder,
                     builder_uscc, district_code, approved_on, residential_area_m2)
                   VALUES ('P-000004', '2026-320115-47-01-000004', '重新批准', '南京钟山置业有限公司',
                     '91350100M000100Y43', '320115', '2026-07-01', 44.00);
                 COMMIT;",
            )
            .await
            .unwrap();
        wait_until("the hub equals the source", || agrees(&hub.hub, &source)).await;

        let held = approvals(&hub.hub).await;
        assert_eq!(held.len(), 22);
        assert_eq!(held["P-000001"]["residential_area"], 99_999, "areas are hundredths of m²");
        assert!(!held.contains_key("P-000002") && held.contains_key("P-000902"));
        assert!(!held.contains_key("P-000003"));
        assert_eq!(held["P-000004"]["residential_area"], 4_400);
        assert_eq!(held["P-000004"]["approved_on"], "2026-07-01");
        let log = logged(&hub.hub).await;
        assert_eq!(log["P-000003"], (1, 1), "a delete is logged as the approval's removal");
        assert_eq!(log["P-000004"], (2, 1), "deleted, then approved again");
        assert_eq!(log["P-000001"], (2, 0));

        wait_until("a heartbeat reports the slot's lag", || async {
            status(&hub.hub).await.source_lag_bytes.is_some()
        })
        .await;
        let status = status(&hub.hub).await;
        assert_eq!(status.kind, yizhan_hub::store::ConnectorKind::PostgresCdc);
        assert_eq!(status.last_error, None);
        assert!(status.newest_source_at.is_some());
        running.stop().await;
    })
    .await;
}

fn pgwire_lsn(text: &str) -> bool {
    text.split_once('/').is_some_and(|(hi, lo)| {
        [hi, lo]
            .iter()
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_hexdigit()))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_of_5000_rows_arrives_whole() {
    with_source(|source| async move {
        let hub = TestHub::open();
        let running = Running::start(&hub.hub, source.config());
        wait_streaming(&hub.hub).await;
        source.insert(1, 5_000).await;
        wait_until("the transaction is in", || async {
            approvals(&hub.hub).await.len() == 5_000
        })
        .await;

        let changes = hub.hub.store().changes_after(0, 100_000).await.unwrap();
        let approvals: Vec<_> = changes
            .iter()
            .filter(|c| c.entity == EntityKind::PlanningApproval)
            .collect();
        assert_eq!(approvals.len(), 5_000);
        let commits: std::collections::HashSet<_> =
            approvals.iter().map(|c| c.committed_at).collect();
        assert_eq!(
            commits.len(),
            1,
            "the source transaction is one hub transaction"
        );
        assert!(agrees(&hub.hub, &source).await);
        running.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_row_is_quarantined_with_its_lsn_and_the_rows_after_it_flow() {
    with_source(|source| async move {
        let hub = TestHub::open();
        let running = Running::start(&hub.hub, source.config());
        wait_streaming(&hub.hub).await;
        source.insert(1, 1).await;
        // One transaction: a good row after the bad one; then a bad row on its own.
        source
            .sql
            .batch_execute(&format!(
                "BEGIN; {}; {}; COMMIT; {};",
                one_row(2, USCC, "-5"),
                INSERT.replace("$1::int, $2::int", "3, 3"),
                one_row(4, "9135010OM000100Y43", "10"),
            ))
            .await
            .unwrap();
        source.insert(5, 5).await;
        wait_until("the row after the bad ones is in", || async {
            approvals(&hub.hub).await.contains_key("P-000005")
        })
        .await;
        let held = approvals(&hub.hub).await;
        assert_eq!(held.keys().collect::<Vec<_>>(), ["P-000001", "P-000003", "P-000005"]);

        let quarantined = hub.hub.store().quarantine(Some(yizhan_sync::protocol::QuarantineState::Open), Some(CONNECTOR.into()), 10).await.unwrap();
        let by_permit: HashMap<_, _> =
            quarantined.iter().map(|q| (q.source_id.clone().unwrap_or_default(), q)).collect();
        let area = by_permit["P-000002"];
        assert!(area.location.starts_with("LSN ") && pgwire_lsn(&area.location[4..]), "{}", area.location);
        assert_eq!(area.problems[0].field, "residential_area_m2");
        assert_eq!(area.problems[0].problem, "面积应为非负数");
        let record: serde_json::Value = serde_json::from_str(&area.record).unwrap();
        assert_eq!(record["residential_area_m2"], "-5.00", "the row is kept as the source sent it");
        let uscc = by_permit["P-000004"];
        assert_eq!(uscc.problems[0].field, "uscc");
        assert_eq!(quarantined.len(), 2);

        // An operator corrects the quarantined row's columns at the hub: read again as the
        // stream reads a row, still wrong it is refused naming the column, right it is in.
        let mut row: serde_json::Value = serde_json::from_str(&uscc.record).unwrap();
        row["builder_uscc"] = "91350100M000100Y4".into();
        let corrected = serde_json::value::to_raw_value(&row).unwrap();
        let refused = hub.hub.reprocess(uscc.id, Some(&corrected), "数据中心-王敏").await.unwrap_err();
        assert!(format!("{refused:?}").contains("uscc"), "{refused:?}");
        row["builder_uscc"] = USCC.into();
        let corrected = serde_json::value::to_raw_value(&row).unwrap();
        let report = hub.hub.reprocess(uscc.id, Some(&corrected), "数据中心-王敏").await.unwrap();
        assert_eq!(report.changed, 1);
        assert!(approvals(&hub.hub).await.contains_key("P-000004"));

        // Corrected at the source, the approval arrives.
        source
            .sql
            .batch_execute("UPDATE planning_approval SET residential_area_m2 = 5 WHERE planning_permit_no = 'P-000002'")
            .await
            .unwrap();
        wait_until("the corrected row is in", || async {
            approvals(&hub.hub).await.contains_key("P-000002")
        })
        .await;
        running.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncate_withdraws_nothing_and_is_reported() {
    with_source(|source| async move {
        source.insert(1, 3).await;
        let hub = TestHub::open();
        let running = Running::start(&hub.hub, source.config());
        wait_until("the snapshot is in", || async {
            approvals(&hub.hub).await.len() == 3
        })
        .await;
        source
            .sql
            .batch_execute("TRUNCATE planning_approval")
            .await
            .unwrap();
        source.insert(9, 9).await;
        wait_until("the row after the truncate is in", || async {
            approvals(&hub.hub).await.contains_key("P-000009")
        })
        .await;
        assert_eq!(approvals(&hub.hub).await.len(), 4);
        let quarantined = hub
            .hub
            .store()
            .quarantine(None, Some(CONNECTOR.into()), 10)
            .await
            .unwrap();
        assert_eq!(quarantined.len(), 1);
        assert_eq!(quarantined[0].problems[0].field, "整表");
        assert!(quarantined[0].record.starts_with("TRUNCATE"));
        assert!(
            status(&hub.hub)
                .await
                .last_error
                .unwrap()
                .contains("TRUNCATE")
        );
        let verification = planning_cdc::verify(&hub.hub, &source.config())
            .await
            .unwrap();
        assert_eq!(
            verification.extra_at_hub,
            ["P-000001", "P-000002", "P-000003"]
        );
        assert_ne!(verification.source_checksum, verification.hub_checksum);
        let kept = status(&hub.hub).await.verification.expect("kept on the connector");
        assert!(!kept.agrees());
        assert_eq!(kept.differing[0], "planning_approval P-000001（规划库中已无）");
        running.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_approvals_table_does_not_pin_wal() {
    with_source(|source| async move {
        let hub = TestHub::open();
        let running = Running::start(&hub.hub, source.config());
        wait_streaming(&hub.hub).await;
        for _ in 0..20 {
            source
                .sql
                .batch_execute("INSERT INTO unpublished_noise (payload) SELECT repeat('x', 500) FROM generate_series(1, 200)")
                .await
                .unwrap();
        }
        let written = source.current_lsn().await;
        wait_until("the slot confirms WAL it had nothing to send for", || source.slot_flushed_past(&written)).await;
        assert!(approvals(&hub.hub).await.is_empty());
        running.stop().await;
    })
    .await;
}

fn record(i: i32, residential: i64) -> PlanningRecord {
    PlanningRecord {
        planning_permit_no: permit(i),
        project_code: format!("2026-320115-47-01-{i:06}"),
        name: format!("规划项目{i}"),
        builder: "南京钟山置业有限公司".into(),
        uscc: USCC.into(),
        district_code: "320115".into(),
        contact_phone: Some("13812341234".into()),
        approved_on: time::macros::date!(2026 - 06 - 01),
        residential_area: Area::from_hundredths(residential),
        non_residential_area: Area::from_hundredths(10_050),
        civil_defence_area: Area::ZERO,
        infra_exemption: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_the_hub_did_not_finish_is_redone_and_what_vanished_is_withdrawn() {
    with_source(|source| async move {
        source.insert(1, 10).await;
        // What a hub killed halfway through its first snapshot leaves behind: part of the
        // table (P-000001 since changed, P-000099 since deleted), the marker, and the slot.
        let hub = TestHub::open();
        let connector = Connector::new(CONNECTOR, ConnectorKind::PostgresCdc);
        let partial = [record(1, 1), record(99, 9_900)]
            .into_iter()
            .map(|r| yizhan_hub::connectors::SourceChange::Upsert {
                location: "初始快照".into(),
                raw: String::new(),
                record: Ok(r),
            })
            .collect();
        hub.hub
            .deliver(&connector, partial, Some("snapshot".into()), None)
            .await
            .unwrap();
        source
            .sql
            .execute(
                "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
                &[&source.name],
            )
            .await
            .unwrap();

        let running = Running::start(&hub.hub, source.config());
        wait_streaming(&hub.hub).await;
        assert!(agrees(&hub.hub, &source).await, "the snapshot is redone");
        assert_eq!(approvals(&hub.hub).await.len(), 10);
        assert_eq!(logged(&hub.hub).await["P-000099"], (1, 1));
        running.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_slot_is_rebuilt_from_a_new_snapshot_and_reported() {
    with_source(|source| async move {
        source.insert(1, 5).await;
        let hub = TestHub::open();
        let running = Running::start(&hub.hub, source.config());
        wait_streaming(&hub.hub).await;
        running.stop().await;

        wait_until("the stopped hub lets go of the slot", || async {
            source
                .sql
                .execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                     WHERE slot_name = $1 AND NOT active",
                    &[&source.name],
                )
                .await
                .unwrap()
                == 1
        })
        .await;
        source
            .sql
            .batch_execute("DELETE FROM planning_approval WHERE planning_permit_no = 'P-000005'")
            .await
            .unwrap();
        source.insert(6, 7).await;
        let running = Running::start(&hub.hub, source.config());
        wait_until("the hub equals the source again", || {
            agrees(&hub.hub, &source)
        })
        .await;
        assert!(
            status(&hub.hub)
                .await
                .last_error
                .unwrap()
                .contains("复制槽")
        );
        running.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_restored_from_an_older_backup_takes_a_fresh_snapshot() {
    with_source(|source| async move {
        source.insert(1, 3).await;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hub.sqlite3");
        let backup = dir.path().join("backup");
        {
            let hub = Hub::open(HubConfig::new(&db)).unwrap();
            let running = Running::start(&hub, source.config());
            wait_streaming(&hub).await;
            running.stop().await;
        }
        std::fs::create_dir(&backup).unwrap();
        for file in ["hub.sqlite3", "hub.sqlite3-wal", "hub.sqlite3-shm"] {
            let _ = std::fs::copy(dir.path().join(file), backup.join(file));
        }

        source.insert(4, 6).await;
        source
            .sql
            .batch_execute("DELETE FROM planning_approval WHERE planning_permit_no = 'P-000002'")
            .await
            .unwrap();
        let written = source.current_lsn().await;
        {
            let hub = Hub::open(HubConfig::new(&db)).unwrap();
            let running = Running::start(&hub, source.config());
            wait_until("the slot has confirmed the changes", || {
                source.slot_flushed_past(&written)
            })
            .await;
            assert_eq!(approvals(&hub).await.len(), 5);
            running.stop().await;
        }
        for file in ["hub.sqlite3", "hub.sqlite3-wal", "hub.sqlite3-shm"] {
            let _ = std::fs::remove_file(dir.path().join(file));
            let _ = std::fs::copy(backup.join(file), dir.path().join(file));
        }

        let hub = Hub::open(HubConfig::new(&db)).unwrap();
        assert_eq!(
            approvals(&hub).await.len(),
            3,
            "the backup predates the changes"
        );
        let running = Running::start(&hub, source.config());
        wait_until("the hub equals the source again", || agrees(&hub, &source)).await;
        let error = status(&hub).await.last_error.unwrap();
        assert!(error.contains("落后于它已向复制槽"), "{error}");
        running.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_without_replication_is_told_what_to_grant() {
    let mut role = String::new();
    with_source(|source| {
        role = format!("{}_reader", source.name);
        let role = role.clone();
        async move {
            source
                .sql
                .batch_execute(&format!(
                    "CREATE ROLE {role} LOGIN; GRANT SELECT ON planning_approval TO {role};"
                ))
                .await
                .unwrap();
            let conninfo = source
                .conninfo()
                .replace("user=postgres", &format!("user={role}"));
            let config = CdcConfig::new(&conninfo, &source.name, &source.name).unwrap();
            let hub = TestHub::open();
            let running = Running::start(&hub.hub, config);
            wait_until("the failure is recorded", || async {
                let connectors = hub.hub.store().connectors().await.unwrap();
                connectors.first().is_some_and(|c| c.last_error.is_some())
            })
            .await;
            let error = status(&hub.hub).await.last_error.unwrap();
            assert!(error.starts_with("规划库账号没有复制权限"), "{error}");
            assert!(error.contains("ALTER ROLE"), "{error}");
            running.stop().await;
        }
    })
    .await;
    connect("postgres")
        .await
        .batch_execute(&format!("DROP ROLE {role}"))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unreachable_source_is_reported_and_retried() {
    let hub = TestHub::open();
    let config = CdcConfig::new(
        "host=127.0.0.1 port=1 user=planning dbname=planning",
        "s",
        "p",
    )
    .unwrap();
    let running = Running::start(&hub.hub, config);
    wait_until("the failure is recorded", || async {
        let connectors = hub.hub.store().connectors().await.unwrap();
        connectors.first().is_some_and(|c| c.last_error.is_some())
    })
    .await;
    let error = status(&hub.hub).await.last_error.unwrap();
    assert!(
        error.contains("无法连接规划库 planning@127.0.0.1:1/planning"),
        "{error}"
    );
    running.stop().await;
}

/// Where the local server's TLS certificate and key are put: beside its data, where the
/// server can read them after a restart too.
const SERVER_TLS_DIR: &str = "/var/lib/postgresql/yizhan-test-tls";

/// The local server serving TLS with a certificate for `localhost` issued by a CA made
/// here, as a department's DBA would set it up; answers the CA's certificate. Needs the
/// local cluster (not YIZHAN_TEST_POSTGRES) and the right to write beside its data.
async fn server_tls() -> std::path::PathBuf {
    use std::os::unix::fs::{MetadataExt, chown};
    static READY: tokio::sync::OnceCell<std::path::PathBuf> = tokio::sync::OnceCell::const_new();
    READY
        .get_or_init(|| async {
            let home = std::path::Path::new(SERVER_TLS_DIR).parent().unwrap();
            let owner = std::fs::metadata(home).expect("the local cluster's home");
            let dir = tempfile::Builder::new().prefix("yizhan-test-tls-").tempdir_in(home).unwrap().keep();
            let ca = yizhan_hub::tls::CaFiles::in_dir(&dir.join("ca"));
            std::fs::create_dir(dir.join("ca")).unwrap();
            ca.init("规划库测试 CA").unwrap();
            let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
            ca.issue(&["localhost".to_owned()], &cert, &key).unwrap();
            for path in [&dir, &cert, &key] {
                chown(path, Some(owner.uid()), Some(owner.gid())).unwrap();
            }
            std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
            // The newest in place of the last run's, which the server stops reading now.
            let _ = std::fs::remove_dir_all(SERVER_TLS_DIR);
            std::fs::rename(&dir, SERVER_TLS_DIR).unwrap();
            let admin = connect("postgres").await;
            // One statement at a time: ALTER SYSTEM runs outside a transaction only.
            for statement in [
                format!("ALTER SYSTEM SET ssl_cert_file = '{SERVER_TLS_DIR}/server.pem'"),
                format!("ALTER SYSTEM SET ssl_key_file = '{SERVER_TLS_DIR}/server.key'"),
                "ALTER SYSTEM SET ssl = on".to_owned(),
                "SELECT pg_reload_conf()".to_owned(),
            ] {
                admin.batch_execute(&statement).await.unwrap();
            }
            wait_until("the server has loaded its certificate", || async {
                let file: String = connect("postgres").await.query_one("SHOW ssl_cert_file", &[]).await.unwrap().get(0);
                file.starts_with(SERVER_TLS_DIR)
            })
            .await;
            std::path::Path::new(SERVER_TLS_DIR).join("ca/ca.pem")
        })
        .await
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_is_reached_over_verified_tls_and_an_impostor_is_refused() {
    let ca = server_tls().await;
    with_source(|source| async move {
        source.insert(1, 5).await;
        let config = |ca: &std::path::Path| {
            let conninfo = format!(
                "host=localhost port=5432 user=postgres dbname={} sslmode=verify-full sslrootcert={}",
                source.name,
                ca.display()
            );
            CdcConfig::new(&conninfo, &source.name, &source.name).unwrap().with_heartbeat(Duration::from_millis(200))
        };

        // A CA that did not issue the server's certificate: nothing is read from it.
        let other = tempfile::tempdir().unwrap();
        let other_ca = yizhan_hub::tls::CaFiles::in_dir(other.path());
        other_ca.init("别的 CA").unwrap();
        let hub = TestHub::open();
        let running = Running::start(&hub.hub, config(&other_ca.certificate));
        wait_until("the failure is recorded", || async {
            let connectors = hub.hub.store().connectors().await.unwrap();
            connectors.first().is_some_and(|c| c.last_error.is_some())
        })
        .await;
        let error = status(&hub.hub).await.last_error.unwrap();
        assert!(error.contains("无法连接规划库") && error.contains("UnknownIssuer"), "{error}");
        running.stop().await;
        assert!(approvals(&hub.hub).await.is_empty());

        // Its own CA: the snapshot and the stream arrive, both connections encrypted.
        let running = Running::start(&hub.hub, config(&ca));
        wait_streaming(&hub.hub).await;
        source.insert(6, 8).await;
        wait_until("the hub equals the source", || agrees(&hub.hub, &source)).await;
        assert_eq!(approvals(&hub.hub).await.len(), 8);
        let (encrypted, plain): (i64, i64) = {
            let row = source
                .sql
                .query_one(
                    "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
                     FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
                     WHERE a.application_name = 'yizhan-hub planning-cdc' AND a.backend_type = 'walsender'
                       AND a.datname = $1",
                    &[&source.name],
                )
                .await
                .unwrap();
            (row.get(0), row.get(1))
        };
        assert_eq!((encrypted, plain), (1, 0), "the replication stream runs over TLS");
        running.stop().await;
    })
    .await;
}

/// A hub process for the crash test: `yizhan-hub serve` with the connector's flags.
struct HubProcess {
    child: tokio::process::Child,
    url: String,
    /// The enrolment code of the PC the system administrator signs in at.
    code: String,
    /// That PC's client and the system administrator's session (the demo's `sysadmin`),
    /// once the hub answers.
    session: tokio::sync::OnceCell<(reqwest::Client, String)>,
}

impl HubProcess {
    fn start(db: &std::path::Path, source: &Source) -> HubProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let made = std::process::Command::new(HUB_BIN)
            .args(["device", "add", "--id", &format!("admin-pc-{port}"), "--name", "系统管理员终端", "--by", "test", "--db"])
            .arg(db)
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let code = String::from_utf8(made.stdout).unwrap().lines().last().expect("the code is printed last").to_owned();
        let child = tokio::process::Command::new(HUB_BIN)
            .args(["serve", "--demo", "0", "--listen", &format!("127.0.0.1:{port}"), "--db"])
            .arg(db)
            .args(["--planning-cdc", &source.conninfo()])
            .args([
                "--planning-cdc-slot",
                &source.name,
                "--planning-cdc-publication",
                &source.name,
            ])
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        HubProcess {
            child,
            url: format!("http://127.0.0.1:{port}"),
            code,
            session: tokio::sync::OnceCell::new(),
        }
    }

    /// The connector's position, once the hub answers.
    async fn position(&self) -> Option<String> {
        let (client, token) = self
            .session
            .get_or_try_init(|| async {
                let client = common::try_device_client(&self.url, &self.code, yizhan_core::clock::Clock::system()).await.map_err(drop)?;
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let token = common::sign_in_at(&client, &self.url, "sysadmin", now).await.ok_or(())?;
                Ok::<_, ()>((client, token))
            })
            .await
            .ok()?;
        let response = client.get(format!("{}/v1/connectors", self.url)).bearer_auth(token).send().await.ok()?;
        let connectors: Vec<yizhan_sync::protocol::ConnectorStatus> = response.json().await.ok()?;
        connectors
            .into_iter()
            .find(|c| c.name == CONNECTOR)?
            .position
    }

    async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }
}

/// What the writer did to each permit after the snapshot: upserts and deletes.
type Ledger = HashMap<String, (usize, usize)>;

/// Keeps changing the source until `stop`: transactions of inserts, updates of earlier
/// rows, deletes, and now and then a transaction of a thousand rows.
async fn write_until(source: &Source, first: i32, stop: &AtomicBool) -> Ledger {
    let mut ledger: Ledger = HashMap::new();
    let mut next = first;
    let mut round = 0;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let size = if round % 25 == 0 { 1_000 } else { 5 };
        source.insert(next, next + size - 1).await;
        for i in next..next + size {
            ledger.insert(permit(i), (1, 0));
        }
        next += size;
        // A deleted approval is neither updated nor deleted again.
        if round % 3 == 0 && ledger[&permit(next - 7)].1 == 0 {
            let target = permit(next - 7);
            source
                .sql
                .execute(
                    "UPDATE planning_approval SET residential_area_m2 = residential_area_m2 + 1
                     WHERE planning_permit_no = $1",
                    &[&target],
                )
                .await
                .unwrap();
            ledger.get_mut(&target).unwrap().0 += 1;
        }
        if round % 4 == 0 && ledger[&permit(next - 3)].1 == 0 {
            let target = permit(next - 3);
            source
                .sql
                .execute(
                    "DELETE FROM planning_approval WHERE planning_permit_no = $1",
                    &[&target],
                )
                .await
                .unwrap();
            ledger.get_mut(&target).unwrap().1 += 1;
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    ledger
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_killed_mid_stream_resumes_without_losing_or_doubling_a_change() {
    with_source(|source| async move {
        source.insert(1, 200).await;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hub.sqlite3");
        let first = HubProcess::start(&db, &source);
        let deadline = Instant::now() + Duration::from_secs(30);
        let after_snapshot = loop {
            if let Some(position) = first.position().await.filter(|p| pgwire_lsn(p)) {
                break Some(position);
            }
            assert!(
                Instant::now() < deadline,
                "the first hub did not deliver the snapshot"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };

        let stop = AtomicBool::new(false);
        let writer = write_until(&source, 1_001, &stop);
        let crash_and_restart = async {
            wait_until("the first hub has delivered some of the stream", || async {
                first.position().await != after_snapshot
            })
            .await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            first.kill().await;
            // The case that matters: transactions in the hub whose confirmation never
            // reached PostgreSQL, which it therefore sends again.
            let stored = Hub::open(HubConfig::new(&db))
                .unwrap()
                .store()
                .connector_position(CONNECTOR)
                .await
                .unwrap()
                .unwrap();
            let resent: bool = source
                .sql
                .query_one(
                    "SELECT confirmed_flush_lsn < $2::text::pg_lsn FROM pg_replication_slots WHERE slot_name = $1",
                    &[&source.name, &stored],
                )
                .await
                .unwrap()
                .get(0);
            assert!(resent, "the killed hub had confirmed all it delivered: nothing is sent again");
            tokio::time::sleep(Duration::from_millis(300)).await;
            let second = HubProcess::start(&db, &source);
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            stop.store(true, Ordering::Relaxed);
            second
        };
        let (ledger, second) = tokio::join!(writer, crash_and_restart);
        let written = source.current_lsn().await;
        wait_until("the second hub has confirmed everything written", || {
            source.slot_flushed_past(&written)
        })
        .await;
        second.kill().await;

        let hub = Hub::open(HubConfig::new(&db)).unwrap();
        let verification = planning_cdc::verify(&hub, &source.config()).await.unwrap();
        assert!(verification.agrees(), "{verification:?}");
        assert_eq!(verification.source_checksum, verification.hub_checksum);
        let log = logged(&hub).await;
        for i in 1..=200 {
            let expected = ledger.get(&permit(i)).copied().unwrap_or((0, 0));
            assert_eq!(
                log[&permit(i)],
                (expected.0 + 1, expected.1),
                "{}",
                permit(i)
            );
        }
        let mut streamed = 0;
        for (permit, expected) in &ledger {
            if permit.as_str() > "P-000200" {
                assert_eq!(
                    log.get(permit),
                    Some(expected),
                    "{permit}: each change once"
                );
                streamed += 1;
            }
        }
        assert!(
            streamed > 1_000,
            "the writer ran through the crash ({streamed} rows)"
        );
    })
    .await;
}
