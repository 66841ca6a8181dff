//! Delivering the outbox: clerk commands go to the hub in the order issued, in batches,
//! whenever it can be reached. The hub runs each command once per id, so a batch whose
//! answer was lost is simply sent again.
//!
//! One bad command must not hold up the rest. A command the hub refuses comes back as a
//! rejection and becomes a conflict for the clerk. A batch the hub fails on (an error of
//! its own, not the network) is retried one command at a time, so the failure is pinned on
//! one command; that command turns into a conflict after [`GIVE_UP_AFTER`] failures and the
//! commands behind it go on. An unreachable hub counts against nothing: a counter may be
//! offline for days.

use std::future::pending;
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, broadcast, watch};
use yizhan_core::id::CommandId;
use yizhan_core::command::ClerkAction;

use super::{CancellationToken, SyncClient, SyncError, backoff, notify, with_replica};
use crate::protocol::{CommandResults, UPLOAD_BATCH};
use crate::replica::{Issuer, OutboxEntry, Replica};
use crate::status::{DeviceStanding, ReplicaChanged, SyncStatus};

/// Failures of the hub's own on one command before the counter sets it aside.
pub const GIVE_UP_AFTER: u32 = 5;

/// The app's handle on the outbox: issuing a command queues it and wakes the uploader.
#[derive(Clone)]
pub struct Outbox {
    pub(super) replica: Arc<Mutex<Replica>>,
    /// The hub, for what must be asked of it before acting (a document's checks).
    pub(super) hub_url: String,
    pub(super) http: reqwest::Client,
    pub(super) device: Option<super::DeviceAuth>,
    pub(super) status: Arc<watch::Sender<SyncStatus>>,
    changed: broadcast::Sender<ReplicaChanged>,
    pub(super) wake: Arc<Notify>,
}

impl Outbox {
    /// Checks and queues a command by `issuer`. A command the rules refuse fails with
    /// `ReplicaError::Refused`, whose message is for the clerk.
    pub async fn issue(&self, action: ClerkAction, issuer: &Issuer) -> Result<OutboxEntry, SyncError> {
        let issuer = issuer.clone();
        let entry = with_replica(&self.replica, move |r| r.issue(action, &issuer, r.clock().now())).await?;
        self.issued(&entry.project_code).await?;
        Ok(entry)
    }

    /// Issues a rejected command again, under a new id.
    pub async fn redo(&self, command_id: &CommandId, issuer: &Issuer) -> Result<OutboxEntry, SyncError> {
        let (id, issuer) = (command_id.clone(), issuer.clone());
        let entry = with_replica(&self.replica, move |r| r.redo(&id, &issuer, r.clock().now())).await?;
        self.issued(&entry.project_code).await?;
        Ok(entry)
    }

    /// Lets a rejected command go.
    pub async fn discard(&self, command_id: &CommandId) -> Result<(), SyncError> {
        let id = command_id.clone();
        let project = with_replica(&self.replica, move |r| r.discard(&id)).await?;
        self.changed_projects(vec![project]).await
    }

    pub(super) async fn issued(&self, project_code: &str) -> Result<(), SyncError> {
        self.wake.notify_one();
        self.changed_projects(vec![project_code.to_owned()]).await
    }

    /// Brings the status bar's counts up to date and tells the screens of `projects`.
    async fn changed_projects(&self, projects: Vec<String>) -> Result<(), SyncError> {
        let counts = with_replica(&self.replica, |r| r.outbox_counts()).await?;
        self.status.send_modify(|s| s.outbox = counts);
        if !projects.is_empty() {
            notify(&self.changed, self.status.borrow().cursor, projects);
        }
        Ok(())
    }
}

enum Delivery {
    /// Nothing waits in the outbox.
    Idle,
    /// A batch went through and was answered.
    Delivered,
}

enum Failure {
    /// Not delivered now (the hub unreachable, the replica busy): the same batch later.
    Retry(SyncError),
    /// The hub answered with an error of its own (or an answer that is not one).
    Hub { command_ids: Vec<CommandId>, error: SyncError },
    Cancelled,
}

impl SyncClient {
    /// The handle the app issues clerk commands through.
    pub fn outbox(&self) -> Outbox {
        Outbox {
            replica: Arc::clone(&self.replica),
            hub_url: self.hub_url.clone(),
            http: self.http.clone(),
            device: self.device.clone(),
            status: Arc::clone(&self.status),
            changed: self.changed.clone(),
            wake: Arc::clone(&self.wake_upload),
        }
    }

    /// Delivers the whole outbox now; fails at the first delivery that does not go
    /// through (the commands stay queued). Returns how many requests it took.
    pub async fn drain_outbox(&self, shutdown: &CancellationToken) -> Result<u64, SyncError> {
        let mut requests = 0;
        loop {
            match self.deliver(UPLOAD_BATCH, shutdown).await {
                Ok(Delivery::Idle) => return Ok(requests),
                Ok(Delivery::Delivered) => requests += 1,
                Err(Failure::Cancelled) => return Err(SyncError::Cancelled),
                Err(Failure::Retry(error) | Failure::Hub { error, .. }) => return Err(error),
            }
        }
    }

