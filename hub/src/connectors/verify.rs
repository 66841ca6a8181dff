//! Two-way verification of the legacy export: the last file imported is read again and
//! every row its records make is looked up at the hub, so a row lost or altered at the hub
//! (or changed since by another route) is listed rather than assumed away.

use time::OffsetDateTime;
use yizhan_sync::protocol::SourceComparison;

use super::ConnectorKind;
use super::legacy_file::{self, Outcome};
use super::legacy_import::CONNECTOR;
use crate::error::HubError;
use crate::hub::Hub;
use crate::ingest::IngestRecord;
use crate::store::ImportedFile;

/// Keys listed per kind of difference; the counts tell the rest.
const LISTED: usize = 100;

impl Hub {
    /// Compares the planning export imported last with what the hub holds now, and keeps
    /// the result as the file connector's verification; `None` when no file was imported.
    pub async fn verify_last_import(&self) -> Result<Option<SourceComparison>, HubError> {
        let Some(ImportedFile { file_name, bytes }) = self.store().last_import(CONNECTOR).await? else {
            return Ok(None);
        };
        let file = legacy_file::read(&bytes).map_err(|e| HubError::UnreadableFile(e.to_string()))?;
        let mut comparison = SourceComparison {
            checked_at: OffsetDateTime::now_utc(),
            source: file_name,
            source_rows: 0,
            matching: 0,
            missing: Vec::new(),
            differing: Vec::new(),
        };
        for row in file.rows {
            // Rows that never passed were quarantined, not lost: the quarantine lists them.
            let Outcome::Record(record) = row.outcome else { continue };
            let Ok(writes) = record.rows(self.rules()) else { continue };
            for write in writes {
                comparison.source_rows += 1;
                let held = self.store().get(write.entity, &write.key).await?;
                let list = match held {
                    Some(held) if held.payload == write.payload => {
                        comparison.matching += 1;
                        continue;
                    }
                    Some(_) => &mut comparison.differing,
                    None => &mut comparison.missing,
                };
                if list.len() < LISTED {
                    list.push(format!("{} {}", write.entity.as_str(), write.key));
                }
            }
        }
        self.store()
            .record_verification(CONNECTOR, ConnectorKind::LegacyFile, comparison.clone())
            .await?;
        if !comparison.agrees() {
            tracing::warn!(file = %comparison.source, missing = comparison.missing.len(), differing = comparison.differing.len(), "数据中心与最近导入的文件不一致");
        }
        Ok(Some(comparison))
    }
}
