//! A real hub on 127.0.0.1:0 over a temporary database, and the records the suites send.

#![allow(dead_code)] // each suite uses its own part of these helpers

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tokio::task::JoinHandle;
use yizhan_hub::alerts::AlertDesk;
use yizhan_core::entity::FeeKind;
use yizhan_core::records::ProjectRecords;
use yizhan_hub::{Hub, HubConfig};

pub struct TestHub {
    pub hub: Hub,
    pub url: String,
    pub client: reqwest::Client,
    pub db: PathBuf,
    /// Sessions of the feeds' operators, signed in at first need: the supervisor's
    /// (quarantine) and the system administrator's (connectors, imports).
    operators: tokio::sync::OnceCell<(String, String)>,
    server: JoinHandle<std::io::Result<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestHub {
    pub async fn start() -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hub.sqlite3");
        let mut hub = TestHub::start_at(&db).await;
        hub._dir = Some(dir);
        hub
    }

    /// A hub that evaluates alerts with `desk`, on the desk's clock throughout.
    pub async fn start_with_alerts(desk: AlertDesk) -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hub.sqlite3");
        let clock = desk.clock().clone();
        let hub = Hub::open(HubConfig::new(&db)).unwrap().with_clock(clock).with_alert_desk(desk);
        let mut hub = TestHub::serve(hub, &db).await;
        hub._dir = Some(dir);
        hub
    }

    /// Serves the database at `db`, which outlives the hub (for restarts).
    pub async fn start_at(db: &Path) -> TestHub {
        TestHub::serve(Hub::open(HubConfig::new(db)).unwrap(), db).await
    }

    /// A demo hub: these suites post department records through the open ingest routes.
    async fn serve(hub: Hub, db: &Path) -> TestHub {
        let hub = hub.with_demo_ingest();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(yizhan_hub::serve(listener, hub.clone()));
        TestHub {
            hub,
            url,
            client: reqwest::Client::new(),
            db: db.to_owned(),
            operators: tokio::sync::OnceCell::new(),
            server,
            _dir: None,
        }
    }

    /// Stops serving and drops the hub; the temporary directory (if any) goes with it.
    pub async fn stop(self) {
        self.server.abort();
        let _ = self.server.await;
    }

    pub async fn post(&self, source: &str, records: Value) -> (u16, Value) {
        self.post_raw(
            source,
            serde_json::to_vec(&json!({ "records": records })).unwrap(),
        )
        .await
    }

    pub async fn post_raw(&self, source: &str, body: Vec<u8>) -> (u16, Value) {
        self.post_json_to(&format!("/v1/ingest/{source}"), body).await
    }

    /// A session of the demo account `account`, its authenticator bound if its role
    /// needs one.
    pub async fn sign_in(&self, account: &str) -> String {
        seed_clerks(&self.hub).await;
        let now = self.hub.clock().now().unix_timestamp();
        sign_in_at(&self.client, &self.url, account, now).await.unwrap_or_else(|| panic!("{account} signs in"))
    }

    /// The session an operator route needs, none for the others.
    pub async fn bearer_for(&self, path: &str) -> Option<String> {
        let operated = ["/v1/quarantine", "/v1/connectors", "/v1/imports"];
        if !operated.iter().any(|p| path.starts_with(p)) {
            return None;
        }
        let (supervisor, system) = self
            .operators
            .get_or_init(|| async { (self.sign_in("chief01").await, self.sign_in("sysadmin").await) })
            .await;
        Some(if path.starts_with("/v1/quarantine") { supervisor } else { system }.clone())
    }

    /// `request` to `path`, with the session the route needs.
    async fn send(&self, path: &str, mut request: reqwest::RequestBuilder) -> reqwest::Response {
        if let Some(token) = self.bearer_for(path).await {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// POSTs `body` as JSON to `path`; the status and the JSON answer.
    pub async fn post_json_to(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let response = self
            .send(path, self
            .client
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body))
            .await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {text}"));
        (status, body)
    }

    /// POSTs nothing to `path`: an action that takes no body.
    pub async fn post_path(&self, path: &str) -> (u16, Value) {
        let response = self.send(path, self.client.post(format!("{}{path}", self.url))).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn get(&self, path_and_query: &str) -> (u16, Value) {
        let response = self.send(path_and_query, self.client.get(format!("{}{path_and_query}", self.url))).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn head(&self) -> u64 {
        self.hub.store().head().await.unwrap()
    }

    /// Every change in the log, read through the API page by page.
    pub async fn log(&self) -> Vec<Value> {
        let mut changes = Vec::new();
        let mut after = 0;
        loop {
            let (status, batch) = self
                .get(&format!("/v1/changes?after={after}&limit=500"))
                .await;
            assert_eq!(status, 200, "{batch}");
            let page = batch["changes"].as_array().unwrap().clone();
            if page.is_empty() {
                return changes;
            }
            after = batch["upto"].as_u64().unwrap();
            changes.extend(page);
        }
    }
}

/// A project with its infrastructure and civil-defence fees assessed.
pub async fn project_with_fees(hub: &TestHub) {
    assert_eq!(hub.post("planning", json!([planning("建字第1号", CODE)])).await.0, 200);
    assert_eq!(hub.post("civil-defence", json!([notice("RF-1", CODE)])).await.0, 200);
}

/// Pays every fee of the project in full.
pub async fn pay_everything(hub: &TestHub) {
    let mut records = ProjectRecords::default();
    for row in hub.hub.store().project_rows(CODE).await.unwrap() {
        records.add(row.entity, &row.key, row.payload.as_bytes()).unwrap();
    }
    let payments: Vec<Value> = records
        .assessments
        .iter()
        .map(|a| {
            json!({
                "payment_id": format!("PAY-{}", a.fee_kind.as_str()),
                "project_code": CODE,
                "fee_kind": a.fee_kind,
                "amount_fen": a.net_fen(),
                "channel": "非税支付平台",
                "reference": "全额",
                "received_at": "2025-08-01T02:00:00Z",
            })
        })
        .collect();
    assert_eq!(payments.len(), 2, "infrastructure and civil-defence fees");
    assert!(records.assessments.iter().any(|a| a.fee_kind == FeeKind::CivilDefence));
    assert_eq!(hub.post("payments", Value::Array(payments)).await.0, 200);
}

pub const USCC: &str = "91350100M000100Y43";
pub const CODE: &str = "2025-320115-70-01-000001";

pub fn planning(permit: &str, code: &str) -> Value {
    json!({
        "planning_permit_no": permit,
        "project_code": code,
        "name": "江宁区秣陵街道保障性住房二期",
        "builder": "南京钟山置业有限公司",
        "uscc": USCC,
        "district_code": "320115",
        "contact_phone": "13812341234",
        "approved_on": "2025-06-01",
        "residential_area": 5_000_000,
        "non_residential_area": 20_000,
        "civil_defence_area": 100_000
    })
}

/// The notice for `planning(_, code)`: 1,000 m² at the demo rate in force in 2025.
pub fn notice(notice_no: &str, code: &str) -> Value {
    let amount = yizhan_core::tariff::Tariff::demo()
        .civil_defence_fee(yizhan_core::area::Area::from_hundredths(100_000), time::macros::date!(2025 - 07 - 01))
        .unwrap()
        .amount_fen;
    json!({
        "notice_no": notice_no,
        "project_code": code,
        "civil_defence_area": 100_000,
        "amount_fen": amount,
        "issued_on": "2025-07-01",
        "due_on": "2025-07-31"
    })
}

pub fn payment(id: &str, code: &str, amount_fen: i64) -> Value {
    json!({
        "payment_id": id,
        "project_code": code,
        "fee_kind": "infra",
        "amount_fen": amount_fen,
        "channel": "非税支付平台",
        "reference": "城市基础设施配套费",
        "received_at": "2025-06-15T02:30:00Z"
    })
}

pub fn clearance(no: &str, code: &str) -> Value {
    json!({
        "clearance_no": no,
        "project_code": code,
        "tax_office": "国家税务总局南京市江宁区税务局",
        "issued_on": "2025-08-01"
    })
}

/// Signs the demo account `account` in at the hub at `url`, binding the authenticator
/// (with a code for `now`, Unix seconds) where its role needs one; none when the hub does
/// not answer as it should.
pub async fn sign_in_at(http: &reqwest::Client, url: &str, account: &str, now: i64) -> Option<String> {
    let call = |path: &str, token: Option<&str>, body: Value| {
        let mut request = http.post(format!("{url}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.ok()?.json::<Value>().await.ok() }
    };
    let password = yizhan_hub::accounts::admin::DEMO_PASSWORD;
    let answer = call("/v1/auth/login", None, json!({"account": account, "password": password})).await?;
    let token = answer["token"].as_str()?.to_owned();
    if answer["must_enrol_second_factor"] == true {
        let enrolment = call("/v1/auth/second-factor", Some(&token), Value::Null).await?;
        let code = yizhan_hub::accounts::totp::code_at(enrolment["secret"].as_str()?, now)?;
        call("/v1/auth/second-factor/confirm", Some(&token), json!({"code": code})).await?;
    }
    Some(token)
}

/// The demo accounts, standing since before the demo day the suites' commands are dated.
pub async fn seed_clerks(hub: &Hub) {
    hub.seed_demo_accounts_since(time::macros::datetime!(2026-10-01 00:00 UTC)).await.unwrap();
}

/// `envelope` as a counter holding `key` sends it: with `account` as the one signed in
/// there, and the counter's signature over it.
pub fn signed(mut envelope: Value, account: &str, key: &yizhan_voucher::signature::CounterKey) -> Value {
    envelope["account"] = json!(account);
    // A command made malformed on purpose goes unsigned: the hub refuses it on reading.
    let Ok(parsed) = serde_json::from_value::<yizhan_sync::protocol::CommandEnvelope>(envelope.clone()) else {
        return envelope;
    };
    let action = serde_json::to_string(&envelope["action"]).unwrap();
    envelope["signature"] = json!(hex::encode(key.sign(parsed.signed_text(&action).as_bytes())));
    envelope
}
