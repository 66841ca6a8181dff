//! What the counters rely on: the change feed with long-poll, the snapshot stream, and a
//! hub that keeps its log across restarts.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::time::{Duration, Instant};

use common::{CODE, TestHub, payment, planning};
use serde_json::{Value, json};
use time::macros::date;
use yizhan_core::entity::EntityKind;
use yizhan_hub::{Hub, HubConfig};
use yizhan_sync::protocol::{ChangeBatch, Health, SnapshotHeader, SnapshotRow};

/// (entity, key) → (version, seq, payload): what a replica ends up holding.
type Replica = BTreeMap<(String, String), (u64, u64, Value)>;

async fn snapshot(hub: &TestHub) -> (SnapshotHeader, Replica) {
    // Decompressed here rather than by reqwest, to see that the hub really sends gzip.
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    let request = client.get(format!("{}/v1/snapshot", hub.url)).header("accept-encoding", "gzip");
    let response = hub.device.sign(request).await.unwrap().send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let compressed = response.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_string(&mut text)
        .unwrap();
    let mut lines = text.lines();
    let header: SnapshotHeader = serde_json::from_str(lines.next().unwrap()).unwrap();
    let mut rows = Replica::new();
    for line in lines {
        let row: SnapshotRow = serde_json::from_str(line).unwrap();
        let previous = rows.insert(
            (entity(row.entity), row.key),
            (row.version, row.seq, row.payload),
        );
        assert!(previous.is_none(), "a row appears twice in the snapshot");
    }
    assert_eq!(rows.len() as u64, header.rows);
    (header, rows)
}

fn entity(kind: EntityKind) -> String {
    kind.as_str().to_owned()
}

/// Replays the whole change log through the API, as a replica following from seq 0 would.
async fn replay(hub: &TestHub) -> Replica {
    let mut rows = Replica::new();
    for change in hub.log().await {
        let key = (
            change["entity"].as_str().unwrap().to_owned(),
            change["key"].as_str().unwrap().to_owned(),
        );
        let version = change["version"].as_u64().unwrap();
        let previous = rows.get(&key).map_or(0, |(v, _, _)| *v);
        assert_eq!(
            version,
            previous + 1,
            "versions of {key:?} go up by one per change"
        );
        rows.insert(
            key,
            (
                version,
                change["seq"].as_u64().unwrap(),
                change["payload"].clone(),
            ),
        );
    }
    rows
}

#[tokio::test]
async fn snapshot_is_gzip_ndjson_and_equals_the_state_the_log_describes() {
    let hub = TestHub::start().await;
    yizhan_hub::demo::seed_on(&hub.hub, 300, 7, date!(2026 - 11 - 24))
        .await
        .unwrap();
    let (header, rows) = snapshot(&hub).await;
    assert_eq!(header.as_of, hub.head().await);
    assert!(rows.len() > 900, "{} rows", rows.len());
    assert_eq!(rows, replay(&hub).await);
    assert!(rows.values().all(|(_, seq, _)| *seq <= header.as_of));
}

#[tokio::test]
async fn many_counters_can_take_a_snapshot_at_once() {
    let hub = TestHub::start().await;
    yizhan_hub::demo::seed_on(&hub.hub, 200, 8, date!(2026 - 11 - 24))
        .await
        .unwrap();
    let expected = hub.head().await;
    let reads: Vec<_> = (0..8)
        .map(|_| {
            let client = hub.client.clone();
            let url = format!("{}/v1/snapshot", hub.url);
            tokio::spawn(async move { client.get(url).send().await.unwrap().text().await.unwrap() })
        })
        .collect();
    for read in reads {
        let text = read.await.unwrap();
        let header: SnapshotHeader = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(header.as_of, expected);
        assert_eq!(text.lines().count() as u64, header.rows + 1);
    }
}

