//! People at a counter against a real hub: clerks sign in online and are kept on the
//! counter; with the hub gone they sign in offline; an account disabled, a password changed
//! or a role changed at the hub reaches the counter at its next sync.


use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use yizhan_core::access::{DataScope, Permission};
use yizhan_hub::accounts::admin::DEMO_PASSWORD;
use yizhan_hub::store::{GrantRecord, UserStatus};
use yizhan_sync::client::{SignInError, SyncClient};
use yizhan_tests::counter::{Counter, options};
use yizhan_tests::hub::TestHub;

fn offline(counter: &Counter) -> SyncClient {
    counter.client_at("http://127.0.0.1:9", options())
}

#[tokio::test]
async fn account_changes_at_the_hub_reach_the_counter_at_its_next_sync() {
    let hub = TestHub::start(10).await;
    hub.hub().seed_demo_accounts().await.unwrap();
    let counter = hub.counter().await;
    let online = counter.client(&hub, options());
    let sign_ins = online.sign_ins();
    for account in ["clerk01", "chief01", "sysadmin"] {
        let signed_in = sign_ins.sign_in(account, DEMO_PASSWORD, None).await.unwrap();
        assert!(signed_in.online, "{account}");
        sign_ins.sign_out(account).await.unwrap();
    }
    drop(online);

    // The hub goes away: the clerk signs in offline; the supervisor, who uses a second factor, cannot.
    let down = offline(&counter);
    let offline_sign_ins = down.sign_ins();
    let clerk = offline_sign_ins.sign_in("clerk01", DEMO_PASSWORD, None).await.unwrap();
    assert!(!clerk.online && clerk.person.may(Permission::DocumentIssue));
    assert!(matches!(offline_sign_ins.sign_in("chief01", DEMO_PASSWORD, None).await, Err(SignInError::OnlineOnly)));
    drop((offline_sign_ins, down));

    // At the hub: the clerk is disabled, the system administrator's password is changed,
    // and the supervisor is moved to the clerk's role.
    let store = hub.hub().store();
    let account = |name: &str| name.parse().unwrap();
    let mut clerk01 = store.user(&account("clerk01")).await.unwrap().unwrap();
    clerk01.status = UserStatus::Disabled;
    store.update_user(&clerk01).await.unwrap();
    let mut sysadmin = store.user(&account("sysadmin")).await.unwrap().unwrap();
    sysadmin.password_changed_at = OffsetDateTime::now_utc() + time::Duration::seconds(1);
    store.update_user(&sysadmin).await.unwrap();
    store.remove_grant(&account("chief01"), "supervisor").await.unwrap();
    store
        .put_grant(&GrantRecord {
            account: account("chief01"),
            role: "clerk".into(),
            scope: DataScope::All,
            granted_by: "secadmin".into(),
            granted_at: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();

    // The counter's next sync brings it all.
    let back = counter.client(&hub, options());
    let forgotten = back.refresh_kept_sign_ins(&CancellationToken::new()).await.unwrap();
    assert_eq!(forgotten, 2, "the disabled account and the changed password");
    let down = offline(&counter);
    let offline_sign_ins = down.sign_ins();
    for gone in ["clerk01", "sysadmin"] {
        let refused = offline_sign_ins.sign_in(gone, DEMO_PASSWORD, None).await;
        assert!(matches!(refused, Err(SignInError::OfflineRefused)), "{gone}: {refused:?}");
    }
    let moved = offline_sign_ins.sign_in("chief01", DEMO_PASSWORD, None).await.unwrap();
    assert_eq!(moved.person.roles, ["clerk"]);
    assert!(!moved.person.may(Permission::DocumentVoid), "the supervisor's void went with the role");
    assert!(moved.person.may(Permission::DocumentIssue));
}
