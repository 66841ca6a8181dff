//! The counter's running parts: a read connection to the replica for the UI's queries and
//! the sync client that writes to it, whose news is forwarded to the UI as events.

use std::sync::Mutex;

use tauri::{AppHandle, Runtime};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use yizhan_sync::client::{AuditTrail, ClientOptions, CounterSignIn, HubLink, Outbox, SyncClient, SyncError};
use yizhan_sync::protocol::device::Enrolment;
use yizhan_sync::integrity::HubKey;
use yizhan_sync::protocol::Person;
use yizhan_sync::replica::{CounterAudit, Issuer, Replica, ReplicaError, ReplicaReader};
use yizhan_sync::status::{DeviceStanding, ReplicaChanged, SyncStatus};

use yizhan_voucher::signature::CounterKey;

use crate::contract::{self, ReplicaChangedEvent, SyncStatusChanged};
use crate::error::{CommandError, ErrorCode};
use crate::Settings;
use crate::alerts::RedAlertNotifier;

pub struct Counter {
    reader: Mutex<ReplicaReader>,
    /// The signing key, or why it cannot be had (documents cannot be issued then).
    key: Result<CounterKey, String>,
    status: watch::Receiver<SyncStatus>,
    outbox: Outbox,
    sign_ins: CounterSignIn,
    audit: AuditTrail,
    shutdown: CancellationToken,
}

impl Counter {
    /// Opens (or creates) the replica and, once the PC is enrolled, starts syncing it in the
    /// background; the app is usable from the replica at once, whether or not the hub
    /// answers. A PC not enrolled is enrolled here with the installer's code, or waits for
    /// its first-run screen.
    pub fn start<R: Runtime>(settings: &Settings, app: AppHandle<R>) -> Result<Option<Counter>, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(&settings.data_dir)?;
        let path = settings.replica_path();
        let mut replica = Replica::open(&path)?;
        let key = crate::keys::load_or_create();
        if let Err(problem) = &key {
            tracing::warn!(problem, "本终端暂不能开具票据");
        }
        let hub = match (replica.enrolment()?, replica.enrolled_hub()?) {
            (Some(_), Some(address)) => HubLink::from_address(&address)?,
            // Enrolled before the PC kept where: the installer's settings still say.
            (Some(_), None) => settings.hub_link()?,
            (None, _) => match (settings.enrolment_code.as_deref(), &key) {
                (Some(code), Ok(device_key)) => {
                    let hub = settings.hub_link()?;
                    tauri::async_runtime::block_on(enrol(&mut replica, &hub, code, device_key))?;
                    hub
                }
                _ => return Ok(None),
            },
        };
        Ok(Some(Counter::run(settings, replica, hub, key, app)?))
    }

    /// Syncs the enrolled `replica` with `hub` from now on.
    pub fn run<R: Runtime>(
        settings: &Settings,
        replica: Replica,
        hub: HubLink,
        key: Result<CounterKey, String>,
        app: AppHandle<R>,
    ) -> Result<Counter, Box<dyn std::error::Error>> {
        let path = settings.replica_path();
        let reader = ReplicaReader::open(&path)?;
        let hub_key = settings
            .hub_key
            .as_deref()
            .map(HubKey::from_hex)
            .transpose()
            .map_err(|e| format!("YIZHAN_HUB_KEY：{e}，请按数据中心 /v1/health 给出的 hub_key 重新配置"))?;
        let counter_key = key.as_ref().ok().cloned();
        let client = SyncClient::new(replica, &hub, ClientOptions { hub_key, counter_key, ..ClientOptions::default() })?;
        let shutdown = CancellationToken::new();
        let outbox = client.outbox();
        let sign_ins = client.sign_ins();
        let audit = client.audit_trail();

        let mut status = client.status();
        let status_now = client.status();
        let status_app = app.clone();
        let wiped = path.clone();
        tauri::async_runtime::spawn(async move {
            while status.changed().await.is_ok() {
                let now = status.borrow_and_update().clone();
                let wipe = now.device == DeviceStanding::Wipe;
                contract::emit(&status_app, SyncStatusChanged(now));
                if wipe {
                    wipe_and_restart(&status_app, &wiped);
                    break;
                }
            }
        });
        let mut changes = client.subscribe();
        let mut red_alerts = RedAlertNotifier::new(ReplicaReader::open(&path)?);
        tauri::async_runtime::spawn(async move {
            loop {
                let changed = match changes.recv().await {
                    Ok(changed) => changed,
                    // The UI fell behind a burst: an empty list tells it to refresh everything.
                    Err(broadcast::error::RecvError::Lagged(_)) => ReplicaChanged { cursor: 0, project_codes: Vec::new() },
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                contract::emit(&app, ReplicaChangedEvent(changed));
                red_alerts.check(&app);
            }
        });
        tauri::async_runtime::spawn(client.run(shutdown.clone()));

        Ok(Counter {
            reader: Mutex::new(reader),
            key,
            status: status_now,
            outbox,
            sign_ins,
            audit,
            shutdown,
        })
    }

    pub fn read<T>(&self, query: impl FnOnce(&ReplicaReader) -> Result<T, ReplicaError>) -> Result<T, CommandError> {
        let reader = self
            .reader
            .lock()
            .map_err(|_| CommandError::new(ErrorCode::Internal, "本地副本读取通道异常，请重启程序。"))?;
        Ok(query(&reader)?)
    }

    /// Where clerk commands go.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Puts what happened here on this counter's audit trail; a command whose record cannot
    /// be written fails.
    pub fn record(&self, entry: &CounterAudit) -> Result<(), CommandError> {
        Ok(self.audit.record_blocking(entry)?)
    }

    /// Signing people in at this counter (`Session`).
    pub fn sign_ins(&self) -> CounterSignIn {
        self.sign_ins.clone()
    }

    /// The key documents are signed with, or why this counter has none.
    pub fn signing_key(&self) -> Result<&CounterKey, CommandError> {
        self.key.as_ref().map_err(|problem| CommandError::new(ErrorCode::SigningUnavailable, problem.clone()))
    }

    /// Who commands are issued by at this counter: `person`, vouched for by its key.
    pub fn issuer(&self, person: &Person) -> Result<Issuer, CommandError> {
        Ok(Issuer::new(person.account.clone(), person.clerk(), self.signing_key()?.clone()))
    }

    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }
}

/// Enrols this PC at `hub` with the administrator's `code` and records it in `replica`,
/// with where it enrolled, which every later start uses.
pub(crate) async fn enrol(replica: &mut Replica, hub: &HubLink, code: &str, key: &CounterKey) -> Result<Enrolment, SyncError> {
    let enrolment = yizhan_sync::client::enrol(hub, code, key).await?;
    replica.enrol_at(&enrolment, Some(&hub.address()))?;
    tracing::info!(device_id = %enrolment.device_id, name = enrolment.name, "本终端已在数据中心登记");
    Ok(enrolment)
}

/// The data centre revoked this PC: its replica (rows, outbox, stored documents,
/// enrolment) and its key go, and the app starts again as on a PC never enrolled. The files
/// are unlinked at once; what this process still holds open goes when it restarts.
fn wipe_and_restart<R: Runtime>(app: &AppHandle<R>, replica: &std::path::Path) {
    tracing::warn!("本终端已被数据中心注销：清除本机数据和密钥");
    if let Err(error) = yizhan_sync::replica::wipe(replica) {
        tracing::error!(%error, "本机副本未能清除");
    }
    if let Err(problem) = crate::keys::forget() {
        tracing::error!(problem, "本机密钥未能清除");
    }
    app.restart();
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
