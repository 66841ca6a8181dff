//! Counter PCs and their tokens in the embedded file.

use rusqlite::{OptionalExtension, Row, params};
use time::OffsetDateTime;
use yizhan_core::id::DeviceId;

use super::{SqliteStore, StoreError, lock, opt_time, parse_time, time_text};
use crate::store::{DeviceRecord, DeviceState, DeviceStore, DeviceToken};

const DEVICE_COLUMNS: &str = "device_id, name, scope, state, public_key, code_sm3, code_expires_at, created_at,
    created_by, enrolled_at, revoked_at, revoked_by, revoke_reason, last_seen_at, clock_skew_seconds";

fn device_id(text: String) -> Result<DeviceId, StoreError> {
    DeviceId::parse(text).map_err(|e| StoreError::Corrupt(format!("终端编号：{e}")))
}

fn device_row(r: &Row<'_>) -> Result<DeviceRecord, StoreError> {
    let state: String = r.get(3)?;
    Ok(DeviceRecord {
        device_id: device_id(r.get(0)?)?,
        name: r.get(1)?,
        scope: serde_json::from_str(&r.get::<_, String>(2)?).map_err(|e| StoreError::Corrupt(format!("终端范围：{e}")))?,
        state: DeviceState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("不认识的终端状态 {state}")))?,
        public_key: r.get(4)?,
        code_sm3: r.get(5)?,
        code_expires_at: opt_time(r.get(6)?)?,
        created_at: parse_time(&r.get::<_, String>(7)?)?,
        created_by: r.get(8)?,
        enrolled_at: opt_time(r.get(9)?)?,
        revoked_at: opt_time(r.get(10)?)?,
        revoked_by: r.get(11)?,
        revoke_reason: r.get(12)?,
        last_seen_at: opt_time(r.get(13)?)?,
        clock_skew_seconds: r.get(14)?,
    })
}

fn token_row(r: &Row<'_>) -> Result<DeviceToken, StoreError> {
    Ok(DeviceToken {
        token_sm3: r.get(0)?,
        device_id: device_id(r.get(1)?)?,
        challenge: r.get(2)?,
        issued_at: parse_time(&r.get::<_, String>(3)?)?,
        expires_at: parse_time(&r.get::<_, String>(4)?)?,
    })
}

impl SqliteStore {
    async fn devices_where(&self, condition: &'static str, value: Option<String>) -> Result<Vec<DeviceRecord>, StoreError> {
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                let mut stmt = conn.prepare_cached(&format!("SELECT {DEVICE_COLUMNS} FROM devices {condition} ORDER BY device_id"))?;
                let rows = match &value {
                    Some(value) => stmt.query_map([value], |r| Ok(device_row(r)))?.collect::<Result<Vec<_>, _>>()?,
                    None => stmt.query_map([], |r| Ok(device_row(r)))?.collect::<Result<Vec<_>, _>>()?,
                };
                rows.into_iter().collect()
            })
        })
        .await
    }
}

#[async_trait::async_trait]
impl DeviceStore for SqliteStore {
    async fn device(&self, device_id: &DeviceId) -> Result<Option<DeviceRecord>, StoreError> {
        Ok(self.devices_where("WHERE device_id = ?1", Some(device_id.to_string())).await?.pop())
    }

    async fn devices(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        self.devices_where("", None).await
    }

    async fn put_device(&self, device: &DeviceRecord) -> Result<(), StoreError> {
        let d = device.clone();
        self.blocking(move |inner| {
            lock(&inner.writer).execute(
                &format!("INSERT OR REPLACE INTO devices ({DEVICE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"),
                params![
                    d.device_id.as_str(),
                    d.name,
                    serde_json::to_string(&d.scope).expect("a scope serialises"),
                    d.state.as_str(),
                    d.public_key,
                    d.code_sm3,
                    d.code_expires_at.map(time_text),
                    time_text(d.created_at),
                    d.created_by,
                    d.enrolled_at.map(time_text),
                    d.revoked_at.map(time_text),
                    d.revoked_by,
                    d.revoke_reason,
                    d.last_seen_at.map(time_text),
                    d.clock_skew_seconds,
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn device_by_code(&self, code_sm3: &str) -> Result<Option<DeviceRecord>, StoreError> {
        Ok(self.devices_where("WHERE code_sm3 = ?1", Some(code_sm3.to_owned())).await?.pop())
    }

    async fn claim_enrolment(&self, code_sm3: &str, public_key: &str, at: OffsetDateTime) -> Result<bool, StoreError> {
        let (code_sm3, public_key) = (code_sm3.to_owned(), public_key.to_owned());
        self.blocking(move |inner| {
            let claimed = lock(&inner.writer).execute(
                "UPDATE devices SET state = 'active', public_key = ?2, enrolled_at = ?3
                 WHERE code_sm3 = ?1 AND state = 'pending'",
                params![code_sm3, public_key, time_text(at)],
            )?;
            Ok(claimed == 1)
        })
        .await
    }

    async fn insert_device_token(&self, token: &DeviceToken) -> Result<bool, StoreError> {
        let t = token.clone();
        self.blocking(move |inner| {
            let inserted = lock(&inner.writer).execute(
                "INSERT INTO device_tokens (token_sm3, device_id, challenge, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (challenge) DO NOTHING",
                params![t.token_sm3, t.device_id.as_str(), t.challenge, time_text(t.issued_at), time_text(t.expires_at)],
            )?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn device_token(&self, token_sm3: &str) -> Result<Option<DeviceToken>, StoreError> {
        let token_sm3 = token_sm3.to_owned();
        self.blocking(move |inner| {
            inner.readers.with(|conn| {
                conn.prepare_cached("SELECT token_sm3, device_id, challenge, issued_at, expires_at FROM device_tokens WHERE token_sm3 = ?1")?
                    .query_row([token_sm3], |r| Ok(token_row(r)))
                    .optional()?
                    .transpose()
            })
        })
        .await
    }

    async fn prune_device_tokens(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        self.blocking(move |inner| {
            let pruned = lock(&inner.writer).execute("DELETE FROM device_tokens WHERE expires_at < ?1", [time_text(before)])?;
            Ok(pruned as u64)
        })
        .await
    }

    async fn device_seen(&self, device_id: &DeviceId, at: OffsetDateTime, clock_skew_seconds: i64) -> Result<(), StoreError> {
        let device_id = device_id.to_string();
        self.blocking(move |inner| {
            lock(&inner.writer).execute(
                "UPDATE devices SET last_seen_at = ?2, clock_skew_seconds = ?3 WHERE device_id = ?1",
                params![device_id, time_text(at), clock_skew_seconds],
            )?;
            Ok(())
        })
        .await
    }
}
