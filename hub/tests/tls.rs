//! HTTPS from the outside: the hub as its operators start it (`ca init`, `ca issue`, `serve
//! --tls-cert --public-listen`), reached by PCs that trust its CA and no other, watched on
//! the wire, and its public listener answering the verification page and nothing else.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use yizhan_sync::client::{HubLink, SyncError};
use yizhan_voucher::signature::CounterKey;

fn hub_cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yizhan-hub")).args(args).env("RUST_LOG", "warn").output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A CA made by `ca init` in `dir`, and its fingerprint as printed.
fn ca_init(dir: &Path) -> String {
    let (ok, said) = hub_cli(&["ca", "init", "--dir", path(dir)]);
    assert!(ok, "{said}");
    said.lines().last().unwrap().trim().to_owned()
}

/// `yizhan-hub serve` over HTTPS with a public listener, killed when dropped.
struct ServedHub {
    process: Child,
    api: String,
    public: String,
    db: PathBuf,
}

impl Drop for ServedHub {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl ServedHub {
    fn start(dir: &Path, cert: &Path, key: &Path) -> ServedHub {
        let db = dir.join("hub.sqlite3");
        let mut process = Command::new(env!("CARGO_BIN_EXE_yizhan-hub"))
            .args(["serve", "--demo", "20", "--listen", "127.0.0.1:0", "--public-listen", "127.0.0.1:0"])
            .args(["--db", path(&db), "--tls-cert", path(cert), "--tls-key", path(key)])
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // Read on a thread of its own to the end, so the hub never blocks on a full pipe.
        let (found, addresses) = std::sync::mpsc::channel();
        let stdout = process.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let address = || line.split("address=").nth(1).and_then(|a| a.split_whitespace().next()).map(str::to_owned);
                if line.contains("数据中心已启动") {
                    assert!(line.contains("https=true"), "{line}");
                    let _ = found.send(("api", address()));
                } else if line.contains("公众核验入口已启动") {
                    let _ = found.send(("public", address()));
                }
            }
        });
        let (mut api, mut public) = (None, None);
        while api.is_none() || public.is_none() {
            match addresses.recv_timeout(std::time::Duration::from_secs(120)).expect("the hub starts") {
                ("api", address) => api = address,
                (_, address) => public = address,
            }
        }
        ServedHub {
            process,
            api: format!("https://{}", api.expect("the hub says where it serves")),
            public: format!("https://{}", public.expect("the hub says where the public reach it")),
            db,
        }
    }

    fn enrolment_code(&self, id: &str) -> String {
        let (ok, said) = hub_cli(&["device", "add", "--id", id, "--name", "测试窗口", "--by", "sysadmin", "--db", path(&self.db)]);
        assert!(ok, "{said}");
        said.lines().last().unwrap().trim().to_owned()
    }
}

