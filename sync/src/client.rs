//! The sync client: keeps a [`Replica`] in step with the hub. It loads the snapshot when
//! the replica has none (or holds another hub's rows, or the hub does not know its cursor:
//! rebuilt), then long-polls the change feed for ever, applying each batch.
//! Any failure turns it offline and it retries with exponential backoff and jitter.
//!
//! The app watches [`SyncClient::status`] for the status bar and [`SyncClient::subscribe`]
//! for the projects each write changed.
//!
//! How the desktop shell uses it with the replica:
//!
//! ```no_run
//! # async fn shell() -> Result<(), Box<dyn std::error::Error>> {
//! use yizhan_sync::client::{ClientOptions, HubLink, SyncClient};
//! use yizhan_sync::replica::{ProjectQuery, Replica, ReplicaReader};
//!
//! let path = "/var/lib/yizhan/replica.sqlite3";
//! // The writer first: it creates and migrates the file. The client owns it from here.
//! let ca = std::fs::read("/etc/yizhan/hub-ca.pem")?; // the hub's CA: the only one trusted
//! let hub = HubLink::new("https://hub.example.gov.cn:8640", Some(&ca))?;
//! let client = SyncClient::new(Replica::open(path)?, &hub, ClientOptions::default())?;
//! let mut status = client.status(); // watch::Receiver<SyncStatus>: emit `sync-status` on change
//! let mut changed = client.subscribe(); // broadcast of ReplicaChanged: emit `replica-changed`
//! let shutdown = yizhan_sync::client::CancellationToken::new();
//! tokio::spawn(client.run(shutdown.clone()));
//!
//! // Readers, one per thread that answers commands.
//! let reader = ReplicaReader::open(path)?;
//! let page = reader.list_projects(&ProjectQuery { limit: 50, ..ProjectQuery::default() })?;
//! let detail = reader.get_project(&"2019-320105-47-01-123456".parse()?)?;
//! # let _ = (page, detail, status.changed().await, changed.recv().await);
//! shutdown.cancel(); // on exit
//! # Ok(())
//! # }
//! ```

use std::io::{self, BufReader};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::{StreamExt, TryStreamExt};
use reqwest::{RequestBuilder, Response};
use serde::de::DeserializeOwned;
use yizhan_core::clock::Clock;
use tokio::sync::{broadcast, watch};
use tokio_util::io::{StreamReader, SyncIoBridge};
/// What stops [`SyncClient::run`]; re-exported so the shell needs no tokio-util of its own.
pub use tokio_util::sync::CancellationToken;

use tokio::sync::Notify;

use crate::protocol::{ApiError, ChangeBatch};
use crate::replica::{CounterLink, Replica, ReplicaError, ReplicaMeta};
use crate::integrity::HubKey;
use yizhan_voucher::signature::CounterKey;
use crate::status::{BootstrapProgress, DeviceStanding, IntegrityStatus, ReplicaChanged, SyncState, SyncStatus};

mod admin;
mod audit_trail;
mod device;
mod documents;
mod link;
mod people;
mod reconcile;
mod upload;

pub use admin::HubAdmin;
pub use device::{DEVICE_LOST, DEVICE_RETIRED, DeviceAuth, enrol};
pub use link::{HubLink, LinkError};
pub use audit_trail::AuditTrail;
pub use people::{CounterSignIn, CounterSignedIn, SignInError};
pub use reconcile::{FANOUT, LEAF_ROWS};
pub use documents::SEGMENT_SIZE;
pub use upload::{GIVE_UP_AFTER, Outbox};

/// `ApiError` codes with which the hub says "take a snapshot": the cursor means nothing
/// here (the hub was rebuilt, or the rows came from another hub), or the changes after it
/// were compacted away.
const SNAPSHOT_REQUIRED: &[&str] = &["cursor_ahead", "cursor_compacted"];

