//! Clerk commands at the hub: decided by the domain rules against the hub's state, run
//! exactly once per command id however often they arrive, each answered on its own.

mod common;

use common::{CODE, TestHub, clearance, pay_everything, project_with_fees, seed_clerks, signed};
use proptest::prelude::*;
use serde_json::{Value, json};
use yizhan_core::command::ClerkAction;
use yizhan_core::entity::EntityKind;
use yizhan_sync::protocol::CommandEnvelope;
use yizhan_voucher::signature::CounterKey;

const DEVICE: &str = "counter-01";

/// The key of the suites' counter `DEVICE`.
static KEY: std::sync::LazyLock<CounterKey> = std::sync::LazyLock::new(CounterKey::generate);

/// A hub with the demo accounts, `DEVICE`'s key registered.
async fn start() -> TestHub {
    let mut hub = TestHub::start().await;
    seed_clerks(&hub.hub).await;
    hub.act_as(DEVICE, &KEY).await;
    hub
}

/// A command as the counter sends it, issued by 王芳 (clerk01) there.
fn envelope(id: &str, action: Value) -> Value {
    signed(unsigned(id, action), "clerk01", &KEY)
}

fn unsigned(id: &str, action: Value) -> Value {
    json!({
        "command_id": id,
        "device_id": DEVICE,
        "clerk": "王芳（clerk01）",
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

#[tokio::test]
async fn a_final_check_stands_only_once_the_project_is_cleared_and_only_once() {
    let hub = start().await;
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
    assert_eq!(logged["payload"]["checked_by"], "王芳（clerk01）");

    // The answer was lost and the counter sends it again: same answer, nothing new.
    let again = run(&hub, final_check("c-1")).await;
    assert_eq!((again["outcome"].clone(), again["seq"].clone(), again["repeated"].clone()), (json!("accepted"), done["seq"].clone(), json!(true)));
    assert_eq!(hub.head().await, head + 1);

    let altered = envelope("c-1", json!({ "kind": "final_check", "project_code": CODE, "remark": "改过的意见" }));
    let reused = run(&hub, altered).await;
    assert_eq!(reused["code"], "command_id_reused", "{reused}");

    let second = run(&hub, final_check("c-2")).await;
    assert_eq!(second["code"], "already_checked", "{second}");
    assert!(second["reason"].as_str().unwrap().contains("王芳（clerk01）"), "{second}");
    assert_eq!(hub.head().await, head + 1);
}

#[tokio::test]
async fn each_command_of_a_batch_is_answered_on_its_own() {
    let hub = start().await;
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
    let hub = start().await;
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

    let response = hub.client.post(format!("{}/v1/commands", hub.url)).header("content-type", "application/json").body("{\"commands\": [").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(hub.head().await, head, "nothing of a refused request is run");
}

/// One request of a generated schedule: which commands it carries, in order, repeats
/// included (a counter re-sending after a lost answer, or two retries racing).
/// Sends `command` and answers its result and the audit record the hub wrote of it.
async fn run_audited(hub: &TestHub, command: Value) -> (Value, yizhan_hub::store::AuditRecord) {
    let result = run(hub, command).await;
    let query = yizhan_hub::store::AuditQuery { event: None, limit: 1, ..Default::default() };
    let records = hub.hub.store().search_audit(&query).await.unwrap();
    (result, records.into_iter().next().expect("an audit record of the command"))
}

#[tokio::test]
async fn a_command_is_the_signed_in_clerks_by_the_counters_signature_never_by_its_body() {
    let hub = start().await;
    project_with_fees(&hub).await;
    let head = hub.head().await;

    // The body names another clerk; the counter signed for clerk01: the hub records 王芳.
    let mut claimed = unsigned("n-1", json!({ "kind": "follow_up_note", "project_code": CODE, "text": "已电话催缴" }));
    claimed["clerk"] = json!("李建国（chief01）");
    let (result, audit) = run_audited(&hub, signed(claimed, "clerk01", &KEY)).await;
    assert_eq!(result["outcome"], "accepted", "{result}");
    let logged = hub.log().await.pop().unwrap();
    assert_eq!(logged["payload"]["written_by"], "王芳（clerk01）", "{logged}");
    assert_eq!(
        (audit.user.as_str(), audit.role.as_str(), audit.device.as_str(), audit.event.as_str(), audit.result.as_str()),
        ("clerk01", "clerk", DEVICE, "clerk_command", "success")
    );
    assert_eq!(audit.object, format!("follow_up_note {CODE}"));
    assert_eq!(audit.local_at, Some(time::macros::datetime!(2026-11-24 02:30 UTC)), "the counter's time beside the hub's");
    assert_eq!(audit.address, "127.0.0.1");

    // Unsigned (queued before sign-in existed), signed by another key, or changed after
    // signing: refused, and on record as refused.
    let note = |id: &str| json!({ "kind": "follow_up_note", "project_code": CODE, "text": format!("第{id}条") });
    let (unsigned_result, audit) = run_audited(&hub, unsigned("n-2", note("2"))).await;
    assert_eq!(unsigned_result["code"], "unsigned_command", "{unsigned_result}");
    assert_eq!((audit.event.as_str(), audit.result.as_str()), ("clerk_command", "failure"));
    assert!(audit.reason.starts_with("unsigned_command"), "{}", audit.reason);
    let stranger = CounterKey::generate();
    assert_eq!(run(&hub, signed(unsigned("n-3", note("3")), "clerk01", &stranger)).await["code"], "bad_signature");
    let mut swapped = envelope("n-4", note("4"));
    swapped["account"] = json!("chief01");
    let (swapped, audit) = run_audited(&hub, swapped).await;
    assert_eq!(swapped["code"], "bad_signature", "another account than the one signed for: {swapped}");
    assert_eq!(audit.user, "chief01（未核实）");
    let mut retimed = envelope("n-5", note("5"));
    retimed["issued_at"] = json!("2026-11-23T02:30:00Z");
    assert_eq!(run(&hub, retimed).await["code"], "bad_signature");
    assert_eq!(run(&hub, signed(unsigned("n-6", note("6")), "nobody", &KEY)).await["code"], "unknown_clerk");
    assert_eq!(hub.head().await, head + 1, "nothing refused is written");

    // A clerk may not void (a supervisor's permission), checked as the clerk stood then.
    let void = json!({ "kind": "void_document", "project_code": CODE, "number": "PZ0000000001", "reason": "有误" });
    let refused = run(&hub, envelope("v-1", void.clone())).await;
    assert_eq!(refused["code"], "not_permitted", "{refused}");
    assert!(refused["reason"].as_str().unwrap().contains("document:void"), "{refused}");
    // Before the account existed it could do nothing.
    let mut early = unsigned("n-7", note("7"));
    early["issued_at"] = json!("2026-01-05T02:30:00Z");
    assert_eq!(run(&hub, signed(early, "clerk01", &KEY)).await["code"], "clerk_not_active");
}

#[tokio::test]
async fn a_command_queued_before_the_clerks_account_was_disabled_is_taken_and_flagged_orange() {
    let desk = yizhan_hub::alerts::AlertDesk::new(None, yizhan_core::clock::Clock::system(), std::time::Duration::from_millis(50));
    let mut hub = TestHub::start_with_alerts(desk).await;
    seed_clerks(&hub.hub).await;
    hub.act_as(DEVICE, &KEY).await;
    project_with_fees(&hub).await;
    // Queued offline at the counter while clerk01 was active; the account is disabled
    // before the counter comes back.
    let issued_at = time::OffsetDateTime::now_utc() - time::Duration::minutes(5);
    let mut queued = unsigned("n-1", json!({ "kind": "follow_up_note", "project_code": CODE, "text": "离线时记录" }));
    queued["issued_at"] = json!(issued_at.format(&time::format_description::well_known::Rfc3339).unwrap());
    let sysadmin = yizhan_hub::accounts::Principal {
        account: "sysadmin".parse().unwrap(),
        real_name: "赵敏".into(),
        roles: vec!["system_admin".into()],
        permissions: yizhan_core::access::BuiltinRole::SystemAdmin.default_permissions(),
        scopes: Vec::new(),
        session_id: String::new(),
        must_change_password: false,
        must_enrol_second_factor: false,
        address: "127.0.0.1".into(),
        device: None,
    };
    hub.hub.set_user_status(&sysadmin, "clerk01", yizhan_hub::store::UserStatus::Disabled).await.unwrap();
    let (result, audit) = run_audited(&hub, signed(queued, "clerk01", &KEY)).await;
    assert_eq!(result["outcome"], "accepted", "the clerk could issue it then: {result}");
    assert_eq!((audit.event.as_str(), audit.user.as_str()), ("clerk_command_disabled_account", "clerk01"));
    let mut flagged = Value::Null;
    for _ in 0..400 {
        let (_, page) = hub.get("/v1/alerts?state=all&limit=500").await;
        if let Some(alert) = page["alerts"].as_array().unwrap().iter().find(|a| a["key"] == "disabled-account-command:security/disabled-account") {
            flagged = alert.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(flagged["level"], "orange", "{flagged}");
    assert!(flagged["message"].as_str().unwrap().contains("clerk01"), "{flagged}");

    // One issued after the account was disabled is refused.
    let mut after = unsigned("n-2", json!({ "kind": "follow_up_note", "project_code": CODE, "text": "停用后" }));
    after["issued_at"] = json!(time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap());
    assert_eq!(run(&hub, signed(after, "clerk01", &KEY)).await["code"], "clerk_not_active");
}

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
            let hub = start().await;
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

#[tokio::test]
async fn an_alert_goes_only_to_a_person_who_handles_alerts_and_up_only_by_a_supervisors_hand() {
    let hub = start().await;
    let handle = |id: &str, account: &str, handling: Value| {
        let action = json!({ "kind": "handle_alert", "alert_key": "payment-overdue:project/x", "project_code": CODE, "handling": handling });
        signed(unsigned(id, action), account, &KEY)
    };
    let assign = |to: &str| json!({ "step": "assign", "assignee": to });
    let refused = run(&hub, handle("a-1", "chief01", assign("nobody99"))).await;
    assert_eq!(refused["code"], "assignee_unknown", "{refused}");
    let refused = run(&hub, handle("a-2", "chief01", assign("auditor"))).await;
    assert_eq!(refused["code"], "assignee_not_permitted", "the audit administrator answers no alerts: {refused}");
    let refused = run(&hub, handle("a-3", "chief01", assign("王芳"))).await;
    assert!(refused["reason"].as_str().unwrap().contains("assignee"), "a name is no account: {refused}");
    // To a clerk, the check passes: what is left is that the hub holds no such alert.
    assert_eq!(run(&hub, handle("a-4", "chief01", assign("clerk02"))).await["code"], "unknown_alert");
    assert_eq!(run(&hub, handle("a-5", "clerk01", assign("clerk02"))).await["code"], "not_permitted", "assigning is the supervisor's");

    let escalate = json!({ "step": "escalate", "reason": "建设单位失联" });
    assert_eq!(run(&hub, handle("e-1", "clerk01", escalate.clone())).await["code"], "not_permitted", "escalating is the supervisor's");
    assert_eq!(run(&hub, handle("e-2", "chief01", escalate)).await["code"], "unknown_alert");
}
