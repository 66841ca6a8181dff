//! A counter as the suites run it: a replica file in a temporary directory and its sync
//! client, caught up once or running in the background as the app runs it.

use std::path::PathBuf;
use std::time::Duration;

use tempfile::TempDir;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use yizhan_core::code::ProjectCode;
use yizhan_core::clock::Clock;
use yizhan_core::status::FeeStatus;
use yizhan_sync::protocol::PaymentRecord;
pub use yizhan_core::clock::SimulatedClock;
use yizhan_sync::client::{ClientOptions, SyncClient};
use yizhan_core::account::Account;
use yizhan_hub::accounts::admin::DEMO_ACCOUNTS;
use yizhan_sync::protocol::clerk_label;
use yizhan_sync::replica::{Issuer, ProjectQuery, Replica, ReplicaReader};
use yizhan_voucher::signature::CounterKey;
use yizhan_sync::status::{ReplicaChanged, SyncStatus};

use crate::hub::TestHub;
use crate::replica::{assert_same_state, replica_state, state_of};

/// How long any awaited event may take before the test fails.
pub const WITHIN: Duration = Duration::from_secs(60);

/// The key the suites' counters sign with; each registers it at the hub for its own device.
pub static COUNTER_KEY: std::sync::LazyLock<CounterKey> = std::sync::LazyLock::new(CounterKey::generate);

/// A demo account (every test hub has them, `TestHub`) issuing commands at a suite's
/// counter, named as the app names them.
pub fn issuer(account: &str) -> Issuer {
    issuer_signing(account, &COUNTER_KEY)
}

/// [`issuer`] at a counter that registered `key`.
pub fn issuer_signing(account: &str, key: &CounterKey) -> Issuer {
    let (_, name, _) = DEMO_ACCOUNTS.iter().find(|(a, _, _)| *a == account).expect("a demo account");
    let account: Account = account.parse().expect("an account");
    Issuer::new(account.clone(), clerk_label(name, &account), key.clone())
}

pub fn options() -> ClientOptions {
    ClientOptions {
        counter_key: Some(COUNTER_KEY.clone()),
        wait: Duration::from_secs(5),
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
        ..ClientOptions::default()
    }
}

/// [`options`] for a PC that issues no documents: its key stays off the change log (it
/// goes there with the first number segment), and the hub's head moves by what each test
/// does alone.
pub fn options_issuing_nothing() -> ClientOptions {
    ClientOptions { issues_documents: false, ..options() }
}

pub struct Counter {
    _dir: TempDir,
    pub path: PathBuf,
}

impl Default for Counter {
    fn default() -> Counter {
        Counter::new()
    }
}

impl Counter {
    pub fn new() -> Counter {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("replica.sqlite3");
        Counter { _dir: dir, path }
    }

    pub fn client(&self, hub: &TestHub, options: ClientOptions) -> SyncClient {
        self.client_at(&hub.url, options)
    }

    /// A client that reaches the hub through `url` (a proxy in front of it, say).
    pub fn client_at(&self, url: &str, options: ClientOptions) -> SyncClient {
        self.client_on(url, options, Clock::system())
    }

    /// [`Counter::client_at`] living by `clock`.
    pub fn client_on(&self, url: &str, options: ClientOptions, clock: Clock) -> SyncClient {
        SyncClient::new(Replica::open_with_clock(&self.path, clock).unwrap(), &url.parse().expect("a hub on loopback"), options).unwrap()
    }

    pub async fn catch_up(&self, hub: &TestHub) -> u64 {
        self.client(hub, options())
            .catch_up(&CancellationToken::new())
            .await
            .expect("catch up with the hub")
    }

    pub fn reader(&self) -> ReplicaReader {
        ReplicaReader::open(&self.path).unwrap()
    }

    /// A reader judging deadlines by `clock`, the one its client lives by.
    pub fn reader_on(&self, clock: Clock) -> ReplicaReader {
        ReplicaReader::open_with_clock(&self.path, clock).unwrap()
    }

    pub fn project_codes(&self, n: u32) -> Vec<ProjectCode> {
        let page = self
            .reader()
            .list_projects(&ProjectQuery {
                limit: n,
                ..ProjectQuery::default()
            })
            .unwrap();
        page.rows.into_iter().map(|r| r.project_code).collect()
    }

    /// Asserts the replica holds exactly what the hub's snapshot holds now.
    pub async fn assert_matches(&self, hub: &TestHub, context: &str) {
        let (header, rows) = hub.snapshot().await;
        let (cursor, state) = replica_state(&self.path);
        assert_eq!(cursor, Some(header.as_of), "{context}: cursor");
        assert_same_state(&state, &state_of(rows), context);
    }
}

/// A client running in the background, as the app runs it.
pub struct Running {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
    pub status: watch::Receiver<SyncStatus>,
    pub changes: broadcast::Receiver<ReplicaChanged>,
}

impl Running {
    pub fn start(client: SyncClient) -> Running {
        let status = client.status();
        let changes = client.subscribe();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(client.run(shutdown.clone()));
        Running {
            shutdown,
            task,
            status,
            changes,
        }
    }

    pub async fn wait_status(&mut self, what: &str, ready: impl FnMut(&SyncStatus) -> bool) -> SyncStatus {
        let waited = tokio::time::timeout(WITHIN, self.status.wait_for(ready))
            .await
            .map(|s| s.map(|s| s.clone()));
        match waited {
            Ok(status) => status.expect("the client is running"),
            Err(_) => panic!(
                "timed out waiting for the client to be {what}; last status {:?}",
                *self.status.borrow()
            ),
        }
    }

    pub async fn wait_changed(&mut self, what: &str, mut ready: impl FnMut(&ReplicaChanged) -> bool) -> ReplicaChanged {
        let wait = async {
            loop {
                let changed = self.changes.recv().await.expect("replica changes stream");
                if ready(&changed) {
                    return changed;
                }
            }
        };
        tokio::time::timeout(WITHIN, wait)
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(WITHIN, self.task)
            .await
            .expect("the client stops when asked")
            .expect("client task");
    }
}

/// A cleared project of the replica, and a correction of one of its payments that takes
/// it out of 已完费 at the hub (a reversed part of a payment).
pub fn cleared_project_and_its_reversal(counter: &Counter) -> (ProjectCode, PaymentRecord) {
    let reader = counter.reader();
    let page = reader
        .list_projects(&ProjectQuery {
            status: Some(FeeStatus::Cleared),
            limit: 100,
            ..ProjectQuery::default()
        })
        .unwrap();
    // Not every cleared project paid: an exempt fee is cleared with no money.
    let (code, paid) = page
        .rows
        .iter()
        .find_map(|row| {
            let detail = reader.get_project(&row.project_code).unwrap().unwrap();
            let paid = detail.payments.into_iter().find(|p| p.amount_fen > 100)?;
            Some((row.project_code.clone(), paid))
        })
        .expect("demo data has cleared projects that paid");
    let reversal = PaymentRecord {
        payment_id: paid.payment_id.clone(),
        project_code: code.clone(),
        fee_kind: paid.fee_kind,
        amount_fen: paid.amount_fen - 100,
        channel: paid.channel.clone(),
        reference: paid.reference.clone(),
        received_at: paid.received_at,
    };
    (code, reversal)
}
