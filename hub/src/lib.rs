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

use std::future::Future;
use std::sync::Arc;

pub use config::HubConfig;
pub use error::HubError;
pub use hub::{Hub, OpenError};
pub use routes::router;

/// How often messages whose channel failed are tried again.
const NOTIFY_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

/// Serves the hub on `listener` until the task is dropped. Bind `127.0.0.1:0` and read
/// `listener.local_addr()` to run one on a free port.
pub async fn serve(listener: tokio::net::TcpListener, hub: Hub) -> std::io::Result<()> {
    serve_until(listener, hub, std::future::pending()).await
}

/// Serves until `shutdown` completes, then ends pending long-polls and lets in-flight
/// requests finish.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
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
    axum::serve(listener, router(hub).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            closing.close();
        })
        .await
}
