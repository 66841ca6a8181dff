//! A TCP proxy between a counter and its hub that the suites control: it can take the
//! network away (refusing new connections and cutting open ones) and give it back; it can
//! play a hub that fails on one particular command (answering HTTP 500 to any request
//! that carries a marker, which never reaches the hub); and it can be a bad network on a
//! seeded, reproducible schedule ([`Faults`]): connections dropped, delayed, cut in the
//! middle of an answer, and requests delivered twice. It keeps the request line of every
//! request it relayed, so a suite can tell what the client asked for.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Proxy {
    /// `http://127.0.0.1:PORT`: give this to the client instead of the hub's URL.
    pub url: String,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

#[derive(Default)]
struct Shared {
    down: AtomicBool,
    poison: Mutex<Option<Vec<u8>>>,
    connections: Mutex<Vec<JoinHandle<()>>>,
    faults: Mutex<Option<(Faults, u64)>>,
    met: Mutex<FaultsMet>,
    /// Cuts planned for the next answers: bytes each may pass.
    planned_cuts: Mutex<Vec<usize>>,
    requests: Mutex<Vec<String>>,
}

/// How many requests met each fault so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultsMet {
    pub dropped: u64,
    pub delayed: u64,
    pub cut: u64,
    pub duplicated: u64,
}

/// Chances, per request, of each fault (0.0–1.0), drawn from a seeded generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// The request is lost and its connection closed.
    pub drop: f64,
    /// Held up to `max_delay_ms` before it is relayed.
    pub delay: f64,
    pub max_delay_ms: u64,
    /// The answer is cut after a random part of it.
    pub cut: f64,
    /// What the client sends reaches the hub twice (the second answer is thrown away).
    pub duplicate: f64,
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, Default)]
struct Fate {
    delay_ms: u64,
    cut_after: Option<usize>,
    duplicate: bool,
}

const FAILURE: &str = r#"{"code":"internal","message":"数据中心内部错误（测试注入）"}"#;

impl Proxy {
    /// Relays to the hub at `hub_url` (`http://host:port`).
    pub async fn start(hub_url: &str) -> Proxy {
        let upstream: SocketAddr = hub_url
            .trim_start_matches("http://")
            .parse()
            .expect("the hub URL is http://IP:PORT");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let shared = Arc::new(Shared::default());
        let accept = tokio::spawn({
            let shared = Arc::clone(&shared);
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    if shared.down.load(Ordering::SeqCst) {
                        continue; // dropped: the client sees the connection closed
                    }
                    let relay = tokio::spawn(relay(client, upstream, Arc::clone(&shared)));
                    let mut connections = shared.connections.lock().unwrap();
                    connections.retain(|c| !c.is_finished());
                    connections.push(relay);
                }
            }
        });
        Proxy { url, shared, accept }
    }

    /// Takes the network away: open connections are cut, new ones closed at once.
    pub fn cut(&self) {
        self.shared.down.store(true, Ordering::SeqCst);
        for connection in self.shared.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.shared.down.store(false, Ordering::SeqCst);
    }

    /// From now on, connections meet `faults`, drawn from `seed`; `None` heals the network.
    pub fn set_faults(&self, faults: Option<Faults>, seed: u64) {
        *self.shared.faults.lock().unwrap() = faults.map(|f| (f, seed.max(1)));
    }

    pub fn faults_met(&self) -> FaultsMet {
        *self.shared.met.lock().unwrap()
    }

    /// The answers to the next `count` reads (GETs: not the PC proving itself) are cut
    /// after `bytes` bytes each.
    pub fn cut_next_answers(&self, count: usize, bytes: usize) {
        *self.shared.planned_cuts.lock().unwrap() = vec![bytes; count];
    }

    /// The request line of every request relayed so far (`GET /v1/changes?after=3 HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// From now on, a request carrying `marker` gets HTTP 500 and never reaches the hub.
    pub fn fail_requests_with(&self, marker: &str) {
        *self.shared.poison.lock().unwrap() = Some(marker.as_bytes().to_vec());
    }
}

