//! The departments' push endpoints over real HTTP: signed pushes (every way a request can
//! fail to prove itself, refused with nothing written), bad records quarantined beside
//! the good, resends changing nothing, Debezium Server's recorded events applied, and a
//! restart of the hub between deliveries losing and doubling nothing.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use common::{CODE, clearance, notice, payment, planning};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use yizhan_core::entity::{EntityKind, FeeAssessment, FeeKind};
use yizhan_hub::push::PushKeys;
use yizhan_hub::push::auth::{
    KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, canonical_string, sign,
};
use yizhan_hub::{Hub, HubConfig};
use yizhan_sync::protocol::Op;

const CODE_2: &str = "2025-320115-70-01-000002";

struct Department {
    key_id: &'static str,
    secret: &'static str,
}

/// 人防办: civil-defence notices only.
const RENFANG: Department = Department {
    key_id: "renfang-2026",
    secret: "5b1d7e0c9a3f48e2b6d1c07a93e5f2b8d4a6c1e09f7b3d5a8c2e6f0b1d4a7c39",
};
/// 税务局: tax clearances only.
const SHUIWU: Department = Department {
    key_id: "shuiwu-2026",
    secret: "c3a19e7f5d2b08a64e1c9f3b7d5a2e08f6b4c1d9a7e3f5b2c8d0a6e4f1b9c7d3",
};
/// 财政局 (the non-tax payment platform): payments only.
const CAIZHENG: Department = Department {
    key_id: "caizheng-2026",
    secret: "e8f2a6c4b0d9e7f1a3c5b8d2e6f0a4c9b7d1e5f3a8c2b6d0e4f9a1c7b5d3e2f6",
};

