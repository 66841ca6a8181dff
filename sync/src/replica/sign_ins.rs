//! The people kept at this counter for signing in offline and unlocking the screen
//! (`kept_sign_ins`): plain reads and writes; when a kept sign-in may be used is the sync
//! client's rule (`client::people`).

use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;
use yizhan_core::account::SecurityPolicy;

use super::{Replica, ReplicaError};
use crate::protocol::Person;

/// One person as this counter keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptSignIn {
    pub person: Person,
    pub policy: SecurityPolicy,
    /// Made here from the password typed at the last online sign-in or change.
    pub verifier: String,
    pub online_at: OffsetDateTime,
    /// Failed attempts here since `first_failure_at`.
    pub failures: u32,
    pub first_failure_at: Option<OffsetDateTime>,
    pub locked_until: Option<OffsetDateTime>,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> ReplicaError {
    ReplicaError::KeptSignIn(format!("{what}：{e}"))
}

fn time_of(seconds: i64) -> Result<OffsetDateTime, ReplicaError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|e| corrupt("时间", e))
}

impl Replica {
    /// Keeps (or replaces) `kept`.
    pub fn keep_sign_in(&mut self, kept: &KeptSignIn) -> Result<(), ReplicaError> {
        let person = serde_json::to_string(&kept.person).expect("a person serialises");
        let policy = serde_json::to_string(&kept.policy).expect("a policy serialises");
        self.conn.execute(
            "INSERT INTO kept_sign_ins (account, person, policy, verifier, online_at, failures, first_failure_at, locked_until)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (account) DO UPDATE SET person = excluded.person, policy = excluded.policy,
                 verifier = excluded.verifier, online_at = excluded.online_at, failures = excluded.failures,
                 first_failure_at = excluded.first_failure_at, locked_until = excluded.locked_until",
            params![
                kept.person.account.as_str(),
                person,
                policy,
                kept.verifier,
                kept.online_at.unix_timestamp(),
                kept.failures,
                kept.first_failure_at.map(OffsetDateTime::unix_timestamp),
                kept.locked_until.map(OffsetDateTime::unix_timestamp),
            ],
        )?;
        Ok(())
    }

    /// The person kept under `account`, if any.
    pub fn kept_sign_in(&self, account: &str) -> Result<Option<KeptSignIn>, ReplicaError> {
        let row = self
            .conn
            .query_row(
                "SELECT person, policy, verifier, online_at, failures, first_failure_at, locked_until
                 FROM kept_sign_ins WHERE account = ?1",
                [account],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, u32>(4)?,
                        row.get::<_, Option<i64>>(5)?,
                        row.get::<_, Option<i64>>(6)?,
                    ))
                },
            )
            .optional()?;
        let Some((person, policy, verifier, online_at, failures, first_failure_at, locked_until)) = row else {
            return Ok(None);
        };
        Ok(Some(KeptSignIn {
            person: serde_json::from_str(&person).map_err(|e| corrupt("人员", e))?,
            policy: serde_json::from_str(&policy).map_err(|e| corrupt("安全策略", e))?,
            verifier,
            online_at: time_of(online_at)?,
            failures,
            first_failure_at: first_failure_at.map(time_of).transpose()?,
            locked_until: locked_until.map(time_of).transpose()?,
        }))
    }

    /// Everyone kept here.
    pub fn kept_accounts(&self) -> Result<Vec<String>, ReplicaError> {
        let mut stmt = self.conn.prepare("SELECT account FROM kept_sign_ins ORDER BY account")?;
        let accounts = stmt.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
        Ok(accounts)
    }

    /// Forgets `account` here: it can no longer sign in offline at this counter.
    pub fn forget_sign_in(&mut self, account: &str) -> Result<(), ReplicaError> {
        self.conn.execute("DELETE FROM kept_sign_ins WHERE account = ?1", [account])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use yizhan_core::access::{DataScope, Permission};

    fn kept() -> KeptSignIn {
        KeptSignIn {
            person: Person {
                account: "clerk01".parse().unwrap(),
                real_name: "王芳".into(),
                roles: vec!["clerk".into()],
                role_names: vec!["窗口人员".into()],
                permissions: BTreeSet::from([Permission::ProjectRead, Permission::DocumentIssue]),
                scopes: vec![DataScope::All],
                second_factor: false,
            },
            policy: SecurityPolicy::default(),
            verifier: "pbkdf2-sm3$1$00$00".into(),
            online_at: OffsetDateTime::from_unix_timestamp(1_796_000_000).unwrap(),
            failures: 0,
            first_failure_at: None,
            locked_until: None,
        }
    }

    #[test]
    fn a_kept_sign_in_survives_reopening_and_can_be_replaced_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replica.sqlite3");
        let mut replica = Replica::open(&path).unwrap();
        assert_eq!(replica.kept_sign_in("clerk01").unwrap(), None);
        replica.keep_sign_in(&kept()).unwrap();
        drop(replica);

        let mut replica = Replica::open(&path).unwrap();
        assert_eq!(replica.kept_sign_in("clerk01").unwrap(), Some(kept()));
        assert_eq!(replica.kept_accounts().unwrap(), ["clerk01"]);
        let mut failed = kept();
        failed.failures = 5;
        failed.first_failure_at = Some(failed.online_at);
        failed.locked_until = Some(failed.online_at + time::Duration::minutes(10));
        replica.keep_sign_in(&failed).unwrap();
        assert_eq!(replica.kept_sign_in("clerk01").unwrap(), Some(failed));
        replica.forget_sign_in("clerk01").unwrap();
        assert_eq!(replica.kept_sign_in("clerk01").unwrap(), None);
    }
}
