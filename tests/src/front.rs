//! An HTTP front between a counter and its hub that can alter what the hub sends: the
//! man in the middle (or the corrupting middlebox) the integrity checks are for.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;
use yizhan_sync::protocol::device::{DEVICE_TIME_HEADER, DEVICE_TOKEN_HEADER};

pub struct TamperingFront {
    /// Give this to the client instead of the hub's URL.
    pub url: String,
    tamper: Arc<AtomicBool>,
    server: JoinHandle<()>,
}

#[derive(Clone)]
struct Relay {
    hub_url: String,
    http: reqwest::Client,
    tamper: Arc<AtomicBool>,
}

impl TamperingFront {
    pub async fn start(hub_url: &str) -> TamperingFront {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the front");
        let url = format!("http://{}", listener.local_addr().expect("front address"));
        let tamper = Arc::new(AtomicBool::new(false));
        let relay = Relay {
            hub_url: hub_url.to_owned(),
            // Uncompressed from the hub, so the front can read and alter what it relays.
            http: reqwest::Client::builder().gzip(false).build().expect("HTTP client"),
            tamper: Arc::clone(&tamper),
        };
        let app = axum::Router::new().fallback(forward).with_state(relay);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TamperingFront { url, tamper, server }
    }

    /// The next change batch that carries an amount reaches the counter with one digit of
    /// it changed; everything else passes untouched.
    pub fn alter_next_amount(&self) {
        self.tamper.store(true, Ordering::SeqCst);
    }
}

impl Drop for TamperingFront {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn forward(State(relay): State<Relay>, request: Request) -> Response {
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let method = request.method().clone();
    // What the hub reads of a request besides its body: its type and who sends it.
    let kept: Vec<(header::HeaderName, header::HeaderValue)> = request
        .headers()
        .iter()
        .filter(|(name, _)| [header::CONTENT_TYPE.as_str(), header::AUTHORIZATION.as_str(), DEVICE_TOKEN_HEADER, DEVICE_TIME_HEADER].contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let Ok(body) = axum::body::to_bytes(request.into_body(), usize::MAX).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let mut upstream = relay.http.request(method, format!("{}{path}", relay.hub_url)).body(body);
    for (name, value) in kept {
        upstream = upstream.header(name, value);
    }
    let Ok(answer) = upstream.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = answer.status();
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let Ok(mut bytes) = answer.bytes().await.map(|b| b.to_vec()) else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    // A batch without an amount passes as it came; the next one is altered.
    if path.starts_with("/v1/changes") && relay.tamper.load(Ordering::SeqCst) && alter_amount(&mut bytes) {
        relay.tamper.store(false, Ordering::SeqCst);
    }
    let mut response = Response::new(Body::from(Bytes::from(bytes)));
    *response.status_mut() = status;
    if let Some(content_type) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, content_type);
    }
    response
}

/// Changes the first digit of the first `"amount_fen":` value; whether there was one.
fn alter_amount(body: &mut [u8]) -> bool {
    let marker = b"\"amount_fen\":";
    let Some(at) = body.windows(marker.len()).position(|w| w == marker) else {
        return false;
    };
    let digit = &mut body[at + marker.len()];
    if !digit.is_ascii_digit() {
        return false;
    }
    *digit = if *digit == b'9' { b'1' } else { *digit + 1 };
    true
}
