//! Counter PCs from the outside: enrolment codes used once, within a day and only as given;
//! every counter and person route refusing a request that does not prove its PC; sessions
//! bound to their PC; retired and lost PCs; a PC whose clock is off told so.

mod common;

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;
use tokio::sync::oneshot;
use yizhan_core::clock::SimulatedClock;
use yizhan_hub::routes::access::{Access, ROUTES};
use yizhan_hub::store::AuditQuery;
use yizhan_hub::Hub;
use yizhan_sync::client::DeviceAuth;
use yizhan_sync::protocol::device::{CLOCK_SKEW_HEADER, DEVICE_TOKEN_HEADER, DeviceSessionRequest};
use yizhan_voucher::signature::CounterKey;

struct Hall {
    url: String,
    hub: Hub,
    clock: SimulatedClock,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

impl Hall {
    async fn open() -> Hall {
        let dir = tempfile::tempdir().unwrap();
        let clock = SimulatedClock::starting_at(datetime!(2026-12-07 01:00 UTC));
        let (url, hub, stop) = common::serve_on(dir.path(), &clock, false).await;
        Hall { url, hub, clock, http: reqwest::Client::new(), _dir: dir, _stop: stop }
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        answer(self.http.post(format!("{}{path}", self.url)).json(&body).send().await.unwrap()).await
    }

    /// A PC enrolled here, living by the hall's clock.
    async fn pc(&self) -> DeviceAuth {
        common::enrolled_device(&self.url, &common::enrolment_code(&self.hub).await, self.clock.clock()).await.unwrap()
    }