#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Most changes per batch.
    pub batch_limit: u32,
    /// How long the hub may hold a long-poll open.
    pub wait: Duration,
    /// First retry delay after a failure.
    pub min_backoff: Duration,
    /// Longest retry delay, jitter included.
    pub max_backoff: Duration,
    /// How often a connected counter reconciles its replica with the hub (it also does
    /// after every reconnection).
    pub reconcile_every: Duration,
    /// The hub's public key as installed on this counter. Set, a snapshot sealed with
    /// any other key is refused; unset, the key pinned at enrolment is used.
    pub hub_key: Option<HubKey>,
    /// This counter's SM2 device key, whose public half the hub registered at enrolment:
    /// every request proves it, and commands, documents and audit records are signed with
    /// it. Unset (or the replica not enrolled), the hub refuses the counter.
    pub counter_key: Option<CounterKey>,
    /// Whether this PC issues documents: it takes number segments (its key then travels
    /// the change log, for other counters to check its documents) and uploads PDFs.
    pub issues_documents: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            batch_limit: 5000,
            wait: Duration::from_secs(25),
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            reconcile_every: Duration::from_secs(6 * 3600),
            hub_key: None,
            counter_key: None,
            issues_documents: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("无法连接数据中心（{url}）：{source}。请检查网络，系统会自动重试。")]
    Network {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("数据中心拒绝了同步请求（HTTP {status}，{code}）：{message}")]
    Hub {
        status: u16,
        code: String,
        message: String,
        /// The field of the request the hub named at fault, so a form can say it there.
        field: Option<String>,
    },
    #[error(transparent)]
    Replica(#[from] ReplicaError),
    #[error("本地同步任务意外中止：{0}。系统会自动重试；如反复出现，请联系技术人员。")]
    Internal(String),
    #[error("同步已停止。")]
    Cancelled,
}

impl SyncError {
    fn needs_snapshot(&self) -> bool {
        matches!(self, SyncError::Hub { code, .. } if SNAPSHOT_REQUIRED.contains(&code.as_str()))
    }
}

enum Step {
    Bootstrapped,
    Applied { cursor: u64, head: u64 },
}

pub struct SyncClient {
    hub_url: String,
    http: reqwest::Client,
    replica: Arc<Mutex<Replica>>,
    /// The replica's: status times and lags are read on the clock its dates are.
    clock: Clock,
    options: ClientOptions,
    status: Arc<watch::Sender<SyncStatus>>,
    changed: broadcast::Sender<ReplicaChanged>,
    /// Rung when a command is queued or the hub comes back: the uploader looks again.
    wake_upload: Arc<Notify>,
    /// Set when what the hub sent failed its integrity check: the next step repairs the
    /// replica from a fresh snapshot instead of pulling on.
    repair: AtomicBool,
    /// When this client started: how long a counter that never reached the hub has waited.
    started_at: time::OffsetDateTime,
    /// How this PC proves itself, once enrolled with a key.
    device: Option<DeviceAuth>,
    /// People's requests from this PC (sign-in, the admin area), carrying its proof too.
    admin: Arc<HubAdmin>,
}

impl SyncClient {
    /// A client for the hub at `hub`, owning the replica's writer. Nothing happens until
    /// [`SyncClient::run`] or [`SyncClient::catch_up`].
    pub fn new(replica: Replica, hub: &HubLink, options: ClientOptions) -> Result<SyncClient, SyncError> {
        let hub_url = hub.url().to_owned();
        let meta = replica.meta()?;
        let http = hub.http(
            reqwest::Client::builder()
                .gzip(true)
                // Covers a long-poll held for `wait` and a snapshot stream that stalls.
                .read_timeout(options.wait + Duration::from_secs(30)),
        )?;
        let mut initial = SyncStatus::new(&hub_url, cursor_for(&meta, &hub_url));
        initial.outbox = replica.outbox_counts()?;
        let enrolment = replica.enrolment()?;
        let device = match (&enrolment, &options.counter_key) {
            (Some(enrolment), Some(key)) => {
                Some(DeviceAuth::new(hub, enrolment.device_id.clone(), key.clone(), replica.clock().clone())?)
            }
            _ => None,
        };
        let mut options = options;
        if options.hub_key.is_none() {
            options.hub_key = enrolment
                .as_ref()
                .map(|e| HubKey::from_hex(&e.hub_key))
                .transpose()
                .map_err(|e| ReplicaError::Enrolment(format!("登记时记下的数据中心公钥：{e}")))?;
        }
        let admin = Arc::new(HubAdmin::new(hub, device.clone())?);
        let (status, _) = watch::channel(initial);
        let (changed, _) = broadcast::channel(256);
        Ok(SyncClient {
            hub_url,
            http,
            clock: replica.clock().clone(),
            started_at: replica.clock().now(),
            replica: Arc::new(Mutex::new(replica)),
            options,
            status: Arc::new(status),
            changed,
            wake_upload: Arc::new(Notify::new()),
            repair: AtomicBool::new(false),
            device,
            admin,
        })
    }

