//! How each account stood over time: a command a counter queued offline is judged by its
//! clerk's standing when the clerk issued it, not when it reached the hub. Every change of
//! an account's status, of its grants or of a role's permissions appends the new standing
//! of the accounts it touched.

use std::collections::BTreeSet;

use time::OffsetDateTime;
use yizhan_core::access::Permission;
use yizhan_core::account::Account;

use crate::hub::Hub;
use crate::store::{GrantRecord, RoleRecord, Standing, StoreError, UserStatus};

/// The permissions `grants` give, by the roles as they are.
pub(crate) fn granted(grants: &[GrantRecord], roles: &[RoleRecord]) -> BTreeSet<Permission> {
    grants
        .iter()
        .filter_map(|g| roles.iter().find(|r| r.id == g.role))
        .flat_map(|r| r.permissions.iter().copied())
        .collect()
}

impl Hub {
    /// Appends `account`'s standing as it is now, when it differs from the last one kept.
    pub(crate) async fn note_standing(&self, account: &Account) -> Result<(), StoreError> {
        let Some(user) = self.store().user(account).await? else {
            return Ok(());
        };
        let grants = self.store().grants(account).await?;
        let permissions = granted(&grants, &self.store().roles().await?);
        let active = user.status == UserStatus::Active;
        let last = self.store().standings(account).await?.pop();
        if last.is_some_and(|l| l.active == active && l.permissions == permissions) {
            return Ok(());
        }
        let standing = Standing { account: account.clone(), since: self.clock().now(), active, permissions };
        self.store().record_standing(&standing).await
    }

    /// [`Hub::note_standing`] for everyone holding `role`, after its permissions changed.
    pub(crate) async fn note_standing_of_holders(&self, role: &str) -> Result<(), StoreError> {
        for user in self.store().users().await? {
            if self.store().grants(&user.account).await?.iter().any(|g| g.role == role) {
                self.note_standing(&user.account).await?;
            }
        }
        Ok(())
    }

    /// The roles `account` holds now, as the audit trail names them beside the person
    /// (`clerk,supervisor`, as a session's actor does).
    pub(crate) async fn roles_held(&self, account: &Account) -> Result<String, StoreError> {
        Ok(self.store().grants(account).await?.into_iter().map(|g| g.role).collect::<Vec<_>>().join(","))
    }

    /// How `account` stood at `at`: the latest standing from before it (of two from the
    /// same moment, the one recorded last); none before the account existed.
    pub async fn standing_at(&self, account: &Account, at: OffsetDateTime) -> Result<Option<Standing>, StoreError> {
        Ok(standing_at(&self.store().standings(account).await?, at).cloned())
    }
}

/// Of an account's `standings` in the order recorded, the one in force at `at`.
pub(crate) fn standing_at(standings: &[Standing], at: OffsetDateTime) -> Option<&Standing> {
    standings.iter().filter(|s| s.since <= at).max_by_key(|s| s.since)
}
