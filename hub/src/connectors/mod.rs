//! Connectors: how department data reaches the hub besides the ingest endpoints — change
//! capture from a department's database, the legacy daily export, authenticated pushes.
//! Whatever the route, a delivery goes through [`Hub::deliver`]: each record is checked on
//! its own, the good ones are written and the bad ones quarantined with every problem, and
//! the connector's position is committed in the same transaction. Redelivering what was
//! delivered (at-least-once sources, restarts) writes nothing twice: unchanged records
//! append nothing and a quarantined record is listed once.

pub(crate) mod debezium;
pub mod legacy_file;
pub mod legacy_import;
pub mod planning_cdc;
pub mod quarantine;
pub mod verify;
pub mod watched_folder;

use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;
use yizhan_core::records::ProjectRecords;
use yizhan_sync::protocol::{DeliveryReport, FieldError};

use crate::error::HubError;
use crate::hub::Hub;
use crate::ingest::IngestRecord;
pub use crate::store::ConnectorKind;
use crate::store::{Delivery, QuarantineItem, RowWrite, project_records};
use crate::etl::validate::Problems;

impl ConnectorKind {
    /// The change log's channel: the origin of a row is `{channel}:{source}`.
    fn channel(self) -> &'static str {
        match self {
            ConnectorKind::PostgresCdc => "cdc",
            ConnectorKind::LegacyFile => "import",
            ConnectorKind::Push => "push",
            ConnectorKind::Debezium => "debezium",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connector {
    pub name: String,
    pub kind: ConnectorKind,
}

impl Connector {
    pub fn new(name: impl Into<String>, kind: ConnectorKind) -> Connector {
        Connector { name: name.into(), kind }
    }
}

/// One change a source reports.
pub enum SourceChange<R> {
    /// A record created or changed at the source, or what could be read of it.
    Upsert {
        /// Where in the source: `第12行`, an LSN, a request.
        location: String,
        /// The record as the source gave it, kept if it is quarantined.
        raw: String,
        record: Result<R, Vec<FieldError>>,
    },
    /// The source deleted the record with this id.
    Withdraw { location: String, source_id: String, project_code: String },
}

impl Hub {
    /// The rows `record` becomes, or every problem with it (`index` names it in the
    /// answer). `project` is the project as the hub holds it, when `R` refers to one.
    pub(crate) fn check<R: IngestRecord>(
        &self,
        index: usize,
        record: &R,
        project: Option<&ProjectRecords>,
    ) -> Result<Vec<RowWrite>, Vec<FieldError>> {
        let field_errors = |problems: Problems| problems.into_field_errors(index, Some(record.source_id()));
        if R::REFERS_TO_PROJECT {
            let Some(project) = project.filter(|p| p.project.is_some()) else {
                let mut problems = Problems::default();
                problems.add(
                    "project_code",
                    format!("数据中心没有项目 {}：该项目的规划审批尚未送达", record.project_code()),
                );
                return Err(field_errors(problems));
            };
            let mut problems = Problems::default();
            record.cross_check(project, &mut problems);
            if !problems.is_empty() {
                return Err(field_errors(problems));
            }
        }
        record.rows(self.rules()).map_err(field_errors)
    }

    /// The projects `codes` name, as the hub holds them (those it lacks are left out).
    pub(crate) async fn projects(
        &self,
        codes: impl IntoIterator<Item = String>,
    ) -> Result<HashMap<String, ProjectRecords>, HubError> {
        let mut projects = HashMap::new();
        for code in codes.into_iter().collect::<HashSet<_>>() {
            let records = project_records(&self.store().project_rows(&code).await?)?;
            if records.project.is_some() {
                projects.insert(code, records);
            }
        }
        Ok(projects)
    }

    /// Takes a connector's changes: every readable record is checked on its own; those that
    /// pass are written, those that fail are quarantined with their problems, and the
    /// connector's `position` (where to resume) is committed with them.
    pub async fn deliver<R: IngestRecord>(
        &self,
        connector: &Connector,
        changes: Vec<SourceChange<R>>,
        position: Option<String>,
        newest_source_at: Option<OffsetDateTime>,
    ) -> Result<DeliveryReport, HubError> {
        let mut projects = if R::REFERS_TO_PROJECT {
            self.projects(changes.iter().filter_map(|c| match c {
                SourceChange::Upsert { record: Ok(r), .. } => Some(r.project_code().to_owned()),
                _ => None,
            }))
            .await?
        } else {
            HashMap::new()
        };
        let received = changes.len();
        let mut rows = Vec::new();
        let mut rows_per_record = Vec::new();
        let mut removals = Vec::new();
        let mut quarantine = Vec::new();
        let mut withdrawn_from = Vec::new();
        for (index, change) in changes.into_iter().enumerate() {
            match change {
                SourceChange::Upsert { location, raw, record } => {
                    let checked = record.and_then(|record| {
                        let project = projects.get_mut(record.project_code());
                        let rows = self.check(index, &record, project.as_deref())?;
                        if let Some(project) = project {
                            record.taken_into(project);
                        }
                        Ok(rows)
                    });
                    match checked {
                        Ok(record_rows) => {
                            rows_per_record.push(record_rows.len());
                            rows.extend(record_rows);
                        }
                        Err(mut problems) => {
                            for problem in &mut problems {
                                problem.record = index;
                            }
                            quarantine.push(QuarantineItem {
                            source: R::SOURCE.to_owned(),
                            source_id: problems.iter().find_map(|p| p.source_id.clone()),
                                location,
                                record: raw,
                                problems,
                            });
                        }
                    }
                }
                SourceChange::Withdraw { source_id, project_code, .. } => {
                    removals.push((R::WITHDRAWN, R::withdrawn_key(&source_id, &project_code)));
                    withdrawn_from.push(project_code);
                }
            }
        }
        let quarantined = quarantine.len();
        let problems: Vec<FieldError> = quarantine.iter().flat_map(|q| q.problems.iter().cloned()).collect();
        let applied = received - quarantined;
        let touched: Vec<String> = rows.iter().map(|r| r.project_code.clone()).chain(withdrawn_from).collect();
        let delivered = self
            .store()
            .deliver(Delivery {
                connector: connector.name.clone(),
                kind: connector.kind,
                origin: format!("{}:{}", connector.kind.channel(), R::SOURCE),
                rows,
                removals,
                quarantine,
                received: received as u64,
                applied: applied as u64,
                position,
                newest_source_at,
            })
            .await?;
        let mut changed = 0;
        let mut offset = 0;
        let seqs = &delivered.written.seqs;
        for n in rows_per_record {
            changed += usize::from(seqs[offset..offset + n].iter().any(Option::is_some));
            offset += n;
        }
        if let Some(desk) = self.alert_desk() {
            desk.touched(touched);
            if quarantined > 0 {
                desk.recheck();
            }
        }
        let withdrawn = delivered.removed.iter().flatten().count();
        let report = DeliveryReport {
            received,
            changed,
            unchanged: applied - changed - withdrawn,
            withdrawn,
            quarantined,
            head: delivered.written.head,
            problems,
        };
        tracing::info!(connector = %connector.name, ?report, "已接收");
        Ok(report)
    }
}