    /// The hub client for people's requests from this PC.
    pub fn hub_admin(&self) -> Arc<HubAdmin> {
        Arc::clone(&self.admin)
    }

    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    /// Every write to the replica from now on. A receiver that lags gets
    /// `RecvError::Lagged`: it should then treat every project as changed.
    pub fn subscribe(&self) -> broadcast::Receiver<ReplicaChanged> {
        self.changed.subscribe()
    }

    /// Keeps the replica in step and delivers the outbox until `shutdown` is cancelled.
    /// Never gives up: failures are reported through the status and retried.
    pub async fn run(self, shutdown: CancellationToken) {
        tokio::join!(self.pull_loop(&shutdown), self.upload_loop(&shutdown));
    }

    async fn pull_loop(&self, shutdown: &CancellationToken) {
        let mut delays = backoff(&self.options);
        let mut failing = false;
        // Reconcile once caught up after every (re)connection, and on a schedule.
        let mut reconcile_due = true;
        let mut last_reconciled = tokio::time::Instant::now();
        let mut people_checked: Option<tokio::time::Instant> = None;
        while !shutdown.is_cancelled() {
            match self.step(self.options.wait, shutdown).await {
                Ok(step) => {
                    // The hub is back: what waited in the outbox need not wait for the
                    // uploader's own backoff.
                    if std::mem::take(&mut failing) {
                        self.wake_upload.notify_one();
                        reconcile_due = true;
                    }
                    delays = backoff(&self.options);
                    let caught_up = matches!(step, Step::Applied { cursor, head } if cursor >= head);
                    if caught_up && (reconcile_due || last_reconciled.elapsed() >= self.options.reconcile_every) {
                        match self.reconcile(shutdown).await {
                            Ok(_) => {
                                reconcile_due = false;
                                last_reconciled = tokio::time::Instant::now();
                            }
                            Err(error) => tracing::warn!(%error, "reconciliation failed; it runs again later"),
                        }
                    }
                    if caught_up && people_checked.is_none_or(|at| at.elapsed() >= people::PEOPLE_EVERY) {
                        match self.refresh_kept_sign_ins(shutdown).await {
                            Ok(_) => people_checked = Some(tokio::time::Instant::now()),
                            Err(error) => tracing::warn!(%error, "could not ask the hub about the people kept here"),
                        }
                    }
                }
                Err(_) if shutdown.is_cancelled() => break,
                Err(error) => {
                    failing = true;
                    let delay = delays.next().unwrap_or(self.options.max_backoff);
                    tracing::warn!(%error, delay_ms = delay.as_millis() as u64, "sync failed; retrying");
                    self.status.send_modify(|s| {
                        s.state = SyncState::Offline;
                        s.last_error = Some(error.to_string());
                        s.bootstrap = None;
                    });
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.cancelled() => break,
                    }
                }
            }
        }
    }

    /// Loads the snapshot if needed and applies batches until the replica reaches the head
    /// the hub reports; returns the cursor. Fails at the first error (no retry).
    pub async fn catch_up(&self, shutdown: &CancellationToken) -> Result<u64, SyncError> {
        loop {
            if let Step::Applied { cursor, head } = self.step(Duration::ZERO, shutdown).await?
                && cursor >= head
            {
                return Ok(cursor);
            }
        }
    }

    async fn step(&self, wait: Duration, shutdown: &CancellationToken) -> Result<Step, SyncError> {
        let link = self.link();
        let (rolled, alerted, meta) = self
            .with_replica(move |replica| {
                let rolled = replica.roll_day(replica.clock().today())?;
                let alerted = replica.tick_alerts(link)?;
                Ok((rolled, alerted, replica.meta()?))
            })
            .await?;
        if rolled {
            self.notify(meta.cursor.unwrap_or(0), Vec::new());
        } else if !alerted.is_empty() {
            self.notify(meta.cursor.unwrap_or(0), alerted);
        }
        if self.repair.load(Ordering::SeqCst) {
            return self.bootstrap(shutdown).await;
        }
        match cursor_for(&meta, &self.hub_url) {
            Some(cursor) => match self.pull(cursor, wait, shutdown).await {
                Err(error) if error.needs_snapshot() => {
                    tracing::warn!(%error, cursor, "the hub does not know our cursor: loading its snapshot");
                    self.bootstrap(shutdown).await
                }
                Err(SyncError::Replica(error)) if error.is_integrity() => {
                    self.raise_integrity_alert(&error);
                    Err(SyncError::Replica(error))
                }
                result => result,
            },
            None => self.bootstrap(shutdown).await,
        }
    }

    /// How this counter stands with the hub, for its own alert rules.
    fn link(&self) -> CounterLink {
        let status = self.status.borrow();
        CounterLink {
            last_contact: status.last_success,
            started_at: self.started_at,
            log_problem: status
                .integrity
                .reason
                .clone()
                .filter(|_| status.integrity.alert && status.integrity.repaired_at.is_none()),
            mismatch: status
                .reconcile
                .as_ref()
                .filter(|r| r.rows_repaired > 0)
                .map(|r| format!("对账发现 {} 条记录与数据中心不一致，已按数据中心修复", r.rows_repaired)),
            clock_skew_seconds: match status.device {
                DeviceStanding::Enrolled { clock_skew_seconds } => clock_skew_seconds,
                _ => None,
            },
        }
    }

    /// Red: applying stopped at the last verified batch. The replica is repaired from a
    /// fresh snapshot at the next step (its outbox kept); the alert stays on record.
    fn raise_integrity_alert(&self, error: &ReplicaError) {
        tracing::error!(%error, "integrity check failed: applying stopped, repairing from a snapshot");
        self.repair.store(true, Ordering::SeqCst);
        self.status.send_modify(|s| {
            s.integrity = IntegrityStatus {
                alert: true,
                reason: Some(error.to_string()),
                detected_at: Some(self.clock.now()),
                repaired_at: None,
            };
        });
    }

    async fn pull(&self, cursor: u64, wait: Duration, shutdown: &CancellationToken) -> Result<Step, SyncError> {
        let url = format!(
            "{}/v1/changes?after={cursor}&limit={}&wait={}",
            self.hub_url,
            self.options.batch_limit,
            wait.as_secs()
        );
        let request = self.http.get(&url).timeout(wait + Duration::from_secs(30));
        let batch: ChangeBatch = cancellable(shutdown, async {
            let response = self.send(request).await?;
            response.json().await.map_err(|source| SyncError::Network {
                url: url.clone(),
                source,
            })
        })
        .await?;
        let (upto, head) = (batch.upto, batch.head);
        let newest_applied = batch.changes.last().map(|c| c.committed_at);
        let batch = Arc::new(batch);
        let codes = {
            let batch = Arc::clone(&batch);
            self.with_replica(move |replica| replica.apply(&batch)).await?
        };
        if !batch.changes.is_empty() {
            self.notify(upto, codes);
        }
        let now = self.clock.now();
        let caught_up = upto >= head;
        self.status.send_modify(|s| {
            s.state = if caught_up {
                SyncState::Online
            } else {
                SyncState::Syncing
            };
            s.cursor = upto;
            s.hub_head = Some(head);
            s.lag_changes = Some(head.saturating_sub(upto));
            // The next unapplied change was committed no earlier than the last one applied,
            // so this bounds the lag from above until the next batch says exactly.
            s.lag_seconds = if caught_up {
                Some(0)
            } else {
                newest_applied.map(|t| seconds(now - t)).or(s.lag_seconds)
            };
            s.last_success = Some(now);
            s.last_error = None;
            s.bootstrap = None;
        });
        Ok(Step::Applied { cursor: upto, head })
    }

    async fn bootstrap(&self, shutdown: &CancellationToken) -> Result<Step, SyncError> {
        self.status.send_modify(|s| {
            s.state = SyncState::Bootstrapping;
            s.bootstrap = Some(BootstrapProgress { received: 0, total: 0 });
        });
        let url = format!("{}/v1/snapshot", self.hub_url);
        let hub_url = self.hub_url.clone();
        let resume = self
            .with_replica(move |replica| replica.snapshot_resume_point(&hub_url))
            .await?;
        let mut request = self.http.get(&url);
        if let Some(after) = &resume {
            request = request.query(&[("after_entity", after.entity.as_str()), ("after_key", after.key.as_str())]);
        }
        let response = match cancellable(shutdown, self.send(request)).await {
            Err(SyncError::Hub { status: 400..=499, .. }) if resume.is_some() => {
                // The hub cannot serve the rest (it may have been replaced by an older
                // release): the next attempt loads the snapshot whole.
                self.with_replica(|replica| replica.abandon_snapshot_load()).await?;
                return Err(SyncError::Replica(ReplicaError::SnapshotMismatch(
                    "数据中心无法从中断处续传".into(),
                )));
            }
            response => response?,
        };
        tracing::info!(%url, resume = ?resume, "loading snapshot");
        // Cancelling ends the body early; the replica keeps the rows read whole and the
        // next attempt asks for the rest.
        let body = response
            .bytes_stream()
            .map_err(io::Error::other)
            .take_until(Box::pin(shutdown.clone().cancelled_owned()));
        let reader = BufReader::with_capacity(1 << 16, SyncIoBridge::new(StreamReader::new(body)));
        let status = self.status.clone();
        let hub_url = self.hub_url.clone();
        let pinned = self.options.hub_key.clone();
        let report = self
            .with_replica(move |replica| {
                replica.bootstrap(&hub_url, pinned.as_ref(), reader, |progress| {
                    status.send_modify(|s| s.bootstrap = Some(progress))
                })
            })
            .await;
        let report = match report {
            Err(SyncError::Replica(error)) if error.is_integrity() => {
                self.raise_integrity_alert(&error);
                return Err(SyncError::Replica(error));
            }
            report => report?,
        };
        let repaired = self.repair.swap(false, Ordering::SeqCst);
        tracing::info!(
            as_of = report.as_of,
            rows = report.rows,
            projects = report.projects,
            "snapshot loaded"
        );
        self.notify(report.as_of, Vec::new());
        // The snapshot is the hub's whole state as of its head when it was cut, so the
        // replica is in step now; a change committed since comes with the next pull at once.
        self.status.send_modify(|s| {
            s.state = SyncState::Online;
            s.cursor = report.as_of;
            s.hub_head = Some(report.as_of);
            s.lag_changes = Some(0);
            s.lag_seconds = Some(0);
            s.last_success = Some(self.clock.now());
            s.last_error = None;
            s.bootstrap = None;
            if repaired {
                s.integrity.alert = false;
                s.integrity.repaired_at = Some(self.clock.now());
            }
        });
        Ok(Step::Bootstrapped)
    }

    /// Sends a request as this device; a non-2xx answer becomes [`SyncError::Hub`] with
    /// the hub's message. What the hub says of this device's clock or standing goes into
    /// the status.
    async fn send(&self, request: RequestBuilder) -> Result<Response, SyncError> {
        let answer = send_as(self.device.as_ref(), &self.hub_url, request).await;
        let standing = match &answer {
            Ok(response) => DeviceStanding::Enrolled { clock_skew_seconds: clock_skew(response) },
            Err(SyncError::Hub { code, .. }) if code == DEVICE_RETIRED => DeviceStanding::Retired,
            Err(SyncError::Hub { code, .. }) if code == DEVICE_LOST => DeviceStanding::Wipe,
            Err(_) => return answer,
        };
        // Revocation is for good: an upload a retired PC may still make says nothing new.
        let retired = standing == DeviceStanding::Retired;
        let moved = self.status.send_if_modified(|s| {
            let moves = matches!((&s.device, &standing), (DeviceStanding::Enrolled { .. }, _) | (DeviceStanding::Retired, DeviceStanding::Wipe));
            moves && std::mem::replace(&mut s.device, standing) != s.device
        });
        if moved && retired {
            // What the outbox holds goes up now, and the PC is wiped once it has.
            self.wake_upload.notify_one();
        }
        answer
    }

    /// POSTs `body` (JSON) to `path` and reads the answer as `T`. An answer that is not a
    /// `T` is the hub's fault (`SyncError::Hub`), not the network's.
    async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Vec<u8>,
        shutdown: &CancellationToken,
    ) -> Result<T, SyncError> {
        let answer = self.post_bytes(path, body, shutdown).await?;
        serde_json::from_slice(&answer).map_err(|e| unreadable(path, &e))
    }

    /// POSTs `body` (JSON) to `path`; the answer's bytes.
    async fn post_bytes(
        &self,
        path: &str,
        body: Vec<u8>,
        shutdown: &CancellationToken,
    ) -> Result<Vec<u8>, SyncError> {
        let url = format!("{}{path}", self.hub_url);
        let request = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        cancellable(shutdown, async {
            let response = self.send(request).await?;
            let answer = response.bytes().await;
            answer.map(Vec::from).map_err(|source| SyncError::Network { url: url.clone(), source })
        })
        .await
    }

    async fn with_replica<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Replica) -> Result<T, ReplicaError> + Send + 'static,
    ) -> Result<T, SyncError> {
        with_replica(&self.replica, f).await
    }

    fn notify(&self, cursor: u64, project_codes: Vec<String>) {
        notify(&self.changed, cursor, project_codes);
    }
}

