//! The built desktop app end to end, as a clerk meets it: the real `yizhan` binary under a
//! virtual display, driven through tauri-driver + WebKitWebDriver, against a real hub
//! process seeded with demo data, whose planning feed cannot reach its database. Run by
//! scripts/test.sh inside xvfb-run + dbus-run-session (feature `app-e2e`). Screenshots of
//! each state land in artifacts/e2e/.

#![cfg(feature = "app-e2e")]

use yizhan_sync::client::DeviceAuth;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use yizhan_core::entity::{FeeAssessment, FeeKind, Payment};
use yizhan_sync::protocol::{IngestBatch, SnapshotRow};
use yizhan_tests::hub_process;
use yizhan_hub::accounts::admin::DEMO_PASSWORD;
use yizhan_tests::webdriver::{Driver, PROJECT_ROW, app_binary, attr, click, list_total, screenshot, sign_in, wait_for};

const DEMO_PROJECTS: usize = 2_000;

/// A project whose infrastructure fee still has money outstanding, from the hub's snapshot.
async fn project_with_outstanding_infra(hub_url: &str, probe: &DeviceAuth) -> (String, i64) {
    let request = probe.sign(reqwest::Client::new().get(format!("{hub_url}/v1/snapshot"))).await.unwrap();
    let body = request.send().await.unwrap().bytes().await.unwrap();
    let mut net = HashMap::<String, i64>::new();
    let mut paid = HashMap::<String, i64>::new();
    for line in body.split(|b| *b == b'\n').skip(1).filter(|l| !l.is_empty()) {
        let row: SnapshotRow = serde_json::from_slice(line).unwrap();
        match row.entity {
            yizhan_core::entity::EntityKind::FeeAssessment => {
                let a: FeeAssessment = serde_json::from_value(row.payload).unwrap();
                if a.fee_kind == FeeKind::Infra {
                    net.insert(a.project_code.to_string(), a.net_fen());
                }
            }
            yizhan_core::entity::EntityKind::Payment => {
                let p: Payment = serde_json::from_value(row.payload).unwrap();
                if p.fee_kind == FeeKind::Infra {
                    *paid.entry(p.project_code.to_string()).or_default() += p.amount_fen;
                }
            }
            _ => {}
        }
    }
    let mut candidates: Vec<_> = net
        .into_iter()
        .map(|(code, net)| {
            let outstanding = net - paid.get(&code).copied().unwrap_or(0);
            (code, outstanding)
        })
        .filter(|(_, outstanding)| *outstanding > 100_000)
        .collect();
    candidates.sort();
    candidates.into_iter().next().expect("demo data has a project with an outstanding infrastructure fee")
}

#[tokio::test(flavor = "multi_thread")]
async fn clerk_sees_live_fees_and_keeps_reading_offline() {
    // A WebDriver call into a wedged webview never returns: bound the whole walk instead.
    tokio::time::timeout(Duration::from_secs(240), clerk_walk())
        .await
        .expect("the end-to-end walk did not finish within 4 minutes");
}

/// The hub's flags: a planning feed pointed at a port nothing listens on (the department's
/// database is down), alert rules that call a feed down at its first failure, and a tick
/// of a second.
fn feed_down(work: &std::path::Path) -> Vec<String> {
    let rules = work.join("alert-rules");
    std::fs::create_dir_all(&rules).unwrap();
    let data_centre = yizhan_core::alert::rules::BUILT_IN
        .iter()
        .find(|(file, _)| *file == "data-centre.toml")
        .unwrap()
        .1
        .replace("input = \"connector_down\"\nminutes = 5", "input = \"connector_down\"\nminutes = 0");
    assert!(data_centre.contains("minutes = 0"), "the connector-down rule is where this test expects it");
    std::fs::write(rules.join("data-centre.toml"), data_centre).unwrap();
    let unreachable = format!("postgres://postgres@127.0.0.1:{}/planning", yizhan_tests::free_port());
    vec![
        format!("--planning-cdc={unreachable}"),
        format!("--alert-rules={}", rules.display()),
        "--alert-tick=1".into(),
    ]
}

