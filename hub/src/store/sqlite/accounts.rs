//! Accounts, roles, grants, sessions, the policy and the audit trail in the embedded file.

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension, Row, ToSql, TransactionBehavior, params, params_from_iter};
use time::OffsetDateTime;
use yizhan_core::access::{DataScope, Permission};
use yizhan_core::account::Account;

use super::{SqliteStore, StoreError, lock, opt_time, parse_time, time_text, to_i64, to_u64};
use crate::store::{
    AccountStore, AuditBuilder, CounterAuditBuilder, AuditCheckpoint, AuditQuery, AuditRecord, AuditStore, AuditTail, GrantRecord,
    LoginFailure, RoleRecord, SessionRecord, Standing, UserRecord, UserStatus,
};

const USER_COLUMNS: &str = "account, real_name, department, status, password_hash, password_changed_at,
    must_change_password, locked_until, totp_secret, totp_pending, totp_last_step, recovery_codes,
    created_at, created_by";

/// A user's columns, in `USER_COLUMNS` order.
fn user_values(user: &UserRecord) -> Vec<Box<dyn ToSql>> {
    vec![
        Box::new(user.account.to_string()),
        Box::new(user.real_name.clone()),
        Box::new(user.department.clone()),
        Box::new(user.status.as_str()),
        Box::new(user.password_hash.clone()),
        Box::new(time_text(user.password_changed_at)),
        Box::new(user.must_change_password),
        Box::new(user.locked_until.map(time_text)),
        Box::new(user.totp_secret.clone()),
        Box::new(user.totp_pending.clone()),
        Box::new(user.totp_last_step),
        Box::new(serde_json::to_string(&user.recovery_codes).expect("strings serialise")),
        Box::new(time_text(user.created_at)),
        Box::new(user.created_by.clone()),
    ]
}

fn parse_account(text: String) -> Result<Account, StoreError> {
    Account::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}：{e}")))
}

fn user_row(r: &Row<'_>) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        account: parse_account(r.get(0)?)?,
        real_name: r.get(1)?,
        department: r.get(2)?,
        status: {
            let status = r.get::<_, String>(3)?;
            UserStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("不认识的账号状态 {status}")))?
        },
        password_hash: r.get(4)?,
        password_changed_at: parse_time(&r.get::<_, String>(5)?)?,
        must_change_password: r.get(6)?,
        locked_until: opt_time(r.get(7)?)?,
        totp_secret: r.get(8)?,
        totp_pending: r.get(9)?,
        totp_last_step: r.get(10)?,
        recovery_codes: json(&r.get::<_, String>(11)?, "恢复码")?,
        created_at: parse_time(&r.get::<_, String>(12)?)?,
        created_by: r.get(13)?,
    })
}

fn session_row(r: &Row<'_>) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id: r.get(0)?,
        account: parse_account(r.get(1)?)?,
        address: r.get(2)?,
        device: r.get(3)?,
        created_at: parse_time(&r.get::<_, String>(4)?)?,
        last_seen: parse_time(&r.get::<_, String>(5)?)?,
        ended_at: opt_time(r.get(6)?)?,
        end_reason: r.get(7)?,
        awaiting_second_factor: r.get(8)?,
    })
}

const SESSION_COLUMNS: &str =
    "id, account, address, device, created_at, last_seen, ended_at, end_reason, awaiting_second_factor";

const AUDIT_COLUMNS: &str = "id, at, local_at, user, role, device, address, event, object, result, reason, detail, mac";

fn audit_row(r: &Row<'_>) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        id: to_u64(r.get(0)?)?,
        at: parse_time(&r.get::<_, String>(1)?)?,
        local_at: opt_time(r.get(2)?)?,
        user: r.get(3)?,
        role: r.get(4)?,
        device: r.get(5)?,
        address: r.get(6)?,
        event: r.get(7)?,
        object: r.get(8)?,
        result: r.get(9)?,
        reason: r.get(10)?,
        detail: r.get(11)?,
        mac: r.get(12)?,
    })
}

