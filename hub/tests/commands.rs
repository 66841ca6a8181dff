//! Clerk commands at the hub: decided by the domain rules against the hub's state, run
//! exactly once per command id however often they arrive, each answered on its own.

mod common;

use common::{CODE, TestHub, clearance, notice, planning};
use proptest::prelude::*;
use serde_json::{Value, json};
use yizhan_core::command::ClerkAction;
use yizhan_core::entity::{EntityKind, FeeKind};
use yizhan_core::records::ProjectRecords;
use yizhan_sync::protocol::CommandEnvelope;

const DEVICE: &str = "counter-01";

fn envelope(id: &str, action: Value) -> Value {
    json!({
        "command_id": id,
        "device_id": DEVICE,
        "clerk": "窗口01-张敏",
        "issued_at": "2026-11-24T02:30:00Z",
        "base_seq": 3,
        "action": action,
    })
}

fn final_check(id: &str) -> Value {
    envelope(id, json!({ "kind": "final_check", "project_code": CODE, "remark": "资料齐全" }))
}

fn note(id: &str, code: &str, text: &str) -> Value {
    envelope(id, json!({ "kind": "follow_up_note", "project_code": code, "text": text }))
}

async fn send(hub: &TestHub, commands: Value) -> (u16, Value) {
    let response = hub
        .client
        .post(format!("{}/v1/commands", hub.url))
        .json(&json!({ "commands": commands }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The single result of sending one command.
async fn run(hub: &TestHub, command: Value) -> Value {
    let (status, body) = send(hub, json!([command])).await;
    assert_eq!(status, 200, "{body}");
    body["results"][0].clone()
}

async fn project_with_fees(hub: &TestHub) {
    assert_eq!(hub.post("planning", json!([planning("建字第1号", CODE)])).await.0, 200);
    assert_eq!(hub.post("civil-defence", json!([notice("RF-1", CODE)])).await.0, 200);
}

/// Pays every fee of the project in full.
async fn pay_everything(hub: &TestHub) {
    let mut records = ProjectRecords::default();
    for row in hub.hub.store().project_rows(CODE).await.unwrap() {
        records.add(row.entity, &row.key, row.payload.as_bytes()).unwrap();
    }
    let payments: Vec<Value> = records
        .assessments
        .iter()
        .map(|a| {
            json!({
                "payment_id": format!("PAY-{}", a.fee_kind.as_str()),
                "project_code": CODE,
                "fee_kind": a.fee_kind,
                "amount_fen": a.net_fen(),
                "channel": "非税支付平台",
                "reference": "全额",
                "received_at": "2025-08-01T02:00:00Z",
            })
        })
        .collect();
    assert_eq!(payments.len(), 2, "infrastructure and civil-defence fees");
    assert!(records.assessments.iter().any(|a| a.fee_kind == FeeKind::CivilDefence));
    assert_eq!(hub.post("payments", Value::Array(payments)).await.0, 200);
}

#[tokio::test]
async fn a_final_check_stands_only_once_the_project_is_cleared_and_only_once() {
    let hub = TestHub::start().await;
    project_with_fees(&hub).await;

    let head = hub.head().await;
    let early = run(&hub, final_check("c-early")).await;
    assert_eq!(early["outcome"], "rejected", "{early}");
    assert_eq!(early["code"], "not_cleared");
    assert!(early["reason"].as_str().unwrap().contains("「待缴」"), "{early}");
    assert_eq!(hub.head().await, head, "a rejection appends nothing");

    pay_everything(&hub).await;
    let unpaid_tax = run(&hub, final_check("c-no-tax")).await;
    assert!(unpaid_tax["reason"].as_str().unwrap().contains("「待完税」"), "{unpaid_tax}");
    assert_eq!(hub.post("tax", json!([clearance("WS-1", CODE)])).await.0, 200);

    let head = hub.head().await;
    let done = run(&hub, final_check("c-1")).await;
    assert_eq!(done["outcome"], "accepted", "{done}");
    assert_eq!(done["seq"], head + 1);
    assert_eq!(done["repeated"], false);
    let logged = hub.log().await.pop().unwrap();
    assert_eq!((logged["entity"].as_str(), logged["key"].as_str()), (Some("final_check"), Some(CODE)));
    assert_eq!(logged["origin"], format!("command:{DEVICE}"));
    assert_eq!(logged["payload"]["checked_by"], "窗口01-张敏");

    // The answer was lost and the counter sends it again: same answer, nothing new.
    let again = run(&hub, final_check("c-1")).await;
    assert_eq!((again["outcome"].clone(), again["seq"].clone(), again["repeated"].clone()), (json!("accepted"), done["seq"].clone(), json!(true)));
    assert_eq!(hub.head().await, head + 1);

    let mut altered = final_check("c-1");
    altered["action"]["remark"] = json!("改过的意见");
    let reused = run(&hub, altered).await;
    assert_eq!(reused["code"], "command_id_reused", "{reused}");

    let second = run(&hub, final_check("c-2")).await;
    assert_eq!(second["code"], "already_checked", "{second}");
    assert!(second["reason"].as_str().unwrap().contains("窗口01-张敏"), "{second}");
    assert_eq!(hub.head().await, head + 1);
}

#[tokio::test]
async fn each_command_of_a_batch_is_answered_on_its_own() {
    let hub = TestHub::start().await;
    project_with_fees(&hub).await;
    let mut no_action = note("c-broken", CODE, "x");
    no_action.as_object_mut().unwrap().remove("action");
    let mut bad_time = note("c-time", CODE, "x");
    bad_time["issued_at"] = json!("昨天");
    let batch = json!([
        note("c-1", CODE, "已电话催缴"),
        no_action,
        note("c-2", "2025-320115-70-01-999999", "x"),
        bad_time,
        note("c-3", CODE, &"字".repeat(501)),
        envelope("c-4", json!({ "kind": "tracking", "project_code": CODE, "tracked": true })),
        note("c-5", "2025-320115-70-01-00000", "x"),
    ]);
    let (status, body) = send(&hub, batch).await;
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().unwrap();
    let summary: Vec<(&str, &str, &str)> = results
        .iter()
        .map(|r| (r["command_id"].as_str().unwrap(), r["outcome"].as_str().unwrap(), r["code"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        summary,
        [
            ("c-1", "accepted", ""),
            ("c-broken", "rejected", "invalid_command"),
            ("c-2", "rejected", "unknown_project"),
            ("c-time", "rejected", "invalid_command"),
            ("c-3", "rejected", "invalid_command"),
            ("c-4", "accepted", ""),
            ("c-5", "rejected", "invalid_command"),
        ]
    );
    assert!(results[1]["reason"].as_str().unwrap().contains("action"), "{}", results[1]);
    assert!(results[3]["reason"].as_str().unwrap().contains("issued_at"), "{}", results[3]);
    assert!(results[4]["reason"].as_str().unwrap().contains("500"), "{}", results[4]);
    let misshapen = results[6]["reason"].as_str().unwrap();
    assert!(misshapen.contains("项目代码") && misshapen.contains("第24位"), "{}", results[6]);
    assert_eq!(body["head"], hub.head().await);
}

#[tokio::test]
async fn a_request_the_hub_cannot_answer_per_command_is_refused_whole() {
    let hub = TestHub::start().await;
    project_with_fees(&hub).await;
    let head = hub.head().await;

    let mut anonymous = note("x", CODE, "x");
    anonymous.as_object_mut().unwrap().remove("command_id");
    let (status, body) = send(&hub, json!([note("c-1", CODE, "ok"), anonymous])).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!((body["errors"][0]["record"].as_u64(), body["errors"][0]["field"].as_str()), (Some(1), Some("command_id")));
    let (status, body) = send(&hub, json!([note(&"长".repeat(65), CODE, "x")])).await;
    assert_eq!(status, 422, "an id too long to answer under: {body}");
    assert_eq!(body["errors"][0]["field"].as_str(), Some("command_id"), "{body}");

    let many: Vec<Value> = (0..1001).map(|i| note(&format!("c-{i}"), CODE, "x")).collect();
    let (status, body) = send(&hub, Value::Array(many)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("1000"), "{body}");

    let response = hub.client.post(format!("{}/v1/commands", hub.url)).body("{\"commands\": [").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(hub.head().await, head, "nothing of a refused request is run");
}

/// One request of a generated schedule: which commands it carries, in order, repeats
/// included (a counter re-sending after a lost answer, or two retries racing).
#[derive(Debug, Clone)]
struct Delivery {
    commands: Vec<usize>,
}

fn schedules() -> impl Strategy<Value = (usize, Vec<Delivery>)> {
    (1usize..12).prop_flat_map(|n| {
        let delivery = prop::collection::vec(0..n, 1..6).prop_map(|commands| Delivery { commands });
        (Just(n), prop::collection::vec(delivery, 1..20))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any interleaving of retries and duplicates, within and across requests, gives each
    /// command exactly one effect, and every repeat gets the first answer.
    #[test]
    fn retries_and_duplicates_have_exactly_once_effects((_commands, deliveries) in schedules()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let hub = TestHub::start().await;
            project_with_fees(&hub).await;
            let start = hub.head().await;
            // Notes add a row each; tracking commands alternate the flag, so a repeat that
            // ran again would show as an extra change.
            let command = |i: usize| -> CommandEnvelope {
                let action = if i.is_multiple_of(2) {
                    ClerkAction::FollowUpNote { project_code: CODE.parse().unwrap(), text: format!("第{i}条") }
                } else {
                    ClerkAction::Tracking { project_code: CODE.parse().unwrap(), tracked: i % 4 == 1 }
                };
                serde_json::from_value(envelope(&format!("cmd-{i}"), serde_json::to_value(action).unwrap())).unwrap()
            };
            let mut first = std::collections::HashMap::new();
            let mut ran = std::collections::BTreeSet::new();
            for delivery in &deliveries {
                let (status, body) = send(&hub, serde_json::to_value(delivery.commands.iter().map(|&i| command(i)).collect::<Vec<_>>()).unwrap()).await;
                assert_eq!(status, 200, "{body}");
                for (&i, result) in delivery.commands.iter().zip(body["results"].as_array().unwrap()) {
                    let outcome = (result["outcome"].clone(), result["seq"].clone());
                    assert_eq!(result["repeated"], json!(!ran.insert(i)), "command {i}: {result}");
                    let seen = first.entry(i).or_insert_with(|| outcome.clone());
                    assert_eq!(*seen, outcome, "command {i} answered differently on a repeat");
                }
            }
            let log = hub.log().await;
            let appended: Vec<&Value> = log.iter().filter(|c| c["seq"].as_u64().unwrap() > start).collect();
            let seqs: std::collections::BTreeSet<u64> = first.values().filter_map(|(_, seq)| seq.as_u64()).collect();
            assert_eq!(appended.len(), seqs.len(), "one change per command that changed something");
            let notes = appended.iter().filter(|c| c["entity"] == EntityKind::FollowUpNote.as_str()).count();
            assert_eq!(notes, ran.iter().filter(|i| *i % 2 == 0).count());
            for (i, (outcome, _)) in &first {
                assert_eq!(outcome, "accepted", "command {i}");
            }
            hub.stop().await;
        });
    }
}