fn keys() -> PushKeys {
    let entry = |department: &str, key: &Department, source: &str| {
        format!(
            "[[key]]\ndepartment = \"{department}\"\nkey_id = \"{}\"\nsecret = \"{}\"\nsources = [\"{source}\"]\n",
            key.key_id, key.secret
        )
    };
    PushKeys::parse(
        &[
            entry("renfang", &RENFANG, "civil-defence"),
            entry("shuiwu", &SHUIWU, "tax"),
            entry("caizheng", &CAIZHENG, "payments"),
        ]
        .join("\n"),
    )
    .unwrap()
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// A hub with the departments' keys on 127.0.0.1:0 over the database at `db`.
struct PushHub {
    hub: Hub,
    url: String,
    client: reqwest::Client,
    server: JoinHandle<std::io::Result<()>>,
}

impl PushHub {
    async fn start(db: &Path) -> PushHub {
        let hub = Hub::open(HubConfig::new(db))
            .unwrap()
            .with_push_keys(keys())
            // The projects the pushes refer to arrive through the demo ingest routes.
            .with_demo_ingest();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(yizhan_hub::serve(listener, hub.clone()));
        PushHub {
            hub,
            url,
            client: reqwest::Client::new(),
            server,
        }
    }

    /// Two projects with their planning approvals, for the records to refer to.
    async fn with_projects(db: &Path) -> PushHub {
        let hub = PushHub::start(db).await;
        let response = hub
            .client
            .post(format!("{}/v1/ingest/planning", hub.url))
            .json(&json!({"records": [planning("G1", CODE), planning("G2", CODE_2)]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        hub
    }

    async fn stop(self) {
        self.server.abort();
        let _ = self.server.await;
    }

    /// A push of `body` to `source` signed with `key` at `timestamp`.
    fn signed(
        &self,
        key: &Department,
        source: &str,
        body: &[u8],
        timestamp: i64,
    ) -> reqwest::RequestBuilder {
        let path = format!("/v1/push/{source}");
        let timestamp = timestamp.to_string();
        let signature = sign(
            &hex::decode(key.secret).unwrap(),
            &canonical_string(&timestamp, "POST", &path, body),
        );
        self.client
            .post(format!("{}{path}", self.url))
            .header(KEY_HEADER, key.key_id)
            .header(TIMESTAMP_HEADER, timestamp)
            .header(SIGNATURE_HEADER, signature)
            .header("content-type", "application/json")
            .body(body.to_vec())
    }

    async fn push_at(
        &self,
        key: &Department,
        source: &str,
        records: Value,
        timestamp: i64,
    ) -> (u16, Value) {
        let body = json!({"schema": "yizhan.push.v1", "records": records}).to_string();
        answer(self.signed(key, source, body.as_bytes(), timestamp)).await
    }

    async fn push(&self, key: &Department, source: &str, records: Value) -> (u16, Value) {
        self.push_at(key, source, records, now()).await
    }

    async fn token(&self, key: &Department) -> String {
        let (status, body) = answer(
            self.client
                .post(format!("{}/v1/push/debezium/token", self.url))
                .basic_auth(key.key_id, Some(key.secret))
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Posts what Debezium Server's HTTP sink posts: one event (or a batch) as JSON.
    async fn debezium(&self, token: &str, source: &str, events: &str) -> (u16, Value) {
        answer(
            self.client
                .post(format!("{}/v1/push/debezium/{source}", self.url))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(events.to_owned()),
        )
        .await
    }

    async fn head(&self) -> u64 {
        self.hub.store().head().await.unwrap()
    }

    /// Change-log entries per (entity, key), upserts and deletes counted apart.
    async fn log(&self) -> HashMap<(String, String), (usize, usize)> {
        let mut entries: HashMap<(String, String), (usize, usize)> = HashMap::new();
        for change in self.hub.store().changes_after(0, 100_000).await.unwrap() {
            let entry = entries
                .entry((change.entity.as_str().to_owned(), change.key))
                .or_default();
            match change.op {
                Op::Upsert => entry.0 += 1,
                Op::Delete => entry.1 += 1,
            }
        }
        entries
    }

    async fn quarantined(&self, connector: &str) -> Vec<yizhan_hub::store::QuarantineRecord> {
        self.hub
            .store()
            .quarantine(None, Some(connector.to_owned()), 100)
            .await
            .unwrap()
    }

    async fn row(&self, entity: EntityKind, key: &str) -> Option<Value> {
        let row = self.hub.store().get(entity, key).await.unwrap()?;
        Some(serde_json::from_str(&row.payload).unwrap())
    }

    async fn civil_defence_fee(&self, code: &str) -> Option<Value> {
        self.row(
            EntityKind::FeeAssessment,
            &FeeAssessment::key_for(code, FeeKind::CivilDefence),
        )
        .await
    }
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("answer is not JSON ({e}): {text}"));
    (status, body)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/debezium")
            .join(name),
    )
    .unwrap()
}

#[tokio::test]
async fn a_signed_push_is_delivered_as_the_departments_connector() {
    let dir = tempfile::tempdir().unwrap();
    let hub = PushHub::with_projects(&dir.path().join("hub.sqlite3")).await;

    let (status, report) = hub
        .push(&RENFANG, "civil-defence", json!([notice("RF-1", CODE)]))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report,
        json!({"received": 1, "changed": 1, "unchanged": 0, "withdrawn": 0, "quarantined": 0, "head": hub.head().await})
    );
    let fee = hub.civil_defence_fee(CODE).await.unwrap();
    assert_eq!(fee["basis"], "人防征收联系单 RF-1");
    let last = hub
        .hub
        .store()
        .changes_after(hub.head().await - 1, 1)
        .await
        .unwrap();
    assert_eq!(last[0].origin, "push:civil-defence");
    let connectors = hub.hub.store().connectors().await.unwrap();
    let connector = connectors
        .iter()
        .find(|c| c.name == "push:renfang")
        .unwrap();
    assert_eq!(
        (
            connector.kind.as_str(),
            connector.received,
            connector.applied
        ),
        ("push", 1, 1)
    );
    hub.stop().await;
}

#[tokio::test]
async fn every_request_that_does_not_prove_itself_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hub = PushHub::with_projects(&dir.path().join("hub.sqlite3")).await;
    let head = hub.head().await;
    let body = json!({"schema": "yizhan.push.v1", "records": [notice("RF-1", CODE)]}).to_string();
    let body = body.as_bytes();
    let impostor = Department {
        key_id: RENFANG.key_id,
        secret: SHUIWU.secret,
    };
    let stranger = Department {
        key_id: "renfang-2020",
        secret: RENFANG.secret,
    };
    let signed = || hub.signed(&RENFANG, "civil-defence", body, now());
    let without = |header: &str| {
        let mut request = signed().build().unwrap();
        request.headers_mut().remove(header);
        hub.client.execute(request)
    };
    let altered = {
        let mut request = signed().build().unwrap();
        let text = String::from_utf8(body.to_vec())
            .unwrap()
            .replace("RF-1", "RF-9");
        *request.body_mut() = Some(text.into());
        request
    };

    let mut answers = vec![
        ("没有密钥编号", without(KEY_HEADER).await.unwrap()),
        ("没有时间戳", without(TIMESTAMP_HEADER).await.unwrap()),
        ("没有签名", without(SIGNATURE_HEADER).await.unwrap()),
        (
            "不认识的密钥",
            hub.signed(&stranger, "civil-defence", body, now())
                .send()
                .await
                .unwrap(),
        ),
        (
            "密钥不对",
            hub.signed(&impostor, "civil-defence", body, now())
                .send()
                .await
                .unwrap(),
        ),
        (
            "签名后改了请求体",
            hub.client.execute(altered).await.unwrap(),
        ),
        (
            "301 秒前",
            hub.signed(&RENFANG, "civil-defence", body, now() - 301)
                .send()
                .await
                .unwrap(),
        ),
        (
            "301 秒后",
            hub.signed(&RENFANG, "civil-defence", body, now() + 301)
                .send()
                .await
                .unwrap(),
        ),
        (
            "无权推送税务数据",
            hub.signed(&RENFANG, "tax", body, now())
                .send()
                .await
                .unwrap(),
        ),
    ];
    let expected = [
        (401, "signature_missing"),
        (401, "signature_missing"),
        (401, "signature_missing"),
        (401, "unknown_key"),
        (401, "signature_invalid"),
        (401, "signature_invalid"),
        (401, "timestamp_out_of_window"),
        (401, "timestamp_out_of_window"),
        (403, "source_not_allowed"),
    ];
    // Taken once, then the very same request again.
    let replay = hub
        .signed(&RENFANG, "civil-defence", body, now())
        .build()
        .unwrap();
    let first = hub
        .client
        .execute(replay.try_clone().unwrap())
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let head = head + 1;
    answers.push(("重放", hub.client.execute(replay).await.unwrap()));

    for ((case, response), (status, code)) in answers
        .into_iter()
        .zip(expected.into_iter().chain([(401, "replayed")]))
    {
        assert_eq!(response.status().as_u16(), status, "{case}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], code, "{case}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains('。'),
            "{case}: {error}"
        );
    }
    assert_eq!(hub.head().await, head, "a refused request wrote something");
    assert!(hub.quarantined("push:renfang").await.is_empty());
    hub.stop().await;
}

#[tokio::test]
async fn a_bad_record_is_quarantined_with_its_problems_while_the_good_ones_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let hub = PushHub::with_projects(&dir.path().join("hub.sqlite3")).await;
    let records = json!([
        clearance("WS-1", CODE),
        clearance("WS-2", "2025-320115-70-01-999999"),
        {"clearance_no": "WS-3", "project_code": CODE_2, "issued_on": "2025-08-01"},
        clearance("WS-4", CODE_2),
    ]);

    let (status, report) = hub.push(&SHUIWU, "tax", records.clone()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["received"].as_u64(), report["changed"].as_u64()),
        (Some(4), Some(2)),
        "{report}"
    );
    assert_eq!(report["quarantined"], 2, "{report}");
    let problems: Vec<(u64, &str, &str)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["record"].as_u64().unwrap(),
                p["source_id"].as_str().unwrap(),
                p["field"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [(1, "WS-2", "project_code"), (2, "WS-3", "tax_office")],
        "{report}"
    );
    for no in ["WS-1", "WS-4"] {
        assert!(
            hub.row(EntityKind::TaxClearance, no).await.is_some(),
            "{no}"
        );
    }
    let quarantined = hub.quarantined("push:shuiwu").await;
    let mut listed: Vec<_> = quarantined
        .iter()
        .map(|q| q.source_id.clone().unwrap())
        .collect();
    listed.sort();
    assert_eq!(listed, ["WS-2", "WS-3"]);
    assert!(
        quarantined
            .iter()
            .all(|q| q.source == "tax" && q.location == "HTTP 推送" && !q.problems.is_empty())
    );

    // The same push again, signed anew: nothing written, nothing listed twice.
    let head = hub.head().await;
    let (status, again) = hub.push_at(&SHUIWU, "tax", records, now() + 1).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (again["changed"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );
    assert_eq!(hub.head().await, head);
    assert_eq!(hub.quarantined("push:shuiwu").await.len(), 2);
    hub.stop().await;
}

#[tokio::test]
async fn a_body_of_another_version_or_shape_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let hub = PushHub::with_projects(&dir.path().join("hub.sqlite3")).await;
    let cases = [
        (
            json!({"schema": "yizhan.push.v2", "records": []}),
            "schema：取值不在允许范围内，应为 yizhan.push.v1",
        ),
        (json!({"records": []}), "schema：缺少必填字段"),
        (
            json!({"schema": "yizhan.push.v1", "records": {}}),
            "records：应为数组",
        ),
    ];
    for (body, message) in cases {
        let (status, error) =
            answer(hub.signed(&CAIZHENG, "payments", body.to_string().as_bytes(), now())).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (400, Some("invalid_body")),
            "{error}"
        );
        assert!(
            error["message"].as_str().unwrap().contains(message),
            "{error}"
        );
    }
    hub.stop().await;
}