    pub(super) async fn upload_loop(&self, shutdown: &CancellationToken) {
        let mut delays = backoff(&self.options);
        let mut one_at_a_time = false;
        loop {
            let batch = if one_at_a_time { 1 } else { UPLOAD_BATCH };
            let retry_in = match self.deliver(batch, shutdown).await {
                Ok(Delivery::Idle) => match self.tend_after_commands(shutdown).await {
                    Ok(()) => {
                        self.wipe_when_retired_and_done().await;
                        None
                    }
                    Err(SyncError::Cancelled) => return,
                    // A retired PC takes no more segments: what it had to upload is up.
                    Err(_) if self.status.borrow().device == DeviceStanding::Retired => {
                        self.wipe_when_retired_and_done().await;
                        None
                    }
                    Err(error) => {
                        tracing::info!(%error, "audit records or documents wait: key, records, segments or files not delivered");
                        Some(delays.next().unwrap_or(self.options.max_backoff))
                    }
                },
                Ok(Delivery::Delivered) => {
                    one_at_a_time = false;
                    delays = backoff(&self.options);
                    continue;
                }
                Err(Failure::Cancelled) => return,
                Err(Failure::Retry(error)) => {
                    tracing::info!(%error, "outbox waits: hub unreachable");
                    Some(delays.next().unwrap_or(self.options.max_backoff))
                }
                Err(Failure::Hub { command_ids, error }) => {
                    tracing::warn!(%error, commands = command_ids.len(), "hub failed on an outbox batch");
                    if let [command_id] = command_ids.as_slice()
                        && let Err(error) = self.count_failure(command_id, &error).await
                    {
                        tracing::error!(%error, "could not record an outbox failure");
                    }
                    // Pin the failure on one command: send them singly until one goes through.
                    one_at_a_time = true;
                    Some(delays.next().unwrap_or(self.options.max_backoff))
                }
            };
            tokio::select! {
                _ = self.wake_upload.notified() => {}
                _ = async {
                    match retry_in {
                        Some(delay) => tokio::time::sleep(delay).await,
                        None => pending().await,
                    }
                } => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    /// A retired PC whose outbox, audit trail and documents have all gone up has nothing
    /// left the hub lacks: it may be wiped.
    async fn wipe_when_retired_and_done(&self) {
        if self.status.borrow().device != DeviceStanding::Retired {
            return;
        }
        match self.with_replica(|r| Ok(r.documents_pending()? == 0 && r.outgoing(1)?.is_empty() && r.audit_to_send(1)?.is_empty())).await {
            Ok(true) => {
                tracing::warn!("本终端已退役，留存的数据均已上传：清除本机数据");
                self.status.send_modify(|s| s.device = DeviceStanding::Wipe);
            }
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "could not tell whether a retired counter has uploaded everything"),
        }
    }

    /// What goes up once the commands have: the audit trail (behind the commands it may
    /// tell of), then the documents' key, segments and files; one failing holds up neither.
    async fn tend_after_commands(&self, shutdown: &CancellationToken) -> Result<(), SyncError> {
        let audit = self.send_audit_trail(shutdown).await;
        let documents = self.tend_documents(shutdown).await;
        audit.map(drop).and(documents)
    }

    /// Sends the oldest `limit` pending commands and records the answers.
    async fn deliver(&self, limit: usize, shutdown: &CancellationToken) -> Result<Delivery, Failure> {
        let outgoing = self
            .with_replica(move |r| r.outgoing(limit))
            .await
            .map_err(Failure::Retry)?;
        if outgoing.is_empty() {
            return Ok(Delivery::Idle);
        }
        let command_ids: Vec<CommandId> = outgoing.iter().map(|o| o.command_id.clone()).collect();
        // The envelopes go as stored, byte for byte the same on every retry.
        let mut body = String::from("{\"commands\":[");
        for (i, command) in outgoing.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&command.envelope);
        }
        body.push_str("]}");
        let results: CommandResults = match self.post_json("/v1/commands", body.into_bytes(), shutdown).await {
            Ok(results) => results,
            Err(SyncError::Cancelled) => return Err(Failure::Cancelled),
            Err(error @ SyncError::Network { .. }) => return Err(Failure::Retry(error)),
            // The hub answered with an error of its own, or with something that is not an answer.
            Err(error) => return Err(Failure::Hub { command_ids, error }),
        };
        let settled = self
            .with_replica(move |r| r.record_answers(&results.results, r.clock().now()))
            .await
            .map_err(Failure::Retry)?;
        self.outbox().changed_projects(settled).await.map_err(Failure::Retry)?;
        Ok(Delivery::Delivered)
    }

    async fn count_failure(&self, command_id: &CommandId, error: &SyncError) -> Result<(), SyncError> {
        let (id, error) = (command_id.clone(), error.to_string());
        let gave_up = self
            .with_replica(move |r| r.record_failure(&id, &error, GIVE_UP_AFTER, r.clock().now()))
            .await?;
        if let Some(project) = gave_up {
            tracing::warn!(%command_id, project, "outbox command set aside after repeated hub failures");
            self.outbox().changed_projects(vec![project]).await?;
        }
        Ok(())
    }
}
