//! Two-way verification: the planning database's approvals against the hub's, row by
//! row. The source side is mapped exactly as the connector maps it, so an approval that
//! arrived intact compares equal byte for byte.

use std::collections::BTreeMap;

use sm3::{Digest, Sm3};
use tokio_postgres::{IsolationLevel, SimpleQueryMessage};
use std::time::Duration;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use yizhan_core::entity::{EntityKind, PlanningApproval};
use yizhan_sync::protocol::SourceComparison;

use super::record;
use super::source::{self, SourceError};
use super::stream::{held_approvals, snapshot_row};
use super::record::TABLE;
use super::{CONNECTOR, CdcConfig, CdcError};
use crate::connectors::ConnectorKind;
use crate::hub::Hub;
use crate::store::RowWrite;

const PAGE: usize = 5_000;
/// Keys listed per kind of difference; the counts tell the rest.
const LISTED: usize = 100;

/// Where the two sides differ, by permit number. Compare when the connector has caught
/// up (its slot lag near 0): a change still on its way shows as a difference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    pub source_rows: usize,
    pub hub_rows: usize,
    /// SM3 over each side's (permit number, approval) pairs in permit order: equal
    /// exactly when the two sides hold the same approvals.
    pub source_checksum: String,
    pub hub_checksum: String,
    /// In the source, not at the hub (a row still quarantined is one of these).
    pub missing_at_hub: Vec<String>,
    /// At the hub, not in the source.
    pub extra_at_hub: Vec<String>,
    /// On both sides with different content (or a source row the hub cannot take).
    pub differing: Vec<String>,
}

impl Verification {
    pub fn agrees(&self) -> bool {
        self.missing_at_hub.is_empty() && self.extra_at_hub.is_empty() && self.differing.is_empty()
    }

    /// As the operators see every connector's verification (`/v1/connectors`).
    fn comparison(&self) -> SourceComparison {
        let key = |permit: &String| format!("{} {permit}", EntityKind::PlanningApproval.as_str());
        let listed = |keys: Vec<String>| keys.into_iter().take(LISTED).collect();
        let differing = self
            .differing
            .iter()
            .map(key)
            .chain(self.extra_at_hub.iter().map(|p| format!("{}（规划库中已无）", key(p))));
        SourceComparison {
            checked_at: OffsetDateTime::now_utc(),
            source: format!("规划库 {TABLE}"),
            source_rows: self.source_rows as u64,
            matching: (self.source_rows - self.missing_at_hub.len() - self.differing.len()) as u64,
            missing: listed(self.missing_at_hub.iter().map(key).collect()),
            differing: listed(differing.collect()),
        }
    }
}

/// Compares the source with the hub every `every` until `shutdown`, the result kept on the
/// connector for the operators (and, later, the alerts).
pub(super) async fn verify_every(hub: Hub, config: CdcConfig, every: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.cancelled() => return,
        }
        match verify(&hub, &config).await {
            Ok(verification) if !verification.agrees() => tracing::warn!(
                missing = verification.missing_at_hub.len(),
                extra = verification.extra_at_hub.len(),
                differing = verification.differing.len(),
                "规划库与数据中心不一致"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "规划库与数据中心无法核对"),
        }
    }
}

/// Reads both sides and compares them.
pub async fn verify(hub: &Hub, config: &CdcConfig) -> Result<Verification, CdcError> {
    let source = source_approvals(config).await?;
    let held: BTreeMap<String, String> =
        held_approvals(hub).await?.into_iter().map(|row| (row.key, row.payload)).collect();
    let mut verification = Verification {
        source_rows: source.len(),
        hub_rows: held.len(),
        source_checksum: checksum(source.iter().map(|(k, v)| (k, v.as_deref().unwrap_or("")))),
        hub_checksum: checksum(held.iter().map(|(k, v)| (k, v.as_str()))),
        missing_at_hub: Vec::new(),
        extra_at_hub: held
            .keys()
            .filter(|k| !source.contains_key(*k))
            .cloned()
            .collect(),
        differing: Vec::new(),
    };
    for (permit_no, expected) in &source {
        match held.get(permit_no) {
            None => verification.missing_at_hub.push(permit_no.clone()),
            Some(payload) if Some(payload) != expected.as_ref() => {
                verification.differing.push(permit_no.clone())
            }
            Some(_) => {}
        }
    }
    hub.store()
        .record_verification(CONNECTOR, ConnectorKind::PostgresCdc, verification.comparison())
        .await?;
    Ok(verification)
}

/// Permit number → the approval's canonical JSON as the hub would store it, or `None`
/// for a row that cannot be mapped, read in one consistent snapshot.
async fn source_approvals(
    config: &CdcConfig,
) -> Result<BTreeMap<String, Option<String>>, CdcError> {
    let mut sql = config.source.connect().await?;
    let table = source::check(&sql, &config.publication).await?;
    let read = sql
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(SourceError::from)?;
    read.batch_execute(&format!(
        "DECLARE yizhan_verify NO SCROLL CURSOR FOR SELECT * FROM {}",
        table.quoted
    ))
    .await
    .map_err(SourceError::from)?;
    let mut approvals = BTreeMap::new();
    let fetch = format!("FETCH FORWARD {PAGE} FROM yizhan_verify");
    loop {
        let messages = read.simple_query(&fetch).await.map_err(SourceError::from)?;
        for message in &messages {
            let SimpleQueryMessage::Row(row) = message else {
                continue;
            };
            let row = snapshot_row(row);
            let Some(permit_no) = row.permit_no() else {
                continue;
            };
            let approval = record::record(&row).ok().and_then(|r| {
                let approval = PlanningApproval {
                    planning_permit_no: r.planning_permit_no,
                    project_code: r.project_code.parse().ok()?,
                    approved_on: r.approved_on,
                    residential_area: r.residential_area,
                    non_residential_area: r.non_residential_area,
                    civil_defence_area: r.civil_defence_area,
                };
                Some(
                    RowWrite::upsert(
                        EntityKind::PlanningApproval,
                        permit_no.clone(),
                        approval.project_code.as_str(),
                        &approval,
                    )
                    .payload,
                )
            });
            approvals.insert(permit_no, approval);
        }
        if !messages
            .iter()
            .any(|m| matches!(m, SimpleQueryMessage::Row(_)))
        {
            break;
        }
    }
    read.commit().await.map_err(SourceError::from)?;
    Ok(approvals)
}

fn checksum<'a>(entries: impl Iterator<Item = (&'a String, &'a str)>) -> String {
    let mut hasher = Sm3::new();
    for (key, payload) in entries {
        for part in [key.as_str(), payload] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
    }
    hex::encode(hasher.finalize())
}
