//! A real hub inside the test process, on a loopback port, over a temporary database; it
//! can be stopped and started again on the same file and port, as after a restart. The
//! tests speak to it over HTTP only, as counters and connectors do.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tempfile::TempDir;
use time::macros::date;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use yizhan_core::code::ProjectCode;
use yizhan_core::clock::Clock;
use yizhan_core::document::DocumentSettings;
use yizhan_core::entity::FeeKind;
use yizhan_hub::alerts::AlertDesk;
use yizhan_hub::demo::Generator;
use yizhan_hub::{Hub, HubConfig};
use yizhan_core::access::DataScope;
use yizhan_core::id::DeviceId;
use yizhan_sync::client::DeviceAuth;
use yizhan_sync::protocol::device::{Enrolment, EnrolmentRequest, NewDevice};
use yizhan_sync::protocol::{
    Change, ChangeBatch, IngestBatch, IngestReport, PaymentRecord, SnapshotHeader, SnapshotRow,
};
use yizhan_sync::replica::Replica;
use yizhan_voucher::signature::CounterKey;

use crate::counter::{COUNTER_KEY, Counter};

/// The demo accounts, on a hub that has none: the clerks the suites' counters issue
/// commands as. The suites' counters work on dates of their own (the demo day, a day of
/// 2024 for a long outage), before this run, so the accounts have stood as they are since
/// well before any of them.
pub async fn seed_accounts(hub: &Hub) {
    let since = time::macros::datetime!(2020-01-01 00:00 UTC);
    hub.seed_demo_accounts_since(since).await.expect("seed the demo accounts");
}

/// The date the demo data is made relative to, so every run seeds the same rows.
pub const DEMO_TODAY: time::Date = date!(2026 - 11 - 24);

pub struct TestHub {
    pub url: String,
    dir: TempDir,
    addr: SocketAddr,
    http: reqwest::Client,
    running: Option<Running>,
    /// Admin clients signed in once per account: a second sign-in within the same TOTP
    /// step would be a replayed code.
    operators: tokio::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<yizhan_sync::client::HubAdmin>>>,
    /// The clock alerts are judged by, when this hub evaluates them.
    alerts: Option<Clock>,
    /// The PCs enrolled here with their keys: a rebuilt hub enrols them again.
    devices: std::sync::Mutex<Vec<(DeviceId, CounterKey)>>,
    /// The suites' own PC, reading the counters' routes.
    probe: tokio::sync::OnceCell<DeviceAuth>,
}

struct Running {
    hub: Hub,
    stop: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

impl TestHub {
    /// A hub seeded with `projects` demo projects, serving.
    pub async fn start(projects: usize) -> TestHub {
        TestHub::start_seeded(projects, None).await
    }

    /// [`TestHub::start`], evaluating alerts on `clock` every tenth of a second.
    pub async fn start_with_alerts(projects: usize, clock: Clock) -> TestHub {
        TestHub::start_seeded(projects, Some(clock)).await
    }

    async fn start_seeded(projects: usize, alerts: Option<Clock>) -> TestHub {
        let dir = TempDir::new().expect("temporary directory for the hub");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let http = reqwest::Client::builder().gzip(true).build().expect("HTTP client");
        let mut test_hub = TestHub {
            url: format!("http://{addr}"),
            dir,
            addr,
            http,
            running: None,
            operators: Default::default(),
            alerts,
            devices: Default::default(),
            probe: Default::default(),
        };
        let hub = test_hub.open();
        test_hub.seed(&hub, projects, 42).await;
        test_hub.serve(hub, listener);
        test_hub
    }

    /// The hub as a PC reaches it.
    pub fn link(&self) -> yizhan_sync::client::HubLink {
        self.url.parse().expect("a hub on loopback")
    }

    /// An admin client signed in as the demo account `account`, its authenticator bound
    /// (administrators and supervisors sign in with a second factor).
    pub async fn operator(&self, account: &str) -> std::sync::Arc<yizhan_sync::client::HubAdmin> {
        let mut operators = self.operators.lock().await;
        if let Some(admin) = operators.get(account) {
            return admin.clone();
        }
        let admin = yizhan_sync::client::HubAdmin::new(&self.link(), Some(self.device().await)).expect("an admin client");
        let request = yizhan_sync::protocol::SignInRequest {
            account: account.into(),
            password: yizhan_hub::accounts::admin::DEMO_PASSWORD.into(),
            code: None,
        };
        let signed_in = admin.sign_in(&request).await.expect("the demo account signs in");
        if signed_in.must_enrol_second_factor {
            let enrolment = admin.begin_second_factor().await.expect("an authenticator secret");
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let code = yizhan_hub::accounts::totp::code_at(&enrolment.secret, now).expect("a code");
            admin.confirm_second_factor(&code).await.expect("the authenticator is bound");
        }
        let admin = std::sync::Arc::new(admin);
        operators.insert(account.to_owned(), admin.clone());
        admin
    }

