//! Applying one change batch: rows, history, project views and cursor in ONE transaction,
//! so a crash or a bad change leaves the replica at the previous cursor, never half a batch.

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use yizhan_core::entity::EntityKind;

use super::alerts::{self, Evaluation};
use super::{Replica, ReplicaError, ReplicaMeta, alert_view, format_time, read_meta, view};
use crate::integrity::{ChainHash, RowDigest};
use crate::protocol::{Change, ChangeBatch, Op};

impl Replica {
    /// Applies `batch` and advances the cursor to `batch.upto`. Refuses, changing nothing, a
    /// batch that does not start at the cursor or whose changes are not in order inside its
    /// range. Returns the codes of the projects it touched, sorted.
    pub fn apply(&mut self, batch: &ChangeBatch) -> Result<Vec<String>, ReplicaError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let meta = read_meta(&tx)?;
        let cursor = meta.cursor.ok_or(ReplicaError::NotBootstrapped)?;
        check_order(cursor, batch)?;
        let chain = check_seal(&meta, batch)?;
        let snapshot_as_of = meta.snapshot_as_of.unwrap_or(cursor);
        let mut touched = Touched::default();
        for change in &batch.changes {
            apply_change(&tx, change, snapshot_as_of, &mut touched)?;
        }
        let eval = Evaluation::new(&tx, meta.view_date.unwrap_or_else(|| self.clock.today()), self.clock.now())?;
        view::refresh(&tx, touched.recompute.iter().map(String::as_str), &eval)?;
        alert_view::refresh_keys(&tx, &eval, touched.alert_keys.iter().map(String::as_str))?;
        if batch.changes.iter().any(|c| c.entity == EntityKind::AlertRules) {
            alerts::evaluate_all(&tx, &eval)?;
        }
        tx.execute("UPDATE meta SET cursor = ?1, chain = ?2", params![batch.upto, chain.to_hex()])?;
        tx.commit()?;
        Ok(touched.projects.into_iter().collect())
    }
}

/// What a batch's changes reach.
#[derive(Default)]
struct Touched {
    /// Every project whose rows or timeline changed: what the screens refresh.
    projects: BTreeSet<String>,
    /// The projects whose views and deadline alerts must be recomputed: an alert row
    /// changes what is shown of that alert and nothing of its project's standing, so a
    /// project that only alert rows touched is not among them.
    recompute: BTreeSet<String>,
    /// The alerts whose hub row changed: shown anew.
    alert_keys: BTreeSet<String>,
}

/// The batch must be sealed by the hub's key, continue from the chain value the replica
/// holds, and its changes must hash to the value it ends at. Returns that value.
fn check_seal(meta: &ReplicaMeta, batch: &ChangeBatch) -> Result<ChainHash, ReplicaError> {
    let (Some(key), Some(held)) = (&meta.hub_key, meta.chain) else {
        return Err(ReplicaError::Integrity(
            "本地副本没有数据中心公钥或哈希链起点（由旧版本建立）".into(),
        ));
    };
    let seal = &batch.seal;
    key.verify_batch(batch.after, batch.upto, seal)
        .map_err(|e| ReplicaError::Integrity(format!("批次 ({}, {}] 的{e}", batch.after, batch.upto)))?;
    if seal.prev_chain != held {
        return Err(ReplicaError::Integrity(format!(
            "批次 ({}, {}] 不接续本地哈希链：有批次缺失、重复或顺序错乱",
            batch.after, batch.upto
        )));
    }
    if seal.count != batch.changes.len() as u64 {
        return Err(ReplicaError::Integrity(format!(
            "批次 ({}, {}] 应有 {} 条变更，收到 {} 条",
            batch.after,
            batch.upto,
            seal.count,
            batch.changes.len()
        )));
    }
    let chain = batch.changes.iter().fold(held, |chain, change| chain.link(&change.frame()));
    if chain != seal.chain {
        return Err(ReplicaError::Integrity(format!(
            "批次 ({}, {}] 的变更内容与数据中心签发的哈希链不符：有变更被改动或缺失",
            batch.after, batch.upto
        )));
    }
    Ok(chain)
}

/// Writes one row as the hub holds it, with its digest (parameters as `RowFields::write`).
pub(crate) const UPSERT_ROW: &str = "INSERT OR REPLACE INTO rows (entity, key, project_code, version, seq, committed_at, \
     payload, digest_hi, digest_lo) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/// One row as the hub holds it.