/// Ctrl+L, as a clerk leaving the window does, then 切换用户 on the lock screen: the next
/// person signs in.
async fn switch_user(client: &fantoccini::Client) {
    // Typed into whichever field the view on screen has: keys go to an element.
    let mut sent = false;
    for field in ["[data-testid=issue-search]", "[data-testid=verify-input]", "[data-testid=audit-object]", "[data-testid=search]"] {
        if let Ok(input) = client.find(Locator::Css(field)).await
            && input.send_keys("\u{E009}l\u{E009}").await.is_ok()
        {
            sent = true;
            break;
        }
    }
    assert!(sent, "a field to type Ctrl+L into");
    click(client, "[data-testid=switch-user]", Duration::from_secs(5)).await;
}

/// Picks `event` in 审计记录 as an auditor does (types its name into the list, Enter takes
/// the first it matches) and searches until the table shows records of that event only:
/// whether it came to.
async fn audit_search_finds(client: &fantoccini::Client, event: &str) -> bool {
    click(client, "[data-testid=audit-event]", Duration::from_secs(10)).await;
    client.active_element().await.unwrap().send_keys(&format!("{event}\u{E007}")).await.unwrap();
    for round in 0..100 {
        // Searched again now and then: a counter's records reach the hub behind its commands.
        if round % 20 == 0 {
            click(client, "[data-testid=audit-search]", Duration::from_secs(5)).await;
        }
        // The table is drawn again when the search answers: a cell read mid-redraw is stale,
        // and the next round reads the new ones.
        let shown = client.find_all(Locator::Css("[data-testid=audit-row-event]")).await.unwrap();
        let mut events = Vec::new();
        for cell in &shown {
            events.push(cell.attr("data-event").await.ok().flatten());
        }
        if !events.is_empty() && events.iter().all(|e| e.as_deref() == Some(event)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// 审计管理员 at the same counter: signs in, binds the authenticator from the key the
/// enrolment screen shows, finds the clerks' commands in the audit trail (no business
/// screens for this duty) and exports them; then 陈静 signs in again for the rest.
async fn audit_as_the_audit_administrator(client: &fantoccini::Client) {
    switch_user(client).await;
    let field = wait_for(client, "[data-testid=sign-in-account]", Duration::from_secs(10)).await;
    field.send_keys("auditor\u{E007}").await.unwrap();
    let field = wait_for(client, "[data-testid=sign-in-password]", Duration::from_secs(5)).await;
    field.send_keys(&format!("{DEMO_PASSWORD}\u{E007}")).await.unwrap();
    let secret = wait_for(client, "[data-testid=second-factor-secret]", Duration::from_secs(15)).await.text().await.unwrap().replace(' ', "");
    screenshot(client, "e2e", "06-second-factor.png").await;
    let code = yizhan_hub::accounts::totp::code_at(&secret, time::OffsetDateTime::now_utc().unix_timestamp()).expect("a TOTP code");
    let field = wait_for(client, "[data-testid=second-factor-code]", Duration::from_secs(5)).await;
    field.send_keys(&format!("{code}\u{E007}")).await.unwrap();
    wait_for(client, "[data-testid=recovery-codes]", Duration::from_secs(10)).await;
    click(client, "[data-testid=recovery-done]", Duration::from_secs(5)).await;
    let chip = wait_for(client, "[data-testid=person-name]", Duration::from_secs(10)).await.text().await.unwrap();
    assert_eq!(chip, "周静");
    for business in ["nav-issue", "nav-admin", "nav-alerts"] {
        assert!(client.find(Locator::Css(&format!("[data-testid={business}]"))).await.is_err(), "{business} is not the audit administrator's");
    }
    click(client, "[data-testid=nav-audit]", Duration::from_secs(5)).await;
    assert!(
        audit_search_finds(client, "clerk_command").await,
        "the clerks' 复核 and 开具 are in the audit trail, and the search shows only them"
    );
    screenshot(client, "e2e", "07-audit-trail.png").await;
    click(client, "[data-testid=audit-export-csv]", Duration::from_secs(5)).await;
    let path = attr(client, "[data-testid=audit-exported]", "data-path").await;
    let path = match path {
        Some(path) => path,
        None => wait_for(client, "[data-testid=audit-exported]", Duration::from_secs(15)).await.attr("data-path").await.unwrap().expect("the file's path"),
    };
    let csv = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("the export {path}: {e}"));
    assert!(csv.contains("clerk_command") && csv.contains("clerk02"), "the export holds what the search found: {csv}");
    std::fs::remove_file(&path).expect("the export is the test's to remove");
    // What happened at the counter itself (王芳 locking the screen before 陈静 signed in)
    // went up to the hub's trail too.
    assert!(audit_search_finds(client, "screen_locked").await, "the counter's own records reached the hub");
    switch_user(client).await;
    sign_in(client, "clerk02", DEMO_PASSWORD).await;
}

/// At the 开具 tab: a cleared project is checked and its voucher issued (signed with the
/// key from the session's keyring, numbered from the segment the app took), previewed and
/// printed to the cups-pdf queue; at 验真 its QR, as a scanner types it, verifies.
async fn issue_print_and_verify_a_voucher(client: &fantoccini::Client, hub_url: &str, probe: &DeviceAuth) {
    click(client, "[data-testid=nav-issue]", Duration::from_secs(5)).await;
    let row = wait_for(client, "[data-testid=issue-row]", Duration::from_secs(20)).await;
    let code = row.attr("data-code").await.unwrap().expect("a queued project's code");
    click(client, &format!("[data-testid=issue-row][data-code='{code}']"), Duration::from_secs(5)).await;
    wait_for(client, &format!("[data-testid=final-check-panel][data-code='{code}']"), Duration::from_secs(10)).await;
    click(client, "[data-testid=final-check-button]:not([disabled])", Duration::from_secs(10)).await;
    wait_for(client, "[data-testid=final-check-done]", Duration::from_secs(10)).await;
    // Four eyes: 王芳 recorded the 复核, so she may not issue its voucher (enabled once the
    // app has registered its key and taken its segments from the hub).
    click(client, "[data-testid=issue-voucher]:not([disabled])", Duration::from_secs(30)).await;
    let refused = wait_for(client, "[data-testid=command-error][data-for=issue]", Duration::from_secs(15)).await.text().await.unwrap();
    assert!(refused.contains("复核与开具须由两人办理"), "{refused}");
    // She locks the screen and 切换用户 lets 陈静 sign in at the same counter.
    switch_user(client).await;
    sign_in(client, "clerk02", DEMO_PASSWORD).await;
    let chip = wait_for(client, "[data-testid=person-name]", Duration::from_secs(5)).await.text().await.unwrap();
    assert_eq!(chip, "陈静");
    click(client, "[data-testid=nav-issue]", Duration::from_secs(5)).await;
    click(client, &format!("[data-testid=issue-row][data-code='{code}']"), Duration::from_secs(20)).await;
    wait_for(client, &format!("[data-testid=final-check-panel][data-code='{code}']"), Duration::from_secs(10)).await;
    click(client, "[data-testid=issue-voucher]:not([disabled])", Duration::from_secs(30)).await;
    let issued = wait_for(client, "[data-testid=issued]", Duration::from_secs(15)).await;
    let number = issued.attr("data-number").await.unwrap().expect("the issued number");
    assert!(number.starts_with("PZ") && number.len() == 12, "{number}");
    wait_for(client, "[data-testid=preview-image]", Duration::from_secs(15)).await;
    screenshot(client, "e2e", "01c-voucher-preview.png").await;

    click(client, "[data-testid=issued-print]", Duration::from_secs(5)).await;
    // The printer is an el-select: opened by a click, its options in a dropdown teleported to
    // the end of the body. That dropdown is in the page, hidden, from the start, so the option
    // is waited for once its popper is shown and done zooming in (a click mid-animation can
    // land on its neighbour).
    click(client, "[data-testid=print-printer]", Duration::from_secs(10)).await;
    click(
        client,
        ".el-select__popper[aria-hidden=false]:not(.el-zoom-in-top-enter-active) [data-testid=print-printer-option][data-value=Yizhan-PDF]",
        Duration::from_secs(5),
    )
    .await;
    click(client, "[data-testid=print-start]:not([disabled])", Duration::from_secs(5)).await;
    // The dialog closes by itself once every document printed; a failure keeps it open.
    let mut closed = false;
    for _ in 0..120 {
        if client.find(Locator::Css("[data-testid=print-dialog]")).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    if !closed {
        screenshot(client, "e2e", "01c-print-failed.png").await;
        let shown = client.find(Locator::Css("[data-testid=print-dialog]")).await.unwrap().text().await.unwrap();
        panic!("printing to Yizhan-PDF did not finish within 30 s: {shown}");
    }

    // The document reaches the hub once its command is accepted; its record signs the QR.
    let http = reqwest::Client::new();
    let mut recorded = None;
    for _ in 0..80 {
        let answer = probe.sign(http.get(format!("{hub_url}/v1/documents/{number}"))).await.unwrap().send().await.unwrap();
        if answer.status().is_success() {
            recorded = Some(answer.json::<yizhan_core::document::IssuedDocument>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let recorded = recorded.unwrap_or_else(|| panic!("{number} of {code} did not reach the hub within 20 s"));
    let signature = yizhan_voucher::qr::QrPayload::parse_signature(&recorded.signature).expect("a signature");
    let url = yizhan_voucher::qr::QrPayload::of(&recorded.document, signature).to_url(&format!("{hub_url}/verify"));
    click(client, "[data-testid=nav-verify]", Duration::from_secs(5)).await;
    let input = wait_for(client, "[data-testid=verify-input]", Duration::from_secs(5)).await;
    input.send_keys(&format!("{url}\u{E007}")).await.unwrap();
    wait_for(client, "[data-testid=verdict], [data-testid=verify-error]", Duration::from_secs(10)).await;
    screenshot(client, "e2e", "01d-verified.png").await;
    let shown = client.find(Locator::Css("[data-testid=verify-result], [data-testid=verify-error]")).await.unwrap().text().await.unwrap();
    let verdict = client.find(Locator::Css("[data-testid=verdict]")).await.unwrap_or_else(|_| panic!("no verdict: {shown}"));
    assert_eq!(verdict.attr("data-tone").await.unwrap().as_deref(), Some("good"), "{shown}");
    assert!(shown.contains("真实有效") && shown.contains(&number), "{shown}");
    click(client, "[data-testid=nav-projects]", Duration::from_secs(5)).await;
}

/// The text at `css`, or that there is none.
async fn attr_text(client: &fantoccini::Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => format!("nothing at {css}"),
    }
}

async fn clerk_walk() {
    let work = tempfile::tempdir().unwrap();
    let mut hub = hub_process(&work.path().join("hub.sqlite3"), DEMO_PROJECTS, &feed_down(work.path()));
    let hub_url = hub.url.clone();
    // The suites' own PC, enrolled beside the counter's, reads what the hub holds.
    let probe_key = yizhan_voucher::signature::CounterKey::generate();
    let probe_hub: yizhan_sync::client::HubLink = hub_url.parse().unwrap();
    let probe_enrolment = yizhan_sync::client::enrol(&probe_hub, &hub.enrolment_code("e2e-probe"), &probe_key).await.unwrap();
    let probe = DeviceAuth::new(&probe_hub, probe_enrolment.device_id, probe_key, yizhan_core::clock::Clock::system()).unwrap();
    let (code, outstanding) = project_with_outstanding_infra(&hub_url, &probe).await;

    let driver = Driver::start(&hub_url, &work.path().join("counter"), None, None);
    let client = driver.open_app(&app_binary()).await;

    // A new PC opens on its first-run screen, the installer's hub address filled in. A code
    // the administrator did not make is refused under the code; the real one enrols it.
    let code_field = wait_for(&client, "[data-testid=first-run-code]", Duration::from_secs(60)).await;
    let offered = wait_for(&client, "[data-testid=first-run-hub-url]", Duration::from_secs(5)).await.prop("value").await.unwrap();
    assert_eq!(offered.as_deref(), Some(hub_url.as_str()), "the installer's address is offered");
    code_field.send_keys("ABCD-EFGH-JKMN\u{E007}").await.unwrap();
    let refused = wait_for(&client, "[data-testid=first-run-error]", Duration::from_secs(10)).await.text().await.unwrap();
    assert!(refused.contains("登记码不正确"), "a wrong code is said on the code: {refused}");
    screenshot(&client, "e2e", "00-first-run.png").await;
    // Ctrl+A, then the code typed over the wrong one, as a person corrects it.
    code_field.send_keys(&format!("\u{E009}a\u{E009}{}\u{E007}", hub.enrolment_code("e2e-counter"))).await.unwrap();
    let enrolled = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("[data-testid=first-run-enrolled]"))
        .await;
    let said = match enrolled {
        Ok(line) => line.text().await.unwrap(),
        Err(_) => attr_text(&client, "[data-testid=first-run-error]").await,
    };
    assert!(said.contains("e2e-counter"), "the PC enrols: {said}");

    // Nobody works unsigned: the sign-in screen comes first. The clerk signs in at the hub;
    // the toolbar names her and her role, and a clerk has no 数据接入.
    wait_for(&client, "[data-testid=sign-in-account]", Duration::from_secs(60)).await;
    screenshot(&client, "e2e", "00-sign-in.png").await;
    sign_in(&client, "clerk01", DEMO_PASSWORD).await;
    let chip = wait_for(&client, "[data-testid=person-chip]", Duration::from_secs(5)).await.text().await.unwrap();
    assert!(chip.contains("王芳") && chip.contains("窗口人员"), "the toolbar shows who is signed in: {chip}");
    assert!(client.find(Locator::Css("[data-testid=nav-admin]")).await.is_err(), "a clerk sees no administration");

    // The list fills from the replica once the bootstrap is done.
    wait_for(&client, PROJECT_ROW, Duration::from_secs(60)).await;
    let total = list_total(&client).await;
    assert!(total >= DEMO_PROJECTS, "the list total {total} is fewer than the {DEMO_PROJECTS} seeded projects");
    wait_for(&client, "[data-testid=sync-state][data-state=online]", Duration::from_secs(20)).await;
    screenshot(&client, "e2e", "01-list.png").await;

    // The planning feed is down at the hub: every counter shows the red emergency banner
    // with what to do.
    let banner = "[data-testid=emergency-banner][data-level=red]";
    wait_for(&client, banner, Duration::from_secs(30)).await;
    let text = client.find(Locator::Css(banner)).await.unwrap().text().await.unwrap();
    assert!(text.contains("planning-cdc") && text.contains("应急处置"), "the banner names the feed and the runbook: {text}");
    screenshot(&client, "e2e", "01a-red-banner.png").await;

    // Overdue projects are in 项目跟踪 on their own, each with its alert.
    client.find(Locator::Css("[data-testid=filter-tracked]")).await.unwrap().click().await.unwrap();
    wait_for(&client, "[data-testid=project-row][data-tracked=true]", Duration::from_secs(10)).await;
    let untracked = client.find_all(Locator::Css("[data-testid=project-row][data-tracked=false]")).await.unwrap();
    assert!(untracked.is_empty(), "the 项目跟踪 filter lists tracked projects only");
    wait_for(&client, "[data-testid=project-row][data-tracked=true] [data-testid=project-alert-badge][data-level=orange], [data-testid=project-row][data-tracked=true] [data-testid=project-alert-badge][data-level=red]", Duration::from_secs(10)).await;
    screenshot(&client, "e2e", "01b-tracked-overdue.png").await;
    client.find(Locator::Css("[data-testid=filter-tracked]")).await.unwrap().click().await.unwrap();

    issue_print_and_verify_a_voucher(&client, &hub_url, &probe).await;
    audit_as_the_audit_administrator(&client).await;

    // A scanner types the code and Enter: the project opens.
    let search = client.find(Locator::Css("[data-testid=search]")).await.unwrap();
    search.send_keys(&format!("{code}\u{E007}")).await.unwrap();
    let detail_css = format!("[data-testid=detail][data-code='{code}']");
    wait_for(&client, &detail_css, Duration::from_secs(5)).await;
    let paid_css = "[data-testid=fee-row][data-kind=infra] [data-testid=fee-paid]";
    let paid_before: i64 = attr(&client, paid_css, "data-fen").await.expect("infra paid shown").parse().unwrap();
    screenshot(&client, "e2e", "02-detail.png").await;

    // A payment arrives at the hub; the open detail shows it with no user action.
    let amount = outstanding.min(1_234_500);
    let payment_id = format!("E2E-{}", std::process::id());
    let batch = IngestBatch {
        records: vec![Payment {
            payment_id: payment_id.clone(),
            project_code: code.parse().unwrap(),
            fee_kind: FeeKind::Infra,
            amount_fen: amount,
            channel: "非税支付平台".into(),
            reference: "E2E-SLIP-1".into(),
            received_at: time::OffsetDateTime::now_utc(),
        }],
    };
    let posted = Instant::now();
    let resp = reqwest::Client::new().post(format!("{hub_url}/v1/ingest/payments")).json(&batch).send().await.unwrap();
    assert!(resp.status().is_success(), "payment ingest failed: {}", resp.text().await.unwrap());
    let expected = (paid_before + amount).to_string();
    let mut seen = None;
    while posted.elapsed() < Duration::from_secs(10) {
        if attr(&client, paid_css, "data-fen").await.as_deref() == Some(expected.as_str()) {
            seen = Some(posted.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = seen.unwrap_or_else(|| panic!("the payment of {amount} fen did not appear in the open detail within 10 s"));
    eprintln!("payment visible in the open detail after {seen:?}");
    assert!(seen <= Duration::from_secs(2), "payment took {seen:?} to appear (target ≤ 2 s)");
    wait_for(&client, &format!("[data-testid=payment-row][data-payment-id='{payment_id}']"), Duration::from_secs(2)).await;
    screenshot(&client, "e2e", "03-payment-live.png").await;

    // The hub goes away: the app says so and the data stays readable.
    hub.kill();
    wait_for(&client, "[data-testid=sync-state][data-state=offline]", Duration::from_secs(15)).await;
    wait_for(&client, "[data-testid=offline-banner]", Duration::from_secs(2)).await;
    assert_eq!(attr(&client, paid_css, "data-fen").await.as_deref(), Some(expected.as_str()));
    screenshot(&client, "e2e", "04-offline-detail.png").await;

    // The clerk steps away: the screen locks over the open project, and with the hub gone
    // she unlocks it with her password against what the counter kept of her sign-in.
    // Ctrl+L, as a clerk leaving the window does (the toolbar's menu has it too).
    let search = client.find(Locator::Css("[data-testid=search]")).await.unwrap();
    search.send_keys("\u{E009}l\u{E009}").await.unwrap();
    let password = wait_for(&client, "[data-testid=unlock-password]", Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(600)).await; // the dialog's fade-in, for the picture
    screenshot(&client, "e2e", "05-locked.png").await;
    password.send_keys("not-her-password\u{E007}").await.unwrap();
    let problem = wait_for(&client, "[data-testid=unlock-error]", Duration::from_secs(10)).await.text().await.unwrap();
    assert!(problem.contains("密码不正确"), "a wrong password is refused: {problem}");
    let password = wait_for(&client, "[data-testid=unlock-password]", Duration::from_secs(5)).await;
    password.clear().await.unwrap();
    password.send_keys(&format!("{DEMO_PASSWORD}\u{E007}")).await.unwrap();
    wait_for(&client, &detail_css, Duration::from_secs(10)).await;
    for _ in 0..50 {
        if client.find(Locator::Css("[data-testid=lock-screen]")).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(client.find(Locator::Css("[data-testid=lock-screen]")).await.is_err(), "the lock is gone after the right password");
    assert_eq!(attr(&client, paid_css, "data-fen").await.as_deref(), Some(expected.as_str()), "the work under the lock is kept");

    // In English, a failed command reads in English.
    click(&client, "[data-testid=lang-toggle]", Duration::from_secs(5)).await;
    // A scan that is not one of our QRs is refused with its reason, and the window goes on
    // answering (WebKitGTK once wedged when the focused field's aria-invalid changed).
    click(&client, "[data-testid=nav-verify]", Duration::from_secs(5)).await;
    let input = wait_for(&client, "[data-testid=verify-input]", Duration::from_secs(5)).await;
    input.send_keys("not a document QR\u{E007}").await.unwrap();
    let problem = wait_for(&client, "[data-testid=verify-error]", Duration::from_secs(10)).await.text().await.unwrap();
    assert!(problem.contains("The value entered is not valid"), "the invalid_input code in English: {problem}");
    // Dropping the client ends the session; the guards then kill tauri-driver's process
    // group (WebKitWebDriver, the app and WebKit's helpers).
    drop(client);
}
