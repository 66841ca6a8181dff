//! The shell's wiring through Tauri's real IPC layer (mock runtime, no window): each
//! command the UI invokes reaches the replica and answers in the shape ui/src/api.ts reads.

use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::{InvokeRequest, WebviewWindow, WebviewWindowBuilder};

use time::{Duration, OffsetDateTime};
use yizhan_app::{Counter, Settings};
use yizhan_core::access::{BuiltinRole, DataScope};
use yizhan_core::account::SecurityPolicy;
use yizhan_core::password::hash_with_salt;
use yizhan_sync::integrity::HubSigner;
use yizhan_sync::protocol::Person;
use yizhan_sync::protocol::device::Enrolment;
use yizhan_sync::replica::{KeptSignIn, Replica};

const PASSWORD: &str = "Counter-2026";

/// `account` as this counter keeps them after an online sign-in `days_ago`, with a
/// verifier of [`PASSWORD`] (of a low cost, which still checks, so the test is quick).
fn kept(account: &str, real_name: &str, role: BuiltinRole, days_ago: i64) -> KeptSignIn {
    KeptSignIn {
        person: Person {
            account: account.parse().unwrap(),
            real_name: real_name.into(),
            roles: vec![role.id().into()],
            role_names: vec![role.name().into()],
            permissions: role.default_permissions(),
            scopes: vec![DataScope::All],
            second_factor: role.needs_second_factor(),
        },
        policy: SecurityPolicy::default(),
        verifier: hash_with_salt(PASSWORD, &[9; 16], 1_000),
        online_at: OffsetDateTime::now_utc() - Duration::days(days_ago),
        failures: 0,
        first_failure_at: None,
        locked_until: None,
    }
}

/// A counter keeping its replica under `data`, its hub down: port 9 (discard) on
/// loopback, where nothing listens.
fn unreachable_hub(data: &std::path::Path) -> Settings {
    Settings { hub_url: "http://127.0.0.1:9".into(), hub_ca: None, data_dir: data.join("counter"), hub_key: None, enrolment_code: None }
}

/// What a hub answers a PC enrolled as `device_id`.
fn enrolment(device_id: &str) -> Enrolment {
    Enrolment {
        device_id: device_id.parse().unwrap(),
        name: "测试窗口".into(),
        scope: DataScope::All,
        hub_key: HubSigner::generate().public_key().to_hex(),
        clock_margin_seconds: 120,
    }
}

fn invoke(webview: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().unwrap())
}