    /// `request` from `pc`, with `session` if any: proven afresh once when the hall's clock
    /// ran past its token; a PC the hub will not give a token answers as the hub refused.
    async fn from(&self, pc: &DeviceAuth, request: reqwest::RequestBuilder, session: Option<&str>) -> (StatusCode, Value) {
        let request = match session {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let again = request.try_clone();
        let (status, body) = match pc.sign(request).await {
            Ok(signed) => answer(signed.send().await.unwrap()).await,
            Err(yizhan_sync::client::SyncError::Hub { status, code, .. }) => (StatusCode::from_u16(status).unwrap(), json!({"code": code})),
            Err(other) => panic!("{other}"),
        };
        match again {
            Some(again) if body["code"] == "device_session_ended" => {
                pc.forget().await;
                Box::pin(self.from(pc, again, None)).await
            }
            _ => (status, body),
        }
    }

    async fn sign_in(&self, pc: &DeviceAuth, account: &str) -> String {
        let body = json!({"account": account, "password": yizhan_hub::accounts::admin::DEMO_PASSWORD});
        let (status, answer) = self.from(pc, self.http.post(format!("{}/v1/auth/login", self.url)).json(&body), None).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let token = answer["token"].as_str().unwrap().to_owned();
        if answer["must_enrol_second_factor"] == true {
            let (_, enrolment) = self.from(pc, self.http.post(format!("{}/v1/auth/second-factor", self.url)), Some(&token)).await;
            let now = self.clock.clock().now().unix_timestamp();
            let code = yizhan_hub::accounts::totp::code_at(enrolment["secret"].as_str().unwrap(), now).unwrap();
            let confirm = self.http.post(format!("{}/v1/auth/second-factor/confirm", self.url)).json(&json!({"code": code}));
            assert_eq!(self.from(pc, confirm, Some(&token)).await.0, StatusCode::OK);
        }
        token
    }

    async fn audit(&self, event: &str) -> Vec<yizhan_hub::store::AuditRecord> {
        let query = AuditQuery { event: Some(event.into()), limit: 100, ..AuditQuery::default() };
        self.hub.store().search_audit(&query).await.unwrap()
    }
}

async fn answer(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn concrete(path: &str) -> String {
    path.replace("{code}", "2025-320115-70-01-000001")
        .replace("{number}", "PZ0000000001")
        .replace("{id}", "1")
        .replace("{account}", "clerk01")
        .replace("{role}", "clerk")
        .replace("{device}", "test-pc-001")
}

#[tokio::test]
async fn an_enrolment_code_works_once_within_a_day_and_only_as_given() {
    let hall = Hall::open().await;
    let key = CounterKey::generate();
    let enrol = |code: String| hall.post("/v1/devices/enrol", json!({"code": code, "public_key": key.public_key().to_hex()}));

    // The system administrator makes the code at a PC of their own, signed in.
    let admin_pc = hall.pc().await;
    let sysadmin = hall.sign_in(&admin_pc, "sysadmin").await;
    let new = json!({"device_id": "jn-window-03", "name": "江宁区 3 号窗口", "scope": {"kind": "districts", "districts": ["320115"]}});
    let made = hall.http.post(format!("{}/v1/admin/devices", hall.url)).json(&new);
    let (status, code) = hall.from(&admin_pc, made, Some(&sysadmin)).await;
    assert_eq!(status, StatusCode::OK, "{code}");
    let code = code["code"].as_str().unwrap().to_owned();
    assert!(!hall.hub.store().devices().await.unwrap().iter().any(|d| d.code_sm3.as_deref() == Some(code.as_str())), "the hub keeps the code's SM3 only");

    let (status, wrong) = enrol("ABCD-EFGH-JKMN".into()).await;
    assert_eq!((status, wrong["code"].as_str()), (StatusCode::FORBIDDEN, Some("enrolment_code_wrong")), "{wrong}");

    let (status, hostile) = hall.post("/v1/devices/enrol", json!({"code": code, "public_key": "04zz'; DROP TABLE devices;--"})).await;
    assert_eq!((status, hostile["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("public_key")), "{hostile}");

    // Typed in lower case with spaces, the code is the same code.
    let (status, enrolment) = enrol(code.to_lowercase().replace('-', " ")).await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    assert_eq!(enrolment["device_id"], "jn-window-03");
    assert_eq!(enrolment["scope"], json!({"kind": "districts", "districts": ["320115"]}));
    assert_eq!(enrolment["hub_key"], hall.hub.signer().public_key().to_hex(), "the PC pins this hub's key");
    assert_eq!(enrolment["clock_margin_seconds"], 120);
    let enrolled = hall.hub.store().device(&"jn-window-03".parse().unwrap()).await.unwrap().expect("the PC is on record");
    assert_eq!(enrolled.public_key, Some(key.public_key().to_hex()), "the device key is registered");

    let (status, again) = enrol(code.clone()).await;
    assert_eq!((status, again["code"].as_str()), (StatusCode::FORBIDDEN, Some("enrolment_code_used")), "{again}");

    // A device id enrolled once is never handed out again.
    let (status, taken) = hall.from(&admin_pc, hall.http.post(format!("{}/v1/admin/devices", hall.url)).json(&new), Some(&sysadmin)).await;
    assert_eq!((status, taken["code"].as_str()), (StatusCode::CONFLICT, Some("device_taken")), "{taken}");

    // A code not used within 24 hours is dead.
    let late = common::enrolment_code(&hall.hub).await;
    hall.clock.advance(time::Duration::hours(24) + time::Duration::seconds(1));
    let (status, expired) = enrol(late).await;
    assert_eq!((status, expired["code"].as_str()), (StatusCode::FORBIDDEN, Some("enrolment_code_expired")), "{expired}");

    let failures: Vec<_> = hall.audit("device_enrolled").await.into_iter().filter(|r| r.result == "failure").collect();
    assert_eq!(failures.len(), 3, "wrong, used and expired codes are on record");
}

#[tokio::test]
async fn every_counter_and_person_route_refuses_a_request_that_does_not_prove_its_pc() {
    let hall = Hall::open().await;
    let forged = reqwest::header::HeaderValue::from_static("not-a-token");
    for route in ROUTES {
        let proven = matches!(
            route.access,
            Access::Counter | Access::CounterUpload | Access::SignIn | Access::Session | Access::Permission(_) | Access::AnyOf(_)
        );
        if !proven {
            continue;
        }
        let method = reqwest::Method::from_bytes(route.method.as_bytes()).unwrap();
        let url = format!("{}{}", hall.url, concrete(route.path));
        let (status, body) = answer(hall.http.request(method.clone(), &url).send().await.unwrap()).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("device_required")), "{} {}", route.method, route.path);
        let request = hall.http.request(method, &url).header(DEVICE_TOKEN_HEADER, forged.clone());
        let (status, body) = answer(request.send().await.unwrap()).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("device_session_ended")), "{} {}", route.method, route.path);
    }

    // A session works only from the PC it was opened on.
    let (first, second) = (hall.pc().await, hall.pc().await);
    let token = hall.sign_in(&first, "clerk01").await;
    let me = || hall.http.get(format!("{}/v1/auth/me", hall.url));
    assert_eq!(hall.from(&first, me(), Some(&token)).await.0, StatusCode::OK);
    let (status, body) = hall.from(&second, me(), Some(&token)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("session_other_device")), "{body}");