impl Shared {
    /// The next connection's fate; `None` to drop it.
    fn draw(&self) -> Option<Fate> {
        let mut faults = self.faults.lock().unwrap();
        let Some((faults, state)) = faults.as_mut() else {
            return Some(Fate::default());
        };
        let mut roll = || {
            // xorshift64: small, seeded, the same schedule on every run.
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            (*state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut met = self.met.lock().unwrap();
        if roll() < faults.drop {
            met.dropped += 1;
            return None;
        }
        let delay_ms = if roll() < faults.delay { (roll() * faults.max_delay_ms as f64) as u64 } else { 0 };
        let cut_after = (roll() < faults.cut).then(|| (roll() * 4096.0) as usize);
        let duplicate = roll() < faults.duplicate;
        met.delayed += u64::from(delay_ms > 0);
        met.cut += u64::from(cut_after.is_some());
        met.duplicated += u64::from(duplicate);
        Some(Fate { delay_ms, cut_after, duplicate })
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn relay(client: TcpStream, upstream: SocketAddr, shared: Arc<Shared>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return; // the hub is down: the client sees its connection closed
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let (poisoned, on_poisoned) = oneshot::channel::<()>();
    // Bytes of the answer still to pass before the connection is cut; -1: no cut.
    let cut = Arc::new(AtomicI64::new(-1));
    let back = tokio::spawn({
        let cut = Arc::clone(&cut);
        async move {
            let mut on_poisoned = std::pin::pin!(on_poisoned);
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                tokio::select! {
                    Ok(()) = &mut on_poisoned => {
                        let answer = format!(
                            "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{FAILURE}",
                            FAILURE.len()
                        );
                        let _ = client_write.write_all(answer.as_bytes()).await;
                        let _ = client_write.shutdown().await;
                        return;
                    }
                    read = server_read.read(&mut buf) => {
                        let n = match read {
                            Ok(0) | Err(_) => {
                                let _ = client_write.shutdown().await;
                                return;
                            }
                            Ok(n) => n,
                        };
                        let budget = cut.load(Ordering::SeqCst);
                        if budget >= 0 && (budget as usize) < n {
                            // Cut mid-answer: what was sent so far, then the connection gone.
                            let _ = client_write.write_all(&buf[..budget as usize]).await;
                            return;
                        }
                        if budget >= 0 {
                            cut.store(budget - n as i64, Ordering::SeqCst);
                        }
                        if client_write.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    });
    // A second connection to the hub that gets the requests chosen for duplication; its
    // answers are read and thrown away.
    let mut twin: Option<tokio::net::tcp::OwnedWriteHalf> = None;
    let mut buf = vec![0u8; 16 * 1024];
    // The last bytes seen, so a marker split across two reads is still found.
    let mut window: Vec<u8> = Vec::new();
    loop {
        let n = match client_read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // Read per chunk: a kept-alive connection opened before the marker was set counts too.
        let poison = shared.poison.lock().unwrap().clone();
        if let Some(marker) = &poison {
            window.extend_from_slice(&buf[..n]);
            if window.windows(marker.len()).any(|w| w == marker.as_slice()) {
                let _ = poisoned.send(());
                let _ = back.await;
                return;
            }
            let keep = window.len().saturating_sub(marker.len());
            window.drain(..keep);
        }
        if let Some(line) = request_line(&buf[..n]) {
            let read = line.starts_with("GET ");
            shared.requests.lock().unwrap().push(line);
            if let Some(after) = read.then(|| shared.planned_cuts.lock().unwrap().pop()).flatten() {
                cut.store(after as i64, Ordering::SeqCst);
            }
        }
        // Faults are drawn per request (a request arrives in one read here), so a kept-alive
        // connection meets them as often as new ones do.
        let Some(fate) = shared.draw() else {
            back.abort();
            return; // dropped: the request is lost and the connection closed
        };
        if fate.delay_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(fate.delay_ms)).await;
        }
        if let Some(after) = fate.cut_after {
            cut.store(after as i64, Ordering::SeqCst);
        }
        if fate.duplicate && twin.is_none() {
            twin = TcpStream::connect(upstream).await.ok().map(|twin| {
                let (mut read, write) = twin.into_split();
                tokio::spawn(async move {
                    let mut sink = vec![0u8; 16 * 1024];
                    while matches!(read.read(&mut sink).await, Ok(n) if n > 0) {}
                });
                write
            });
        }
        if let (true, Some(twin_write)) = (fate.duplicate, twin.as_mut()) {
            let _ = twin_write.write_all(&buf[..n]).await;
        }
        if server_write.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = server_write.shutdown().await;
    let _ = back.await;
}

/// `GET /path HTTP/1.1` when `chunk` starts a request.
fn request_line(chunk: &[u8]) -> Option<String> {
    let end = chunk.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&chunk[..end]).ok()?;
    ["GET ", "POST ", "PUT ", "DELETE "]
        .iter()
        .any(|method| line.starts_with(method))
        .then(|| line.to_owned())
}
