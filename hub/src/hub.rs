//! The hub as a value: its store, its assessment rules and its shutdown signal, shared by
//! the HTTP routes, the demo seeder and the test suites.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::watch;
use yizhan_sync::integrity::HubSigner;
use yizhan_sync::protocol::{FieldError, IngestReport};

use crate::alerts::AlertDesk;
use crate::config::HubConfig;
use crate::error::HubError;
use crate::ingest::{self, IngestRecord, AssessmentRules};
use crate::notify::Channel;
use crate::push::{Gate, PushKeys};
use crate::keys::{AuditKey, KeyError, KeyFile, KeyProvider};
use yizhan_core::clock::Clock;
use crate::store::{SqliteStore, Store, StoreError, StoreUrl};

/// Why a hub could not open: its database, or its keys.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeyError),
}

#[derive(Clone)]
pub struct Hub {
    store: Arc<dyn Store>,
    rules: Arc<AssessmentRules>,
    signer: Arc<HubSigner>,
    closing: Arc<watch::Sender<bool>>,
    push: Arc<Gate>,
    /// Alert evaluation, when this hub runs it (`yizhan-hub serve` always does).
    alerts: Option<Arc<AlertDesk>>,
    /// Where messages to applicants go, when this hub sends them.
    notify: Option<Arc<dyn Channel>>,
    /// Bumped when a message is queued, so the sender wakes at once.
    queued: Arc<watch::Sender<u64>>,
    /// The audit trail's MAC key, from the key provider, never from the store.
    audit_key: Arc<AuditKey>,
    /// Why the audit trail is in doubt (a record not written, a chain that does not
    /// verify), since this hub started: the red alert's subject.
    audit_problem: Arc<std::sync::Mutex<Option<String>>>,
    /// What sessions, lockouts and the audit trail take as now.
    clock: Clock,
    /// Started with `--demo`: serves the unauthenticated ingest routes.
    demo: bool,
    /// How far a counter's clock may drift from this hub's before it is told.
    clock_margin_seconds: u32,
    seen_devices: Arc<crate::devices::SeenDevices>,
    /// The HMAC-SM3 key of device challenges: random per process, so a challenge is good
    /// at the hub instance that made it (for two minutes).
    challenge_key: Arc<[u8; 32]>,
    /// The names requests must be addressed to; `None` admits any (a hub in a test).
    host_names: Option<Arc<crate::routes::edges::HostNames>>,
}

impl Hub {
    /// Opens the store `config.store` names, creating and migrating it as needed, with its
    /// signing key from `config.key_file` (moved there from the database of an older hub).
    /// Blocking (file opens and the migrations): call it before serving.
    pub fn open(config: HubConfig) -> Result<Hub, OpenError> {
        let keys = KeyFile::at(&config.key_file);
        let store: Arc<dyn Store> = match &config.store {
            StoreUrl::Sqlite(path) => {
                let store = SqliteStore::open(path)?;
                if let Some(old) = store.legacy_signing_key()? {
                    keys.adopt_signing_key(&old)?;
                    store.forget_legacy_signing_key()?;
                }
                Arc::new(store)
            }
        };
        let signer = keys.signing_key()?;
        let audit_key = keys.audit_key()?;
        Ok(Hub::with_store(
            store,
            AssessmentRules {
                tariff: config.tariff,
                due_days: config.due_days,
            },
            signer,
        )
        .with_audit_key(audit_key))
    }

    pub fn with_store(store: Arc<dyn Store>, rules: AssessmentRules, signer: HubSigner) -> Hub {
        Hub {
            store,
            rules: Arc::new(rules),
            signer: Arc::new(signer),
            closing: Arc::new(watch::channel(false).0),
            push: Arc::default(),
            alerts: None,
            notify: None,
            queued: Arc::new(watch::channel(0).0),
            // A hub made around a store in a test keeps its audit key for its own life;
            // `open` takes the key provider's.
            audit_key: Arc::new(AuditKey::generate()),
            audit_problem: Arc::default(),
            clock: Clock::system(),
            demo: false,
            clock_margin_seconds: crate::devices::DEFAULT_CLOCK_MARGIN_SECONDS,
            seen_devices: Arc::default(),
            challenge_key: Arc::new({
                let mut key = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
                key
            }),
            host_names: None,
        }
    }

    /// Admits only requests addressed to `names` (the Host header).
    pub fn with_host_names(mut self, names: crate::routes::edges::HostNames) -> Hub {
        self.host_names = Some(Arc::new(names));
        self
    }

    pub(crate) fn host_names(&self) -> Option<&crate::routes::edges::HostNames> {
        self.host_names.as_deref()
    }

    /// Serves the unauthenticated `/v1/ingest/*` routes: for the demo and the suites only.
    pub fn with_demo_ingest(mut self) -> Hub {
        self.demo = true;
        self
    }