#[test]
fn commands_answer_from_the_replica_while_the_hub_is_unreachable() {
    let data = tempfile::tempdir().unwrap();
    let settings = unreachable_hub(data.path());
    std::fs::create_dir_all(&settings.data_dir).unwrap();
    let mut replica = Replica::open(settings.replica_path()).unwrap();
    replica.keep_sign_in(&kept("clerk01", "王芳", BuiltinRole::Clerk, 1)).unwrap();
    replica.keep_sign_in(&kept("clerk02", "陈晓", BuiltinRole::Clerk, 8)).unwrap();
    replica.keep_sign_in(&kept("chief01", "李建国", BuiltinRole::Supervisor, 1)).unwrap();
    replica.enrol(&enrolment("ipc-01")).unwrap();
    drop(replica);
    let app = yizhan_app::builder(mock_builder()).build(mock_context(noop_assets())).unwrap();
    let counter = Counter::start(&settings, app.handle().clone()).unwrap().expect("an enrolled PC starts syncing");
    yizhan_app::manage(app.handle(), counter);
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();

    // Nobody signed in: nothing of the replica is shown.
    assert_eq!(invoke(&webview, "current_person", json!({})).unwrap(), Value::Null);
    let anonymous = invoke(&webview, "list_projects", json!({ "query": { "offset": 0, "limit": 50 } })).unwrap_err();
    assert_eq!(anonymous["code"], "not_signed_in", "{anonymous}");

    // The hub is down: a clerk kept here signs in offline; a wrong password, an unknown
    // account and a kept sign-in older than the policy's 7 days read alike.
    let sign_in = |account: &str, password: &str| {
        invoke(&webview, "sign_in", json!({ "account": account, "password": password, "code": null }))
    };
    let wrong = sign_in("clerk01", "Counter-2025").unwrap_err();
    let unknown = sign_in("nobody", PASSWORD).unwrap_err();
    let lapsed = sign_in("clerk02", PASSWORD).unwrap_err();
    assert_eq!(wrong["code"], "offline_login_failed", "{wrong}");
    assert_eq!(wrong, unknown, "nobody learns which accounts exist here");
    assert_eq!(wrong, lapsed, "an online sign-in more than 7 days ago does not let a clerk in offline");
    let supervisor = sign_in("chief01", PASSWORD).unwrap_err();
    assert_eq!(supervisor["code"], "second_factor_online_only", "{supervisor}");
    let empty = sign_in(" ", PASSWORD).unwrap_err();
    assert_eq!((empty["code"].as_str(), empty["field"].as_str()), (Some("invalid_input"), Some("account")));

    let person = sign_in(" clerk01 ", PASSWORD).unwrap();
    assert_eq!((person["account"].as_str(), person["real_name"].as_str()), (Some("clerk01"), Some("王芳")));
    assert_eq!(person["role_names"], json!(["窗口人员"]));
    assert_eq!((person["offline"].as_bool(), person["locked"].as_bool()), (Some(true), Some(false)));
    assert_eq!(person["idle_minutes"], 15);
    assert_eq!(invoke(&webview, "current_person", json!({})).unwrap(), person);

    assert!(settings.replica_path().exists(), "the replica file is created at start");

    let districts = invoke(&webview, "districts", json!({})).unwrap();
    assert_eq!(districts.as_array().unwrap().len(), 11);
    assert_eq!(districts[0], json!({ "code": "320102", "name": "玄武区" }));

    let page = invoke(&webview, "list_projects", json!({ "query": { "offset": 0, "limit": 50, "search": "南京" } })).unwrap();
    assert_eq!(page["total"], 0);
    assert_eq!(page["counts"]["all"], 0);
    assert_eq!(page["rows"], json!([]));

    let missing = invoke(&webview, "get_project", json!({ "projectCode": " 2019-320105-47-01-123456 " })).unwrap_err();
    assert_eq!(missing["code"], "not_found", "a failure answers with its code: {missing}");
    let message = missing["message"].as_str().unwrap();
    assert!(message.contains("2019-320105-47-01-123456") && message.contains("没有"), "{message}");
    let misshapen = invoke(&webview, "get_project", json!({ "projectCode": "2019-320105" })).unwrap_err();
    assert_eq!((misshapen["code"].as_str(), misshapen["field"].as_str()), (Some("invalid_input"), Some("project_code")), "{misshapen}");
    assert!(misshapen["message"].as_str().unwrap().contains("第12位"), "{misshapen}");

    let bad_query = invoke(&webview, "list_projects", json!({ "query": { "offset": -1, "limit": 50 } }));
    assert!(bad_query.is_err(), "a negative offset is refused at the IPC boundary");

    let status = invoke(&webview, "sync_status", json!({})).unwrap();
    assert_eq!(status["hub_url"], "http://127.0.0.1:9");
    assert_eq!(status["cursor"], 0);
    assert_eq!(status["outbox"], json!({ "pending": 0, "conflicts": 0 }));

    // Before the first snapshot there is nothing to check a command against: refused, not queued.
    let early = invoke(&webview, "record_final_check", json!({ "projectCode": "2019-320105-47-01-123456", "remark": "" }))
        .unwrap_err();
    assert_eq!(early["code"], "not_ready", "{early}");
    assert!(early["message"].as_str().unwrap().contains("尚未从数据中心取得全量数据"), "{early}");
    let note = invoke(&webview, "add_follow_up_note", json!({ "projectCode": "2019-320105-47-01-123456" }));
    assert!(note.is_err(), "a note without its text is refused at the IPC boundary");
    assert_eq!(invoke(&webview, "list_conflicts", json!({})).unwrap(), json!([]));
    let gone = invoke(&webview, "discard_conflict", json!({ "commandId": "no-such-command" })).unwrap_err();
    assert_eq!(gone["code"], "not_found", "{gone}");
    assert!(gone["message"].as_str().unwrap().contains("no-such-command"), "{gone}");

    // Documents: what can be checked offline answers, what needs the replica says why.
    let signing = invoke(&webview, "signing_status", json!({})).unwrap();
    assert_eq!(signing["serials_left"], json!([{ "kind": "voucher", "left": 0 }, { "kind": "invoice", "left": 0 }]));
    assert_eq!(signing["ready"].as_bool(), Some(signing["problem"].is_null()), "{signing}");
    let scanned = invoke(&webview, "verify_document", json!({ "text": "http://hub/verify?k=voucher&n=PZ12" })).unwrap_err();
    assert_eq!((scanned["code"].as_str(), scanned["field"].as_str()), (Some("invalid_input"), Some("text")), "{scanned}");
    assert!(scanned["message"].as_str().unwrap().contains("n"), "the malformed field is named: {scanned}");
    let issued = invoke(&webview, "issue_document", json!({ "projectCode": "2019-320105-47-01-123456", "kind": "voucher" }));
    assert!(issued.is_err(), "nothing to issue from before the first snapshot");
    let kind = invoke(&webview, "issue_document", json!({ "projectCode": "2019-320105-47-01-123456", "kind": "receipt" }));
    assert!(kind.is_err(), "an unknown document kind is refused at the IPC boundary");
    let preview = invoke(&webview, "document_preview", json!({ "number": "PZ0000000001", "width": 800 })).unwrap_err();
    assert_eq!(preview["code"], "not_found", "{preview}");
    assert!(preview["message"].as_str().unwrap().contains("PZ0000000001"), "{preview}");

    // A clerk may not void: that is a supervisor's, refused before anything is queued.
    let void = invoke(&webview, "void_document", json!({ "projectCode": "2019-320105-47-01-123456", "number": "PZ0000000001", "reason": "录入错误" }))
        .unwrap_err();
    assert_eq!(void["code"], "forbidden", "{void}");
    assert!(void["message"].as_str().unwrap().contains("document:void"), "{void}");
    let feeds = invoke(&webview, "list_quarantine", json!({ "state": null })).unwrap_err();
    assert_eq!(feeds["code"], "forbidden", "the admin area is not a clerk's: {feeds}");

    // Locked, nothing answers until the same clerk gives the password again.
    assert_eq!(invoke(&webview, "lock_screen", json!({ "idle": true })).unwrap()["locked"], true);
    let locked = invoke(&webview, "list_projects", json!({ "query": { "offset": 0, "limit": 50 } })).unwrap_err();
    assert_eq!(locked["code"], "screen_locked", "{locked}");
    let wrong = invoke(&webview, "unlock", json!({ "password": "Counter-2025" })).unwrap_err();
    assert_eq!(wrong["code"], "wrong_password", "{wrong}");
    assert_eq!(invoke(&webview, "unlock", json!({ "password": PASSWORD })).unwrap()["locked"], false);
    assert!(invoke(&webview, "list_projects", json!({ "query": { "offset": 0, "limit": 50 } })).is_ok());

    // Offline there is no password change; signing out leaves nobody.
    let change = invoke(&webview, "change_password", json!({ "currentPassword": PASSWORD, "newPassword": "Counter-2027" })).unwrap_err();
    assert_eq!(change["code"], "offline", "{change}");
    invoke(&webview, "sign_out", json!({})).unwrap();
    assert_eq!(invoke(&webview, "current_person", json!({})).unwrap(), Value::Null);
    // All of it is on this counter's own audit trail, waiting for the hub.
    let trail = Replica::open(settings.replica_path()).unwrap().audit_to_send(100).unwrap();
    let events: Vec<(&str, bool)> = trail.iter().map(|r| (r.event.as_str(), r.result.is_ok())).collect();
    assert!(
        events.ends_with(&[("timeout", true), ("screen_unlocked", false), ("screen_unlocked", true), ("logout", true)]),
        "{events:?}"
    );

    // Five wrong passwords lock the kept clerk out here for the policy's 10 minutes.
    for _ in 0..5 {
        sign_in("clerk01", "Counter-2025").unwrap_err();
    }
    let locked_out = sign_in("clerk01", PASSWORD).unwrap_err();
    assert_eq!(locked_out, unknown, "a lockout reads as any other failure");
}