#[tokio::test]
async fn debezium_snapshot_create_update_and_delete_events_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let hub = PushHub::with_projects(&dir.path().join("hub.sqlite3")).await;
    let token = hub.token(&RENFANG).await;

    // r: the snapshot's row, amounts in 元 and m² as Debezium's precise decimals.
    let (status, report) = hub
        .debezium(
            &token,
            "civil-defence",
            &fixture("civil-defence-snapshot-read.json"),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["changed"].as_u64(), report["skipped"].as_u64()),
        (Some(1), Some(0)),
        "{report}"
    );
    let fee = hub.civil_defence_fee(CODE).await.unwrap();
    assert_eq!(
        (fee["amount_fen"].as_i64(), fee["assessed_on"].as_str()),
        (Some(32_097_000), Some("2025-07-01"))
    );
    assert_eq!(
        (fee["due_on"].as_str(), fee["basis"].as_str()),
        (Some("2025-07-31"), Some("人防征收联系单 RF-2025-0042"))
    );

    // c: a second notice, on the second project.
    let (status, report) = hub
        .debezium(
            &token,
            "civil-defence",
            &fixture("civil-defence-create.json"),
        )
        .await;
    assert_eq!(
        (status, report["changed"].as_u64()),
        (200, Some(1)),
        "{report}"
    );
    assert_eq!(
        hub.civil_defence_fee(CODE_2).await.unwrap()["amount_fen"],
        52_000_000
    );

    // u: the first notice corrected to 150 m².
    let (status, report) = hub
        .debezium(
            &token,
            "civil-defence",
            &fixture("civil-defence-update.json"),
        )
        .await;
    assert_eq!(
        (status, report["changed"].as_u64()),
        (200, Some(1)),
        "{report}"
    );
    assert_eq!(
        hub.civil_defence_fee(CODE).await.unwrap()["amount_fen"],
        39_000_000
    );

    // d: the second notice withdrawn, its assessment removed.
    let (status, report) = hub
        .debezium(
            &token,
            "civil-defence",
            &fixture("civil-defence-delete.json"),
        )
        .await;
    assert_eq!(
        (status, report["withdrawn"].as_u64()),
        (200, Some(1)),
        "{report}"
    );
    assert!(hub.civil_defence_fee(CODE_2).await.is_none());
    assert!(hub.civil_defence_fee(CODE).await.is_some());

    let connectors = hub.hub.store().connectors().await.unwrap();
    let connector = connectors
        .iter()
        .find(|c| c.name == "debezium:renfang:civil-defence")
        .unwrap();
    assert_eq!(
        connector.position.as_deref(),
        Some("renfang.cd_notice file=mysql-bin.000003 pos=1563 row=0")
    );
    assert_eq!(connector.kind, yizhan_hub::store::ConnectorKind::Debezium);
    hub.stop().await;
}