fn collect<T>(
    rows: impl Iterator<Item = rusqlite::Result<Result<T, StoreError>>>,
) -> Result<Vec<T>, StoreError> {
    rows.map(|r| r?).collect()
}

#[async_trait::async_trait]
impl AccountStore for SqliteStore {
    async fn user(&self, account: &Account) -> Result<Option<UserRecord>, StoreError> {
        let account = account.clone();
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE account = ?1"))?
                    .query_row([account.as_str()], |r| Ok(user_row(r)))
                    .optional()?
                    .transpose()
            })
        })
        .await
    }

    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.blocking(|inner| {
            inner.readers.with(|conn| {
                let mut stmt = conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY account"))?;
                collect(stmt.query_map([], |r| Ok(user_row(r)))?)
            })
        })
        .await
    }

    async fn insert_user(&self, user: UserRecord) -> Result<bool, StoreError> {
        self.blocking(move |inner| {
            let added = lock(&inner.writer).execute(
                &format!(
                    "INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                     ON CONFLICT (account) DO NOTHING"
                ),
                params_from_iter(user_values(&user)),
            )?;
            Ok(added == 1)
        })
        .await
    }

    async fn update_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let user = user.clone();
        self.blocking(move |inner| {
            update_user(&lock(&inner.writer), &user)?;
            Ok(())
        })
        .await
    }

    async fn set_password(&self, user: &UserRecord, previous_hash: &str) -> Result<(), StoreError> {
        let (user, previous_hash) = (user.clone(), previous_hash.to_owned());
        self.blocking(move |inner| {
            let mut conn = lock(&inner.writer);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO password_history (account, hash, retired_at) VALUES (?1, ?2, ?3)",
                params![user.account.as_str(), previous_hash, time_text(user.password_changed_at)],
            )?;
            update_user(&tx, &user)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn password_history(&self, account: &Account, n: usize) -> Result<Vec<String>, StoreError> {
        let account = account.clone();
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT hash FROM password_history WHERE account = ?1 ORDER BY retired_at DESC, rowid DESC LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![account.as_str(), to_i64(n as u64)], |r| r.get(0))?;
                Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
            })
        })
        .await
    }

    async fn roles(&self) -> Result<Vec<RoleRecord>, StoreError> {
        self.blocking(|inner| {
            inner.readers.with(|conn| {
                let mut stmt = conn.prepare_cached("SELECT id, name, permissions, builtin FROM roles ORDER BY builtin DESC, id")?;
                collect(stmt.query_map([], |r| {
                    Ok((|| {
                        let permissions: BTreeSet<Permission> = json(&r.get::<_, String>(2)?, "角色权限")?;
                        Ok(RoleRecord { id: r.get(0)?, name: r.get(1)?, permissions, builtin: r.get(3)? })
                    })())
                })?)
            })
        })
        .await
    }

    async fn put_role(&self, role: &RoleRecord) -> Result<(), StoreError> {
        let role = role.clone();
        self.blocking(move |inner| {
            lock(&inner.writer).execute(
                "INSERT INTO roles (id, name, permissions, builtin) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, permissions = excluded.permissions",
                params![
                    role.id,
                    role.name,
                    serde_json::to_string(&role.permissions).expect("permissions serialise"),
                    role.builtin
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn grants(&self, account: &Account) -> Result<Vec<GrantRecord>, StoreError> {
        let account = account.clone();
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT account, role, scope, granted_by, granted_at FROM grants WHERE account = ?1 ORDER BY role",
                )?;
                collect(stmt.query_map([account.as_str()], |r| {
                    Ok((|| {
                        let scope: DataScope = json(&r.get::<_, String>(2)?, "数据范围")?;
                        Ok(GrantRecord {
                            account: parse_account(r.get(0)?)?,
                            role: r.get(1)?,
                            scope,
                            granted_by: r.get(3)?,
                            granted_at: parse_time(&r.get::<_, String>(4)?)?,
                        })
                    })())
                })?)
            })
        })
        .await
    }

    async fn put_grant(&self, grant: &GrantRecord) -> Result<(), StoreError> {
        let grant = grant.clone();
        self.blocking(move |inner| {
            lock(&inner.writer).execute(
                "INSERT INTO grants (account, role, scope, granted_by, granted_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (account, role) DO UPDATE SET scope = excluded.scope,
                   granted_by = excluded.granted_by, granted_at = excluded.granted_at",
                params![
                    grant.account.as_str(),
                    grant.role,
                    serde_json::to_string(&grant.scope).expect("a scope serialises"),
                    grant.granted_by,
                    time_text(grant.granted_at)
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn remove_grant(&self, account: &Account, role: &str) -> Result<bool, StoreError> {
        let (account, role) = (account.clone(), role.to_owned());
        self.blocking(move |inner| {
            Ok(lock(&inner.writer)
                .execute("DELETE FROM grants WHERE account = ?1 AND role = ?2", params![account.as_str(), role])?
                == 1)
        })
        .await
    }

    async fn record_standing(&self, standing: &Standing) -> Result<(), StoreError> {
        let standing = standing.clone();
        self.blocking(move |inner| {
            lock(&inner.writer).execute(
                "INSERT INTO standing_history (account, since, active, permissions) VALUES (?1, ?2, ?3, ?4)",
                params![
                    standing.account.as_str(),
                    time_text(standing.since),
                    standing.active,
                    serde_json::to_string(&standing.permissions).expect("permissions serialise")
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn standings(&self, account: &Account) -> Result<Vec<Standing>, StoreError> {
        let account = account.clone();
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT since, active, permissions FROM standing_history WHERE account = ?1 ORDER BY rowid",
                )?;
                collect(stmt.query_map([account.as_str()], |r| {
                    Ok((|| {
                        Ok(Standing {
                            account: account.clone(),
                            since: parse_time(&r.get::<_, String>(0)?)?,
                            active: r.get(1)?,
                            permissions: json(&r.get::<_, String>(2)?, "权限")?,
                        })
                    })())
                })?)
            })
        })
        .await
    }

    async fn record_login_failure(&self, failure: LoginFailure) -> Result<(), StoreError> {
        self.blocking(move |inner| {
            lock(&inner.writer).execute(
                "INSERT INTO login_failures (account, address, at) VALUES (?1, ?2, ?3)",
                params![failure.account, failure.address, time_text(failure.at)],
            )?;
            Ok(())
        })
        .await
    }

    async fn account_failures_since(&self, account: &str, since: OffsetDateTime) -> Result<u32, StoreError> {
        self.failures_since(FailuresBy::Account, account, since).await
    }

    async fn address_failures_since(&self, address: &str, since: OffsetDateTime) -> Result<u32, StoreError> {
        self.failures_since(FailuresBy::Address, address, since).await
    }

    async fn clear_login_failures(&self, account: &str) -> Result<(), StoreError> {
        let account = account.to_owned();
        self.blocking(move |inner| {
            lock(&inner.writer).execute("DELETE FROM login_failures WHERE account = ?1", [account])?;
            Ok(())
        })
        .await
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let session = session.clone();
        self.blocking(move |inner| {
            lock(&inner.writer).execute(
                &format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    session.id,
                    session.account.as_str(),
                    session.address,
                    session.device,
                    time_text(session.created_at),
                    time_text(session.last_seen),
                    session.ended_at.map(time_text),
                    session.end_reason,
                    session.awaiting_second_factor
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let id = id.to_owned();
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                conn.prepare_cached(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"))?
                    .query_row([id], |r| Ok(session_row(r)))
                    .optional()?
                    .transpose()
            })
        })
        .await
    }

    async fn update_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let session = session.clone();
        self.blocking(move |inner| {
            lock(&inner.writer).execute(
                "UPDATE sessions SET last_seen = ?2, ended_at = ?3, end_reason = ?4, awaiting_second_factor = ?5
                 WHERE id = ?1",
                params![
                    session.id,
                    time_text(session.last_seen),
                    session.ended_at.map(time_text),
                    session.end_reason,
                    session.awaiting_second_factor
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn open_sessions(&self) -> Result<Vec<SessionRecord>, StoreError> {
        self.blocking(|inner| {
            inner.readers.with(|conn| {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE ended_at IS NULL ORDER BY created_at"
                ))?;
                collect(stmt.query_map([], |r| Ok(session_row(r)))?)
            })
        })
        .await
    }

    async fn policy(&self) -> Result<Option<String>, StoreError> {
        self.blocking(|inner| {
            inner.readers.with(|conn| {
                Ok(conn
                    .prepare_cached("SELECT policy FROM security_policy WHERE id = 1")?
                    .query_row([], |r| r.get(0))
                    .optional()?)
            })
        })
        .await
    }

    async fn set_policy(&self, json: &str) -> Result<(), StoreError> {
        let json = json.to_owned();
        self.blocking(move |inner| {
            lock(&inner.writer).execute(
                "INSERT INTO security_policy (id, policy) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET policy = excluded.policy",
                [json],
            )?;
            Ok(())
        })
        .await
    }
}

/// Which failed sign-ins to count: one account's (lockout) or one address's (throttle).
#[derive(Clone, Copy)]
enum FailuresBy {
    Account,
    Address,
}

impl SqliteStore {
    async fn failures_since(&self, by: FailuresBy, value: &str, since: OffsetDateTime) -> Result<u32, StoreError> {
        let sql = match by {
            FailuresBy::Account => "SELECT COUNT(*) FROM login_failures WHERE account = ?1 AND at >= ?2",
            FailuresBy::Address => "SELECT COUNT(*) FROM login_failures WHERE address = ?1 AND at >= ?2",
        };
        let value = value.to_owned();
        self.blocking(move |inner| {
            inner.readers.with(|conn| Ok(conn.prepare_cached(sql)?.query_row(params![value, time_text(since)], |r| r.get(0))?))
        })
        .await
    }
}

fn update_user(conn: &rusqlite::Connection, user: &UserRecord) -> Result<(), StoreError> {
    // Every column but the two set once at creation (the last two of `user_values`).
    conn.execute(
        "UPDATE users SET real_name = ?2, department = ?3, status = ?4, password_hash = ?5,
           password_changed_at = ?6, must_change_password = ?7, locked_until = ?8, totp_secret = ?9,
           totp_pending = ?10, totp_last_step = ?11, recovery_codes = ?12
         WHERE account = ?1",
        params_from_iter(user_values(user).into_iter().take(12)),
    )?;
    Ok(())
}

pub(super) fn insert_audit(conn: &rusqlite::Connection, record: &AuditRecord) -> Result<(), StoreError> {
    conn.execute(
        &format!("INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
        params![
            to_i64(record.id),
            time_text(record.at),
            record.local_at.map(time_text),
            record.user,
            record.role,
            record.device,
            record.address,
            record.event,
            record.object,
            record.result,
            record.reason,
            record.detail,
            record.mac
        ],
    )?;
    Ok(())
}

pub(super) fn read_tail(conn: &rusqlite::Connection) -> Result<AuditTail, StoreError> {
    let last: Option<(i64, String)> = conn
        .query_row("SELECT id, mac FROM audit_log ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((id, mac)) = last {
        return Ok(AuditTail { id: to_u64(id)?, mac });
    }
    let checkpoint: Option<(i64, String)> = conn
        .query_row(
            "SELECT through_id, through_mac FROM audit_checkpoints ORDER BY through_id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match checkpoint {
        Some((id, mac)) => AuditTail { id: to_u64(id)?, mac },
        None => AuditTail::default(),
    })
}

#[async_trait::async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, build: AuditBuilder) -> Result<AuditRecord, StoreError> {
        self.blocking(move |inner| {
            let mut conn = lock(&inner.writer);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let record = build(&read_tail(&tx)?);
            insert_audit(&tx, &record)?;
            tx.commit()?;
            Ok(record)
        })
        .await
    }

    async fn append_counter_audit(&self, device_id: String, build: CounterAuditBuilder) -> Result<u64, StoreError> {
        self.blocking(move |inner| {
            let mut conn = lock(&inner.writer);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let held: Option<i64> = tx
                .query_row("SELECT through FROM counter_audit_held WHERE device_id = ?1", [&device_id], |r| r.get(0))
                .optional()?;
            let held = held.map(to_u64).transpose()?.unwrap_or(0);
            let (records, through) = build(held, &read_tail(&tx)?);
            for record in &records {
                insert_audit(&tx, record)?;
            }
            if through != held {
                tx.execute(
                    "INSERT INTO counter_audit_held (device_id, through) VALUES (?1, ?2)
                     ON CONFLICT (device_id) DO UPDATE SET through = excluded.through",
                    params![device_id, to_i64(through)],
                )?;
            }
            tx.commit()?;
            Ok(through)
        })
        .await
    }

    async fn audit_after(&self, after_id: u64, limit: usize) -> Result<Vec<AuditRecord>, StoreError> {
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                let mut stmt =
                    conn.prepare_cached(&format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE id > ?1 ORDER BY id LIMIT ?2"))?;
                collect(stmt.query_map(params![to_i64(after_id), to_i64(limit as u64)], |r| Ok(audit_row(r)))?)
            })
        })
        .await
    }

    async fn search_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let query = query.clone();
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log
                     WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR event = ?2)
                       AND (?3 IS NULL OR instr(object, ?3) > 0) AND (?4 IS NULL OR result = ?4)
                       AND (?5 IS NULL OR at >= ?5) AND (?6 IS NULL OR at <= ?6)
                       AND (?7 IS NULL OR id < ?7)
                     ORDER BY id DESC LIMIT ?8"
                ))?;
                collect(stmt.query_map(
                    params![
                        query.user,
                        query.event,
                        query.object,
                        query.result,
                        query.from.map(time_text),
                        query.to.map(time_text),
                        query.before_id.map(to_i64),
                        to_i64(query.limit as u64)
                    ],
                    |r| Ok(audit_row(r)),
                )?)
            })
        })
        .await
    }

    async fn audit_checkpoint(&self) -> Result<Option<AuditCheckpoint>, StoreError> {
        self.blocking(|inner| {
            inner.readers.with(|conn| {
                conn.prepare_cached(
                    "SELECT through_id, through_mac, through_at, seal FROM audit_checkpoints ORDER BY through_id DESC LIMIT 1",
                )?
                .query_row([], |r| {
                    Ok((|| {
                        Ok(AuditCheckpoint {
                            through_id: to_u64(r.get(0)?)?,
                            through_mac: r.get(1)?,
                            through_at: parse_time(&r.get::<_, String>(2)?)?,
                            seal: r.get(3)?,
                        })
                    })())
                })
                .optional()?
                .transpose()
            })
        })
        .await
    }

    async fn prune_audit(&self, checkpoint: AuditCheckpoint) -> Result<u64, StoreError> {
        self.blocking(move |inner| {
            let mut conn = lock(&inner.writer);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO audit_checkpoints (through_id, through_mac, through_at, seal) VALUES (?1, ?2, ?3, ?4)",
                params![
                    to_i64(checkpoint.through_id),
                    checkpoint.through_mac,
                    time_text(checkpoint.through_at),
                    checkpoint.seal
                ],
            )?;
            let removed = tx.execute("DELETE FROM audit_log WHERE id <= ?1", [to_i64(checkpoint.through_id)])?;
            tx.commit()?;
            Ok(removed as u64)
        })
        .await
    }
}