    // The proof: the hub's fresh challenge signed by the enrolled key, once.
    let key = CounterKey::generate();
    let enrolment = yizhan_sync::client::enrol(&hall.url.parse().unwrap(), &common::enrolment_code(&hall.hub).await, &key).await.unwrap();
    let (status, challenge) = hall.post("/v1/devices/challenge", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{challenge}");
    let mut proof = DeviceSessionRequest {
        device_id: enrolment.device_id,
        challenge: challenge["challenge"].as_str().unwrap().to_owned(),
        signature: String::new(),
    };
    let stranger = CounterKey::generate();
    proof.signature = hex::encode(stranger.sign(proof.signed_text().as_bytes()));
    let (status, body) = hall.post("/v1/devices/session", serde_json::to_value(&proof).unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("device_proof_invalid")), "{body}");
    proof.signature = hex::encode(key.sign(proof.signed_text().as_bytes()));
    let (status, body) = hall.post("/v1/devices/session", serde_json::to_value(&proof).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = hall.post("/v1/devices/session", serde_json::to_value(&proof).unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("device_proof_replayed")), "{body}");
    // A challenge the hub did not make, or one left too long, proves nothing.
    let forged = format!("{}.{}", proof.challenge.rsplit_once('.').unwrap().0, "00".repeat(32));
    let (_, stale) = hall.post("/v1/devices/challenge", json!({})).await;
    hall.clock.advance(time::Duration::minutes(3));
    for challenge in [forged, stale["challenge"].as_str().unwrap().to_owned()] {
        let mut late = DeviceSessionRequest { challenge, ..proof.clone() };
        late.signature = hex::encode(key.sign(late.signed_text().as_bytes()));
        let (status, body) = hall.post("/v1/devices/session", serde_json::to_value(&late).unwrap()).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("device_challenge_stale")), "{body}");
    }
}

async fn changes(hall: &Hall, pc: &DeviceAuth) -> (StatusCode, Value) {
    hall.from(pc, hall.http.get(format!("{}/v1/changes?after=0&wait=0", hall.url)), None).await
}