#[tokio::test]
async fn debezium_events_without_schema_and_in_batches_apply_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let hub = PushHub::with_projects(&dir.path().join("hub.sqlite3")).await;
    let token = hub.token(&SHUIWU).await;

    let (status, report) = hub
        .debezium(&token, "tax", &fixture("tax-create-plain.json"))
        .await;
    assert_eq!(
        (status, report["changed"].as_u64()),
        (200, Some(1)),
        "{report}"
    );
    // An update, then the row deleted and entered again under the same number: it ends
    // as entered again, not deleted.
    let (status, report) = hub
        .debezium(&token, "tax", &fixture("tax-batch-plain.json"))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["received"].as_u64(), report["withdrawn"].as_u64()),
        (Some(3), Some(1)),
        "{report}"
    );
    let row = hub
        .row(EntityKind::TaxClearance, "WS-2025-320115-0007")
        .await
        .unwrap();
    assert_eq!(row["issued_on"], "2025-08-04");
    assert_eq!(
        row["tax_office"],
        "国家税务总局南京市江宁区税务局第一税务所"
    );
    let log = hub.log().await;
    assert_eq!(
        log[&("tax_clearance".to_owned(), "WS-2025-320115-0007".to_owned())],
        (3, 1)
    );
    hub.stop().await;
}