    pub fn demo(&self) -> bool {
        self.demo
    }

    pub fn with_clock_margin(mut self, seconds: u32) -> Hub {
        self.clock_margin_seconds = seconds;
        self
    }

    pub fn clock_margin_seconds(&self) -> u32 {
        self.clock_margin_seconds
    }

    pub(crate) fn challenge_key(&self) -> &[u8] {
        &self.challenge_key[..]
    }

    pub(crate) fn seen_devices(&self) -> &crate::devices::SeenDevices {
        &self.seen_devices
    }

    pub fn with_audit_key(mut self, key: AuditKey) -> Hub {
        self.audit_key = Arc::new(key);
        self
    }

    pub(crate) fn audit_key(&self) -> &AuditKey {
        &self.audit_key
    }

    /// Puts the audit trail in doubt for the alert rules; the first problem is kept.
    pub(crate) fn audit_in_doubt(&self, problem: String) {
        let mut kept = self.audit_problem.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        tracing::error!(problem, "审计记录异常");
        kept.get_or_insert(problem);
    }

    pub(crate) fn audit_problem(&self) -> Option<String> {
        self.audit_problem.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Takes `clock` as now for sessions, lockouts and audit records.
    pub fn with_clock(mut self, clock: Clock) -> Hub {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Evaluates alerts with `desk`'s rules and clock while it serves.
    pub fn with_alert_desk(mut self, desk: AlertDesk) -> Hub {
        self.alerts = Some(Arc::new(desk));
        self
    }

    /// Sends messages to applicants through `channel` while it serves.
    pub fn with_notify_channel(mut self, channel: Arc<dyn Channel>) -> Hub {
        self.notify = Some(channel);
        self
    }

    pub fn notify_channel(&self) -> Option<&Arc<dyn Channel>> {
        self.notify.as_ref()
    }

    pub(crate) fn notifications_queued(&self) {
        self.queued.send_modify(|n| *n += 1);
    }

    pub(crate) fn notification_signal(&self) -> watch::Receiver<u64> {
        self.queued.subscribe()
    }

    pub fn alert_desk(&self) -> Option<&Arc<AlertDesk>> {
        self.alerts.as_ref()
    }

    /// The departments' keys for the push endpoints; a hub without them refuses every
    /// push as from an unknown key.
    pub fn with_push_keys(mut self, keys: PushKeys) -> Hub {
        self.push = Arc::new(Gate::new(keys));
        self
    }

    pub(crate) fn push_gate(&self) -> &Gate {
        &self.push
    }

    /// The store, to share with a task that outlives this borrow (the simulator).
    pub fn shared_store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn rules(&self) -> &AssessmentRules {
        &self.rules
    }

    /// Seals batches and snapshots; its public key is what counters check them with.
    pub fn signer(&self) -> &HubSigner {
        &self.signer
    }

    /// Validates and writes a batch, all or nothing, with origin `{channel}:{R::SOURCE}`
    /// (`ingest` for the HTTP endpoints, `demo` for the seeder).
    pub async fn ingest<R: IngestRecord>(
        &self,
        channel: &str,
        records: Vec<R>,
    ) -> Result<IngestReport, HubError> {
        self.ingest_parsed(channel, records.into_iter().map(Ok).collect())
            .await
    }

    /// As `ingest`, where records that could not be read arrive as their errors so that
    /// one answer lists every bad record of the batch.
    pub(crate) async fn ingest_parsed<R: IngestRecord>(
        &self,
        channel: &str,
        records: Vec<Result<R, Vec<FieldError>>>,
    ) -> Result<IngestReport, HubError> {
        let (prepared, mut errors) = ingest::prepare(&records, &self.rules);
        if R::REFERS_TO_PROJECT {
            let codes: HashSet<String> = records
                .iter()
                .flatten()
                .map(|r| r.project_code().to_owned())
                .collect();
            let known = self
                .store
                .known_projects(codes.into_iter().collect())
                .await?;
            errors.extend(ingest::unknown_projects(&records, |code| {
                known.contains(code)
            }));
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.record);
            return Err(HubError::InvalidRecords(errors));
        }
        let origin = format!("{channel}:{}", R::SOURCE);
        let touched: Vec<String> = prepared.rows.iter().map(|r| r.project_code.clone()).collect();
        let outcome = self.store.write(&origin, prepared.rows).await?;
        if let Some(desk) = &self.alerts {
            desk.touched(touched);
        }
        let report = ingest::report(
            records.len(),
            &prepared.rows_per_record,
            &outcome.seqs,
            outcome.head,
        );
        tracing::info!(
            origin,
            received = report.received,
            changed = report.changed,
            head = report.head,
            "已写入"
        );
        Ok(report)
    }

    /// Ends pending long-polls at once (they answer with what they have), so a graceful
    /// shutdown does not wait out their `wait`.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub(crate) fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }
}
