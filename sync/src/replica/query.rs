//! The app's questions to the replica. All the SQL the counter runs lives here; the Tauri
//! shell calls these and serialises the answers as they are (ui/src/api.ts mirrors them).

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};
use yizhan_core::alert::AlertLevel;
use yizhan_core::alert::queue::AlertView;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use yizhan_core::clock::Clock;
use yizhan_core::code::ProjectCode;
use crate::sql::parsed;
use yizhan_core::district::district_name;
use yizhan_core::document::{DocumentKind, DocumentState};
use yizhan_core::entity::{EntityKind, FeeKind};
use yizhan_core::records::ProjectRecords;
use yizhan_core::money::Fen;
use yizhan_core::status::FeeStatus;

use super::outbox::overlay;
use super::view::{load_records, parse_status, status_str};
use super::{ReplicaError, ReplicaReader, entity_at, get_time, opt_date, text};
use crate::protocol::Op;

/// Most rows one page may ask for; the list pages through the rest.
pub const MAX_PAGE: u32 = 500;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProjectQuery {
    /// A project code (whole or part), part of the name or the builder, or a USCC.
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub status: Option<FeeStatus>,
    #[serde(default)]
    pub overdue: Option<bool>,
    /// Only the projects in 项目跟踪 (`Some(true)`).
    #[serde(default)]
    pub tracked: Option<bool>,
    /// A district code (GB/T 2260).
    #[serde(default)]
    pub district: Option<String>,
    /// Only the 可开具 queue (`Some(true)`): cleared, with no valid document on record or
    /// on its way from this counter.
    #[serde(default)]
    pub issuable: Option<bool>,
    pub offset: u32,
    /// At most [`MAX_PAGE`].
    pub limit: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StatusCounts {
    pub awaiting_assessment: u64,
    pub due: u64,
    pub partly_paid: u64,
    pub awaiting_tax_clearance: u64,
    pub cleared: u64,
    pub overdue: u64,
    /// In 项目跟踪.
    pub tracked: u64,
    pub all: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProjectPage {
    /// Projects matching the whole query.
    pub total: u64,
    /// For the search and district only, so each status chip shows what choosing it gives.
    pub counts: StatusCounts,
    /// Overdue projects first, then by project code: what needs chasing comes first and
    /// the order is stable while the clerk pages.
    pub rows: Vec<ProjectRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProjectRow {
    pub project_code: ProjectCode,
    pub name: String,
    pub builder: String,
    pub uscc: String,
    pub district_code: String,
    pub district_name: String,
    pub status: FeeStatus,
    pub overdue: bool,
    pub assessed_fen: Fen,
    pub paid_fen: Fen,
    pub outstanding_fen: Fen,
    /// In 项目跟踪, and why.
    pub tracked: bool,
    pub tracked_reason: Option<TrackedReason>,
    /// The most serious active alert on the project.
    pub alert_level: Option<AlertLevel>,
    /// 已开具 / 已关联施工许可.
    pub stage: Option<ProjectStage>,
}

/// Where a cleared project stands with its documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ProjectStage {
    /// 已开具: a valid voucher or invoice is on record.
    Issued,
    /// 已关联施工许可.
    Linked,
}

impl ProjectStage {
    fn parse(text: Option<&str>) -> Option<ProjectStage> {
        match text? {
            "issued" => Some(ProjectStage::Issued),
            "linked" => Some(ProjectStage::Linked),
            _ => None,
        }
    }
}

/// A voucher or invoice of the project, as the detail screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DocumentLine {
    pub number: String,
    pub kind: DocumentKind,
    pub state: DocumentState,
    pub total_fen: Fen,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub issued_at: OffsetDateTime,
    pub issuer: String,
    pub checker: String,
    pub conflict: Option<String>,
    pub void_reason: Option<String>,
    pub reprints: usize,
    /// Issued, voided or reprinted here and on its way to the hub.
    pub pending: bool,
}

/// 关联施工许可.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PermitLine {
    pub construction_permit_no: String,
    pub linked_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub linked_at: OffsetDateTime,
    pub pending: bool,
}

/// Why a project is in 项目跟踪.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TrackedReason {
    /// A clerk put it there.
    Clerk,
    /// It is overdue: overdue projects enter on their own and leave when paid.
    Overdue,
}