/// Sends `request` as `device` (unsigned without one); a non-2xx answer becomes
/// [`SyncError::Hub`], and a token the hub no longer holds is dropped for the next try.
pub(crate) async fn send_as(device: Option<&DeviceAuth>, hub_url: &str, request: RequestBuilder) -> Result<Response, SyncError> {
    let network = |source: reqwest::Error| SyncError::Network { url: hub_url.to_owned(), source };
    let Some(device) = device else {
        let response = request.send().await.map_err(network)?;
        return hub_answer(response).await.map_err(|e| e.unwrap_or_else(network));
    };
    // A token the hub no longer holds (expired early, the hub restored) is proven again
    // at once, for a request that can be sent twice.
    let again = request.try_clone();
    let response = device.sign(request).await?.send().await.map_err(network)?;
    let answer = hub_answer(response).await.map_err(|e| e.unwrap_or_else(network));
    match (answer, again) {
        (Err(error), Some(again)) if device.note(&error).await => {
            let response = device.sign(again).await?.send().await.map_err(network)?;
            hub_answer(response).await.map_err(|e| e.unwrap_or_else(network))
        }
        (answer, _) => answer,
    }
}

/// By how much the hub finds this PC's clock off, when beyond its margin.
fn clock_skew(response: &Response) -> Option<i64> {
    response.headers().get(crate::protocol::device::CLOCK_SKEW_HEADER)?.to_str().ok()?.parse().ok()
}

