//! A TCP proxy between a counter and its hub that the suites control: it can take the
//! network away (refusing new connections and cutting open ones) and give it back, and it
//! can play a hub that fails on one particular command (answering HTTP 500 to any request
//! that carries a marker, which never reaches the hub).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
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

    /// From now on, a request carrying `marker` gets HTTP 500 and never reaches the hub.
    pub fn fail_requests_with(&self, marker: &str) {
        *self.shared.poison.lock().unwrap() = Some(marker.as_bytes().to_vec());
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
    let back = tokio::spawn(async move {
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
                read = server_read.read(&mut buf) => match read {
                    Ok(0) | Err(_) => {
                        let _ = client_write.shutdown().await;
                        return;
                    }
                    Ok(n) => {
                        if client_write.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                },
            }
        }
    });
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
        if server_write.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = server_write.shutdown().await;
    let _ = back.await;
}
