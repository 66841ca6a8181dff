//! The account screens' calls against a real hub: the system administrator makes an account
//! whose one-time password signs in, forces its session out, resets and disables it; the
//! security administrator grants it a role where it holds, unlocks a locked account, and
//! changes a role and the policy within level 3's floor.

use yizhan_core::access::{DataScope, Permission};
use yizhan_core::account::SecurityPolicy;
use yizhan_sync::client::{HubAdmin, SyncError};
use yizhan_sync::protocol::{NewUser, RoleBody, SignInRequest, UserStatus};
use yizhan_tests::hub::TestHub;

fn sign_in(account: &str, password: &str) -> SignInRequest {
    SignInRequest { account: account.into(), password: password.into(), code: None }
}

/// The hub's code, HTTP status and field of a refusal.
fn refusal(error: SyncError) -> (String, u16, Option<String>) {
    match error {
        SyncError::Hub { code, status, field, .. } => (code, status, field),
        other => panic!("not a refusal by the hub: {other}"),
    }
}

fn liu() -> NewUser {
    NewUser { account: "liuyang".into(), real_name: "刘洋".into(), department: "一站式收费综合窗口".into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_signs_in_with_its_one_time_password_and_is_forced_out_reset_and_disabled() {
    let hub = TestHub::start(1).await;
    let sysadmin = hub.operator("sysadmin").await;

    let made = sysadmin.create_user(&liu()).await.unwrap();
    assert_eq!(made.account.as_str(), "liuyang");
    let users = sysadmin.users().await.unwrap();
    let listed = users.iter().find(|u| u.account.as_str() == "liuyang").expect("the new account is listed");
    assert_eq!((listed.status, listed.must_change_password, listed.grants.len()), (UserStatus::Active, true, 0));
    assert_eq!(refusal(sysadmin.create_user(&liu()).await.unwrap_err()).0, "account_taken");
    let misspelt = NewUser { account: "刘洋".into(), ..liu() };
    assert_eq!(refusal(sysadmin.create_user(&misspelt).await.unwrap_err()), ("invalid_field".into(), 422, Some("account".into())));

    // The one-time password signs in, to a session that must change it first.
    let pc = hub.device().await;
    let pc_id = pc.device_id().to_string();
    let counter = HubAdmin::new(&hub.link(), Some(pc)).unwrap();
    let signed_in = counter.sign_in(&sign_in("liuyang", &made.password)).await.unwrap();
    assert!(signed_in.must_change_password);

    // Where the role holds travels with the grant; nobody grants to themselves.
    let secadmin = hub.operator("secadmin").await;
    let jiangning = DataScope::Districts(["320115".to_owned()].into());
    secadmin.grant_role("liuyang", "clerk", jiangning.clone()).await.unwrap();
    let (code, status, _) = refusal(secadmin.grant_role("secadmin", "security_admin", DataScope::All).await.unwrap_err());
    assert_eq!((code.as_str(), status), ("grant_refused", 403));
    let listed = secadmin.users().await.unwrap();
    assert!(listed.iter().any(|u| u.account.as_str() == "liuyang"), "the security administrator sees whom roles go to");
    let auditor = hub.operator("auditor").await;
    assert_eq!(refusal(auditor.users().await.unwrap_err()).1, 403, "the list of accounts is not the auditor's business");
    let users = sysadmin.users().await.unwrap();
    let grants = &users.iter().find(|u| u.account.as_str() == "liuyang").unwrap().grants;
    assert_eq!((grants[0].role.as_str(), &grants[0].scope, grants[0].granted_by.as_str()), ("clerk", &jiangning, "secadmin"));

    // 强制下线: the session is listed with its counter, ended, and its token refused.
    let sessions = sysadmin.sessions().await.unwrap();
    let session = sessions.iter().find(|s| s.account.as_str() == "liuyang").expect("the new sign-in is online");
    assert_eq!(session.device.as_deref(), Some(pc_id.as_str()), "the session names the PC it was opened on");
    sysadmin.end_session(&session.id).await.unwrap();
    let ended = refusal(counter.change_password(&made.password, "Counter-2026-liu").await.unwrap_err());
    assert_eq!(ended.1, 401, "{ended:?}");
    assert!(!sysadmin.sessions().await.unwrap().iter().any(|s| s.account.as_str() == "liuyang"));
    assert_eq!(refusal(sysadmin.end_session(&session.id).await.unwrap_err()).0, "no_such_session");

    // A reset makes a new one-time password; the first no longer signs in.
    let reset = sysadmin.reset_password("liuyang").await.unwrap();
    assert_ne!(reset.password, made.password);
    assert_eq!(refusal(counter.sign_in(&sign_in("liuyang", &made.password)).await.unwrap_err()).0, "login_failed");
    counter.sign_in(&sign_in("liuyang", &reset.password)).await.unwrap();

    // 停用 signs the person out at once and keeps them out.
    sysadmin.set_user_status("liuyang", UserStatus::Disabled).await.unwrap();
    assert_eq!(refusal(counter.change_password(&reset.password, "Counter-2026-liu").await.unwrap_err()).1, 401);
    assert!(counter.sign_in(&sign_in("liuyang", &reset.password)).await.is_err());
    let users = sysadmin.users().await.unwrap();
    assert_eq!(users.iter().find(|u| u.account.as_str() == "liuyang").unwrap().status, UserStatus::Disabled);
    assert_eq!(refusal(sysadmin.set_user_status("sysadmin", UserStatus::Disabled).await.unwrap_err()).0, "own_account");

    sysadmin.set_user_status("liuyang", UserStatus::Active).await.unwrap();
    counter.sign_in(&sign_in("liuyang", &reset.password)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_security_administrator_unlocks_an_account_and_changes_a_role_and_the_policy() {
    let hub = TestHub::start(1).await;
    let secadmin = hub.operator("secadmin").await;
    let sysadmin = hub.operator("sysadmin").await;

    // A clerk locked out by wrong passwords is let in again before the lock runs out.
    let counter = HubAdmin::new(&hub.link(), Some(hub.device().await)).unwrap();
    let policy = secadmin.security_policy().await.unwrap();
    assert_eq!(policy, SecurityPolicy::default());
    for _ in 0..policy.lockout_failures {
        assert!(counter.sign_in(&sign_in("clerk02", "Wrong-password-1")).await.is_err());
    }
    let users = sysadmin.users().await.unwrap();
    assert!(users.iter().find(|u| u.account.as_str() == "clerk02").unwrap().locked_until.is_some());
    let demo = yizhan_hub::accounts::admin::DEMO_PASSWORD;
    assert!(counter.sign_in(&sign_in("clerk02", demo)).await.is_err(), "locked");
    assert_eq!(refusal(sysadmin.unlock_user("clerk02").await.unwrap_err()).1, 403, "unlocking is the security administrator's");
    secadmin.unlock_user("clerk02").await.unwrap();
    counter.sign_in(&sign_in("clerk02", demo)).await.unwrap();

    // A role changes within its duty; a role mixing duties, or a built-in one leaving its
    // duty, is refused.
    let roles = secadmin.roles().await.unwrap();
    let supervisor = roles.iter().find(|r| r.id == "supervisor").unwrap();
    let mut permissions = supervisor.permissions.clone();
    assert!(permissions.remove(&Permission::PersonalUnmask));
    let changed = secadmin.put_role("supervisor", &RoleBody { name: supervisor.name.clone(), permissions: permissions.clone() }).await.unwrap();
    assert_eq!(changed.permissions, permissions);
    let roles = secadmin.roles().await.unwrap();
    assert_eq!(roles.iter().find(|r| r.id == "supervisor").unwrap().permissions, permissions);
    let mut mixed = permissions.clone();
    mixed.insert(Permission::AuditRead);
    let refused = refusal(secadmin.put_role("supervisor", &RoleBody { name: supervisor.name.clone(), permissions: mixed }).await.unwrap_err());
    assert_eq!((refused.0.as_str(), refused.1), ("invalid_role", 422));
    let leaving = RoleBody { name: "系统管理员".into(), permissions: [Permission::RoleGrant].into() };
    assert_eq!(refusal(secadmin.put_role("system_admin", &leaving).await.unwrap_err()).0, "invalid_role");

    // The policy is stricter once saved; one weaker than level 3 is refused by its field.
    let stricter = SecurityPolicy { idle_minutes: 10, min_length: 12, ..policy.clone() };
    secadmin.set_security_policy(&stricter).await.unwrap();
    assert_eq!(secadmin.security_policy().await.unwrap(), stricter);
    let weak = SecurityPolicy { idle_minutes: 45, ..stricter.clone() };
    assert_eq!(refusal(secadmin.set_security_policy(&weak).await.unwrap_err()), ("invalid_policy".into(), 422, Some("idle_minutes".into())));
    assert_eq!(refusal(sysadmin.set_security_policy(&stricter).await.unwrap_err()).1, 403);
    assert_eq!(secadmin.security_policy().await.unwrap(), stricter);
}
