//! yizhan-hub: the data centre. Department records come in through the ingest endpoints,
//! are validated and written to the current state and the append-only change log in one
//! transaction; counters replicate that state through the snapshot and the change feed.

pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod config;
pub mod connectors;
pub mod demo;
pub mod devices;
pub mod documents;
mod error;
mod etl;
mod commands;
mod hub;
pub mod ingest;
pub mod keys;
pub mod notify;
pub mod push;
pub mod routes;
pub mod simulate;
pub mod store;
pub mod tls;

use std::future::Future;
use std::sync::Arc;

pub use config::HubConfig;
pub use error::HubError;
pub use hub::{Hub, OpenError};
pub use routes::{public_router, router};
pub use tls::ServerTls;

/// How often messages whose channel failed are tried again.
const NOTIFY_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

/// Serves the hub on `listener` until the task is dropped. Bind `127.0.0.1:0` and read
/// `listener.local_addr()` to run one on a free port.
pub async fn serve(listener: tokio::net::TcpListener, hub: Hub) -> std::io::Result<()> {
    serve_until(listener, None, hub, std::future::pending()).await
}

/// Serves the hub's API until `shutdown` completes, over HTTPS when `tls` is given, then
/// ends pending long-polls and lets in-flight requests finish. Its background work (alerts,
/// the audit trail's daily check, messages) runs as long.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    tls: Option<ServerTls>,
    hub: Hub,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let closing = hub.clone();
    if let Some(desk) = hub.alert_desk() {
        tokio::spawn(alerts::run(hub.clone(), Arc::clone(desk), hub.closing()));
    }
    tokio::spawn(audit::run_daily_verification(hub.clone(), hub.closing()));
    if let Some(channel) = hub.notify_channel() {
        tokio::spawn(notify::run(hub.clone(), Arc::clone(channel), NOTIFY_RETRY, hub.closing()));
    }
    hub.ensure_builtin_roles().await.map_err(std::io::Error::other)?;
    serve_app(listener, tls, router(hub), async move {
        shutdown.await;
        closing.close();
    })
    .await
}

/// Serves the public listener ([`public_router`]) until `shutdown` completes.
pub async fn serve_public_until(
    listener: tokio::net::TcpListener,
    tls: Option<ServerTls>,
    hub: Hub,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_app(listener, tls, public_router(hub), shutdown).await
}

/// Each TLS handshake runs in a task of its own, so a client that stalls in it holds up
/// no other.
async fn serve_app(
    listener: tokio::net::TcpListener,
    tls: Option<ServerTls>,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let Some(tls) = tls else {
        return axum::serve(listener, service).with_graceful_shutdown(shutdown).await;
    };
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopping.graceful_shutdown(None);
    });
    axum_server::from_tcp_rustls(listener.into_std()?, axum_server::tls_rustls::RustlsConfig::from_config(tls.config()))?
        .handle(handle)
        .serve(service)
        .await
}