#[tokio::test]
async fn a_debezium_timestamp_column_reads_as_beijing_time() {
    let dir = tempfile::tempdir().unwrap();
    let hub = PushHub::with_projects(&dir.path().join("hub.sqlite3")).await;
    let renfang = hub.token(&RENFANG).await;
    hub.debezium(
        &renfang,
        "civil-defence",
        &fixture("civil-defence-snapshot-read.json"),
    )
    .await;

    let token = hub.token(&CAIZHENG).await;
    let (status, report) = hub
        .debezium(&token, "payments", &fixture("payments-create.json"))
        .await;
    assert_eq!(
        (status, report["changed"].as_u64()),
        (200, Some(1)),
        "{report}"
    );
    let paid = hub
        .row(EntityKind::Payment, "FS-20250615-000318")
        .await
        .unwrap();
    assert_eq!(paid["amount_fen"], 32_097_000);
    // `timestamp without time zone` 2025-06-15 10:30:00 at the department is 02:30 UTC.
    assert_eq!(paid["received_at"], "2025-06-15T02:30:00Z");
    hub.stop().await;
}

#[tokio::test]
async fn a_truncate_is_quarantined_and_deletes_nothing_while_other_events_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let hub = PushHub::with_projects(&dir.path().join("hub.sqlite3")).await;
    let token = hub.token(&RENFANG).await;
    hub.debezium(
        &token,
        "civil-defence",
        &fixture("civil-defence-snapshot-read.json"),
    )
    .await;
    let head = hub.head().await;

    let (status, report) = hub
        .debezium(
            &token,
            "civil-defence",
            &fixture("civil-defence-truncate.json"),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["quarantined"].as_u64(), report["withdrawn"].as_u64()),
        (Some(1), Some(0)),
        "{report}"
    );
    assert_eq!(report["problems"][0]["field"], "op");
    assert!(
        report["problems"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("truncate"),
        "{report}"
    );
    assert!(hub.civil_defence_fee(CODE).await.is_some());
    assert_eq!(hub.head().await, head);
    let quarantined = hub.quarantined("debezium:renfang:civil-defence").await;
    assert_eq!(quarantined.len(), 1);
    assert_eq!(
        quarantined[0].location,
        "renfang.cd_notice file=mysql-bin.000003 pos=2210 row=0"
    );

    // A schema change, a tombstone: acknowledged, nothing done.
    let batch = format!("[{}, null]", fixture("schema-change.json"));
    let (status, report) = hub.debezium(&token, "civil-defence", &batch).await;
    assert_eq!(
        (
            status,
            report["received"].as_u64(),
            report["skipped"].as_u64()
        ),
        (200, Some(0), Some(2)),
        "{report}"
    );
    assert_eq!(hub.head().await, head);
    hub.stop().await;
}

#[tokio::test]
async fn the_debezium_endpoint_takes_only_a_token_of_a_key_allowed_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let hub = PushHub::with_projects(&dir.path().join("hub.sqlite3")).await;
    let event = fixture("civil-defence-create.json");
    let token_url = format!("{}/v1/push/debezium/token", hub.url);

    let (status, error) = answer(
        hub.client
            .post(&token_url)
            .basic_auth(RENFANG.key_id, Some(SHUIWU.secret))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (401, Some("client_secret_invalid")),
        "{error}"
    );
    // Debezium's `client_secret_post`: the credentials as form fields.
    let (status, token) = answer(hub.client.post(&token_url).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", RENFANG.key_id),
        ("client_secret", RENFANG.secret),
    ]))
    .await;
    assert_eq!(
        (status, token["token_type"].as_str()),
        (200, Some("Bearer")),
        "{token}"
    );

    let tax_token = hub.token(&SHUIWU).await;
    let cases = [
        ("", 401, "token_missing"),
        ("renfang-2026.1.00", 401, "token_invalid"),
        (tax_token.as_str(), 403, "source_not_allowed"),
    ];
    for (token, status, code) in cases {
        let request = hub
            .client
            .post(format!("{}/v1/push/debezium/civil-defence", hub.url))
            .header("content-type", "application/json")
            .body(event.clone());
        let request = if token.is_empty() {
            request
        } else {
            request.bearer_auth(token)
        };
        let (got, error) = answer(request).await;
        assert_eq!(
            (got, error["code"].as_str()),
            (status, Some(code)),
            "{error}"
        );
    }
    assert!(hub.civil_defence_fee(CODE_2).await.is_none());
    hub.stop().await;
}

