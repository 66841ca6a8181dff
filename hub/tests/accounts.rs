//! Accounts, sessions, authorisation and the audit trail, tested from the outside: a real
//! hub on a loopback port over a real SQLite file, raw HTTP requests with no, wrong,
//! expired, forged, replayed and other people's credentials, and the database file
//! tampered with as an intruder would.

mod common;

use std::collections::HashMap;
use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::sync::oneshot;
use yizhan_core::access::{BuiltinRole, Permission};
use yizhan_core::clock::SimulatedClock;
use yizhan_hub::accounts::admin::{DEMO_ACCOUNTS, DEMO_PASSWORD};
use yizhan_hub::accounts::totp;
use yizhan_hub::routes::access::{Access, ROUTES};
use yizhan_hub::{Hub, HubConfig};

const START: OffsetDateTime = datetime!(2026-12-07 01:00 UTC);
/// The refusals the access layer answers with; a handler's own errors are never these.
const ACCESS_REFUSALS: [&str; 5] =
    ["unauthenticated", "session_ended", "forbidden", "password_change_required", "second_factor_enrolment_required"];

struct Hall {
    url: String,
    hub: Hub,
    clock: SimulatedClock,
    http: reqwest::Client,
    /// The PC the hall's requests come from; its token is fetched again when the hall's
    /// clock has run past it.
    device: yizhan_sync::client::DeviceAuth,
    dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

impl Hall {
    /// A demo hub (ingest open) with one account per built-in role, on a clock of its own.
    async fn open() -> Hall {
        let dir = tempfile::tempdir().unwrap();
        let clock = SimulatedClock::starting_at(START);
        let (url, hub, stop) = common::serve_on(dir.path(), &clock, true).await;
        let device = common::enrolled_device(&url, &common::enrolment_code(&hub).await, clock.clock()).await.unwrap();
        Hall { url, hub, clock, http: reqwest::Client::new(), device, dir, _stop: stop }
    }

    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        loop {
            let mut request = self.http.request(method.clone(), format!("{}{path}", self.url));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = self.device.sign(request).await.unwrap().send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            let answer = serde_json::from_str(&text).unwrap_or(Value::String(text));
            if answer["code"] == "device_session_ended" {
                self.device.forget().await;
                continue;
            }
            return (status, answer);
        }
    }

    async fn login(&self, account: &str, password: &str, code: Option<&str>) -> (StatusCode, Value) {
        self.call(Method::POST, "/v1/auth/login", None, Some(json!({"account": account, "password": password, "code": code})))
            .await
    }

    /// Signs in a demo account, binding an authenticator first where its role needs one;
    /// answers the token, and the authenticator's secret with the recovery codes.
    async fn sign_in(&self, account: &str) -> (String, Option<(String, Vec<String>)>) {
        let (status, answer) = self.login(account, DEMO_PASSWORD, None).await;
        assert_eq!(status, StatusCode::OK, "{account}: {answer}");
        let token = answer["token"].as_str().unwrap().to_owned();
        if !answer["must_enrol_second_factor"].as_bool().unwrap() {
            return (token, None);
        }
        let (_, enrol) = self.call(Method::POST, "/v1/auth/second-factor", Some(&token), None).await;
        let secret = enrol["secret"].as_str().unwrap().to_owned();
        let code = totp::code_at(&secret, self.clock.clock().now().unix_timestamp()).unwrap();
        let (status, confirmed) =
            self.call(Method::POST, "/v1/auth/second-factor/confirm", Some(&token), Some(json!({"code": code}))).await;
        assert_eq!(status, StatusCode::OK, "{confirmed}");
        let codes: Vec<String> = serde_json::from_value(confirmed["recovery_codes"].clone()).unwrap();
        assert_eq!(codes.len(), totp::RECOVERY_CODES);
        (token, Some((secret, codes)))
    }

    fn code(&self, secret: &str) -> String {
        totp::code_at(secret, self.clock.clock().now().unix_timestamp()).unwrap()
    }

    fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("hub.sqlite3")
    }
}

/// A path of the table with its parameters filled in, and a query where a route would
/// otherwise wait or stream everything.
fn concrete(path: &str) -> String {
    let path = path
        .replace("{account}", "nobody")
        .replace("{role}", "clerk")
        .replace("{id}", "1")
        .replace("{code}", "NOSUCH")
        .replace("{number}", "PZ0000000000");
    match path.as_str() {
        "/v1/changes" => "/v1/changes?after=0&wait=0".into(),
        _ => path,
    }
}

