//! The legacy daily export at the hub: a file's rows delivered in chunks as connector
//! `planning-file`, with progress, its bad rows quarantined with row number, column and
//! problem. The same file handed in again (by SM3 of its bytes) changes nothing and says so.

use yizhan_sync::protocol::{DeliveryReport, FieldError, ImportReport, PlanningRecord};

use super::legacy_file::{self, LegacyRow, Outcome};
use super::{Connector, ConnectorKind, SourceChange};
use crate::error::HubError;
use crate::hub::Hub;

pub const CONNECTOR: &str = "planning-file";

/// Rows per delivery: progress moves at least every few thousand rows, and one delivery's
/// transaction stays short.
const CHUNK_ROWS: usize = 2_000;

impl Hub {
    /// Imports a planning export; `progress(done, total)` hears of delivered rows.
    pub async fn import_planning_file(
        &self,
        file_name: &str,
        bytes: &[u8],
        mut progress: impl FnMut(usize, usize),
    ) -> Result<ImportReport, HubError> {
        let checksum = legacy_file::checksum(bytes);
        if let Some(earlier) = self.store().imported_file(&checksum).await? {
            let mut report: ImportReport = serde_json::from_str(&earlier)
                .map_err(|e| crate::store::StoreError::Corrupt(format!("导入记录无法读取：{e}")))?;
            report.already_imported = true;
            return Ok(report);
        }
        let file = legacy_file::read(bytes).map_err(|e| HubError::UnreadableFile(e.to_string()))?;
        let connector = Connector::new(CONNECTOR, ConnectorKind::LegacyFile);
        let total = file.rows.len();
        let repeats = file.rows.iter().filter(|r| matches!(r.outcome, Outcome::Repeat { .. })).count();
        let changes: Vec<(usize, SourceChange<PlanningRecord>)> = file.rows.into_iter().filter_map(change).collect();
        let mut delivery = DeliveryReport {
            received: 0,
            changed: 0,
            unchanged: repeats,
            withdrawn: 0,
            quarantined: 0,
            head: self.store().head().await?,
            problems: Vec::new(),
        };
        progress(0, total);
        let mut done = repeats;
        let chunks = changes.len().div_ceil(CHUNK_ROWS);
        let mut changes = changes.into_iter();
        for chunk in 0..chunks {
            let (row_numbers, part): (Vec<usize>, Vec<_>) = changes.by_ref().take(CHUNK_ROWS).unzip();
            done += part.len();
            // The checksum is the position once the whole file is in.
            let position = (chunk + 1 == chunks).then(|| checksum.clone());
            let report = self.deliver(&connector, part, position, None).await?;
            delivery.received += report.received;
            delivery.changed += report.changed;
            delivery.unchanged += report.unchanged;
            delivery.quarantined += report.quarantined;
            delivery.head = report.head;
            // Problems name the row as Excel shows it, not its place in the delivery.
            delivery.problems.extend(report.problems.into_iter().map(|p| FieldError {
                record: row_numbers[p.record],
                ..p
            }));
            progress(done, total);
        }
        delivery.received += repeats;
        let report = ImportReport {
            file_name: file_name.to_owned(),
            checksum: checksum.clone(),
            kind: file.kind.to_string(),
            rows: total,
            already_imported: false,
            delivery,
            repeats,
            ignored_columns: file.ignored_columns,
        };
        let json = serde_json::to_string(&report).expect("an import report serialises");
        self.store().record_import(&checksum, CONNECTOR, file_name, json, bytes.to_vec()).await?;
        tracing::info!(file_name, rows = total, changed = report.delivery.changed, quarantined = report.delivery.quarantined, "规划审批文件已导入");
        Ok(report)
    }
}

/// A row as the change it brings, with its row number; a repeat brings none.
fn change(row: LegacyRow) -> Option<(usize, SourceChange<PlanningRecord>)> {
    let location = format!("第{}行", row.row);
    match row.outcome {
        Outcome::Record(record) => Some((
            row.row,
            SourceChange::Upsert {
                location,
                raw: serde_json::to_string(&record).expect("a planning record serialises"),
                record: Ok(record),
            },
        )),
        Outcome::Repeat { .. } => None,
        Outcome::Rejected(problems) => {
            let cells: serde_json::Map<String, serde_json::Value> =
                row.written.into_iter().map(|(header, cell)| (header, cell.into())).collect();
            let raw = serde_json::json!({ "row": row.row, "cells": cells }).to_string();
            let problems = problems
                .into_iter()
                .map(|p| FieldError {
                    record: row.row,
                    source_id: None,
                    field: p.field,
                    problem: p.problem,
                })
                .collect();
            Some((row.row, SourceChange::Upsert { location, raw, record: Err(problems) }))
        }
    }
}