    /// A PC enrolled here with a key of its own, proving itself as the app's does: for
    /// people's requests from it.
    pub async fn device(&self) -> DeviceAuth {
        let key = CounterKey::generate();
        let enrolment = self.enrol(&key, DataScope::All).await;
        DeviceAuth::new(&self.link(), enrolment.device_id, key, Clock::system()).expect("a device client")
    }

    /// Enrols a new PC holding `key` for `scope`, as its first-run screen does with the
    /// code the system administrator made (`yizhan-hub device add`).
    pub async fn enrol(&self, key: &CounterKey, scope: DataScope) -> Enrolment {
        let device_id: DeviceId = {
            let devices = self.devices.lock().unwrap();
            format!("counter-{:02}", devices.len() + 1).parse().expect("a device id")
        };
        let code = device_code(self.hub(), &device_id, scope).await;
        let enrolment = yizhan_sync::client::enrol(&self.link(), &code, key).await.expect("the PC enrols");
        self.devices.lock().unwrap().push((device_id, key.clone()));
        enrolment
    }

    /// A counter PC enrolled here with the suites' key, its replica holding the enrolment.
    pub async fn counter(&self) -> Counter {
        let counter = Counter::new();
        self.enrol_counter(&counter, &COUNTER_KEY).await;
        counter
    }

    /// Enrols `counter`'s PC here with `key` (a new device id) and records it in its replica.
    pub async fn enrol_counter(&self, counter: &Counter, key: &CounterKey) -> Enrolment {
        self.enrol_replica(&counter.path, key).await
    }

    /// Enrols the PC whose replica is at `path` here with `key`, recording it there.
    pub async fn enrol_replica(&self, path: &std::path::Path, key: &CounterKey) -> Enrolment {
        let enrolment = self.enrol(key, DataScope::All).await;
        Replica::open(path).expect("the counter's replica").enrol(&enrolment).expect("record the enrolment");
        enrolment
    }

    /// The running hub itself, for what a test arranges behind its routes.
    pub fn hub(&self) -> &Hub {
        &self.running.as_ref().expect("the hub is running").hub
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("hub.sqlite3")
    }

    /// Where this hub's messages to applicants go (its log channel), one JSON line each.
    pub fn notifications_log(&self) -> PathBuf {
        self.dir.path().join("notifications.jsonl")
    }

    fn open(&self) -> Hub {
        let hub = Hub::open(HubConfig::new(self.db()))
            .expect("open the hub's store")
            .with_demo_ingest()
            .with_notify_channel(std::sync::Arc::new(yizhan_hub::notify::LogChannel { path: self.notifications_log() }));
        match &self.alerts {
            Some(clock) => hub.with_alert_desk(AlertDesk::new(None, clock.clone(), Duration::from_millis(100))),
            None => hub,
        }
    }

    fn serve(&mut self, hub: Hub, listener: tokio::net::TcpListener) {
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(yizhan_hub::serve_until(listener, None, hub.clone(), async {
            let _ = stopped.await;
        }));
        self.running = Some(Running { hub, stop, server });
    }

    /// Shuts the hub down gracefully (pending long-polls answer at once) and closes its store.
    pub async fn stop(&mut self) {
        let Running { hub, stop, server } = self.running.take().expect("the hub is running");
        let _ = stop.send(());
        server.await.expect("hub task").expect("hub served");
        drop(hub);
    }

    /// Opens the same database again and serves on the same address.
    pub async fn restart(&mut self) {
        let hub = self.open();
        self.serve_again(hub).await;
    }