fn refused_by_access(status: StatusCode, body: &Value) -> bool {
    (status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN)
        && body["code"].as_str().is_some_and(|c| ACCESS_REFUSALS.contains(&c))
}

#[tokio::test]
async fn every_route_admits_or_refuses_each_caller_as_its_table_line_declares() {
    let hall = Hall::open().await;
    let mut tokens: HashMap<BuiltinRole, String> = HashMap::new();
    for (account, _, role) in DEMO_ACCOUNTS {
        tokens.insert(role, hall.sign_in(account).await.0);
    }
    // A token made up, and one that was real until its owner signed out.
    let forged = "A".repeat(43);
    let (replayed, _) = hall.sign_in("clerk01").await;
    let (status, _) = hall.call(Method::POST, "/v1/auth/logout", Some(&replayed), None).await;
    assert_eq!(status, StatusCode::OK);

    assert!(ROUTES.len() > 50, "the table names every route");
    for route in ROUTES {
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let path = concrete(route.path);
        for (who, token) in [("no session", None), ("a forged token", Some(forged.as_str())), ("a replayed token", Some(replayed.as_str()))] {
            let (status, body) = hall.call(method.clone(), &path, token, None).await;
            let needs_person = matches!(route.access, Access::Session | Access::Permission(_) | Access::AnyOf(_));
            assert_eq!(
                refused_by_access(status, &body),
                needs_person,
                "{} {} with {who}: {status} {body}",
                route.method,
                route.path
            );
            if needs_person {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {} with {who}", route.method, route.path);
            }
        }
        // The line names a route the hub serves: not its fallback's answer.
        let probe = if route.path == "/v1/auth/logout" { None } else { tokens.get(&BuiltinRole::Clerk).map(String::as_str) };
        let (_, body) = hall.call(method.clone(), &path, probe, None).await;
        assert!(
            !matches!(body["code"].as_str(), Some("not_found" | "method_not_allowed")),
            "{} {} is in the table but not served: {body}",
            route.method,
            route.path
        );
        for (role, token) in &tokens {
            if route.path == "/v1/auth/logout" {
                continue; // signs the token out: done for every role after the walk
            }
            let (status, body) = hall.call(method.clone(), &path, Some(token), None).await;
            let allowed = match route.access {
                Access::Permission(p) => role.default_permissions().contains(&p),
                Access::AnyOf(any) => any.iter().any(|p| role.default_permissions().contains(p)),
                _ => true,
            };
            assert_eq!(
                !refused_by_access(status, &body),
                allowed,
                "{} {} as {role:?}: {status} {body}",
                route.method,
                route.path
            );
            if !allowed {
                assert_eq!(status, StatusCode::FORBIDDEN);
                assert_eq!(body["code"], "forbidden");
            }
        }
    }
    for (role, token) in &tokens {
        let (status, body) = hall.call(Method::POST, "/v1/auth/logout", Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "{role:?}: {body}");
        let (status, body) = hall.call(Method::GET, "/v1/auth/me", Some(token), None).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("session_ended")), "{role:?}");
    }
}

#[tokio::test]
async fn every_write_refuses_a_body_not_of_its_type_before_reading_it() {
    let hall = Hall::open().await;
    let (token, _) = hall.sign_in("sysadmin").await;
    let writes: Vec<_> = ROUTES.iter().filter(|r| r.method == "POST" || r.method == "PUT").collect();
    assert!(writes.len() > 30, "the table's writes");
    // What a web page may send to any address without the browser asking first (a form is
    // the OAuth2 token request's own type).
    for given in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        for route in &writes {
            if route.path == "/v1/push/debezium/token" && given == "application/x-www-form-urlencoded" {
                continue;
            }
            let method = Method::from_bytes(route.method.as_bytes()).unwrap();
            let request = hall
                .http
                .request(method, format!("{}{}", hall.url, concrete(route.path)))
                .bearer_auth(&token)
                .header("content-type", given)
                .body(r#"{"records":[],"commands":[],"account":"x"}"#);
            let response = hall.device.sign(request).await.unwrap().send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            let expected = yizhan_hub::routes::edges::body_type(&Method::from_bytes(route.method.as_bytes()).unwrap(), route.path).unwrap();
            assert_eq!(
                (status, body["code"].as_str()),
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_media_type")),
                "{} {} as {given}: {body}",
                route.method,
                route.path
            );
            assert!(body["message"].as_str().unwrap().contains(expected), "{body}");
        }
    }
    // Its own type, with a charset, is read.
    let request = hall
        .http
        .post(format!("{}/v1/auth/login", hall.url))
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"account":"clerk01","password":"wrong","code":null}"#);
    let response = hall.device.sign(request).await.unwrap().send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "login_failed", "{body}");
}

