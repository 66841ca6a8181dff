//! What authorisation and audit cost on the command path and the change feed (docs/perf.md
//! §14):
//!
//!   cargo bench -p yizhan-hub --bench commands
//!
//! - **commands**: YIZHAN_COMMANDS (default 2,000) follow-up notes, signed by a counter key
//!   for a demo clerk, run one after another on a hub over a real SQLite file of
//!   YIZHAN_PROJECTS (default 1,000) demo projects, twice: through `Hub::run_commands` as
//!   served, in the counter's upload batches (the counter's SM2 signature verified, the
//!   clerk's account, standing history and grants read, all a few commands ahead of the
//!   writes; the audit record sealed with HMAC-SM3 in the command's transaction), and
//!   straight through the store with the same rules, no checks and a bare audit row. The
//!   difference is what authorisation and the audit MAC cost.
//! - **the floor**: one SM2 verification, and from it and the bare writes the best any
//!   arrangement of the work could do on this machine's cores.
//! - **feed**: the route table's check that every request passes (`access_of` on the
//!   change feed's path), against one `GET /v1/changes` page over loopback HTTP. The feed
//!   writes no audit record.
//! - **feed over HTTPS**: the same pages from the same hub over TLS 1.3 with a certificate
//!   from a CA made for the run, on a kept-alive connection as the counter's, against plain
//!   HTTP: what transport security costs the feed.
//!
//! Without `--bench` (what `cargo test --benches` runs) each runs a few times, as a smoke test.

use std::time::{Duration, Instant};

use axum::http::Method;
use time::OffsetDateTime;
use yizhan_core::clock::shanghai_date;
use yizhan_core::command::{ClerkAction, Issued, decide};
use yizhan_core::id::DeviceId;
use yizhan_hub::routes::access::access_of;
use yizhan_hub::store::{AuditRecord, Decider, RowWrite, project_records};
use yizhan_hub::{Hub, HubConfig};
use yizhan_sync::protocol::{CommandEnvelope, UPLOAD_BATCH, clerk_label};
use yizhan_voucher::signature::CounterKey;