/// Runs `f` on the replica off the async threads: SQLite calls block.
async fn with_replica<T: Send + 'static>(
    replica: &Arc<Mutex<Replica>>,
    f: impl FnOnce(&mut Replica) -> Result<T, ReplicaError> + Send + 'static,
) -> Result<T, SyncError> {
    let replica = Arc::clone(replica);
    tokio::task::spawn_blocking(move || {
        // A panic mid-write rolled its transaction back: the replica is still whole.
        let mut replica = replica.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut replica)
    })
    .await
    .map_err(|e| SyncError::Internal(e.to_string()))?
    .map_err(SyncError::from)
}

fn notify(changed: &broadcast::Sender<ReplicaChanged>, cursor: u64, project_codes: Vec<String>) {
    // No subscriber is fine: the app may not be listening yet.
    let _ = changed.send(ReplicaChanged { cursor, project_codes });
}

/// A 2xx answer as it is; any other as [`SyncError::Hub`] with the hub's code and message
/// and the field problems it lists, or as the network error that cut its body short.
pub(crate) async fn hub_answer(response: Response) -> Result<Response, Result<SyncError, reqwest::Error>> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = match response.text().await {
        Ok(body) => body,
        Err(e) => return Err(Err(e)),
    };
    let (code, message, field) = match serde_json::from_str::<ApiError>(&body) {
        Ok(error) => {
            let field = error.errors.first().map(|e| e.field.clone());
            let problems: Vec<String> =
                error.errors.iter().map(|e| format!("{}：{}", e.field, e.problem)).collect();
            let message = if problems.is_empty() {
                error.message
            } else {
                format!("{}（{}）", error.message, problems.join("；"))
            };
            (error.code, message, field)
        }
        Err(_) => (String::new(), body, None),
    };
    Err(Ok(SyncError::Hub { status: status.as_u16(), code, message, field }))
}