#[test]
fn a_pc_not_enrolled_opens_on_its_first_run_screen_whose_mistakes_are_named_by_field() {
    let data = tempfile::tempdir().unwrap();
    let settings = unreachable_hub(data.path());
    let app = yizhan_app::builder(mock_builder()).build(mock_context(noop_assets())).unwrap();
    assert!(Counter::start(&settings, app.handle().clone()).unwrap().is_none(), "nothing syncs before the PC enrols");
    tauri::Manager::manage(&app, yizhan_app::FirstRun::new(settings.clone(), false, app.handle().clone()));
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();

    let stage = invoke(&webview, "counter_stage", json!({})).unwrap();
    assert_eq!(stage, json!({ "stage": "first_run", "hub_url": "http://127.0.0.1:9" }));

    let enrol = |hub_url: &str, hub_ca: Option<&str>, code: &str| {
        invoke(&webview, "enrol_counter", json!({ "hubUrl": hub_url, "hubCa": hub_ca, "code": code })).unwrap_err()
    };
    let field = |refused: &Value| (refused["code"].as_str().unwrap().to_owned(), refused["field"].as_str().unwrap().to_owned());
    let plain = enrol("http://10.0.0.5:8640", None, "ABCD-EFGH-JKMN");
    assert_eq!(field(&plain), ("invalid_input".into(), "hub_url".into()), "{plain}");
    assert!(plain["message"].as_str().unwrap().contains("明文 HTTP"), "{plain}");
    let no_ca = enrol("https://hub.example:8640", None, "ABCD-EFGH-JKMN");
    assert_eq!(field(&no_ca), ("invalid_input".into(), "hub_ca".into()), "{no_ca}");
    let junk_ca = enrol("https://hub.example:8640", Some("<script>alert(1)</script>"), "ABCD-EFGH-JKMN");
    assert_eq!(field(&junk_ca), ("invalid_input".into(), "hub_ca".into()), "{junk_ca}");
    let no_code = enrol("http://127.0.0.1:9", None, "  ");
    assert_eq!(field(&no_code), ("invalid_input".into(), "code".into()), "{no_code}");
    let inspected = invoke(&webview, "inspect_hub_ca", json!({ "pem": "not a certificate" })).unwrap_err();
    assert_eq!(field(&inspected), ("invalid_input".into(), "hub_ca".into()), "{inspected}");

    let replica = Replica::open(settings.replica_path()).unwrap();
    assert_eq!(replica.enrolment().unwrap(), None, "nothing refused is kept");
}
