//! The simulator against a real hub: it sends every kind of event, the hub accepts them
//! all (so amounts and targets come from the hub's real state), and nobody is overpaid.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::TestHub;
use futures_util::StreamExt;
use time::macros::date;
use yizhan_core::entity::{EntityKind, FeeAssessment, FeeKind, Payment};
use yizhan_core::tariff::Tariff;
use yizhan_hub::ingest::AssessmentRules;
use yizhan_hub::simulate::{SimulateOptions, run};

#[tokio::test]
async fn the_simulator_sends_every_kind_of_event_and_the_hub_accepts_them() {
    let hub = TestHub::start().await;
    yizhan_hub::demo::seed_on(&hub.hub, 300, 3, date!(2026 - 11 - 24))
        .await
        .unwrap();
    let before = hub.head().await;

    let options = SimulateOptions {
        hub_ca: None,
        hub: hub.url.clone(),
        store: hub.hub.shared_store(),
        rate: 100.0,
        seed: 9,
        duration: Some(Duration::from_secs(3)),
        rules: AssessmentRules {
            tariff: Tariff::demo(),
            due_days: 30,
        },
    };
    let summary = run(options).await.unwrap();
    assert_eq!(summary.rejected, 0, "{summary:?}");
    assert!(summary.sent() >= 200, "{summary:?}");
    assert!(
        summary.payments > 0
            && summary.planning > 0
            && summary.tax > 0
            && summary.civil_defence > 0,
        "{summary:?}"
    );
    assert!(hub.head().await > before + summary.sent());

    let mut net: HashMap<(String, FeeKind), i64> = HashMap::new();
    let mut paid: HashMap<(String, FeeKind), i64> = HashMap::new();
    let mut rows = hub.hub.store().snapshot(None).await.unwrap().rows;
    while let Some(chunk) = rows.next().await {
        for row in chunk.unwrap() {
            match row.entity {
                EntityKind::FeeAssessment => {
                    let a: FeeAssessment = serde_json::from_str(&row.payload).unwrap();
                    net.insert((a.project_code.to_string(), a.fee_kind), a.net_fen());
                }
                EntityKind::Payment => {
                    let p: Payment = serde_json::from_str(&row.payload).unwrap();
                    *paid.entry((p.project_code.to_string(), p.fee_kind)).or_default() += p.amount_fen;
                }
                _ => {}
            }
        }
    }
    for (fee, amount) in paid {
        assert!(
            amount <= net.get(&fee).copied().unwrap_or(0),
            "{fee:?} paid {amount}, owed {:?}",
            net.get(&fee)
        );
    }
}
