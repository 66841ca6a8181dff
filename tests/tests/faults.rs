//! Several counters behind bad networks (connections dropped, delayed, cut mid-answer,
//! requests delivered twice, on a seeded schedule) while departments and clerks keep
//! working: once the network heals, every counter holds exactly the hub's state, every
//! command the hub accepted took effect exactly once, and every one it refused is in the
//! issuing counter's conflict list.

use std::collections::{HashMap, HashSet};

use yizhan_core::code::ProjectCode;
use yizhan_core::id::CommandId;
use yizhan_core::command::ClerkAction;
use yizhan_core::entity::EntityKind;
use yizhan_core::status::FeeStatus;
use yizhan_sync::client::{ClientOptions, Outbox};
use yizhan_sync::replica::ProjectQuery;
use yizhan_tests::bench::Rng;
// The counters here issue no documents: each test compares the replica with the hub's head,
// which a PC's first number segment would move (its key goes to the log with it).
use yizhan_tests::counter::options_issuing_nothing as options;
use yizhan_tests::counter::{Counter, Running, issuer};
use yizhan_tests::hub::TestHub;
use yizhan_tests::proxy::{Faults, Proxy};

const SEED: u64 = 20261124;
const COUNTERS: usize = 3;
const STEPS: usize = 120;

struct Site {
    counter: Counter,
    proxy: Proxy,
    outbox: Outbox,
    running: Running,
    issued: Vec<CommandId>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_behind_bad_networks_converge_and_every_command_counts_once() {
    let seed = std::env::var("YIZHAN_FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(SEED);
    eprintln!("fault schedule seed {seed} (YIZHAN_FAULT_SEED to replay)");
    let mut rng = Rng::new(seed);
    let hub = TestHub::start(120).await;
    let faults = Faults { drop: 0.15, delay: 0.3, max_delay_ms: 300, cut: 0.15, duplicate: 0.2 };
    let quick = ClientOptions { wait: std::time::Duration::from_secs(2), ..options() };

    let mut sites = Vec::new();
    for i in 0..COUNTERS {
        let proxy = Proxy::start(&hub.url).await;
        let counter = hub.counter().await;
        let client = counter.client_at(&proxy.url, quick.clone());
        client.catch_up(&Default::default()).await.expect("first snapshot on a good network");
        proxy.set_faults(Some(faults), seed + i as u64);
        let outbox = client.outbox();
        sites.push(Site { counter, proxy, outbox, running: Running::start(client), issued: Vec::new() });
    }
    let codes = sites[0].counter.project_codes(120);
    let cleared: Vec<ProjectCode> = sites[0]
        .counter
        .reader()
        .list_projects(&ProjectQuery { status: Some(FeeStatus::Cleared), limit: 40, ..ProjectQuery::default() })
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.project_code)
        .collect();
    assert!(cleared.len() >= 5, "demo data has cleared projects");

    for step in 0..STEPS {
        let pick = |rng: &mut Rng, items: &[ProjectCode]| items[rng.below(items.len() as u64) as usize].clone();
        match rng.below(10) {
            // The departments: a payment, or a reversal that takes a cleared project back.
            0..=2 => {
                hub.ingest("payments", hub.new_payments(&[pick(&mut rng, &codes)], 1, 100_000 + step as u64)).await;
            }
            3 => {
                let code = pick(&mut rng, &cleared);
                let detail = sites[0].counter.reader().get_project(&code).unwrap().unwrap();
                if let Some(paid) = detail.payments.iter().find(|p| p.amount_fen > 100) {
                    let reversal = yizhan_sync::protocol::PaymentRecord {
                        payment_id: paid.payment_id.clone(),
                        project_code: code,
                        fee_kind: paid.fee_kind,
                        amount_fen: paid.amount_fen - 100,
                        channel: paid.channel.clone(),
                        reference: paid.reference.clone(),
                        received_at: paid.received_at,
                    };
                    hub.ingest("payments", vec![reversal]).await;
                }
            }
            // The clerks: notes anywhere, final checks on projects cleared as they see it.
            roll => {
                let site = &mut sites[rng.below(COUNTERS as u64) as usize];
                let action = if roll >= 8 {
                    ClerkAction::FinalCheck { project_code: pick(&mut rng, &cleared), remark: String::new() }
                } else {
                    ClerkAction::FollowUpNote { project_code: pick(&mut rng, &codes), text: format!("第{step}步") }
                };
                if let Ok(entry) = site.outbox.issue(action, &issuer("clerk01")).await {
                    site.issued.push(entry.command_id);
                }
            }
        }
        if rng.below(4) == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(rng.below(40))).await;
        }
    }

    for (i, site) in sites.iter().enumerate() {
        let met = site.proxy.faults_met();
        eprintln!("counter {i}: {met:?}, {} commands issued", site.issued.len());
        assert!(met.dropped > 0 && met.cut > 0 && met.duplicated > 0, "counter {i} met every fault: {met:?}");
        site.proxy.set_faults(None, 0);
    }
    let head = hub.head().await;
    for site in &mut sites {
        site.running.wait_status("drained and caught up", |s| s.outbox.pending == 0 && s.cursor >= head).await;
    }
    // Answers to the last commands append to the log: catch up with those too.
    let head = hub.head().await;
    let log = hub.all_changes().await;
    let mut effects: HashMap<String, usize> = HashMap::new();
    for change in &log {
        match change.entity {
            EntityKind::FollowUpNote => *effects.entry(change.key.clone()).or_default() += 1,
            EntityKind::FinalCheck => {
                let check: yizhan_core::entity::FinalCheck = serde_json::from_str(change.payload.as_ref().unwrap().get()).unwrap();
                *effects.entry(check.command_id.to_string()).or_default() += 1;
            }
            _ => {}
        }
    }
    let mut issued_total = 0;
    for (i, site) in sites.into_iter().enumerate() {
        let mut running = site.running;
        running.wait_status("caught up", |s| s.cursor >= head).await;
        running.stop().await;
        let conflicts: HashSet<CommandId> =
            site.counter.reader().conflicts().unwrap().into_iter().map(|c| c.command_id).collect();
        for id in &site.issued {
            let applied = effects.get(id.as_str()).copied().unwrap_or(0);
            let refused = conflicts.contains(id);
            assert!(
                (applied == 1 && !refused) || (applied == 0 && refused),
                "counter {i}, command {id}: applied {applied} times, in conflicts: {refused}"
            );
        }
        issued_total += site.issued.len();
        site.counter.assert_matches(&hub, &format!("counter {i}")).await;
    }
    assert!(issued_total > 20, "the schedule issued {issued_total} commands");
}
