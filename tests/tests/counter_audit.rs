//! A counter's own audit trail against a real hub: what happens at the window while the
//! hub is away (offline sign-ins and their failures, the lock screen, a print) is recorded
//! on the counter and reaches the hub's chain when it is back, in order, once each, under
//! the counter's signature.


use tokio_util::sync::CancellationToken;
use yizhan_core::audit::AuditEvent;
use yizhan_hub::accounts::admin::DEMO_PASSWORD;
use yizhan_hub::store::AuditRecord;
use yizhan_core::clock::Clock;
use yizhan_sync::client::{DeviceAuth, SignInError, SyncClient};
use yizhan_sync::protocol::{CounterAuditBatch, CounterAuditRecord};
use yizhan_sync::replica::CounterAudit;
use yizhan_tests::counter::{COUNTER_KEY, Counter, options};
use yizhan_tests::hub::TestHub;
use yizhan_voucher::signature::CounterKey;

fn offline(counter: &Counter) -> SyncClient {
    counter.client_at("http://127.0.0.1:9", options())
}

/// The hub's records of what counters reported (they carry the counter's own number).
async fn from_counters(hub: &TestHub) -> Vec<AuditRecord> {
    let all = hub.hub().store().audit_after(0, 10_000).await.unwrap();
    all.into_iter().filter(|r| r.detail.contains("\"counter_seq\"")).collect()
}