/// An answer from the hub that is not what the protocol says it is.
fn unreadable(path: &str, error: &serde_json::Error) -> SyncError {
    SyncError::Hub {
        status: 200,
        code: "unreadable_answer".into(),
        message: format!("{path} 的应答无法读取：{error}"),
        field: None,
    }
}

/// Retry delays after consecutive failures, from `min_backoff` up to `max_backoff`.
fn backoff(options: &ClientOptions) -> impl Iterator<Item = Duration> + use<> {
    // Jitter adds up to the delay again, so the delay itself stops at half the cap.
    ExponentialBuilder::default()
        .with_min_delay(options.min_backoff)
        .with_max_delay(options.max_backoff / 2)
        .with_jitter()
        .without_max_times()
        .build()
}

/// The replica's cursor if its rows came from this hub; otherwise it must start over.
fn cursor_for(meta: &ReplicaMeta, hub_url: &str) -> Option<u64> {
    meta.cursor.filter(|_| meta.hub_url.as_deref() == Some(hub_url))
}

async fn cancellable<T>(
    shutdown: &CancellationToken,
    work: impl Future<Output = Result<T, SyncError>>,
) -> Result<T, SyncError> {
    tokio::select! {
        result = work => result,
        _ = shutdown.cancelled() => Err(SyncError::Cancelled),
    }
}