    /// Stops the hub and starts a new one on the same address over a new database with
    /// other demo data: the data centre rebuilt, as a counter meets it.
    pub async fn rebuild(&mut self, projects: usize) {
        self.stop().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.db().display()));
        }
        let hub = self.open();
        self.seed(&hub, projects, 43).await;
        let devices = self.devices.lock().unwrap().clone();
        for (device_id, key) in devices {
            let code = device_code(&hub, &device_id, DataScope::All).await;
            let request = EnrolmentRequest { code, public_key: key.public_key().to_hex() };
            hub.enrol(request, "127.0.0.1").await.expect("the PC enrols at the rebuilt hub");
        }
        self.serve_again(hub).await;
    }

    /// Demo projects, and the document settings an operator sets on a new hub.
    async fn seed(&self, hub: &Hub, projects: usize, seed: u64) {
        yizhan_hub::demo::seed_on(hub, projects, seed, DEMO_TODAY)
            .await
            .expect("seed demo projects");
        let settings = DocumentSettings::new("南京市建设工程收费综合窗口", "32010126", &format!("{}/verify", self.url))
            .expect("well-formed document settings");
        hub.set_document_settings(&settings, "测试").await.expect("set the document settings");
        seed_accounts(hub).await;
    }

    async fn serve_again(&mut self, hub: Hub) {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("bind the hub's address again");
        self.serve(hub, listener);
    }

    pub async fn head(&self) -> u64 {
        self.running
            .as_ref()
            .expect("the hub is running")
            .hub
            .store()
            .head()
            .await
            .expect("hub head")
    }

    /// Compacts the hub's log through `through`; returns the horizon.
    pub async fn compact(&self, through: u64) -> u64 {
        self.running
            .as_ref()
            .expect("the hub is running")
            .hub
            .store()
            .compact(through)
            .await
            .expect("compact the log")
    }

    /// `/v1/snapshot`, whole: fine for the sizes these tests use.
    pub async fn snapshot(&self) -> (SnapshotHeader, Vec<SnapshotRow>) {
        let body = self
            .get_ok(&format!("{}/v1/snapshot", self.url))
            .await
            .text()
            .await
            .expect("snapshot body");
        let mut lines = body.lines();
        let header: SnapshotHeader = serde_json::from_str(lines.next().expect("a header line")).expect("header");
        let rows: Vec<SnapshotRow> = lines.map(|l| serde_json::from_str(l).expect("snapshot row")).collect();
        assert_eq!(
            rows.len() as u64,
            header.rows,
            "the snapshot holds as many rows as its header says"
        );
        (header, rows)
    }

    /// `GET {path}`'s body.
    pub async fn http_bytes(&self, path: &str) -> Vec<u8> {
        self.get_ok(&format!("{}{path}", self.url)).await.bytes().await.expect("answer body").to_vec()
    }

    /// `GET {path}` as text.
    pub async fn http_text(&self, path: &str) -> String {
        String::from_utf8(self.http_bytes(path).await).expect("UTF-8 answer")
    }

    /// `GET {path}` as JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.get_ok(&format!("{}{path}", self.url)).await.json().await.expect("JSON answer")
    }

    /// The whole change log, through `/v1/changes`.
    pub async fn all_changes(&self) -> Vec<Change> {
        self.changes_since(0).await
    }

    /// The change log after `since`, through `/v1/changes`.
    pub async fn changes_since(&self, since: u64) -> Vec<Change> {
        let mut changes = Vec::new();
        loop {
            let after = changes.last().map_or(since, |c: &Change| c.seq);
            let url = format!("{}/v1/changes?after={after}&limit=10000&wait=0", self.url);
            let batch: ChangeBatch = self.get_ok(&url).await.json().await.expect("change batch");
            if batch.changes.is_empty() {
                return changes;
            }
            changes.extend(batch.changes);
        }
    }

    /// Posts `records` to `/v1/ingest/{source}` and returns the hub's report.
    pub async fn ingest<T: Serialize>(&self, source: &str, records: Vec<T>) -> IngestReport {
        let response = self
            .http
            .post(format!("{}/v1/ingest/{source}", self.url))
            .json(&IngestBatch { records })
            .send()
            .await
            .expect("ingest request");
        ok_json(response).await
    }

    /// `count` new payments spread over `project_codes`, with ids no demo record uses.
    pub fn new_payments(&self, project_codes: &[ProjectCode], count: usize, serial: u64) -> Vec<PaymentRecord> {
        new_payments(&self.running.as_ref().expect("the hub is running").hub, project_codes, count, serial)
    }

    /// `request` from the suites' own enrolled PC.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let device = self.probe.get_or_init(|| self.device()).await;
        device.sign(request).await.expect("a device token").send().await.expect("the hub answers")
    }

    /// `GET url` as the suites' own enrolled PC; once more after a token the hub no longer
    /// holds (a rebuilt hub).
    async fn get_ok(&self, url: &str) -> reqwest::Response {
        let device = self.probe.get_or_init(|| self.device()).await;
        for _ in 0..2 {
            let request = device.sign(self.http.get(url)).await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
            let response = request.send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
            if response.status() == reqwest::StatusCode::UNAUTHORIZED {
                device.forget().await;
                continue;
            }
            assert!(response.status().is_success(), "GET {url}: HTTP {}", response.status());
            return response;
        }
        panic!("GET {url}: the hub refused the suites' PC twice")
    }
}

/// The enrolment code for `device_id`, as the system administrator makes it at the hub.
async fn device_code(hub: &Hub, device_id: &DeviceId, scope: DataScope) -> String {
    let by = yizhan_hub::audit::Actor { user: "sysadmin".into(), role: "system_admin".into(), ..Default::default() };
    let new = NewDevice { device_id: device_id.clone(), name: format!("测试窗口 {device_id}"), scope };
    hub.new_device(&by, new).await.expect("an enrolment code").code
}

async fn ok_json<T: DeserializeOwned>(response: reqwest::Response) -> T {
    let status = response.status();
    let body = response.text().await.expect("response body");
    assert!(status.is_success(), "HTTP {status}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("unexpected answer {body}: {e}"))
}

/// `count` new payments spread over `project_codes` for `hub`, with ids no demo record uses
/// (`serial` keeps successive calls apart).
pub fn new_payments(hub: &Hub, project_codes: &[ProjectCode], count: usize, serial: u64) -> Vec<PaymentRecord> {
    let mut generator = Generator::new(7, hub.rules().clone(), DEMO_TODAY).with_serials(900_000, 9_000_000 + serial);
    (0..count)
        .map(|i| generator.payment(project_codes[i % project_codes.len()].as_str(), FeeKind::Infra, 100 + i as i64, DEMO_TODAY))
        .collect()
}
