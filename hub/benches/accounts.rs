//! The cost of signing in (docs/perf.md §13):
//!
//!   cargo bench -p yizhan-hub --bench accounts
//!
//! - **derivation**: one PBKDF2-HMAC-SM3 verifier at today's `ITERATIONS`, median of
//!   YIZHAN_PBKDF2_RUNS (default 15), and the iterations that would take 100 ms here: the
//!   calibration `ITERATIONS` is set from.
//! - **login**: YIZHAN_LOGINS (default 100) sign-ins of a demo clerk over loopback HTTP to a
//!   served hub on a real SQLite file, one after another: p50, p99, max (target p99 ≤ 300 ms).
//!
//! Without `--bench` (what `cargo test --benches` runs) both run a few times, as a smoke test.

use std::time::{Duration, Instant};

use yizhan_hub::accounts::admin::DEMO_PASSWORD;
use yizhan_hub::accounts::password::{ITERATIONS, hash_with};
use yizhan_hub::{Hub, HubConfig};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let runs = if full { setting("YIZHAN_PBKDF2_RUNS", 15) } else { 2 };
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(hash_with("Counter-2026", ITERATIONS));
            started.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    let for_100ms = (f64::from(ITERATIONS) * 0.1 / median.as_secs_f64()) as u64;
    println!("derivation: PBKDF2-HMAC-SM3 × {ITERATIONS}: median {} (min {}, max {}); 100 ms ≈ {for_100ms} iterations", ms(median), ms(times[0]), ms(*times.last().unwrap()));

    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::open(HubConfig::new(dir.path().join("hub.sqlite3"))).unwrap();
    hub.seed_demo_accounts().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/auth/login", listener.local_addr().unwrap());
    tokio::spawn(yizhan_hub::serve(listener, hub));
    let http = reqwest::Client::new();
    let logins = if full { setting("YIZHAN_LOGINS", 100) } else { 3 };
    let mut times = Vec::with_capacity(logins);
    for _ in 0..logins {
        let started = Instant::now();
        let response = http
            .post(&url)
            .json(&serde_json::json!({"account": "clerk01", "password": DEMO_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.text().await.unwrap());
        response.bytes().await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "login: {logins} sign-ins over HTTP: p50 {}, p99 {}, max {} (target p99 ≤ 300 ms)",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap())
    );
}
