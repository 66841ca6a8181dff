//! The hub's document endpoints under bad, hostile and oversized input: counter keys,
//! number segments, documents signed by the wrong key or numbered outside their segment,
//! PDFs that are not the recorded ones, and verification of whatever a scanner reads.

mod common;

use common::TestHub;
use serde_json::{Value, json};
use yizhan_core::document::{Document, DocumentKind, DocumentNumber};
use yizhan_voucher::qr::QrPayload;
use yizhan_voucher::signature::CounterKey;

async fn segment(hub: &TestHub, device: &str, kind: &str, size: u64) -> (u16, Value) {
    hub.post_json_to("/v1/segments", serde_json::to_vec(&json!({ "device_id": device, "kind": kind, "size": size })).unwrap()).await
}

/// The specimen for the suite's project, numbered `serial`, issued by `device`.
fn document(serial: u64, device: &str) -> Document {
    Document {
        number: DocumentNumber { kind: DocumentKind::Voucher, serial },
        project_code: common::CODE.parse().unwrap(),
        payer_uscc: common::USCC.parse().unwrap(),
        device_id: device.parse().unwrap(),
        ..Document::specimen()
    }
}

#[tokio::test]
async fn segments_go_to_the_enrolled_counter_asking_only_and_never_overlap() {
    let mut hub = TestHub::start().await;
    let (_, second_client) = hub.client_as("counter-02", &CounterKey::generate()).await;
    hub.act_as("counter-01", &CounterKey::generate()).await;
    let (status, body) = segment(&hub, "counter-02", "voucher", 100).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("device_mismatch")), "a PC asks for its own segments only: {body}");
    for size in [0, 1_001] {
        let (status, body) = segment(&hub, "counter-01", "voucher", size).await;
        assert_eq!(status, 400);
        assert!(body["message"].as_str().unwrap().contains("size"), "{body}");
    }
    let (status, body) = segment(&hub, "counter-01", "receipt", 10).await;
    assert_eq!(status, 400, "{body}");
    for device in ["", "counter\u{7}01", &"长".repeat(65)] {
        let (status, body) = segment(&hub, device, "voucher", 10).await;
        let message = body["message"].as_str().unwrap();
        assert_eq!((status, body["code"].as_str()), (400, Some("invalid_body")), "{body}");
        assert!(message.contains("device_id") && message.contains("1–64 个字符"), "the field and the rule are named: {body}");
        assert!(!message.contains("records"), "the advice is about this route's body: {body}");
    }
    let requests: Vec<_> = (0..20)
        .map(|i| {
            let url = hub.url.clone();
            let (device, client) = if i % 2 == 0 { ("counter-01", hub.client.clone()) } else { ("counter-02", second_client.clone()) };
            tokio::spawn(async move {
                let answer: Value = client
                    .post(format!("{url}/v1/segments"))
                    .json(&json!({ "device_id": device, "kind": "voucher", "size": 50 }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                (answer["first"].as_u64().unwrap(), answer["last"].as_u64().unwrap())
            })
        })
        .collect();
    let mut ranges = Vec::new();
    for request in requests {
        ranges.push(request.await.unwrap());
    }
    ranges.sort();
    assert_eq!(ranges.first(), Some(&(1, 50)));
    for pair in ranges.windows(2) {
        assert_eq!(pair[1].0, pair[0].1 + 1, "segments follow one another with no gap and no overlap: {ranges:?}");
    }
    let (_, invoice) = segment(&hub, "counter-01", "invoice", 10).await;
    assert_eq!(invoice["first"], 1, "each kind is numbered on its own");
}

/// `doc` signed with `signer`, sent as its counter (whose key is `counter`) sends it,
/// issued by 王芳 (clerk01).
async fn issue(hub: &TestHub, command_id: &str, device: &str, doc: &Document, signer: &CounterKey, counter: &CounterKey) -> Value {
    send_issue(hub, command_id, device, "clerk01", doc, signer, counter).await
}

/// `doc` issued by `account` at counter-01, whose key signs both.
async fn issue_as(hub: &TestHub, command_id: &str, account: &str, doc: &Document, key: &CounterKey) -> Value {
    send_issue(hub, command_id, "counter-01", account, doc, key, key).await
}

async fn send_issue(hub: &TestHub, command_id: &str, device: &str, account: &str, doc: &Document, signer: &CounterKey, counter: &CounterKey) -> Value {
    let payload = QrPayload::seal(doc, signer).unwrap();
    let command = json!({
        "command_id": command_id, "device_id": device, "clerk": account, "issued_at": "2026-11-24T02:30:00Z", "base_seq": 0,
        "action": { "kind": "issue_document", "project_code": common::CODE, "document": doc,
                    "signature": payload.signature_text(), "pdf_sm3": "ab".repeat(32) }
    });
    let command = common::signed(command, account, counter);
    let (status, body) = hub.post_json_to("/v1/commands", serde_json::to_vec(&json!({ "commands": [command] })).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body["results"][0].clone()
}

#[tokio::test]
async fn a_document_signed_by_another_key_or_numbered_outside_its_segment_is_refused() {
    let mut hub = TestHub::start().await;
    assert_eq!(hub.post("planning", json!([common::planning("建字第1号", common::CODE)])).await.0, 200);
    let key = CounterKey::generate();
    let stranger = CounterKey::generate();
    hub.act_as("counter-01", &key).await;
    assert_eq!(segment(&hub, "counter-01", "voucher", 10).await.0, 200);
    common::seed_clerks(&hub.hub).await;
    let another = issue(&hub, "c0", "counter-09", &document(1, "counter-09"), &key, &key).await;
    assert_eq!(another["code"], "invalid_command", "{another}");
    assert!(another["reason"].as_str().unwrap().contains("device_id"), "a PC sends its own commands only: {another}");
    let forged = issue(&hub, "c1", "counter-01", &document(1, "counter-01"), &stranger, &key).await;
    assert_eq!(forged["code"], "bad_signature", "{forged}");
    let outside = issue(&hub, "c2", "counter-01", &document(11, "counter-01"), &key, &key).await;
    assert_eq!(outside["code"], "not_in_segment", "{outside}");
    assert!(hub.log().await.iter().all(|c| c["entity"] != "document"), "nothing refused is on record");
    let accepted = issue(&hub, "c3", "counter-01", &document(1, "counter-01"), &key, &key).await;
    assert_eq!(accepted["outcome"], "accepted", "{accepted}");
    let response = hub.client.put(format!("{}/v1/documents/PZ0000000001/pdf", hub.url)).header("content-type", "application/pdf").body(b"%PDF-1.7 another file".to_vec()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 409, "only the file whose SM3 is on record is kept");
    assert!(hub.hub.store().document_file(&"ab".repeat(32)).await.unwrap().is_none());
}

#[tokio::test]
async fn a_pdf_is_kept_only_for_a_recorded_document_and_only_if_it_is_the_recorded_file() {
    let hub = TestHub::start().await;
    let put = |number: &str, bytes: Vec<u8>| {
        let request = hub.client.put(format!("{}/v1/documents/{number}/pdf", hub.url)).header("content-type", "application/pdf").body(bytes);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = put("PZ0000000001", b"%PDF-1.7".to_vec()).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("unknown_document")), "{body}");
    let (status, body) = put("PZ1", b"%PDF-1.7".to_vec()).await;
    assert_eq!(status, 400, "a malformed number is named: {body}");
    let (status, body) = put("PZ0000000001", vec![b'%'; 3 * 1024 * 1024]).await;
    assert_eq!((status, body["code"].as_str()), (413, Some("body_too_large")), "{body}");
}

#[tokio::test]
async fn whatever_a_scanner_reads_gets_a_verdict_or_a_named_problem() {
    let hub = TestHub::start().await;
    let (status, body) = hub.get("/v1/verify?k=voucher&n=PZ12").await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("n"), "{body}");
    let (status, _) = hub.get(&format!("/v1/verify?{}", "A".repeat(10_000))).await;
    assert_eq!(status, 400);
    let key = CounterKey::generate();
    // A device id is any short printable text, so a hostile one reaches the page.
    let doc = document(5, "<script>alert(1)</script>");
    let url = QrPayload::seal(&doc, &key).unwrap().to_url("http://hub/verify");
    let query = url.split_once('?').unwrap().1;
    let (status, verdict) = hub.get(&format!("/v1/verify?{query}")).await;
    assert_eq!((status, verdict["verdict"].as_str()), (200, Some("unknown")), "an unregistered counter: {verdict}");
    let page = hub.client.get(format!("{}/verify?{query}", hub.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("无法识别") && page.contains("&lt;script&gt;") && !page.contains("<script>"), "{page}");
    let page = hub.client.get(format!("{}/verify?garbage", hub.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("无法识别") && page.contains("缺少字段"), "{page}");
    // A project code of the wrong shape is named, not echoed.
    let hostile_code = query.replace(&format!("p={}", common::CODE), "p=%3Cscript%3E");
    assert_ne!(hostile_code, query, "the QR carries the document's project code");
    let (status, body) = hub.get(&format!("/v1/verify?{hostile_code}")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("项目代码格式不正确") && !body.to_string().contains("<script>"), "{body}");
}

#[tokio::test]
async fn the_clerk_who_recorded_the_final_check_cannot_issue_its_documents_even_past_the_counter() {
    let mut hub = TestHub::start().await;
    common::seed_clerks(&hub.hub).await;
    common::project_with_fees(&hub).await;
    common::pay_everything(&hub).await;
    assert_eq!(hub.post("tax", json!([common::clearance("WS-1", common::CODE)])).await.0, 200);
    let key = CounterKey::generate();
    hub.act_as("counter-01", &key).await;
    assert_eq!(segment(&hub, "counter-01", "voucher", 10).await.0, 200);
    let check = json!({
        "command_id": "fc-1", "device_id": "counter-01", "clerk": "王芳（clerk01）", "issued_at": "2026-11-24T02:00:00Z", "base_seq": 0,
        "action": { "kind": "final_check", "project_code": common::CODE, "remark": "" }
    });
    let (_, body) = hub.post_json_to("/v1/commands", serde_json::to_vec(&json!({ "commands": [common::signed(check, "clerk01", &key)] })).unwrap()).await;
    assert_eq!(body["results"][0]["outcome"], "accepted", "{body}");

    // A counter that skipped its own check (or had not heard of the 复核) is refused here.
    let same = issue(&hub, "d-1", "counter-01", &document(1, "counter-01"), &key, &key).await;
    assert_eq!(same["code"], "four_eyes", "{same}");
    assert!(same["reason"].as_str().unwrap().contains("王芳（clerk01）"), "{same}");
    assert!(hub.log().await.iter().all(|c| c["entity"] != "document"), "nothing refused is on record");
    let other = issue_as(&hub, "d-2", "clerk02", &document(1, "counter-01"), &key).await;
    assert_eq!(other["outcome"], "accepted", "{other}");
}

#[tokio::test]
async fn a_change_of_the_document_settings_is_on_record_with_before_and_after() {
    let hub = TestHub::start().await;
    let first = yizhan_core::document::DocumentSettings::new("南京市建设工程收费综合窗口", "32010126", "https://yizhan.example.gov.cn/verify").unwrap();
    hub.hub.set_document_settings(&first, "系统管理员-张伟").await.unwrap();
    let mut second = first.clone();
    second.single_clerk_kinds.insert(DocumentKind::Invoice);
    hub.hub.set_document_settings(&second, "系统管理员-张伟").await.unwrap();
    hub.hub.set_document_settings(&second, "系统管理员-张伟").await.unwrap();
    let query = yizhan_hub::store::AuditQuery { event: Some("config_changed".into()), limit: 10, ..Default::default() };
    let changes = hub.hub.store().search_audit(&query).await.unwrap();
    assert_eq!(changes.len(), 2, "setting what is already set changes nothing: {changes:#?}");
    assert_eq!((changes[0].user.as_str(), changes[0].object.as_str()), ("系统管理员-张伟", "document_settings"));
    let detail: Value = serde_json::from_str(&changes[0].detail).unwrap();
    assert_eq!(detail["after"]["single_clerk_kinds"], json!(["invoice"]), "{detail}");
    assert!(detail["before"]["single_clerk_kinds"].is_null(), "{detail}");
}