/// `body` posted as the PC `pc` sends its audit trail.
async fn post(hub: &TestHub, pc: &DeviceAuth, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let request = reqwest::Client::new().post(format!("{}/v1/counters/audit", hub.url)).json(body);
    let response = pc.sign(request).await.unwrap().send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn signed(device: &str, records: Vec<CounterAuditRecord>, key: &CounterKey) -> serde_json::Value {
    let device_id = device.parse().unwrap();
    let signature = hex::encode(key.sign(CounterAuditBatch::signed_text(&device_id, &records).as_bytes()));
    serde_json::to_value(CounterAuditBatch { device_id, records, signature }).unwrap()
}

fn record(seq: u64, event: AuditEvent) -> CounterAuditRecord {
    CounterAuditRecord {
        seq,
        local_at: time::OffsetDateTime::now_utc(),
        account: "clerk01".into(),
        event,
        object: "clerk01".into(),
        result: Ok(()),
        detail: String::new(),
    }
}

#[tokio::test]
async fn what_happens_at_a_counter_offline_reaches_the_hubs_trail_in_order_once() {
    let hub = TestHub::start(10).await;
    let counter = hub.counter().await;
    let online = counter.client(&hub, options());
    let sign_ins = online.sign_ins();
    sign_ins.sign_in("clerk01", DEMO_PASSWORD, None).await.unwrap();
    sign_ins.sign_out("clerk01").await.unwrap();
    let device = yizhan_sync::replica::Replica::open(&counter.path).unwrap().device_id().unwrap().to_string();
    drop((sign_ins, online));

    // The hub goes away. A wrong password, a right one, the screen locked when idle, a
    // wrong password and the right one on the lock screen, a print, and a sign-out.
    let down = offline(&counter);
    let offline_sign_ins = down.sign_ins();
    let wrong = offline_sign_ins.sign_in("clerk01", "not-the-password", None).await;
    assert!(matches!(wrong, Err(SignInError::OfflineRefused)), "{wrong:?}");
    offline_sign_ins.sign_in("clerk01", DEMO_PASSWORD, None).await.unwrap();
    offline_sign_ins.record(CounterAudit::new("clerk01", AuditEvent::Timeout, "clerk01")).await.unwrap();
    assert!(matches!(offline_sign_ins.unlock("clerk01", "wrong").await, Err(SignInError::WrongPassword)));
    offline_sign_ins.unlock("clerk01", DEMO_PASSWORD).await.unwrap();
    down.audit_trail()
        .record(CounterAudit::new("clerk01", AuditEvent::DocumentPrinted, "JF-2026-000001").detail(serde_json::json!({"printer": "柜台1"})))
        .await
        .unwrap();
    offline_sign_ins.sign_out("clerk01").await.unwrap();
    drop((offline_sign_ins, down));
    assert!(from_counters(&hub).await.is_empty(), "nothing reached the hub while it was away");

    // Back online: the trail goes up, under the counter's signature.
    let back = counter.client(&hub, options());
    assert_eq!(back.send_audit_trail(&CancellationToken::new()).await.unwrap(), 7);
    let trail = from_counters(&hub).await;
    let seen: Vec<(&str, &str, &str)> = trail.iter().map(|r| (r.event.as_str(), r.result.as_str(), r.reason.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("login_failure", "failure", "密码错误"),
            ("login_success", "success", ""),
            ("timeout", "success", ""),
            ("screen_unlocked", "failure", "密码不正确。"),
            ("screen_unlocked", "success", ""),
            ("document_printed", "success", ""),
            ("logout", "success", ""),
        ],
        "in the order they happened at the counter"
    );
    for r in &trail {
        assert_eq!((r.user.as_str(), r.role.as_str(), r.device.as_str(), r.address.as_str()), ("clerk01", "clerk", device.as_str(), "127.0.0.1"));
        assert!(r.local_at.is_some_and(|t| t < r.at), "the counter's time is kept beside the hub's: {r:?}");
    }
    assert!(trail[5].detail.contains("柜台1") && trail[5].object == "JF-2026-000001", "{:?}", trail[5]);
    assert!(trail[1].detail.contains("\"offline\":true"), "{:?}", trail[1]);
    assert!(matches!(hub.hub().verify_audit().await.unwrap(), yizhan_hub::audit::Verification::Intact { .. }), "the chain holds");

    // An answer lost on the way: the counter sends them again, the hub adds nothing.
    rusqlite::Connection::open(&counter.path).unwrap().execute("UPDATE audit_sent SET through = 0", []).unwrap();
    back.send_audit_trail(&CancellationToken::new()).await.unwrap();
    assert_eq!(from_counters(&hub).await.len(), 7, "the hub took none of them twice");
    assert_eq!(counter.reader().audit_waiting().unwrap(), 0, "the hub's answer says it holds them all");
}

#[tokio::test]
async fn the_hub_takes_a_counters_records_only_signed_by_its_key_in_order_and_well_formed() {
    let hub = TestHub::start(1).await;
    let counter = hub.counter().await;
    let client = counter.client(&hub, options());
    client.audit_trail().record(CounterAudit::new("clerk01", AuditEvent::ScreenLocked, "clerk01")).await.unwrap();
    assert_eq!(client.send_audit_trail(&CancellationToken::new()).await.unwrap(), 1, "the key is registered first");
    let device = yizhan_sync::replica::Replica::open(&counter.path).unwrap().device_id().unwrap().to_string();
    let pc = DeviceAuth::new(&hub.link(), device.parse().unwrap(), COUNTER_KEY.clone(), Clock::system()).unwrap();

    let (status, error) = post(&hub, &pc, &signed(&device, vec![record(2, AuditEvent::Logout)], &CounterKey::generate())).await;
    assert_eq!((status, error["code"].as_str()), (403, Some("bad_signature")), "{error}");
    let (status, error) = post(&hub, &pc, &signed("counter-unknown", vec![record(1, AuditEvent::Logout)], &COUNTER_KEY)).await;
    assert_eq!((status, error["code"].as_str()), (403, Some("device_mismatch")), "a PC sends its own trail only: {error}");
    let mut altered = signed(&device, vec![record(2, AuditEvent::Logout)], &COUNTER_KEY);
    altered["records"][0]["account"] = "chief01".into();
    assert_eq!(post(&hub, &pc, &altered).await.1["code"], "bad_signature", "who did it cannot be changed on the way");

    let (status, error) = post(&hub, &pc, &signed(&device, vec![record(2, AuditEvent::ClerkCommand)], &COUNTER_KEY)).await;
    assert_eq!(status, 400, "{error}");
    assert!(error["message"].as_str().unwrap().contains("records[0].event"), "{error}");
    let mut long = record(2, AuditEvent::DocumentViewed);
    long.object = "票".repeat(10_000);
    let (status, error) = post(&hub, &pc, &signed(&device, vec![long], &COUNTER_KEY)).await;
    assert!(status == 400 && error["message"].as_str().unwrap().contains("records[0].object"), "{status} {error}");

    let (status, held) = post(&hub, &pc, &signed(&device, vec![record(5, AuditEvent::Logout)], &COUNTER_KEY)).await;
    assert_eq!((status, held["through"].as_u64()), (200, Some(1)), "a gap adds nothing and says how far the hub holds");
    let (status, held) = post(&hub, &pc, &signed(&device, vec![record(2, AuditEvent::Logout)], &COUNTER_KEY)).await;
    assert_eq!((status, held["through"].as_u64()), (200, Some(2)));
    assert_eq!(from_counters(&hub).await.len(), 2, "refused batches left nothing behind");
}