#[tokio::test]
async fn a_restart_between_pushes_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.sqlite3");
    let hub = PushHub::with_projects(&db).await;
    let first = json!([payment("P-1", CODE, 100_000), payment("P-2", CODE, 200_000)]);
    let signed_at = now();
    let (status, report) = hub
        .push_at(&CAIZHENG, "payments", first.clone(), signed_at)
        .await;
    assert_eq!(
        (status, report["changed"].as_u64()),
        (200, Some(2)),
        "{report}"
    );
    hub.stop().await;

    // Past the second the first run signed in: the new run cannot know that request.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let hub = PushHub::start(&db).await;
    let (status, error) = hub
        .push_at(&CAIZHENG, "payments", first.clone(), signed_at)
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (401, Some("timestamp_out_of_window")),
        "{error}"
    );
    assert!(
        error["message"].as_str().unwrap().contains("本次启动"),
        "{error}"
    );

    // The department did not hear the first answer: it sends the batch again, signed
    // anew, with the next one.
    let (status, report) = hub.push(&CAIZHENG, "payments", first).await;
    assert_eq!(
        (status, report["unchanged"].as_u64()),
        (200, Some(2)),
        "{report}"
    );
    let (status, report) = hub
        .push(
            &CAIZHENG,
            "payments",
            json!([payment("P-3", CODE, 300_000)]),
        )
        .await;
    assert_eq!(
        (status, report["changed"].as_u64()),
        (200, Some(1)),
        "{report}"
    );

    let log = hub.log().await;
    for id in ["P-1", "P-2", "P-3"] {
        assert_eq!(log[&("payment".to_owned(), id.to_owned())], (1, 0), "{id}");
    }
    let connectors = hub.hub.store().connectors().await.unwrap();
    let connector = connectors
        .iter()
        .find(|c| c.name == "push:caizheng")
        .unwrap();
    assert_eq!((connector.received, connector.applied), (5, 5));
    hub.stop().await;
}

#[tokio::test]
async fn a_restart_during_a_debezium_stream_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.sqlite3");
    let hub = PushHub::with_projects(&db).await;
    let token = hub.token(&RENFANG).await;
    let stream = [
        "civil-defence-snapshot-read.json",
        "civil-defence-create.json",
        "civil-defence-update.json",
        "civil-defence-delete.json",
    ];
    for event in &stream[..2] {
        assert_eq!(
            hub.debezium(&token, "civil-defence", &fixture(event))
                .await
                .0,
            200
        );
    }
    hub.stop().await;

    // Debezium commits its offset after our answer, so it resumes at the last event it
    // may not have heard the answer to; the token it holds still works.
    let hub = PushHub::start(&db).await;
    for event in &stream[1..] {
        let (status, report) = hub.debezium(&token, "civil-defence", &fixture(event)).await;
        assert_eq!(status, 200, "{event}: {report}");
    }
    let log = hub.log().await;
    let key = |code: &str| {
        (
            "fee_assessment".to_owned(),
            FeeAssessment::key_for(code, FeeKind::CivilDefence),
        )
    };
    // Snapshot row then its update; the second notice created once, deleted once.
    assert_eq!(log[&key(CODE)], (2, 0));
    assert_eq!(log[&key(CODE_2)], (1, 1));
    hub.stop().await;
}

#[tokio::test]
async fn a_push_is_authenticated_before_its_body_is_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let hub = PushHub::with_projects(&dir.path().join("hub.sqlite3")).await;
    let head = hub.head().await;
    // Bodies whose parsing would be work or would fail: nothing of them is read as JSON
    // before the sender has proved who it is.
    for body in ["not json at all".to_owned(), "[".repeat(200_000), r#"{"schema":"yizhan.push.v1","records":["#.to_owned()] {
        for path in ["/v1/push/civil-defence", "/v1/push/debezium/civil-defence"] {
            let answer = hub
                .client
                .post(format!("{}{path}", hub.url))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = answer.status().as_u16();
            let refusal: Value = answer.json().await.unwrap();
            assert_eq!(status, 401, "{path}: {refusal}");
            assert!(!matches!(refusal["code"].as_str(), Some("malformed_json" | "invalid_body")), "{path}: {refusal}");
        }
    }
    assert_eq!(hub.head().await, head, "nothing written");
}
