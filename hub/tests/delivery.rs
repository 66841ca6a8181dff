//! A connector's delivery: each record checked on its own against the project as the hub
//! holds it, the good written, the bad quarantined, withdrawals logged as deletes, and the
//! position committed with them; delivered again, nothing changes.

mod common;

use common::{CODE, TestHub, payment, planning};
use serde_json::json;
use yizhan_core::entity::{EntityKind, FeeAssessment, FeeKind};
use yizhan_hub::connectors::{Connector, ConnectorKind, SourceChange};
use yizhan_sync::protocol::PaymentRecord;

fn upsert(value: serde_json::Value) -> SourceChange<PaymentRecord> {
    SourceChange::Upsert {
        location: format!("请求 {}", value["payment_id"]),
        raw: value.to_string(),
        record: Ok(serde_json::from_value(value).unwrap()),
    }
}

#[tokio::test]
async fn payments_are_checked_against_the_assessment_one_by_one() {
    let hub = TestHub::start().await;
    let (status, _) = hub.post("planning", json!([planning("G1", CODE)])).await;
    assert_eq!(status, 200);
    let owed = serde_json::from_str::<FeeAssessment>(
        &hub.hub.store().get(EntityKind::FeeAssessment, &FeeAssessment::key_for(CODE, FeeKind::Infra)).await.unwrap().unwrap().payload,
    )
    .unwrap()
    .net_fen();
    let connector = Connector::new("push:bank", ConnectorKind::Push);
    let mut civil_defence = payment("P-CD", CODE, 100);
    civil_defence["fee_kind"] = json!("civil_defence");
    let changes = vec![
        upsert(payment("P-1", CODE, owed - 100)),
        // Together with P-1, more than is owed.
        upsert(payment("P-2", CODE, 200)),
        upsert(civil_defence),
        upsert(payment("P-3", "2025-320115-70-01-999999", 100)),
        upsert(payment("P-4", CODE, 100)),
    ];
    let report = hub.hub.deliver(&connector, changes, Some("bank-batch-0001".into()), None).await.unwrap();
    assert_eq!((report.received, report.changed, report.quarantined), (5, 2, 3), "{report:?}");
    let problems: Vec<(usize, &str)> = report.problems.iter().map(|p| (p.record, p.field.as_str())).collect();
    assert_eq!(problems, [(1, "amount_fen"), (2, "fee_kind"), (3, "project_code")]);
    assert!(report.problems[0].problem.contains("超过核定应缴"), "{}", report.problems[0].problem);

    let (_, quarantine) = hub.get("/v1/quarantine?connector=push:bank").await;
    assert_eq!(quarantine.as_array().unwrap().len(), 3);
    let (_, connectors) = hub.get("/v1/connectors").await;
    assert_eq!(connectors[0]["position"], "bank-batch-0001");
    assert_eq!((connectors[0]["applied"].as_u64(), connectors[0]["quarantined"].as_u64()), (Some(2), Some(3)));

    // The same delivery again: nothing written, nothing listed twice.
    let head = hub.head().await;
    let again = vec![upsert(payment("P-1", CODE, owed - 100)), upsert(payment("P-2", CODE, 200))];
    let report = hub.hub.deliver(&connector, again, None, None).await.unwrap();
    assert_eq!((report.changed, report.unchanged, report.quarantined), (0, 1, 1));
    assert_eq!(hub.head().await, head);
    let (_, quarantine) = hub.get("/v1/quarantine?connector=push:bank").await;
    assert_eq!(quarantine.as_array().unwrap().len(), 3);

    // The bank recalls P-4: its row goes, with a delete in the log; recalling it again is nothing.
    let withdraw = || SourceChange::<PaymentRecord>::Withdraw {
        location: "请求 P-4 撤销".into(),
        source_id: "P-4".into(),
        project_code: CODE.into(),
    };
    let report = hub.hub.deliver(&connector, vec![withdraw()], None, None).await.unwrap();
    assert_eq!((report.withdrawn, report.unchanged), (1, 0));
    assert!(hub.hub.store().get(EntityKind::Payment, "P-4").await.unwrap().is_none());
    let last = hub.log().await.pop().unwrap();
    assert_eq!((last["op"].as_str(), last["key"].as_str(), last["payload"].is_null()), (Some("delete"), Some("P-4"), true));
    let report = hub.hub.deliver(&connector, vec![withdraw()], None, None).await.unwrap();
    assert_eq!((report.withdrawn, report.unchanged), (0, 1));
}