const DEVICE: &str = "counter-bench";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn per_second(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

/// A hub of `projects` demo projects with the demo accounts and the bench counter's key.
async fn hub(dir: &std::path::Path, projects: usize, key: &CounterKey) -> (Hub, Vec<String>) {
    let hub = Hub::open(HubConfig::new(dir.join("hub.sqlite3"))).unwrap();
    yizhan_hub::demo::seed_on(&hub, projects, 7, time::macros::date!(2026 - 11 - 24)).await.unwrap();
    hub.seed_demo_accounts_since(time::macros::datetime!(2020-01-01 00:00 UTC)).await.unwrap();
    let by = yizhan_hub::audit::Actor { user: "bench".into(), ..Default::default() };
    let new = yizhan_sync::protocol::device::NewDevice { device_id: DEVICE.parse().unwrap(), name: "基准测试窗口".into(), scope: Default::default() };
    let code = hub.new_device(&by, new).await.unwrap().code;
    let request = yizhan_sync::protocol::device::EnrolmentRequest { code, public_key: key.public_key().to_hex() };
    hub.enrol(request, "127.0.0.1").await.unwrap();
    let mut codes: Vec<String> = hub.store().changes_after(0, 1_000_000).await.unwrap().into_iter().map(|c| c.project_code).collect();
    codes.retain(|c| !c.is_empty());
    codes.dedup();
    (hub, codes)
}

/// `n` follow-up notes by clerk01, signed as the counter signs them at queue time.
fn notes(n: usize, codes: &[String], key: &CounterKey, run: &str) -> Vec<(CommandEnvelope, String)> {
    let account: yizhan_core::account::Account = "clerk01".parse().unwrap();
    (0..n)
        .map(|i| {
            let action = ClerkAction::FollowUpNote { project_code: codes[i % codes.len()].parse().unwrap(), text: format!("催缴记录 {i}") };
            let mut envelope = CommandEnvelope {
                command_id: format!("bench-{run}-{i}").parse().unwrap(),
                device_id: DEVICE.parse().unwrap(),
                clerk: clerk_label("王芳", &account),
                account: Some(account.clone()),
                issued_at: OffsetDateTime::now_utc(),
                base_seq: 0,
                action,
                signature: None,
            };
            let json = serde_json::to_string(&envelope.action).unwrap();
            envelope.signature = Some(hex::encode(key.sign(envelope.signed_text(&json).as_bytes())));
            (envelope, json)
        })
        .collect()
}

/// The same rules the hub decides by, with nothing checked first.
fn bare_decider(envelope: CommandEnvelope) -> Decider {
    Box::new(move |rows| {
        let records = project_records(rows)?;
        let device: &DeviceId = &envelope.device_id;
        let issued = Issued { command_id: &envelope.command_id, clerk: &envelope.clerk, device_id: device, at: envelope.issued_at };
        Ok(decide(&envelope.action, &issued, &records, shanghai_date(envelope.issued_at)).map(|effect| {
            vec![RowWrite {
                entity: effect.entity(),
                key: effect.key(),
                project_code: envelope.action.project_key().to_owned(),
                payload: effect.payload(),
            }]
        }))
    })
}

fn bare_audit(run: &yizhan_hub::store::CommandRun, tail: &yizhan_hub::store::AuditTail) -> AuditRecord {
    AuditRecord {
        id: tail.id + 1,
        at: OffsetDateTime::now_utc(),
        local_at: None,
        user: "clerk01".into(),
        role: String::new(),
        device: DEVICE.into(),
        address: String::new(),
        event: "clerk_command".into(),
        object: String::new(),
        result: if run.outcome.is_ok() { "success" } else { "failure" }.into(),
        reason: String::new(),
        detail: String::new(),
        mac: String::new(),
    }
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (projects, commands) = if full { (setting("YIZHAN_PROJECTS", 1_000), setting("YIZHAN_COMMANDS", 2_000)) } else { (20, 20) };
    let key = CounterKey::generate();

    let bare_dir = tempfile::tempdir().unwrap();
    let (bare_hub, codes) = hub(bare_dir.path(), projects, &key).await;
    // Signed before the clock starts: signing is the counters' work, not the hub's.
    let queued = notes(commands, &codes, &key, "bare");
    let started = Instant::now();
    for (envelope, _) in queued {
        let run = bare_hub.store().run_command(envelope.clone(), bare_decider(envelope), Box::new(bare_audit)).await.unwrap();
        assert!(run.outcome.is_ok(), "{run:?}");
    }
    let bare = started.elapsed();

    let full_dir = tempfile::tempdir().unwrap();
    let (served_hub, codes) = hub(full_dir.path(), projects, &key).await;
    let mut queued = notes(commands, &codes, &key, "full");
    let started = Instant::now();
    while !queued.is_empty() {
        let batch: Vec<_> = queued.drain(..UPLOAD_BATCH.min(queued.len())).collect();
        for result in served_hub.run_commands(batch, "127.0.0.1").await.unwrap() {
            assert!(matches!(result.outcome, yizhan_sync::protocol::CommandOutcome::Accepted { .. }), "{result:?}");
        }
    }
    let served = started.elapsed();
    let cost = 1.0 - per_second(commands, served) / per_second(commands, bare);
    println!(
        "commands: {commands} notes on {projects} projects: without checks {:.0}/s ({:.2} ms each), authorised and audited {:.0}/s ({:.2} ms each): throughput {:.1} % lower (target ≤ 5 %)",
        per_second(commands, bare),
        bare.as_secs_f64() * 1000.0 / commands as f64,
        per_second(commands, served),
        served.as_secs_f64() * 1000.0 / commands as f64,
        cost * 100.0
    );

    // What no arrangement of the work can go below: every command's SM2 signature must be
    // checked (0.35 ms of arithmetic each), and with it on every core beside the writes a
    // command takes at best (write + signature) / cores.
    let text = b"YIZHAN-COMMAND-1 bench";
    let signature = key.sign(text);
    let public = yizhan_voucher::signature::PublicKey::from_hex(&key.public_key().to_hex()).unwrap();
    let rounds = if full { 1_000 } else { 5 };
    let started = Instant::now();
    for _ in 0..rounds {
        assert!(public.verifies(std::hint::black_box(text), &signature));
    }
    let verify = started.elapsed() / rounds;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get) as f64;
    let write = bare.as_secs_f64() / commands as f64;
    let best = write.max((write + verify.as_secs_f64()) / cores);
    println!(
        "commands: one SM2 signature verified in {:.3} ms; with the writes at {:.3} ms each on {cores} cores, the best possible is {:.0}/s ({:.1} % lower)",
        verify.as_secs_f64() * 1000.0,
        write * 1000.0,
        1.0 / best,
        (1.0 - write / best) * 100.0
    );

    // The feed: the route check against one page of changes over HTTP.
    let checks = if full { 1_000_000 } else { 1_000 };
    let started = Instant::now();
    for _ in 0..checks {
        std::hint::black_box(access_of(&Method::GET, std::hint::black_box("/v1/changes")));
    }
    let check = started.elapsed() / checks;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(yizhan_hub::serve(listener, served_hub.clone()));
    let tls_dir = tempfile::tempdir().unwrap();
    let ca = yizhan_hub::tls::CaFiles::in_dir(tls_dir.path());
    ca.init("bench CA").unwrap();
    let (cert, cert_key) = (tls_dir.path().join("hub.pem"), tls_dir.path().join("hub.key"));
    ca.issue(&["127.0.0.1".to_owned()], &cert, &cert_key).unwrap();
    let tls = yizhan_hub::ServerTls::load(&cert, &cert_key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tls_base = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(yizhan_hub::serve_until(listener, Some(tls), served_hub, std::future::pending()));
    let ca_pem = std::fs::read(&ca.certificate).unwrap();
    let https = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem).unwrap())
        .min_tls_version(reqwest::tls::Version::TLS_1_3)
        .build()
        .unwrap();
    let plain = Feed::new(reqwest::Client::new(), &base.parse().unwrap(), &key);
    let secure = Feed::new(https, &yizhan_sync::client::HubLink::new(&tls_base, Some(&ca_pem)).unwrap(), &key);
    // Page by page in turn, so that both meet the hub's caches in the same state.
    let pages = if full { 200 } else { 3 };
    let (mut plain_times, mut secure_times) = (Vec::with_capacity(pages), Vec::with_capacity(pages));
    for _ in 0..pages {
        plain_times.push(plain.page().await);
        secure_times.push(secure.page().await);
    }
    let (page, tls_page) = (median(plain_times), median(secure_times));
    println!(
        "feed: the route check {:.0} ns per request; a page of 500 changes {:.2} ms (median of {pages}): {:.4} % of the request (target ≤ 5 %)",
        check.as_secs_f64() * 1e9,
        page.as_secs_f64() * 1000.0,
        check.as_secs_f64() / page.as_secs_f64() * 100.0
    );
    println!(
        "feed over HTTPS: a page of 500 changes {:.2} ms (median of {pages}) against {:.2} ms in plain HTTP: {:+.1} %",
        tls_page.as_secs_f64() * 1000.0,
        page.as_secs_f64() * 1000.0,
        (tls_page.as_secs_f64() / page.as_secs_f64() - 1.0) * 100.0
    );
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Pages of 500 changes asked as the counter asks: proving its PC with its device token on
/// every page, on one kept-alive connection.
struct Feed {
    http: reqwest::Client,
    url: String,
    device: yizhan_sync::client::DeviceAuth,
}

impl Feed {
    fn new(http: reqwest::Client, hub: &yizhan_sync::client::HubLink, key: &CounterKey) -> Feed {
        let device = yizhan_sync::client::DeviceAuth::new(hub, DEVICE.parse().unwrap(), key.clone(), yizhan_core::clock::Clock::system()).unwrap();
        Feed { http, url: format!("{}/v1/changes?after=0&limit=500", hub.url()), device }
    }

    async fn page(&self) -> Duration {
        let started = Instant::now();
        let response = self.device.sign(self.http.get(&self.url)).await.unwrap().send().await.unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
        started.elapsed()
    }
}
