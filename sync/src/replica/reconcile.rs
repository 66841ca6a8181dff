//! The replica's side of reconciliation (anti-entropy): checksums of key ranges, split
//! points to bisect them, and the repair of one range from the hub's rows. The walk itself
//! is the client's (`client::reconcile`).

use super::alerts::Evaluation;
use std::collections::{BTreeSet, HashMap};

use rusqlite::{Connection, TransactionBehavior, params};

use super::apply::{RowFields, UPSERT_ROW};
use super::{Replica, ReplicaError, read_meta, text, view};
use crate::integrity::RowDigest;
use crate::protocol::{KeyRange, RangeRow, RangeSum};

/// What repairing a range did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeRepair {
    /// Rows written or removed to match the hub.
    pub repaired: u64,
    pub projects: Vec<String>,
}

impl Replica {
    pub fn range_sums(&self, ranges: &[KeyRange]) -> Result<Vec<RangeSum>, ReplicaError> {
        range_sums(&self.conn, ranges)
    }

    /// Up to `parts - 1` keys that cut the range into parts of about equal row counts, in
    /// one pass over the range's keys.
    pub fn split_keys(&self, range: &KeyRange, parts: u64) -> Result<Vec<String>, ReplicaError> {
        let count = range_sums(&self.conn, std::slice::from_ref(range))?[0].count;
        let step = (count / parts.max(1)).max(1);
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT key FROM (SELECT key, row_number() OVER (ORDER BY key) AS n FROM rows WHERE {}) \
             WHERE n % ?4 = 0 AND n < ?5",
            crate::sql::key_range_filter(range)
        ))?;
        let keys = stmt
            .query_map(params![range.entity.as_str(), range.after, range.upto, step, count], |r| r.get(0))?
            .take(parts.saturating_sub(1) as usize)
            .collect::<Result<_, _>>()?;
        Ok(keys)
    }

    /// Makes the range hold exactly `hub_rows` (all of the hub's rows in it): writes the
    /// rows that are missing or differ, removes the ones the hub does not have, and
    /// recomputes the views of the projects touched, in one transaction.
    pub fn repair_range(&mut self, range: &KeyRange, hub_rows: &[RangeRow]) -> Result<RangeRepair, ReplicaError> {
        let entity = range.entity.as_str();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let meta = read_meta(&tx)?;
        // A row without a digest was changed behind the writer's back: it differs.
        let mut local: HashMap<String, (Option<RowDigest>, String)> = HashMap::new();
        {
            let mut stmt = tx.prepare(&format!(
                "SELECT key, digest_hi, digest_lo, project_code FROM rows WHERE {}",
                crate::sql::key_range_filter(range)
            ))?;
            let mut rows = stmt.query(params![entity, range.after, range.upto])?;
            while let Some(row) = rows.next()? {
                let digest = match (row.get(1)?, row.get(2)?) {
                    (Some(hi), Some(lo)) => Some(RowDigest { hi, lo }),
                    _ => None,
                };
                local.insert(row.get(0)?, (digest, row.get(3)?));
            }
        }
        let mut repair = RangeRepair::default();
        let mut projects = BTreeSet::new();
        for row in hub_rows {
            let digest = RowDigest::of(entity, &row.key, &row.project_code, row.version, row.payload.get());
            if let Some((held, code)) = local.remove(&row.key) {
                if held == Some(digest) {
                    continue;
                }
                projects.insert(code);
            }
            RowFields {
                entity,
                key: &row.key,
                project_code: &row.project_code,
                version: row.version,
                seq: row.seq,
                committed_at: row.committed_at,
                payload: row.payload.get(),
            }
            .write(&mut *tx.prepare_cached(UPSERT_ROW)?)?;
            projects.insert(row.project_code.clone());
            repair.repaired += 1;
        }
        for (key, (_, code)) in local {
            tx.prepare_cached("DELETE FROM rows WHERE entity = ?1 AND key = ?2")?
                .execute(params![entity, key])?;
            projects.insert(code);
            repair.repaired += 1;
        }
        let eval = Evaluation::new(&tx, meta.view_date.unwrap_or_else(|| self.clock.today()), self.clock.now())?;
        view::refresh(&tx, projects.iter().map(String::as_str), &eval)?;
        tx.commit()?;
        repair.projects = projects.into_iter().collect();
        Ok(repair)
    }
}

pub(crate) fn range_sums(conn: &Connection, ranges: &[KeyRange]) -> Result<Vec<RangeSum>, ReplicaError> {
    ranges
        .iter()
        .map(|range| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT count(*), coalesce(sum(digest_hi), 0), coalesce(sum(digest_lo), 0) FROM rows WHERE {}",
                crate::sql::key_range_filter(range)
            ))?;
            Ok(stmt.query_row(params![range.entity.as_str(), range.after, range.upto], |r| {
                Ok(RangeSum { count: r.get(0)?, hi: r.get(1)?, lo: r.get(2)? })
            })?)
        })
        .collect()
}

/// Fills the digests of rows loaded before the replica kept them.
pub(crate) fn digest_undigested(conn: &mut Connection) -> Result<(), ReplicaError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut read =
            tx.prepare("SELECT entity, key, project_code, version, payload FROM rows WHERE digest_hi IS NULL")?;
        let mut write = tx.prepare("UPDATE rows SET digest_hi = ?3, digest_lo = ?4 WHERE entity = ?1 AND key = ?2")?;
        let mut rows = read.query([])?;
        while let Some(r) = rows.next()? {
            let (entity, key): (String, String) = (r.get(0)?, r.get(1)?);
            let digest = RowDigest::of(&entity, &key, text(r, 2)?, r.get(3)?, text(r, 4)?);
            write.execute(params![entity, key, digest.hi, digest.lo])?;
        }
    }
    tx.commit()?;
    Ok(())
}