/// A TCP relay in front of `upstream` that keeps every byte it passes, both ways.
async fn wiretap(upstream: &str) -> (String, Arc<Mutex<Vec<u8>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let upstream = upstream.trim_start_matches("https://").to_owned();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            for (mut from, mut to) in [(client_read, server_write), (server_read, client_write)] {
                let kept = Arc::clone(&kept);
                tokio::spawn(async move {
                    let mut buffer = [0u8; 8192];
                    while let Ok(n) = from.read(&mut buffer).await {
                        if n == 0 || to.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                        kept.lock().unwrap().extend_from_slice(&buffer[..n]);
                    }
                    let _ = to.shutdown().await;
                });
            }
        }
    });
    (format!("https://{address}"), seen)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pcs_reach_the_hub_over_tls_through_its_ca_alone_and_the_public_reach_only_verification() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, other_ca) = (dir.path().join("ca"), dir.path().join("other-ca"));
    let fingerprint = ca_init(&ca);
    ca_init(&other_ca);
    let (cert, key) = (dir.path().join("hub.pem"), dir.path().join("hub.key"));
    let (ok, said) = hub_cli(&["ca", "issue", "--dir", path(&ca), "--name", "localhost", "--name", "127.0.0.1", "--cert", path(&cert), "--key", path(&key)]);
    assert!(ok, "{said}");
    assert!(said.contains(&fingerprint), "the issue names the CA the PCs trust: {said}");
    let hub = ServedHub::start(dir.path(), &cert, &key);
    let ca_pem = std::fs::read(ca.join("ca.pem")).unwrap();
    let trusted = HubLink::new(&hub.api, Some(&ca_pem)).unwrap();
    assert_eq!(trusted.ca_fingerprint(), Some(fingerprint.as_str()), "the PC shows the fingerprint `ca init` printed");

    // A hub whose certificate another CA issued is not the PC's hub: nothing is sent to it,
    // and the code is still good for the real one.
    let code = hub.enrolment_code("tls-01");
    let device_key = CounterKey::generate();
    let stranger = HubLink::new(&hub.api, Some(&std::fs::read(other_ca.join("ca.pem")).unwrap())).unwrap();
    let refused = yizhan_sync::client::enrol(&stranger, &code, &device_key).await.unwrap_err();
    assert!(matches!(refused, SyncError::Network { .. }), "{refused}");

    // Through its own CA it enrols, and on the wire neither the code nor its key shows.
    let (tapped, wire) = wiretap(&hub.api).await;
    let through_tap = HubLink::new(&tapped, Some(&ca_pem)).unwrap();
    let enrolment = yizhan_sync::client::enrol(&through_tap, &code, &device_key).await.unwrap();
    assert_eq!(enrolment.device_id.as_str(), "tls-01");
    let wire = wire.lock().unwrap().clone();
    assert!(wire.len() > 1_000, "the exchange went through the tap ({} bytes)", wire.len());
    for secret in [code.as_bytes(), device_key.public_key().to_hex().as_bytes(), b"/v1/devices/enrol", b"HTTP/1.1"] {
        assert!(!contains(&wire, secret), "{} in clear on the wire", String::from_utf8_lossy(secret));
    }

    // TLS 1.3 only; plain HTTP to the TLS port gets nothing.
    let tls12 = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem).unwrap())
        .max_tls_version(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap();
    assert!(tls12.get(format!("{}/v1/health", hub.api)).send().await.is_err(), "a TLS 1.2 handshake is refused");
    let plain = hub.api.replace("https://", "http://");
    assert!(reqwest::get(format!("{plain}/v1/health")).await.is_err(), "plain HTTP is not answered");

    // The public listener: the verification page and its JSON, nothing else of the hub.
    let https = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem).unwrap())
        .build()
        .unwrap();
    let page = https.get(format!("{}/verify?t=not-a-document", hub.public)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<html"), "the verification page");
    let json = https.get(format!("{}/v1/verify?t=not-a-document", hub.public)).send().await.unwrap();
    assert!(!json.text().await.unwrap().contains("没有这个接口"), "the page's JSON answers there too");
    for (method, route) in [
        ("GET", "/v1/health"),
        ("GET", "/v1/changes?after=0"),
        ("GET", "/v1/snapshot"),
        ("GET", "/metrics"),
        ("POST", "/v1/devices/enrol"),
        ("POST", "/v1/auth/login"),
        ("GET", "/v1/admin/devices"),
        ("POST", "/v1/ingest/payments"),
        ("POST", "/v1/push/civil-defence"),
    ] {
        let url = format!("{}{route}", hub.public);
        let answer = https.request(method.parse().unwrap(), url).body("{}").send().await.unwrap();
        let status = answer.status();
        let body = answer.text().await.unwrap();
        assert_eq!(status, 404, "{method} {route} on the public listener: {body}");
        assert!(body.contains("\"not_found\"") && body.contains("没有这个接口"), "{body}");
    }
    // Addressed to a name that is not the hub's, as a DNS name rebound to it would be:
    // refused on both listeners.
    for base in [&hub.api, &hub.public] {
        let answer = https.get(format!("{base}/verify?t=x")).header("host", "hub.evil.example").send().await.unwrap();
        let status = answer.status();
        let body = answer.text().await.unwrap();
        assert_eq!(status, 421, "{body}");
        assert!(body.contains("unknown_host"), "{body}");
    }
    // …which the API listener does serve.
    let health = https.get(format!("{}/v1/health", hub.api)).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[test]
fn the_hub_serves_plain_http_on_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.sqlite3");
    for listen in [["--listen", "0.0.0.0:0"], ["--public-listen", "0.0.0.0:0"]] {
        let (ok, said) = hub_cli(&[&["serve", "--demo", "5", "--db", path(&db)], &listen[..]].concat());
        assert!(!ok, "{said}");
        assert!(said.contains("0.0.0.0:0 不是本机地址") && said.contains("--tls-cert"), "{said}");
    }
    let (ok, said) = hub_cli(&["serve", "--demo", "5", "--db", path(&db), "--tls-cert", path(&dir.path().join("hub.pem"))]);
    assert!(!ok && said.contains("--tls-key"), "a certificate without its key: {said}");
}
