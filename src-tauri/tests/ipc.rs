//! The shell's wiring through Tauri's real IPC layer (mock runtime, no window): each
//! command the UI invokes reaches the replica and answers in the shape ui/src/api.ts reads.

use serde_json::{Value, json};
use tauri::Manager;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::{InvokeRequest, WebviewWindow, WebviewWindowBuilder};
use yizhan_app::{Counter, Settings};

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
    // Port 9 (discard) on loopback: nothing listens, as when the hub is down.
    let settings = Settings {
        hub_url: "http://127.0.0.1:9".into(),
        data_dir: data.path().join("counter"),
        clerk: "窗口03-王芳".into(),
        hub_key: None,
    };
    let app = yizhan_app::builder(mock_builder()).build(mock_context(noop_assets())).unwrap();
    let counter = Counter::start(&settings, app.handle().clone()).unwrap();
    app.manage(counter);
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();

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
}