pub(crate) struct RowFields<'a> {
    pub entity: &'a str,
    pub key: &'a str,
    pub project_code: &'a str,
    pub version: u64,
    pub seq: u64,
    pub committed_at: time::OffsetDateTime,
    pub payload: &'a str,
}

impl RowFields<'_> {
    /// Runs `statement` (an insert into `rows` in `UPSERT_ROW`'s column order) for this
    /// row and its digest.
    pub fn write(&self, statement: &mut rusqlite::Statement<'_>) -> rusqlite::Result<usize> {
        let digest = RowDigest::of(self.entity, self.key, self.project_code, self.version, self.payload);
        statement.execute(params![
            self.entity,
            self.key,
            self.project_code,
            self.version,
            self.seq,
            format_time(self.committed_at),
            self.payload,
            digest.hi,
            digest.lo,
        ])
    }
}

fn check_order(cursor: u64, batch: &ChangeBatch) -> Result<(), ReplicaError> {
    if batch.after != cursor {
        return Err(ReplicaError::OutOfOrder {
            cursor,
            after: batch.after,
        });
    }
    if batch.upto < batch.after {
        return Err(ReplicaError::BadBatch(format!(
            "区间终点 {} 小于起点 {}",
            batch.upto, batch.after
        )));
    }
    let mut previous = batch.after;
    for change in &batch.changes {
        if change.seq <= previous || change.seq > batch.upto {
            return Err(ReplicaError::BadBatch(format!(
                "第 {} 号变更不在区间 ({}, {}] 内或未按顺序排列",
                change.seq, batch.after, batch.upto
            )));
        }
        previous = change.seq;
    }
    Ok(())
}

/// Adds to `touched` every project whose rows or timeline the change alters, including the
/// project a row leaves when an upsert moves it.
fn apply_change(
    tx: &rusqlite::Transaction<'_>,
    change: &Change,
    snapshot_as_of: u64,
    touched: &mut Touched,
) -> Result<(), ReplicaError> {
    let is_alert = change.entity == EntityKind::Alert;
    let entity = change.entity.as_str();
    let payload = match (change.op, &change.payload) {
        (Op::Upsert, None) => {
            return Err(ReplicaError::BadBatch(format!(
                "第 {} 号变更（{} {}）缺少内容",
                change.seq, entity, change.key
            )));
        }
        (_, payload) => payload,
    };
    let stored: Option<(u64, String)> = tx
        .prepare_cached("SELECT version, project_code FROM rows WHERE entity = ?1 AND key = ?2")?
        .query_row(params![entity, change.key], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    // Versions only grow at the hub, so an older one is a stale repeat; a delete carries
    // the version of the row it removes.
    let applies = match (change.op, &stored) {
        (Op::Upsert, None) => true,
        (Op::Delete, None) => false,
        (Op::Upsert, Some((version, _))) => change.version > *version,
        (Op::Delete, Some((version, _))) => change.version >= *version,
    };
    if applies {
        // A row still as the snapshot brought it is on the timeline through `rows` alone
        // (see `query::timeline`); keep that entry before the row changes.
        tx.prepare_cached(
            "INSERT INTO history (seq, committed_at, entity, key, project_code, op) \
             SELECT seq, committed_at, entity, key, project_code, 'upsert' FROM rows \
             WHERE entity = ?1 AND key = ?2 AND seq <= ?3",
        )?
        .execute(params![entity, change.key, snapshot_as_of])?;
        match payload {
            Some(payload) => RowFields {
                entity,
                key: &change.key,
                project_code: &change.project_code,
                version: change.version,
                seq: change.seq,
                committed_at: change.committed_at,
                payload: payload.get(),
            }
            .write(&mut *tx.prepare_cached(UPSERT_ROW)?)?,
            None => tx
                .prepare_cached("DELETE FROM rows WHERE entity = ?1 AND key = ?2")?
                .execute(params![entity, change.key])?,
        };
        if let Some((_, code)) = stored {
            if !is_alert {
                touched.recompute.insert(code.clone());
            }
            touched.projects.insert(code);
        }
        if is_alert {
            touched.alert_keys.insert(change.key.clone());
        }
    }
    tx.prepare_cached(
        "INSERT INTO history (seq, committed_at, entity, key, project_code, op) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        change.seq,
        format_time(change.committed_at),
        entity,
        change.key,
        change.project_code,
        change.op.as_str(),
    ])?;
    if !is_alert {
        touched.recompute.insert(change.project_code.clone());
    }
    touched.projects.insert(change.project_code.clone());
    Ok(())
}
