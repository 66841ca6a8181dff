//! Working the quarantine: a record is re-checked — as an operator corrected it, or as it
//! was, when what it lacked (its project, say) has arrived since — and written when it
//! passes; or dismissed with a reason. Either way the entry stays listed, closed, with who
//! closed it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use yizhan_sync::protocol::{
    CivilDefenceNotice, DeliveryReport, FieldError, PaymentRecord, PlanningRecord, QuarantineState,
    TaxClearanceRecord,
};

use super::legacy_file::{self, Outcome};
use super::planning_cdc;
use super::{Connector, ConnectorKind, SourceChange};
use crate::error::HubError;
use crate::hub::Hub;
use crate::ingest::IngestRecord;
use yizhan_sync::protocol::MAX_DISMISS_REASON_CHARS;
use crate::store::{QuarantineClosing, QuarantineRecord};
use crate::routes::ingest::read_record;

impl Hub {
    /// Re-checks quarantined record `id`, replaced by `corrected` when given; writes it
    /// and closes the entry as `reprocessed` when it passes. A record that still fails is
    /// answered with its problems and the entry stays open.
    pub async fn reprocess(&self, id: u64, corrected: Option<&RawValue>, by: &str) -> Result<DeliveryReport, HubError> {
        let entry = self.open_entry(id).await?;
        let text = corrected.map_or(entry.record.as_str(), RawValue::get).to_owned();
        let raw: Box<RawValue> = RawValue::from_string(text)
            .map_err(|e| HubError::MalformedJson(format!("隔离记录不是 JSON 对象，请提交更正后的完整记录：{e}")))?;
        let report = match entry.source.as_str() {
            PlanningRecord::SOURCE => {
                // A file row or a database row is read again as its route reads it.
                let reread = match (entry.connector.as_str(), file_row(&raw)) {
                    (_, Some((row, cells))) => Some(record_from_cells(row, &cells)),
                    (planning_cdc::CONNECTOR, None) => planning_cdc::record_from_raw(raw.get())
                        .map(|record| record.map_err(HubError::InvalidRecords)),
                    _ => None,
                };
                match reread {
                    Some(record) => self.reprocess_record(&entry, record?, &raw).await?,
                    None => self.reprocess_as::<PlanningRecord>(&entry, &raw).await?,
                }
            }
            CivilDefenceNotice::SOURCE => self.reprocess_as::<CivilDefenceNotice>(&entry, &raw).await?,
            TaxClearanceRecord::SOURCE => self.reprocess_as::<TaxClearanceRecord>(&entry, &raw).await?,
            PaymentRecord::SOURCE => self.reprocess_as::<PaymentRecord>(&entry, &raw).await?,
            other => return Err(HubError::InvalidBody(format!("隔离记录的类型 {other} 无法重新处理"))),
        };
        let note = if corrected.is_some() { "更正后重新处理" } else { "原样重新校验通过" };
        if !self.store().close_quarantine(id, QuarantineClosing::Reprocessed, by, note).await? {
            return Err(HubError::QuarantineClosed(id));
        }
        if let Some(desk) = self.alert_desk() {
            desk.recheck();
        }
        Ok(report)
    }

    /// Closes quarantined record `id` without writing it; `reason` says why, for the audit.
    pub async fn dismiss(&self, id: u64, by: &str, reason: &str) -> Result<(), HubError> {
        let reason = reason.trim();
        let chars = reason.chars().count();
        if chars == 0 || chars > MAX_DISMISS_REASON_CHARS {
            return Err(HubError::InvalidBody(format!(
                "reason：请填写放弃处理的原因（1–{MAX_DISMISS_REASON_CHARS} 个字），收到 {chars} 个字"
            )));
        }
        self.open_entry(id).await?;
        if !self.store().close_quarantine(id, QuarantineClosing::Dismissed, by, reason).await? {
            return Err(HubError::QuarantineClosed(id));
        }
        if let Some(desk) = self.alert_desk() {
            desk.recheck();
        }
        Ok(())
    }

    async fn open_entry(&self, id: u64) -> Result<QuarantineRecord, HubError> {
        let entry = self.store().quarantined(id).await?.ok_or(HubError::NoSuchQuarantine(id))?;
        if entry.state != QuarantineState::Open {
            return Err(HubError::QuarantineClosed(id));
        }
        Ok(entry)
    }

    async fn reprocess_as<R: IngestRecord>(&self, entry: &QuarantineRecord, raw: &RawValue) -> Result<DeliveryReport, HubError> {
        let record: R = read_record(0, raw).map_err(HubError::InvalidRecords)?;
        self.reprocess_record(entry, record, raw).await
    }

    async fn reprocess_record<R: IngestRecord>(
        &self,
        entry: &QuarantineRecord,
        record: R,
        raw: &RawValue,
    ) -> Result<DeliveryReport, HubError> {
        let projects = if R::REFERS_TO_PROJECT {
            self.projects([record.project_code().to_owned()]).await?
        } else {
            Default::default()
        };
        // Checked before it is delivered, so a record that still fails is answered, not
        // quarantined a second time.
        self.check(0, &record, projects.get(record.project_code())).map_err(HubError::InvalidRecords)?;
        let kind = self
            .store()
            .connectors()
            .await?
            .into_iter()
            .find(|c| c.name == entry.connector)
            .map_or(ConnectorKind::Push, |c| c.kind);
        let change = SourceChange::Upsert {
            location: entry.location.clone(),
            raw: raw.get().to_owned(),
            record: Ok(record),
        };
        self.deliver(&Connector::new(entry.connector.clone(), kind), vec![change], None, None).await
    }
}

/// A row of the legacy export as the quarantine keeps it (`{"row": N, "cells": {header:
/// cell}}`), corrected or not: its number and cells.
fn file_row(raw: &RawValue) -> Option<(usize, Vec<(String, String)>)> {
    #[derive(Deserialize)]
    struct FileRow {
        row: usize,
        cells: BTreeMap<String, String>,
    }
    let FileRow { row, cells } = serde_json::from_str(raw.get()).ok()?;
    Some((row, cells.into_iter().collect()))
}

/// The row's cells read as the export reader reads a file: its problems, if any, name the
/// columns as the file heads them.
fn record_from_cells(row: usize, cells: &[(String, String)]) -> Result<PlanningRecord, HubError> {
    match legacy_file::read_cells(cells).map_err(|e| HubError::UnreadableFile(e.to_string()))? {
        Outcome::Record(record) => Ok(record),
        Outcome::Rejected(problems) => Err(HubError::InvalidRecords(
            problems
                .into_iter()
                .map(|p| FieldError { record: row, source_id: None, field: p.field, problem: p.problem })
                .collect(),
        )),
        Outcome::Repeat { .. } => unreachable!("one row cannot repeat another"),
    }
}
