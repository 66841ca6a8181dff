//! The demo data: every fee status occurs, identifiers are valid, and the same seed gives
//! the same data.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use common::TestHub;
use futures_util::StreamExt;
use time::Date;
use time::macros::date;
use yizhan_core::code::check_project_code;
use yizhan_core::district::district_name;
use yizhan_core::entity::{EntityKind, FeeKind};
use yizhan_core::records::ProjectRecords;
use yizhan_core::status::FeeStatus;
use yizhan_hub::Hub;

const TODAY: Date = date!(2026 - 11 - 24);

/// (entity, key) → payload of every current row, via the store's snapshot.
async fn state(hub: &Hub) -> BTreeMap<(EntityKind, String), String> {
    let snapshot = hub.store().snapshot(None).await.unwrap();
    let mut rows = BTreeMap::new();
    let mut chunks = snapshot.rows;
    while let Some(chunk) = chunks.next().await {
        for row in chunk.unwrap() {
            rows.insert((row.entity, row.key), row.payload);
        }
    }
    assert_eq!(rows.len() as u64, snapshot.position.rows);
    rows
}

#[tokio::test]
async fn demo_data_has_every_status_overdue_exemptions_and_valid_identifiers() {
    let hub = TestHub::start().await;
    let summary = yizhan_hub::demo::seed_on(&hub.hub, 2_000, 42, TODAY)
        .await
        .unwrap();
    assert_eq!(summary.projects, 2_000);

    let mut projects: HashMap<String, ProjectRecords> = HashMap::new();
    for ((entity, key), payload) in state(&hub.hub).await {
        let code = serde_json::from_str::<serde_json::Value>(&payload).unwrap()["project_code"]
            .as_str()
            .unwrap()
            .to_owned();
        let facts = projects.entry(code).or_default();
        facts.add(entity, &key, payload.as_bytes()).unwrap();
    }
    assert_eq!(projects.len(), 2_000);

    let mut statuses = BTreeSet::new();
    let (mut overdue, mut exempt, mut civil_defence, mut districts) = (0, 0, 0, BTreeSet::new());
    for (code, facts) in &projects {
        let project = facts
            .project
            .as_ref()
            .unwrap_or_else(|| panic!("{code} has rows but no project"));
        check_project_code(code).unwrap();
        project.uscc.check_character_holds().unwrap_or_else(|e| panic!("{}: {e}", project.uscc));
        assert!(district_name(&project.district_code).is_some());
        assert!(
            project
                .name
                .starts_with(district_name(&project.district_code).unwrap()),
            "{}",
            project.name
        );
        districts.insert(project.district_code.clone());
        let infra = facts
            .assessments
            .iter()
            .find(|a| a.fee_kind == FeeKind::Infra)
            .unwrap();
        if infra
            .exemption
            .as_ref()
            .is_some_and(|e| e.basis.contains("2019年第76号"))
        {
            exempt += 1;
        }
        civil_defence += facts
            .assessments
            .iter()
            .filter(|a| a.fee_kind == FeeKind::CivilDefence)
            .count();
        for p in &facts.payments {
            assert!(p.amount_fen > 0);
            assert!(p.received_at.date() < TODAY);
        }
        let standing = facts.standing(TODAY);
        assert!(
            standing.paid_fen <= standing.assessed_fen,
            "{code} is overpaid"
        );
        statuses.insert(standing.status);
        overdue += usize::from(standing.overdue);
    }
    let every = [
        FeeStatus::AwaitingAssessment,
        FeeStatus::Due,
        FeeStatus::PartlyPaid,
        FeeStatus::AwaitingTaxClearance,
        FeeStatus::Cleared,
    ];
    assert_eq!(statuses, BTreeSet::from(every));
    assert!(overdue > 50, "{overdue} overdue projects");
    assert!(exempt > 10, "{exempt} exempt projects");
    assert!(
        civil_defence > 100,
        "{civil_defence} civil-defence assessments"
    );
    assert_eq!(districts.len(), 11);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data_and_reseeding_adds_nothing() {
    let (a, b) = (TestHub::start().await, TestHub::start().await);
    yizhan_hub::demo::seed_on(&a.hub, 300, 5, TODAY)
        .await
        .unwrap();
    yizhan_hub::demo::seed_on(&b.hub, 300, 5, TODAY)
        .await
        .unwrap();
    let state_a = state(&a.hub).await;
    assert_eq!(state_a, state(&b.hub).await);

    let head = a.head().await;
    yizhan_hub::demo::seed_on(&a.hub, 300, 5, TODAY)
        .await
        .unwrap();
    assert_eq!(
        a.head().await,
        head,
        "re-seeding the same data must be a no-op"
    );

    let c = TestHub::start().await;
    yizhan_hub::demo::seed_on(&c.hub, 300, 6, TODAY)
        .await
        .unwrap();
    assert_ne!(state_a, state(&c.hub).await);
}