#[tokio::test]
async fn a_retired_pc_may_only_upload_and_a_lost_one_nothing_at_all() {
    let hall = Hall::open().await;
    let admin_pc = hall.pc().await;
    let sysadmin = hall.sign_in(&admin_pc, "sysadmin").await;
    let (retiring, losing) = (hall.pc().await, hall.pc().await);
    assert_eq!(changes(&hall, &retiring).await.0, StatusCode::OK);
    // What each had not uploaded, as it last reported.
    for pc in [&retiring, &losing] {
        let report = json!({"device_id": pc.device_id(), "cursor": 0, "outbox": {"pending": 7, "conflicts": 0}, "documents_pending": 2, "integrity_alert": false, "reconcile": null});
        let (status, body) = hall.from(pc, hall.http.post(format!("{}/v1/counters/report", hall.url)).json(&report), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let revoke = async |pc: &DeviceAuth, state: &str| {
        let request = hall.http.post(format!("{}/v1/admin/devices/{}/revoke", hall.url, pc.device_id())).json(&json!({"state": state, "reason": "窗口撤并"}));
        hall.from(&admin_pc, request, Some(&sysadmin)).await
    };

    let (status, retired) = revoke(&retiring, "retired").await;
    assert_eq!(status, StatusCode::OK, "{retired}");
    assert_eq!((retired["commands_not_uploaded"].as_u64(), retired["documents_not_uploaded"].as_u64()), (Some(7), Some(2)));
    let (status, body) = changes(&hall, &retiring).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("device_retired")), "{body}");
    let commands = hall.http.post(format!("{}/v1/commands", hall.url)).json(&json!({"commands": []}));
    let (status, body) = hall.from(&retiring, commands, None).await;
    assert_eq!(status, StatusCode::OK, "a retired PC still uploads its outbox: {body}");

    let (status, lost) = revoke(&losing, "lost").await;
    assert_eq!(status, StatusCode::OK, "{lost}");
    let commands = hall.http.post(format!("{}/v1/commands", hall.url)).json(&json!({"commands": []}));
    let (status, body) = hall.from(&losing, commands, None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("device_lost")), "{body}");
    // Not even a new token: its key no longer proves anything.
    losing.forget().await;
    let (status, body) = changes(&hall, &losing).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(!hall.audit("device_refused").await.is_empty(), "the lost PC's calls are on record");
    let (status, body) = revoke(&losing, "retired").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("device_already_revoked")), "revocation is final: {body}");

    let listing = hall.from(&admin_pc, hall.http.get(format!("{}/v1/admin/devices", hall.url)), Some(&sysadmin)).await.1;
    let state = |pc: &DeviceAuth| listing.as_array().unwrap().iter().find(|d| d["device_id"] == pc.device_id().as_str()).unwrap()["state"].clone();
    assert_eq!((state(&retiring), state(&losing)), (json!("retired"), json!("lost")));
    assert_eq!(hall.audit("device_revoked").await.len(), 2);
}

#[tokio::test]
async fn a_pc_whose_clock_is_off_is_told_on_every_answer_and_put_on_record_when_it_goes_off_and_back() {
    let hall = Hall::open().await;
    let pc_clock = SimulatedClock::starting_at(hall.clock.clock().now() + time::Duration::seconds(90));
    let pc = common::enrolled_device(&hall.url, &common::enrolment_code(&hall.hub).await, pc_clock.clock()).await.unwrap();
    let skew = || async {
        let response = pc.sign(hall.http.get(format!("{}/v1/status", hall.url))).await.unwrap().send().await.unwrap();
        assert!(response.status().is_success());
        response.headers().get(CLOCK_SKEW_HEADER).map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(skew().await, None, "90 s is within the 2-minute margin");
    pc_clock.advance(time::Duration::seconds(210));
    for _ in 0..3 {
        assert_eq!(skew().await.as_deref(), Some("300"));
    }
    pc_clock.advance(time::Duration::seconds(-900));
    assert_eq!(skew().await.as_deref(), Some("-600"));
    pc_clock.advance(time::Duration::seconds(600));
    assert_eq!(skew().await, None);
    let noted = hall.audit("device_clock_skew").await;
    let offs: Vec<bool> = noted.iter().rev().map(|r| serde_json::from_str::<Value>(&r.detail).unwrap()["off"].as_bool().unwrap()).collect();
    assert_eq!(offs, [true, false], "once when it went off, once when it came back: {noted:?}");
}