fn seconds(duration: time::Duration) -> u64 {
    duration.whole_seconds().max(0).unsigned_abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_stays_under_the_cap() {
        let options = ClientOptions {
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(4),
            ..ClientOptions::default()
        };
        let delays: Vec<Duration> = backoff(&options).take(50).collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= options.min_backoff && *d <= options.max_backoff),
            "{delays:?}"
        );
        assert!(
            delays[0] < Duration::from_millis(200) && delays[49] >= options.max_backoff / 2,
            "{delays:?}"
        );
        let distinct: std::collections::BTreeSet<_> = delays[20..].iter().collect();
        assert!(
            distinct.len() > 1,
            "jitter spreads the retries of many counters: {delays:?}"
        );
    }

    #[test]
    fn only_the_hubs_rebuilt_answer_calls_for_a_new_snapshot() {
        let hub = |status: u16, code: &str| SyncError::Hub {
            status,
            code: code.into(),
            message: String::new(),
            field: None,
        };
        assert!(hub(409, "cursor_ahead").needs_snapshot());
        assert!(hub(410, "cursor_compacted").needs_snapshot());
        assert!(!hub(400, "bad_query").needs_snapshot());
        assert!(!hub(500, "internal").needs_snapshot());
        assert!(!SyncError::Cancelled.needs_snapshot());
    }
}