#[tokio::test]
async fn changes_are_paged_by_after_and_limit() {
    let hub = TestHub::start().await;
    hub.post("planning", json!([planning("G1", CODE)])).await;
    hub.post(
        "payments",
        json!([payment("P1", CODE, 100), payment("P2", CODE, 200)]),
    )
    .await;
    let (status, batch) = hub.get("/v1/changes?after=1&limit=2").await;
    assert_eq!(status, 200);
    let batch: ChangeBatch = serde_json::from_value(batch).unwrap();
    assert_eq!((batch.after, batch.upto, batch.head), (1, 3, 5));
    assert_eq!(
        batch.changes.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [2, 3]
    );
    let (_, batch) = hub.get("/v1/changes?after=5").await;
    assert_eq!(
        (
            batch["upto"].as_u64(),
            batch["changes"].as_array().map(Vec::len)
        ),
        (Some(5), Some(0))
    );
    let (status, error) = hub.get("/v1/changes?after=99").await;
    assert_eq!(
        (status, error["code"].as_str()),
        (409, Some("cursor_ahead")),
        "{error}"
    );
    let (status, error) = hub.get("/v1/changes?after=-1").await;
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("bad_query")),
        "{error}"
    );
}

#[tokio::test]
async fn a_long_poll_answers_as_soon_as_a_change_commits() {
    let hub = TestHub::start().await;
    hub.post("planning", json!([planning("G1", CODE)])).await;
    let client = hub.client.clone();
    let url = format!("{}/v1/changes?after=3&wait=30", hub.url);
    let poll = tokio::spawn(async move {
        let batch: ChangeBatch = client.get(url).send().await.unwrap().json().await.unwrap();
        (Instant::now(), batch)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !poll.is_finished(),
        "the long-poll must wait while nothing changes"
    );
    let posted = Instant::now();
    hub.post("payments", json!([payment("P1", CODE, 100)]))
        .await;
    let (answered, batch) = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .unwrap()
        .unwrap();
    assert!(
        answered.duration_since(posted) < Duration::from_secs(1),
        "answered {:?} after the commit",
        answered - posted
    );
    assert_eq!((batch.upto, batch.head, batch.changes.len()), (4, 4, 1));
    assert_eq!(batch.changes[0].key, "P1");
}

#[tokio::test]
async fn a_long_poll_with_nothing_new_answers_empty_when_the_wait_passes() {
    let hub = TestHub::start().await;
    hub.post("planning", json!([planning("G1", CODE)])).await;
    let started = Instant::now();
    let (status, batch) = hub.get("/v1/changes?after=3&wait=1").await;
    let waited = started.elapsed();
    assert_eq!(status, 200);
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(3),
        "waited {waited:?}"
    );
    let mut batch = batch;
    let seal = batch.as_object_mut().unwrap().remove("seal").unwrap();
    assert_eq!(
        batch,
        json!({"after": 3, "upto": 3, "head": 3, "changes": []})
    );
    assert_eq!(seal["count"], 0);
    assert_eq!(seal["prev_chain"], seal["chain"], "an empty batch ends where it starts");
    // An identical re-send commits nothing, so it must not wake anyone either.
    let client = hub.client.clone();
    let url = format!("{}/v1/changes?after=3&wait=2", hub.url);
    let started = Instant::now();
    let poll = tokio::spawn(async move {
        client
            .get(url)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    hub.post("planning", json!([planning("G1", CODE)])).await;
    assert_eq!(poll.await.unwrap()["changes"], json!([]));
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "woken after {:?} by a no-op",
        started.elapsed()
    );
}

#[tokio::test]
async fn shutting_down_ends_pending_long_polls_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::open(HubConfig::new(dir.path().join("hub.sqlite3"))).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let url = format!("{base}/v1/changes?after=0&wait=30");
    let code = common::enrolment_code(&hub).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(yizhan_hub::serve_until(listener, None, hub, async {
        let _ = stopped.await;
    }));
    let client = common::device_client(&base, &code, yizhan_core::clock::Clock::system()).await;
    let poll = tokio::spawn(async move {
        client
            .get(url)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    stop.send(()).unwrap();
    let batch = tokio::time::timeout(Duration::from_secs(5), poll)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(batch["changes"], json!([]));
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_restarted_hub_keeps_its_head_its_rows_and_its_seq_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.sqlite3");
    let hub = TestHub::start_at(&db).await;
    hub.post("planning", json!([planning("G1", CODE)])).await;
    hub.post("payments", json!([payment("P1", CODE, 100)]))
        .await;
    let (head, log) = (hub.head().await, hub.log().await);
    let (header, rows) = snapshot(&hub).await;
    hub.stop().await;

    let hub = TestHub::start_at(&db).await;
    let (status, health) = hub.get("/v1/health").await;
    assert_eq!(status, 200);
    let health: Health = serde_json::from_value(health).unwrap();
    assert_eq!((health.status.as_str(), health.head), ("ok", head));
    assert_eq!(health.hub_key, header.seal.hub_key, "the same signing key after a restart, published for pinning");
    assert_eq!(hub.log().await, log);
    assert_eq!(snapshot(&hub).await.1, rows);
    let (_, report) = hub
        .post("payments", json!([payment("P2", CODE, 100)]))
        .await;
    assert_eq!(report["head"], head + 1, "seq continues after the restart");
}

#[tokio::test]
async fn a_project_can_be_read_by_its_code() {
    let hub = TestHub::start().await;
    hub.post("planning", json!([planning("G1", CODE)])).await;
    let (status, rows) = hub.get(&format!("/v1/projects/{CODE}")).await;
    assert_eq!(status, 200);
    let rows: Vec<SnapshotRow> = serde_json::from_value(rows).unwrap();
    let entities: Vec<EntityKind> = rows.iter().map(|r| r.entity).collect();
    assert_eq!(
        entities,
        [
            EntityKind::FeeAssessment,
            EntityKind::PlanningApproval,
            EntityKind::Project
        ]
    );
    let (status, error) = hub.get("/v1/projects/2025-320115-70-01-999999").await;
    assert_eq!(
        (status, error["code"].as_str()),
        (404, Some("unknown_project"))
    );
    let (status, error) = hub.get("/v1/nowhere").await;
    assert_eq!((status, error["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn changes_and_snapshot_send_the_payload_bytes_the_hub_stored() {
    #[derive(serde::Deserialize)]
    struct Raw {
        key: String,
        payload: Box<serde_json::value::RawValue>,
    }
    #[derive(serde::Deserialize)]
    struct RawBatch {
        changes: Vec<Raw>,
    }
    let hub = TestHub::start().await;
    hub.post("planning", json!([planning("G1", CODE)])).await;
    let stored = hub
        .hub
        .store()
        .get(EntityKind::Project, CODE)
        .await
        .unwrap()
        .unwrap()
        .payload;
    // Struct field order, not the alphabetical order a `serde_json::Value` would give.
    assert!(stored.starts_with(r#"{"project_code":"#), "{stored}");

    let text = hub
        .client
        .get(format!("{}/v1/changes", hub.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let batch: RawBatch = serde_json::from_str(&text).unwrap();
    assert_eq!(
        batch
            .changes
            .iter()
            .find(|c| c.key == CODE)
            .unwrap()
            .payload
            .get(),
        stored
    );

    let text = hub
        .client
        .get(format!("{}/v1/snapshot", hub.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<Raw>(l).unwrap())
        .find(|r| r.key == CODE);
    assert_eq!(row.unwrap().payload.get(), stored);
}

#[tokio::test]
async fn counters_report_their_standing_and_the_status_lists_them() {
    let mut hub = TestHub::start().await;
    hub.act_as("counter-01", &yizhan_voucher::signature::CounterKey::generate()).await;
    let report = |device: &str| {
        json!({"device_id": device, "cursor": 7, "outbox": {"pending": 2, "conflicts": 1},
               "integrity_alert": false, "reconcile": null})
    };
    let post = |body: Value| {
        let client = hub.client.clone();
        let url = format!("{}/v1/counters/report", hub.url);
        async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(post(report("counter-01")).await.0, 200);
    assert_eq!(post(report("counter-01")).await.0, 200, "a later report replaces the earlier");
    let (status, body) = post(report("")).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("device_id"), "{body}");
    let mut unknown = report("counter-01");
    unknown["extra"] = json!(1);
    assert_eq!(post(unknown).await.0, 400);
    let (status, body) = post(report("counter-02")).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("device_mismatch")), "a PC reports for itself only: {body}");

    let (status, body) = hub.get("/v1/status").await;
    assert_eq!(status, 200);
    let counters = body["counters"].as_array().unwrap();
    assert_eq!(counters.len(), 1, "{body}");
    assert_eq!(counters[0]["report"]["outbox"]["conflicts"], 1);
    assert_eq!((body["head"].as_u64(), body["horizon"].as_u64()), (Some(0), Some(0)));
}

/// Every file of the store as it lies on disk (database, WAL, shared memory).
fn store_files(db: &std::path::Path) -> Vec<u8> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::read(format!("{}{suffix}", db.display())).ok())
        .flatten()
        .collect()
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_signing_key_moves_out_of_the_database_and_no_copy_of_the_data_holds_it() {
    use yizhan_sync::integrity::HubSigner;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.sqlite3");
    let key_file = dir.path().join("hub.signing-key");

    // A new hub makes its key in the key file; the database never sees it.
    let made = TestHub::start_at(&db).await;
    made.post("planning", json!([planning("建字第1号", CODE)])).await;
    let health: Health = made.client.get(format!("{}/v1/health", made.url)).send().await.unwrap().json().await.unwrap();
    made.stop().await;
    let secret = hex::decode(std::fs::read_to_string(&key_file).unwrap().trim()).unwrap();
    assert_eq!(HubSigner::from_secret_bytes(&secret).unwrap().public_key(), health.hub_key);
    let files = store_files(&db);
    assert!(!holds(&files, &secret) && !holds(&files, hex::encode(&secret).as_bytes()));

    // A database as an older hub left it: the key kept in `hub_secrets`, no key file.
    let old = HubSigner::generate();
    std::fs::remove_file(&key_file).unwrap();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("INSERT INTO hub_secrets (name, value) VALUES ('sm2_signing_key', ?1)", [old.secret_bytes()])
        .unwrap();
    assert!(holds(&store_files(&db), &old.secret_bytes()), "the old layout keeps the key in the data");

    let upgraded = TestHub::start_at(&db).await;
    let health: Health = upgraded.client.get(format!("{}/v1/health", upgraded.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health.hub_key, old.public_key(), "counters that pinned the old key keep trusting the hub");
    let copy = dir.path().join("backup.sqlite3");
    std::fs::copy(&db, &copy).unwrap();
    upgraded.stop().await;
    assert_eq!(std::fs::read_to_string(&key_file).unwrap().trim(), hex::encode(old.secret_bytes()));
    let rows: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM hub_secrets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
    for files in [store_files(&db), std::fs::read(&copy).unwrap()] {
        assert!(!holds(&files, &old.secret_bytes()) && !holds(&files, hex::encode(old.secret_bytes()).as_bytes()));
    }
}

#[test]
fn a_hub_started_without_a_tariff_refuses_to_serve_unless_in_demo_mode() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_yizhan-hub"))
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(dir.path().join("hub.sqlite3"))
            .args(extra)
            .env("RUST_LOG", "off")
            .output()
            .unwrap()
    };
    let refused = serve(&[]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("未指定收费标准文件") && said.contains("--tariff") && said.contains("--demo"), "{said}");

    let demo_file = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/tariff-demo.toml");
    let refused = serve(&["--tariff", demo_file]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("不能用于生产"));
    assert!(!dir.path().join("hub.signing-key").exists(), "a refused start makes no key");
}

#[tokio::test]
async fn a_database_from_a_newer_hub_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.sqlite3");
    drop(Hub::open(HubConfig::new(&db)).unwrap());
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("INSERT INTO schema_migrations VALUES ('29991231000000_future', '2999-12-31T00:00:00Z')", [])
        .unwrap();
    let refused = Hub::open(HubConfig::new(&db)).err().expect("a newer schema is refused").to_string();
    assert!(refused.contains("29991231000000_future") && refused.contains("新版"), "{refused}");
}

#[cfg(unix)]
#[test]
fn the_hub_database_and_its_wal_are_readable_by_the_service_account_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.sqlite3");
    std::fs::write(&db, b"").unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let hub = Hub::open(HubConfig::new(&db)).unwrap();
    for file in ["hub.sqlite3", "hub.sqlite3-wal", "hub.sqlite3-shm"] {
        let mode = std::fs::metadata(dir.path().join(file)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}: an existing file made readable by others is narrowed too");
    }
    drop(hub);
}