impl TrackedReason {
    fn parse(text: Option<&str>) -> Option<TrackedReason> {
        match text? {
            "clerk" => Some(TrackedReason::Clerk),
            "overdue" => Some(TrackedReason::Overdue),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProjectDetail {
    pub project: DetailProject,
    pub status: FeeStatus,
    pub overdue: bool,
    /// Newest first.
    pub approvals: Vec<Approval>,
    /// In the order `standing` gives them.
    pub fees: Vec<Fee>,
    /// Newest first.
    pub payments: Vec<PaymentLine>,
    pub tax_clearance: Option<TaxClearanceLine>,
    /// 复核, when done (or issued here and on its way).
    pub final_check: Option<FinalCheckLine>,
    /// 跟进备注, newest first.
    pub notes: Vec<NoteLine>,
    /// 项目跟踪.
    pub tracked: bool,
    /// The tracking flag shown was set here and is on its way to the hub.
    pub tracking_pending: bool,
    /// In 项目跟踪 because a clerk put it there, or because it is overdue.
    pub tracked_reason: Option<TrackedReason>,
    /// Active first, then newest first.
    pub alerts: Vec<AlertView>,
    /// Newest first.
    pub documents: Vec<DocumentLine>,
    pub permit: Option<PermitLine>,
    /// Newest first.
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FinalCheckLine {
    pub checked_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub checked_at: OffsetDateTime,
    pub remark: String,
    /// 待上传: issued at this counter, not yet confirmed by the hub.
    pub pending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NoteLine {
    pub note_id: String,
    pub text: String,
    pub written_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub written_at: OffsetDateTime,
    /// 待上传
    pub pending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DetailProject {
    pub project_code: ProjectCode,
    pub name: String,
    pub builder: String,
    pub uscc: String,
    pub district_code: String,
    pub district_name: String,
    /// Always masked (`138****1234`): the clerk never needs the full number on screen.
    pub contact_phone_masked: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Approval {
    pub planning_permit_no: String,
    #[serde(with = "yizhan_core::serde_date")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub approved_on: Date,
    pub residential_area: yizhan_core::area::Area,
    pub non_residential_area: yizhan_core::area::Area,
    pub civil_defence_area: yizhan_core::area::Area,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Fee {
    pub fee_kind: FeeKind,
    pub assessed_fen: Fen,
    pub exemption_fen: Fen,
    pub exemption_basis: Option<String>,
    pub net_fen: Fen,
    pub paid_fen: Fen,
    pub outstanding_fen: Fen,
    /// `None` while the fee awaits assessment.
    #[serde(with = "opt_date")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub assessed_on: Option<Date>,
    #[serde(with = "opt_date")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub due_on: Option<Date>,
    /// Standard and document the amount rests on; empty while awaiting assessment.
    pub basis: String,
    pub overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PaymentLine {
    pub payment_id: String,
    pub fee_kind: FeeKind,
    pub amount_fen: Fen,
    pub channel: String,
    pub reference: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub received_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TaxClearanceLine {
    pub clearance_no: String,
    pub tax_office: String,
    #[serde(with = "yizhan_core::serde_date")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub issued_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TimelineEntry {
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub committed_at: OffsetDateTime,
    pub entity: EntityKind,
    pub key: String,
    pub op: Op,
}

/// A WHERE clause and its values, built from the parts of a query that are set.
#[derive(Default)]
pub(crate) struct Filter {
    pub sql: String,
    pub values: Vec<Value>,
}

impl Filter {
    pub fn and(&mut self, clause: &str, values: impl IntoIterator<Item = Value>) {
        self.sql.push_str(if self.sql.is_empty() { " WHERE " } else { " AND " });
        self.sql.push_str(clause);
        self.values.extend(values);
    }

    /// Search and district: what the status counts are taken over.
    fn base(query: &ProjectQuery) -> Filter {
        let mut filter = Filter::default();
        if let Some(search) = query.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            // A code or USCC typed or scanned whole is found through an index; anything
            // else is a substring of one of the four, found by reading every project.
            if yizhan_core::code::check_project_code(search).is_ok() {
                filter.and("project_code = ?", [Value::Text(search.to_owned())]);
            } else if looks_like_uscc(search) {
                filter.and("uscc = ?", [Value::Text(search.to_ascii_uppercase())]);
            } else {
                let pattern = Value::Text(format!("%{}%", escape_like(search)));
                filter.and(
                    "(project_code LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\' OR builder LIKE ? ESCAPE '\\' \
                     OR uscc LIKE ? ESCAPE '\\')",
                    std::iter::repeat_n(pattern, 4),
                );
            }
        }
        if let Some(district) = &query.district {
            filter.and("district_code = ?", [Value::Text(district.clone())]);
        }
        filter
    }
}

/// 18 letters and digits: a whole USCC, even a legacy one that fails its check character.
fn looks_like_uscc(text: &str) -> bool {
    text.len() == 18 && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

impl ReplicaReader {
    pub fn list_projects(&self, query: &ProjectQuery) -> Result<ProjectPage, ReplicaError> {
        let mut filter = Filter::base(query);
        let groups = status_groups(&self.conn, &filter)?;
        let mut counts = StatusCounts::default();
        let mut total = 0;
        for &(status, overdue, tracked, n) in &groups {
            *count_of(&mut counts, status) += n;
            counts.overdue += if overdue { n } else { 0 };
            counts.tracked += if tracked { n } else { 0 };
            counts.all += n;
            if query.status.is_none_or(|s| s == status)
                && query.overdue.is_none_or(|o| o == overdue)
                && query.tracked.is_none_or(|t| t == tracked)
            {
                total += n;
            }
        }

        if let Some(status) = query.status {
            filter.and("status = ?", [Value::Text(status_str(status).to_owned())]);
        }
        if let Some(overdue) = query.overdue {
            filter.and("overdue = ?", [Value::Integer(overdue.into())]);
        }
        match query.tracked {
            Some(true) => filter.and("tracking IS NOT NULL", []),
            Some(false) => filter.and("tracking IS NULL", []),
            None => {}
        }
        if query.issuable == Some(true) {
            filter.and(
                "status = 'cleared' AND stage IS NULL AND project_code NOT IN \
                 (SELECT project_code FROM outbox WHERE kind = 'issue_document' AND state IN ('pending', 'accepted'))",
                [],
            );
            let count_sql = format!("SELECT count(*) FROM project_view{}", filter.sql);
            total = self.conn.prepare_cached(&count_sql)?.query_row(params_from_iter(&filter.values), |r| r.get(0))?;
        }
        filter.values.push(Value::Integer(query.limit.min(MAX_PAGE).into()));
        filter.values.push(Value::Integer(query.offset.into()));
        let sql = format!(
            "SELECT project_code, name, builder, uscc, district_code, status, overdue, assessed_fen, paid_fen, \
             outstanding_fen, tracking, stage FROM project_view{} ORDER BY overdue DESC, project_code LIMIT ? OFFSET ?",
            filter.sql
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows: Vec<ProjectRow> = stmt
            .query_map(params_from_iter(&filter.values), |row| {
                let tracked_reason = TrackedReason::parse(row.get_ref(10)?.as_str_or_null()?);
                let district_code: String = row.get(4)?;
                Ok(ProjectRow {
                    project_code: parsed(row, 0)?,
                    name: row.get(1)?,
                    builder: row.get(2)?,
                    uscc: row.get(3)?,
                    district_name: district_name(&district_code).unwrap_or_default().to_owned(),
                    district_code,
                    status: parse_status(text(row, 5)?, 5)?,
                    overdue: row.get(6)?,
                    assessed_fen: row.get(7)?,
                    paid_fen: row.get(8)?,
                    outstanding_fen: row.get(9)?,
                    tracked: tracked_reason.is_some(),
                    tracked_reason,
                    alert_level: None,
                    stage: ProjectStage::parse(row.get_ref(11)?.as_str_or_null()?),
                })
            })?
            .collect::<Result<_, _>>()?;
        let codes: Vec<String> = rows.iter().map(|r| r.project_code.to_string()).collect();
        let levels = self.alert_levels(&codes)?;
        for row in &mut rows {
            row.alert_level = levels.get(row.project_code.as_str()).copied();
        }
        Ok(ProjectPage { total, counts, rows })
    }

    /// Everything about one project, as of the date the views stand at; `None` when the
    /// replica holds nothing under that code.
    pub fn get_project(&self, code: &ProjectCode) -> Result<Option<ProjectDetail>, ReplicaError> {
        let project_code = code.as_str();
        let mut records = load_records(&self.conn, project_code)?;
        if records.is_empty() {
            return Ok(None);
        }
        let meta = self.meta()?;
        // The date the list was computed for, so the detail agrees with it.
        let today = meta.view_date.unwrap_or_else(|| Clock::system().today());
        let pending = overlay(&self.conn, &mut records, project_code, meta.cursor.unwrap_or(0), today)?;
        let is_pending = |command_id: &str| pending.iter().any(|p| p == command_id);
        let mut notes: Vec<NoteLine> = records
            .notes
            .iter()
            .map(|n| NoteLine {
                note_id: n.note_id.clone(),
                text: n.text.clone(),
                written_by: n.written_by.clone(),
                written_at: n.written_at,
                pending: is_pending(&n.note_id),
            })
            .collect();
        notes.sort_by(|a, b| (b.written_at, &b.note_id).cmp(&(a.written_at, &a.note_id)));
        let standing = records.standing(today);
        let project = records.project.as_ref();
        let field =
            |f: fn(&yizhan_core::entity::Project) -> &str| project.map_or_else(String::new, |p| f(p).to_owned());
        let district_code = field(|p| &p.district_code);

        let mut approvals: Vec<Approval> = records
            .approvals
            .iter()
            .map(|a| Approval {
                planning_permit_no: a.planning_permit_no.clone(),
                approved_on: a.approved_on,
                residential_area: a.residential_area,
                non_residential_area: a.non_residential_area,
                civil_defence_area: a.civil_defence_area,
            })
            .collect();
        approvals.sort_by(|a, b| (b.approved_on, &b.planning_permit_no).cmp(&(a.approved_on, &a.planning_permit_no)));

        let fees = standing
            .fees
            .iter()
            .map(|line| {
                let assessment = records.assessments.iter().find(|a| a.fee_kind == line.fee_kind);
                Fee {
                    fee_kind: line.fee_kind,
                    assessed_fen: line.assessed_fen,
                    exemption_fen: line.exemption_fen,
                    exemption_basis: assessment.and_then(|a| a.exemption.as_ref()).map(|e| e.basis.clone()),
                    net_fen: line.net_fen,
                    paid_fen: line.paid_fen,
                    outstanding_fen: line.outstanding_fen,
                    assessed_on: assessment.map(|a| a.assessed_on),
                    due_on: line.due_on,
                    basis: assessment.map(|a| a.basis.clone()).unwrap_or_default(),
                    overdue: line.overdue,
                }
            })
            .collect();

        let mut payments: Vec<PaymentLine> = records
            .payments
            .iter()
            .map(|p| PaymentLine {
                payment_id: p.payment_id.clone(),
                fee_kind: p.fee_kind,
                amount_fen: p.amount_fen,
                channel: p.channel.clone(),
                reference: p.reference.clone(),
                received_at: p.received_at,
            })
            .collect();
        payments.sort_by(|a, b| (b.received_at, &b.payment_id).cmp(&(a.received_at, &a.payment_id)));

        Ok(Some(ProjectDetail {
            project: DetailProject {
                project_code: code.clone(),
                name: field(|p| &p.name),
                builder: field(|p| &p.builder),
                uscc: field(|p| p.uscc.as_str()),
                district_name: district_name(&district_code).unwrap_or_default().to_owned(),
                district_code,
                contact_phone_masked: project
                    .and_then(|p| p.contact_phone.as_deref())
                    .map(yizhan_core::mask::mask_mobile),
            },
            status: standing.status,
            overdue: standing.overdue,
            approvals,
            fees,
            payments,
            tax_clearance: records.tax_clearance().map(|t| TaxClearanceLine {
                clearance_no: t.clearance_no.clone(),
                tax_office: t.tax_office.clone(),
                issued_on: t.issued_on,
            }),
            final_check: records.final_check.as_ref().map(|c| FinalCheckLine {
                checked_by: c.checked_by.clone(),
                checked_at: c.checked_at,
                remark: c.remark.clone(),
                pending: is_pending(c.command_id.as_str()),
            }),
            notes,
            tracked: records.is_tracked(),
            tracking_pending: records.tracking.as_ref().is_some_and(|t| is_pending(t.command_id.as_str())),
            tracked_reason: if records.is_tracked() {
                Some(TrackedReason::Clerk)
            } else {
                standing.overdue.then_some(TrackedReason::Overdue)
            },
            alerts: self.alerts_of_project(project_code)?,
            documents: document_lines(&records, &is_pending),
            permit: records.permit_link.as_ref().map(|l| PermitLine {
                construction_permit_no: l.construction_permit_no.clone(),
                linked_by: l.linked_by.clone(),
                linked_at: l.linked_at,
                pending: is_pending(l.command_id.as_str()),
            }),
            timeline: timeline(&self.conn, project_code, meta.snapshot_as_of.unwrap_or(0))?,
        }))
    }
}

fn document_lines(records: &ProjectRecords, is_pending: &dyn Fn(&str) -> bool) -> Vec<DocumentLine> {
    let mut lines: Vec<DocumentLine> = records
        .documents
        .iter()
        .map(|d| DocumentLine {
            number: d.key(),
            kind: d.document.number.kind,
            state: d.state,
            total_fen: d.document.total_fen,
            issued_at: d.document.issued_at,
            issuer: d.document.issuer.clone(),
            checker: d.document.checker.clone(),
            conflict: d.conflict.clone(),
            void_reason: d.voiding.as_ref().map(|v| v.reason.clone()),
            reprints: d.reprints.len(),
            pending: is_pending(d.command_id.as_str())
                || d.voiding.as_ref().is_some_and(|v| is_pending(v.command_id.as_str()))
                || d.reprints.iter().any(|r| is_pending(r.command_id.as_str())),
        })
        .collect();
    lines.sort_by(|a, b| b.issued_at.cmp(&a.issued_at).then_with(|| b.number.cmp(&a.number)));
    lines
}

/// How many projects match `filter` for each (status, overdue, tracked) triple. Grouped by
/// the tracking column itself, in the order of the index the counts are read from (a
/// group per reason, merged here), so no temporary sort of every project is needed.
fn status_groups(conn: &Connection, filter: &Filter) -> Result<Vec<(FeeStatus, bool, bool, u64)>, ReplicaError> {
    let sql = format!(
        "SELECT status, overdue, tracking IS NOT NULL, count(*) FROM project_view{} GROUP BY status, overdue, tracking",
        filter.sql
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let groups = stmt
        .query_map(params_from_iter(&filter.values), |row| {
            Ok((parse_status(text(row, 0)?, 0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    Ok(groups)
}

fn count_of(counts: &mut StatusCounts, status: FeeStatus) -> &mut u64 {
    match status {
        FeeStatus::AwaitingAssessment => &mut counts.awaiting_assessment,
        FeeStatus::Due => &mut counts.due,
        FeeStatus::PartlyPaid => &mut counts.partly_paid,
        FeeStatus::AwaitingTaxClearance => &mut counts.awaiting_tax_clearance,
        FeeStatus::Cleared => &mut counts.cleared,
    }
}

/// The project's applied changes, and the snapshot's entry of every row still as the
/// snapshot brought it: those live in `rows` alone, which spares a snapshot load writing
/// each row twice (`apply` moves an entry to `history` when its row changes).
fn timeline(conn: &Connection, project_code: &str, snapshot_as_of: u64) -> Result<Vec<TimelineEntry>, ReplicaError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, committed_at, entity, key, op FROM history WHERE project_code = ?1 \
         UNION ALL \
         SELECT seq, committed_at, entity, key, 'upsert' FROM rows WHERE project_code = ?1 AND seq <= ?2 \
         ORDER BY seq DESC",
    )?;
    let entries = stmt
        .query_map(rusqlite::params![project_code, snapshot_as_of], |row| {
            Ok(TimelineEntry {
                seq: row.get(0)?,
                committed_at: get_time(row, 1)?,
                entity: entity_at(row, 2)?,
                key: row.get(3)?,
                op: if text(row, 4)? == "delete" {
                    Op::Delete
                } else {
                    Op::Upsert
                },
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(entries)
}
