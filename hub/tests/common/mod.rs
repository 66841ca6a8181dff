//! A real hub on 127.0.0.1:0 over a temporary database, and the records the suites send.

#![allow(dead_code)] // each suite uses its own part of these helpers

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tokio::task::JoinHandle;
use yizhan_hub::alerts::AlertDesk;
use yizhan_core::entity::FeeKind;
use yizhan_core::records::ProjectRecords;
use yizhan_core::access::DataScope;
use yizhan_core::clock::Clock;
use yizhan_hub::{Hub, HubConfig};
use yizhan_sync::client::DeviceAuth;
use yizhan_sync::protocol::device::{DEVICE_TOKEN_HEADER, NewDevice};

pub struct TestHub {
    pub hub: Hub,
    pub url: String,
    /// A client of the suites' PC: every request carries its device token.
    pub client: reqwest::Client,
    /// That PC, for requests that must prove it afresh (a hub clock run past its token).
    pub device: DeviceAuth,
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

    /// The hub as a PC reaches it.
    pub fn link(&self) -> yizhan_sync::client::HubLink {
        self.url.parse().expect("a hub on loopback")
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
        let device = enrolled_device(&url, &enrolment_code(&hub).await, hub.clock().clone()).await.expect("the suites' PC enrols");
        TestHub {
            client: client_of(&device, &url).await,
            device,
            hub,
            url,
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

    /// Makes the suites' PC the one enrolled as `device_id` with `key`, as a counter whose
    /// commands name it.
    pub async fn act_as(&mut self, device_id: &str, key: &yizhan_voucher::signature::CounterKey) {
        (self.device, self.client) = self.client_as(device_id, key).await;
    }

    /// A PC enrolled here as `device_id` with `key`, and a client carrying its token.
    pub async fn client_as(&self, device_id: &str, key: &yizhan_voucher::signature::CounterKey) -> (DeviceAuth, reqwest::Client) {
        let by = yizhan_hub::audit::Actor { user: "sysadmin".into(), ..Default::default() };
        let new = NewDevice { device_id: device_id.parse().unwrap(), name: format!("测试窗口 {device_id}"), scope: DataScope::All };
        let code = self.hub.new_device(&by, new).await.expect("an enrolment code").code;
        let enrolment = yizhan_sync::client::enrol(&self.link(), &code, key).await.expect("the PC enrols");
        let device = DeviceAuth::new(&self.link(), enrolment.device_id, key.clone(), self.hub.clock().clone()).unwrap();
        let client = client_of(&device, &self.url).await;
        (device, client)
    }

    /// `request` to `path` from the suites' PC, with the session the route needs; proven
    /// afresh once when the hub's clock ran past the device token.
    async fn send(&self, path: &str, build: impl Fn() -> reqwest::RequestBuilder) -> reqwest::Response {
        let bearer = self.bearer_for(path).await;
        loop {
            let mut request = build();
            if let Some(token) = &bearer {
                request = request.bearer_auth(token);
            }
            let response = self.device.sign(request).await.unwrap().send().await.unwrap();
            if response.status() == reqwest::StatusCode::UNAUTHORIZED && !path.starts_with("/v1/auth") {
                let text = response.text().await.unwrap();
                if text.contains("device_session_ended") {
                    self.device.forget().await;
                    continue;
                }
                panic!("{path}: {text}");
            }
            return response;
        }
    }

    /// POSTs `body` as JSON to `path`; the status and the JSON answer.
    pub async fn post_json_to(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let response = self
            .send(path, || self.client.post(format!("{}{path}", self.url)).header("content-type", "application/json").body(body.clone()))
            .await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {text}"));
        (status, body)
    }

    /// POSTs nothing to `path`: an action that takes no body.
    pub async fn post_path(&self, path: &str) -> (u16, Value) {
        let response = self.send(path, || self.client.post(format!("{}{path}", self.url))).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn get(&self, path_and_query: &str) -> (u16, Value) {
        let response = self.send(path_and_query, || self.client.get(format!("{}{path_and_query}", self.url))).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// `GET path` as text, from the suites' PC.
    pub async fn text(&self, path: &str) -> String {
        self.send(path, || self.client.get(format!("{}{path}", self.url))).await.text().await.unwrap()
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

/// A hub on `clock` with the demo accounts, serving on a loopback port until the sender
/// is dropped: its address.
pub async fn serve_on(dir: &Path, clock: &yizhan_core::clock::SimulatedClock, demo_ingest: bool) -> (String, Hub, tokio::sync::oneshot::Sender<()>) {
    let hub = Hub::open(HubConfig::new(dir.join("hub.sqlite3"))).unwrap().with_clock(clock.clock());
    let hub = if demo_ingest { hub.with_demo_ingest() } else { hub };
    hub.seed_demo_accounts().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(yizhan_hub::serve_until(listener, None, hub.clone(), async {
        let _ = stopped.await;
    }));
    (url, hub, stop)
}

/// The one-time code of a new PC, as the system administrator makes it at `hub`.
pub async fn enrolment_code(hub: &Hub) -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let by = yizhan_hub::audit::Actor { user: "sysadmin".into(), role: "system_admin".into(), ..Default::default() };
    let new = NewDevice { device_id: format!("test-pc-{n:03}").parse().unwrap(), name: format!("测试终端 {n}"), scope: DataScope::All };
    hub.new_device(&by, new).await.expect("an enrolment code").code
}

/// An HTTP client for a PC enrolled with `code` at the hub at `url`: every request carries
/// its device token, as the app's do. The PC's clock is `clock`.
pub async fn device_client(url: &str, code: &str, clock: Clock) -> reqwest::Client {
    try_device_client(url, code, clock).await.expect("the PC enrols and proves its key")
}

/// A PC enrolled with `code` at the hub at `url`, living by `clock`.
pub async fn enrolled_device(url: &str, code: &str, clock: Clock) -> Result<DeviceAuth, yizhan_sync::client::SyncError> {
    let key = yizhan_voucher::signature::CounterKey::generate();
    let hub: yizhan_sync::client::HubLink = url.parse().expect("a hub on loopback");
    let enrolment = yizhan_sync::client::enrol(&hub, code, &key).await?;
    DeviceAuth::new(&hub, enrolment.device_id, key, clock)
}

/// [`device_client`], or why the hub did not enrol the PC (not answering yet, say).
pub async fn try_device_client(url: &str, code: &str, clock: Clock) -> Result<reqwest::Client, yizhan_sync::client::SyncError> {
    Ok(client_of(&enrolled_device(url, code, clock).await?, url).await)
}

/// A client whose every request carries `device`'s current token.
async fn client_of(device: &DeviceAuth, url: &str) -> reqwest::Client {
    let probe = device.sign(reqwest::Client::new().get(url)).await.expect("a device token").build().expect("a request to the hub");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(DEVICE_TOKEN_HEADER, probe.headers()[DEVICE_TOKEN_HEADER].clone());
    reqwest::Client::builder().default_headers(headers).build().expect("an HTTP client")
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