#[tokio::test]
async fn a_route_the_table_does_not_name_is_refused() {
    let hall = Hall::open().await;
    let router = yizhan_hub::router(hall.hub.clone());
    // The access layer wraps the routes the hub defines; one added after it (or in a
    // branch that forgot the table) must not answer.
    let with_extra = axum::Router::new()
        .route("/v1/extra", axum::routing::get(|| async { "open" }))
        .route_layer(axum::middleware::from_fn_with_state(hall.hub.clone(), yizhan_hub::routes::access::authorise))
        .with_state(hall.hub.clone())
        .merge(router);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/extra", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, with_extra).await });
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "undeclared_route");
}

#[tokio::test]
async fn five_failures_lock_an_account_for_ten_minutes_with_the_same_answer_as_a_stranger() {
    let hall = Hall::open().await;
    let (stranger_status, stranger) = hall.login("nosuchuser", "Whatever-1", None).await;
    assert_eq!(stranger_status, StatusCode::UNAUTHORIZED);
    for _ in 0..5 {
        let (status, body) = hall.login("clerk01", "Wrong-pass-1", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["message"], stranger["message"], "a wrong password reads as an unknown account");
    }
    let (status, body) = hall.login("clerk01", DEMO_PASSWORD, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "locked, even with the right password");
    assert_eq!(body["message"], stranger["message"], "a lockout reads as an unknown account");

    hall.clock.advance(time::Duration::minutes(11));
    let (status, _) = hall.login("clerk01", DEMO_PASSWORD, None).await;
    assert_eq!(status, StatusCode::OK, "the lock lifts after ten minutes");

    // Locked again, and lifted early by the security administrator.
    for _ in 0..5 {
        hall.login("clerk01", "Wrong-pass-1", None).await;
    }
    assert_eq!(hall.login("clerk01", DEMO_PASSWORD, None).await.0, StatusCode::UNAUTHORIZED);
    let (clerk_token, _) = (hall.sign_in("chief01").await.0, ());
    let (status, _) = hall.call(Method::POST, "/v1/admin/users/clerk01/unlock", Some(&clerk_token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a supervisor cannot unlock");
    let (sec, _) = hall.sign_in("secadmin").await;
    let (status, body) = hall.call(Method::POST, "/v1/admin/users/clerk01/unlock", Some(&sec), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(hall.login("clerk01", DEMO_PASSWORD, None).await.0, StatusCode::OK);

    let (_, audit) = hall.call(Method::GET, "/v1/audit?event=lockout", Some(&hall.sign_in("auditor").await.0), None).await;
    assert_eq!(audit.as_array().unwrap().len(), 2, "{audit}");
}

#[tokio::test]
async fn many_failures_from_one_address_are_throttled_whatever_the_accounts() {
    let hall = Hall::open().await;
    for i in 0..yizhan_hub::accounts::ADDRESS_FAILURES {
        let (status, _) = hall.login(&format!("guess{i}"), "Wrong-pass-1", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = hall.login("clerk01", DEMO_PASSWORD, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "too_many_attempts");
    hall.clock.advance(time::Duration::minutes(11));
    assert_eq!(hall.login("clerk01", DEMO_PASSWORD, None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn sessions_end_when_idle_or_too_old_and_at_an_administrators_word() {
    let hall = Hall::open().await;
    let (clerk, _) = hall.sign_in("clerk01").await;
    hall.clock.advance(time::Duration::minutes(14));
    assert_eq!(hall.call(Method::GET, "/v1/auth/me", Some(&clerk), None).await.0, StatusCode::OK);
    hall.clock.advance(time::Duration::minutes(16));
    let (status, body) = hall.call(Method::GET, "/v1/auth/me", Some(&clerk), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "session_ended");
    assert!(body["message"].as_str().unwrap().contains("长时间未操作"), "{body}");

    // Kept busy, a session still ends at its absolute lifetime.
    let (busy, _) = hall.sign_in("clerk01").await;
    for _ in 0..(13 * 6) {
        hall.clock.advance(time::Duration::minutes(10));
        let (status, _) = hall.call(Method::GET, "/v1/auth/me", Some(&busy), None).await;
        if status != StatusCode::OK {
            break;
        }
    }
    let (status, body) = hall.call(Method::GET, "/v1/auth/me", Some(&busy), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["message"].as_str().unwrap().contains("最长时间"), "{body}");

    // Force-logout by the system administrator.
    let (clerk, _) = hall.sign_in("clerk01").await;
    let (sys, _) = hall.sign_in("sysadmin").await;
    let (_, sessions) = hall.call(Method::GET, "/v1/admin/sessions", Some(&sys), None).await;
    let clerks: Vec<&Value> = sessions.as_array().unwrap().iter().filter(|s| s["account"] == "clerk01").collect();
    assert_eq!(clerks.len(), 1, "{sessions}");
    let id = clerks[0]["id"].as_str().unwrap();
    let (status, _) = hall.call(Method::DELETE, &format!("/v1/admin/sessions/{id}"), Some(&sys), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = hall.call(Method::GET, "/v1/auth/me", Some(&clerk), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["message"].as_str().unwrap().contains("强制下线"), "{body}");
}

#[tokio::test]
async fn a_second_factor_is_taken_in_its_window_once_and_a_recovery_code_once() {
    let hall = Hall::open().await;
    let (_, factor) = hall.sign_in("chief01").await;
    let (secret, recovery) = factor.expect("a supervisor binds an authenticator");
    let (status, body) = hall.login("chief01", DEMO_PASSWORD, None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("second_factor_needed")));

    hall.clock.advance(time::Duration::seconds(30));
    let code = hall.code(&secret);
    assert_eq!(hall.login("chief01", DEMO_PASSWORD, Some(&code)).await.0, StatusCode::OK);
    assert_eq!(hall.login("chief01", DEMO_PASSWORD, Some(&code)).await.0, StatusCode::UNAUTHORIZED, "replayed");
    hall.clock.advance(time::Duration::seconds(30));
    let stale = hall.code(&secret);
    hall.clock.advance(time::Duration::seconds(90));
    assert_eq!(hall.login("chief01", DEMO_PASSWORD, Some(&stale)).await.0, StatusCode::UNAUTHORIZED, "out of its window");
    assert_eq!(hall.login("chief01", DEMO_PASSWORD, Some(&hall.code(&secret))).await.0, StatusCode::OK);

    // A lost phone: a recovery code, typed with a space for its dash, works once.
    let typed = recovery[0].replace('-', " ");
    assert_eq!(hall.login("chief01", DEMO_PASSWORD, Some(&typed)).await.0, StatusCode::OK);
    assert_eq!(hall.login("chief01", DEMO_PASSWORD, Some(&typed)).await.0, StatusCode::UNAUTHORIZED, "used up");
    assert_eq!(hall.login("chief01", DEMO_PASSWORD, Some(&recovery[1])).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_new_account_changes_its_one_time_password_by_the_policy_before_anything_else() {
    let hall = Hall::open().await;
    let (sys, _) = hall.sign_in("sysadmin").await;
    let (status, made) = hall
        .call(Method::POST, "/v1/admin/users", Some(&sys), Some(json!({"account": "li.na", "real_name": "李娜", "department": "窗口"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let one_time = made["password"].as_str().unwrap().to_owned();
    let (status, again) = hall
        .call(Method::POST, "/v1/admin/users", Some(&sys), Some(json!({"account": "li.na", "real_name": "李娜", "department": "窗口"})))
        .await;
    assert_eq!((status, again["code"].as_str()), (StatusCode::CONFLICT, Some("account_taken")));
    let (sec, _) = hall.sign_in("secadmin").await;
    let (status, _) = hall
        .call(Method::PUT, "/v1/admin/users/li.na/grants/clerk", Some(&sec), Some(json!({"scope": {"kind": "all"}})))
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, answer) = hall.login("li.na", &one_time, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["must_change_password"], true);
    let token = answer["token"].as_str().unwrap().to_owned();
    let (status, body) = hall.call(Method::GET, "/v1/projects/NOSUCH", Some(&token), None).await;
    assert_ne!(body["code"], "password_change_required", "counter routes are not held to it: {status}");
    let (status, body) = hall.call(Method::GET, "/v1/audit", Some(&token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    for (new, problem) in [("Ab1!", "至少 8"), ("abcdefgh1", "至少 3 类"), ("Li.Na-2026x", "包含账号"), (one_time.as_str(), "相同")] {
        let (status, body) = hall.call(Method::POST, "/v1/auth/password", Some(&token), Some(change(&one_time, new))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{new}: {body}");
        assert_eq!(body["errors"][0]["field"], "new_password");
        assert!(body["errors"][0]["problem"].as_str().unwrap().contains(problem), "{new}: {body}");
    }
    let (status, body) = hall.call(Method::POST, "/v1/auth/password", Some(&token), Some(change("wrong", "Counter-2026a"))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("wrong_password")));
    let (status, _) = hall.call(Method::POST, "/v1/auth/password", Some(&token), Some(change(&one_time, "Counter-2026a"))).await;
    assert_eq!(status, StatusCode::OK);

    // The last five may not come back; the sixth may.
    let mut current = "Counter-2026a".to_owned();
    for next in ["Counter-2026b", "Counter-2026c", "Counter-2026d", "Counter-2026e"] {
        let (status, body) = hall.call(Method::POST, "/v1/auth/password", Some(&token), Some(change(&current, next))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        current = next.to_owned();
    }
    let (status, body) = hall.call(Method::POST, "/v1/auth/password", Some(&token), Some(change(&current, "Counter-2026a"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["errors"][0]["problem"].as_str().unwrap().contains("最近 5 次"));
    let (status, _) = hall.call(Method::POST, "/v1/auth/password", Some(&token), Some(change(&current, "Counter-2026f"))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = hall.call(Method::POST, "/v1/auth/password", Some(&token), Some(change("Counter-2026f", &one_time))).await;
    assert_eq!(status, StatusCode::OK, "the one-time password is six back now");

    // Expiry: after 90 days the next sign-in must change it again.
    hall.clock.advance(time::Duration::days(91));
    let (_, answer) = hall.login("li.na", &one_time, None).await;
    assert_eq!(answer["must_change_password"], true, "{answer}");
}

#[tokio::test]
async fn separation_of_duties_holds_whatever_an_administrator_asks() {
    let hall = Hall::open().await;
    let (sec, _) = hall.sign_in("secadmin").await;
    let grant = |account: &str, role: &str| format!("/v1/admin/users/{account}/grants/{role}");
    let scope = Some(json!({}));
    let (status, body) = hall.call(Method::PUT, &grant("secadmin", "audit_admin"), Some(&sec), scope.clone()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("grant_refused")), "not to oneself: {body}");
    let (status, body) = hall.call(Method::PUT, &grant("clerk01", "audit_admin"), Some(&sec), scope.clone()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("grant_refused")), "no second duty: {body}");
    let (status, body) = hall
        .call(Method::PUT, "/v1/admin/roles/clerk", Some(&sec), Some(json!({"name": "窗口人员", "permissions": ["project:read", "audit:read"]})))
        .await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_role")), "{body}");
    let (sys, _) = hall.sign_in("sysadmin").await;
    let (status, _) = hall.call(Method::PUT, &grant("clerk01", "supervisor"), Some(&sys), scope).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the system administrator grants no roles");
    let (status, body) = hall
        .call(Method::PUT, "/v1/admin/policy", Some(&sec), Some(json!({"idle_minutes": 45})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "idle_minutes");
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_and_its_sign_in() {
    let hall = Hall::open().await;
    let (clerk, _) = hall.sign_in("clerk01").await;
    let (sys, _) = hall.sign_in("sysadmin").await;
    let (status, _) =
        hall.call(Method::POST, "/v1/admin/users/clerk01/status", Some(&sys), Some(json!({"status": "disabled"}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hall.call(Method::GET, "/v1/auth/me", Some(&clerk), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(hall.login("clerk01", DEMO_PASSWORD, None).await.0, StatusCode::UNAUTHORIZED);
}

fn hub_cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yizhan-hub")).args(args).env("RUST_LOG", "warn").output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[tokio::test]
async fn the_audit_trail_records_each_event_and_exports_as_csv_and_xlsx() {
    let hall = Hall::open().await;
    hall.login("clerk01", "Wrong-pass-1", None).await;
    let (clerk, _) = hall.sign_in("clerk01").await;
    hall.call(Method::POST, "/v1/auth/logout", Some(&clerk), None).await;
    let (auditor, _) = hall.sign_in("auditor").await;
    let (status, found) = hall.call(Method::GET, "/v1/audit?user=clerk01", Some(&auditor), None).await;
    assert_eq!(status, StatusCode::OK);
    let events: Vec<&str> = found.as_array().unwrap().iter().map(|r| r["event"].as_str().unwrap()).collect();
    for event in ["login_failure", "login_success", "logout"] {
        assert!(events.contains(&event), "{event} in {events:?}");
    }
    let failure = found.as_array().unwrap().iter().find(|r| r["event"] == "login_failure").unwrap();
    assert_eq!((failure["result"].as_str(), failure["reason"].as_str()), (Some("failure"), Some("密码错误")));
    assert_eq!(failure["address"], "127.0.0.1");

    let csv = hall.device.sign(hall.http.get(format!("{}/v1/audit/export?format=csv&user=clerk01", hall.url)).bearer_auth(&auditor)).await.unwrap().send().await.unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    let text = csv.text().await.unwrap();
    assert!(text.starts_with('\u{feff}') && text.contains("login_failure") && text.contains("时间（北京时间）"), "{text}");
    let xlsx = hall
        .device
        .sign(hall.http.get(format!("{}/v1/audit/export?format=xlsx", hall.url)).bearer_auth(&auditor))
        .await
        .unwrap()
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(xlsx.starts_with(b"PK"), "an XLSX is a zip");
    let (_, exports) = hall.call(Method::GET, "/v1/audit?event=audit_exported", Some(&auditor), None).await;
    assert_eq!(exports.as_array().unwrap().len(), 2, "each export is itself audited");
}

fn sql(db: &std::path::Path, statements: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(statements).unwrap();
}

#[tokio::test]
async fn audit_verify_names_the_record_changed_removed_or_inserted_in_the_file() {
    let hall = Hall::open().await;
    for _ in 0..3 {
        hall.login("clerk01", "Wrong-pass-1", None).await;
    }
    hall.sign_in("clerk01").await;
    let db = hall.db();
    let db_arg = db.to_str().unwrap();
    let (ok, out) = hub_cli(&["audit", "verify", "--db", db_arg]);
    assert!(ok, "{out}");
    assert!(out.contains("完整"), "{out}");

    // An intruder with the file drops the triggers and edits a record.
    let original: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT object FROM audit_log WHERE id = 3", [], |r| r.get(0))
        .unwrap();
    sql(&db, "DROP TRIGGER audit_log_refuse_update; UPDATE audit_log SET object = 'someone else' WHERE id = 3;");
    let (ok, out) = hub_cli(&["audit", "verify", "--db", db_arg]);
    assert!(!ok);
    assert!(out.contains("第 3 条"), "{out}");
    sql(&db, &format!("UPDATE audit_log SET object = '{original}' WHERE id = 3;"));
    assert!(hub_cli(&["audit", "verify", "--db", db_arg]).0, "put back, it verifies again");

    sql(&db, "DROP TRIGGER audit_log_refuse_delete; DELETE FROM audit_log WHERE id = 2;");
    let (ok, out) = hub_cli(&["audit", "verify", "--db", db_arg]);
    assert!(!ok);
    assert!(out.contains("第 2 条") && out.contains("缺失"), "{out}");

    sql(&db, "INSERT INTO audit_log SELECT 2, at, local_at, user, role, device, address, 'logout', object, result, reason, detail, mac FROM audit_log WHERE id = 3;");
    let (ok, out) = hub_cli(&["audit", "verify", "--db", db_arg]);
    assert!(!ok);
    assert!(out.contains("第 2 条"), "{out}");
}

#[tokio::test]
async fn the_triggers_refuse_changes_and_young_records_cannot_be_pruned() {
    let hall = Hall::open().await;
    hall.sign_in("clerk01").await;
    let conn = rusqlite::Connection::open(hall.db()).unwrap();
    assert!(conn.execute("UPDATE audit_log SET reason = 'x'", []).is_err());
    assert!(conn.execute("DELETE FROM audit_log", []).is_err());
    let err = hall.hub.prune_audit(time::Duration::days(30)).await.unwrap_err();
    assert!(err.to_string().contains("180"), "{err}");
}

#[tokio::test]
async fn pruning_old_records_leaves_a_trail_that_verifies_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.sqlite3");
    // Records made 200 days ago: the triggers judge age by the database's own clock, so
    // the trail is written as it was then.
    let clock = SimulatedClock::starting_at(OffsetDateTime::now_utc() - time::Duration::days(200));
    let hub = Hub::open(HubConfig::new(&db)).unwrap().with_clock(clock.clock());
    hub.seed_demo_accounts().await.unwrap();
    let old = hub.verify_audit().await.unwrap();
    clock.set(OffsetDateTime::now_utc());
    let actor = yizhan_hub::audit::Actor { user: "clerk01".into(), ..Default::default() };
    hub.audit(yizhan_hub::audit::Entry::new(&actor, yizhan_hub::audit::AuditEvent::Logout, "clerk01")).await.unwrap();
    let removed = hub.prune_audit(time::Duration::days(180)).await.unwrap();
    let yizhan_hub::audit::Verification::Intact { records: before, .. } = old else { panic!("{old:?}") };
    assert_eq!(removed, before, "every record older than 180 days went");
    let (ok, out) = hub_cli(&["audit", "verify", "--db", db.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("第 {}–", before + 1)), "verification starts after the checkpoint: {out}");
    drop(hub);
    sql(&db, "DROP TRIGGER audit_checkpoints_refuse_update; UPDATE audit_checkpoints SET through_mac = 'x';");
    let (ok, out) = hub_cli(&["audit", "verify", "--db", db.to_str().unwrap()]);
    assert!(!ok && out.contains("检查点"), "{out}");
}

#[tokio::test]
async fn admin_init_makes_the_first_two_administrators_once_with_one_time_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.sqlite3");
    let db_arg = db.to_str().unwrap();
    let args = [
        "admin", "init", "--db", db_arg, "--security-account", "sec.zhang", "--security-name", "张安", "--system-account",
        "sys.liu", "--system-name", "刘系",
    ];
    let (ok, out) = hub_cli(&args);
    assert!(ok, "{out}");
    let password = out
        .lines()
        .find(|l| l.contains("sec.zhang"))
        .and_then(|l| l.split_whitespace().last())
        .expect("the one-time password is printed")
        .to_owned();
    let (ok, out) = hub_cli(&args);
    assert!(!ok && out.contains("已有管理员账号"), "{out}");

    let hub = Hub::open(HubConfig::new(&db)).unwrap();
    let pc = "admin-pc-01".parse().unwrap();
    let answer = hub.login(serde_json::from_value(json!({"account": "sec.zhang", "password": password})).unwrap(), "127.0.0.1", &pc).await.unwrap();
    assert!(answer.must_change_password);
    assert!(answer.must_enrol_second_factor);
    assert!(answer.person.may(Permission::RoleGrant) && !answer.person.may(Permission::UserManage));
    assert!(hub.store().users().await.unwrap().len() == 2, "no other account exists");
}

#[tokio::test]
async fn a_sign_in_whose_audit_record_cannot_be_written_does_not_happen() {
    let hall = Hall::open().await;
    sql(&hall.db(), "CREATE TRIGGER audit_log_full BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END;");
    let (status, body) = hall.login("clerk01", DEMO_PASSWORD, None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(body.get("token").is_none());
    assert!(hall.hub.store().open_sessions().await.unwrap().is_empty(), "no session was opened");
    sql(&hall.db(), "DROP TRIGGER audit_log_full;");
    assert_eq!(hall.login("clerk01", DEMO_PASSWORD, None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn record_ingest_without_credentials_exists_only_on_a_demo_hub() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::open(HubConfig::new(dir.path().join("hub.sqlite3"))).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/ingest/payments", listener.local_addr().unwrap());
    tokio::spawn(yizhan_hub::serve(listener, hub));
    let response = reqwest::Client::new().post(url).json(&json!({"records": []})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn fee_rules_changed_between_two_starts_are_on_record_once() {
    use yizhan_hub::store::AuditQuery;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.sqlite3");
    let query = AuditQuery { object: Some("assessment_rules".into()), limit: 10, ..AuditQuery::default() };
    let hub = Hub::open(HubConfig::new(&path)).unwrap();
    hub.note_assessment_rules().await.unwrap();
    hub.note_assessment_rules().await.unwrap();
    let first = hub.store().search_audit(&query).await.unwrap();
    assert_eq!(first.len(), 1, "the same rules at the next start are not recorded again");
    drop(hub);

    let mut changed = HubConfig::new(&path);
    changed.due_days += 30;
    let hub = Hub::open(changed).unwrap();
    hub.note_assessment_rules().await.unwrap();
    let both = hub.store().search_audit(&query).await.unwrap();
    assert_eq!(both.len(), 2);
    let (after, before): (Value, Value) = (serde_json::from_str(&both[0].detail).unwrap(), serde_json::from_str(&first[0].detail).unwrap());
    assert_eq!(both[0].event, "config_changed");
    assert_eq!(after["sm3_before"], before["sm3_after"], "the change names what it replaced");
    assert_ne!(after["sm3_after"], before["sm3_after"]);
    assert_eq!(after["config"]["due_days"], before["config"]["due_days"].as_u64().unwrap() + 30);
}

/// Starts `yizhan-hub serve` on `db` with `connectors` until it serves, then stops it.
fn serve_until_started(db: &std::path::Path, tariff: &std::path::Path, connectors: &[&str]) {
    use std::io::{BufRead, BufReader};
    let mut hub = Command::new(env!("CARGO_BIN_EXE_yizhan-hub"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .arg("--tariff")
        .arg(tariff)
        .args(connectors)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let said: Vec<String> = BufReader::new(hub.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .take_while(|line| !line.contains("数据中心已启动"))
        .collect();
    let started = hub.try_wait().unwrap().is_none();
    hub.kill().unwrap();
    hub.wait().unwrap();
    assert!(started, "the hub did not start: {said:?}");
}

#[tokio::test]
async fn connectors_changed_between_two_starts_are_on_record_once_without_the_password() {
    use yizhan_hub::store::AuditQuery;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.sqlite3");
    let tariff = dir.path().join("tariff.toml");
    let demo = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/tariff-demo.toml")).unwrap();
    std::fs::write(&tariff, demo.replace("demo = true", "demo = false")).unwrap();
    let (first_dir, second_dir) = (dir.path().join("规划导出"), dir.path().join("规划导出-新"));
    std::fs::create_dir_all(&first_dir).unwrap();
    std::fs::create_dir_all(&second_dir).unwrap();
    let cdc = "postgres://planner:S3cret-pass@127.0.0.1:9/planning";
    let with = |folder: &std::path::Path| vec!["--import-dir".to_owned(), folder.display().to_string(), "--planning-cdc".into(), cdc.into()];

    for _ in 0..2 {
        let args = with(&first_dir);
        serve_until_started(&db, &tariff, &args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let args = with(&second_dir);
    serve_until_started(&db, &tariff, &args.iter().map(String::as_str).collect::<Vec<_>>());

    let hub = Hub::open(HubConfig::new(&db)).unwrap();
    let query = AuditQuery { object: Some("connectors".into()), limit: 10, ..AuditQuery::default() };
    let records = hub.store().search_audit(&query).await.unwrap();
    assert_eq!(records.len(), 2, "the same connectors at the next start are not recorded again: {records:?}");
    let (after, before): (Value, Value) = (serde_json::from_str(&records[0].detail).unwrap(), serde_json::from_str(&records[1].detail).unwrap());
    assert_eq!(records[0].event, "config_changed");
    assert_eq!(after["sm3_before"], before["sm3_after"], "the change names what it replaced");
    assert_eq!(after["config"]["import_dir"], second_dir.display().to_string());
    assert_eq!(before["config"]["import_dir"], first_dir.display().to_string());
    assert_eq!(after["config"]["planning_cdc"]["source"], "planner@127.0.0.1:9/planning");
    assert!(records.iter().all(|r| !r.detail.contains("S3cret-pass")), "the database password is not on record");
}
