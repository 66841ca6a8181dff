//! Counter PCs revoked and skewed, end to end with the sync client the app runs: a retired
//! PC uploads what its outbox holds and then is told to wipe itself; a lost one is refused
//! at once and told to wipe itself at its next contact; a PC whose clock is off shows it
//! and raises its yellow alert.

use time::Duration;
use yizhan_core::alert::AlertLevel;
use yizhan_core::alert::queue::AlertQuery;
use yizhan_core::command::ClerkAction;
use yizhan_hub::audit::Actor;
use yizhan_sync::protocol::device::{DeviceState, Revocation};
use yizhan_sync::status::DeviceStanding;
use yizhan_core::code::ProjectCode;
use yizhan_core::id::DeviceId;
use yizhan_tests::counter::{Counter, Running, SimulatedClock, issuer, options};
use yizhan_tests::hub::TestHub;

async fn revoke(hub: &TestHub, device: &DeviceId, state: DeviceState) {
    let by = Actor { user: "sysadmin".into(), role: "system_admin".into(), ..Actor::default() };
    hub.hub().revoke_device(&by, device, Revocation { state, reason: "窗口撤并".into() }).await.expect("revoked");
}

/// A counter that wrote `notes` while cut off from the hub, and was revoked as `state`
/// before it came back: the hub, the counter, its device id and the notes' project.
async fn revoked_with_notes(state: DeviceState, notes: &[&str]) -> (TestHub, Counter, DeviceId, ProjectCode) {
    let hub = TestHub::start(30).await;
    let counter = hub.counter().await;
    counter.catch_up(&hub).await;
    let device = counter.reader().enrolment().unwrap().expect("enrolled").device_id;
    let offline = counter.client_at("http://127.0.0.1:9", options());
    let code = counter.project_codes(1).remove(0);
    for text in notes {
        let note = ClerkAction::FollowUpNote { project_code: code.clone(), text: (*text).into() };
        offline.outbox().issue(note, &issuer("clerk01")).await.unwrap();
    }
    drop(offline);
    revoke(&hub, &device, state).await;
    (hub, counter, device, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retired_pc_uploads_what_its_outbox_holds_and_then_is_told_to_wipe_itself() {
    let (hub, counter, _, code) = revoked_with_notes(DeviceState::Retired, &["撤并前记录一", "撤并前记录二"]).await;

    let mut running = Running::start(counter.client(&hub, options()));
    let status = running.wait_status("told to wipe itself", |s| s.device == DeviceStanding::Wipe).await;
    assert_eq!(status.outbox.pending, 0, "nothing was left behind");
    let notes = hub.hub().store().project_rows(code.as_str()).await.unwrap();
    let kept = notes.iter().filter(|r| r.payload.contains("撤并前记录")).count();
    assert_eq!(kept, 2, "both notes reached the hub before the wipe");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_pc_is_refused_at_once_and_told_to_wipe_itself_at_its_next_contact() {
    let (hub, counter, device, code) = revoked_with_notes(DeviceState::Lost, &["被盗前记录"]).await;

    let mut running = Running::start(counter.client(&hub, options()));
    running.wait_status("told to wipe itself", |s| s.device == DeviceStanding::Wipe).await;
    running.stop().await;
    let rows = hub.hub().store().project_rows(code.as_str()).await.unwrap();
    assert!(!rows.iter().any(|r| r.payload.contains("被盗前记录")), "nothing from a lost PC is taken");
    let listing = hub.hub().devices().await.unwrap();
    let lost = listing.iter().find(|d| d.device_id == device).unwrap();
    assert_eq!(lost.state, DeviceState::Lost);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pc_whose_clock_is_off_is_told_and_raises_its_yellow_alert_until_it_is_put_right() {
    let hub = TestHub::start(30).await;
    let counter = hub.counter().await;
    let clock = SimulatedClock::starting_at(time::OffsetDateTime::now_utc() + Duration::minutes(7));
    let mut running = Running::start(counter.client_on(&hub.url, options(), clock.clock()));
    let status = running
        .wait_status("told its clock is off", |s| matches!(s.device, DeviceStanding::Enrolled { clock_skew_seconds: Some(_) }))
        .await;
    let DeviceStanding::Enrolled { clock_skew_seconds: Some(skew) } = status.device else { unreachable!() };
    assert!((400..=440).contains(&skew), "about seven minutes ahead: {skew}");
    let reader = counter.reader_on(clock.clock());
    let skew_alert = || {
        let query = AlertQuery { system_only: true, limit: 50, ..Default::default() };
        reader.list_alerts(&query).unwrap().alerts.into_iter().find(|a| a.alert.rule_id == "counter-clock-skew")
    };
    yizhan_tests::wait_until(std::time::Duration::from_secs(60), "the clock alert", || skew_alert().is_some());
    let alert = skew_alert().unwrap();
    assert_eq!(alert.alert.level, AlertLevel::Yellow);
    assert!(alert.alert.message.contains("快") && alert.alert.message.contains("秒"), "{}", alert.alert.message);

    clock.set(time::OffsetDateTime::now_utc());
    running.wait_status("its clock put right", |s| s.device == DeviceStanding::Enrolled { clock_skew_seconds: None }).await;
    yizhan_tests::wait_until(std::time::Duration::from_secs(60), "the clock alert to resolve", || skew_alert().is_none());
    running.stop().await;
}
