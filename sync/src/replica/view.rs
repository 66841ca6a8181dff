//! `project_view`: one row per project with what the list shows, derived from the
//! replicated rows by `yizhan_core::status::standing` and kept in step by every write.

use rusqlite::{Connection, params};
use yizhan_core::alert::engine::FeeDue;
use yizhan_core::document::DocumentState;
use yizhan_core::entity::{FeeKind, Project};
use yizhan_core::records::ProjectRecords;
use yizhan_core::status::FeeStatus;

use super::alert_view;
use super::alerts::{self, Evaluation};
use super::{ReplicaError, bytes, entity_at, format_date, schema, text};

/// One project's rows, parsed; empty when the replica holds none.
pub(crate) fn load_records(conn: &Connection, project_code: &str) -> Result<ProjectRecords, ReplicaError> {
    let mut stmt = conn.prepare_cached("SELECT entity, key, payload FROM rows WHERE project_code = ?1")?;
    let mut rows = stmt.query([project_code])?;
    let mut records = ProjectRecords::default();
    while let Some(row) = rows.next()? {
        records.add(entity_at(row, 0)?, text(row, 1)?, bytes(row, 2)?)?;
    }
    Ok(records)
}

pub(crate) fn status_str(status: FeeStatus) -> &'static str {
    match status {
        FeeStatus::AwaitingAssessment => "awaiting_assessment",
        FeeStatus::Due => "due",
        FeeStatus::PartlyPaid => "partly_paid",
        FeeStatus::AwaitingTaxClearance => "awaiting_tax_clearance",
        FeeStatus::Cleared => "cleared",
    }
}

pub(crate) const STATUSES: [FeeStatus; 5] = [
    FeeStatus::AwaitingAssessment,
    FeeStatus::Due,
    FeeStatus::PartlyPaid,
    FeeStatus::AwaitingTaxClearance,
    FeeStatus::Cleared,
];

pub(crate) fn parse_status(text: &str, idx: usize) -> rusqlite::Result<FeeStatus> {
    STATUSES.into_iter().find(|s| status_str(*s) == text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            format!("unknown status {text:?}").into(),
        )
    })
}

/// Writes (or, when the replica holds nothing of it any more, removes) a project's view,
/// and returns what the deadline rules read of it.
fn write(conn: &Connection, project_code: &str, records: &ProjectRecords, eval: &Evaluation) -> Result<Vec<FeeDue>, ReplicaError> {
    if records.is_empty() {
        conn.prepare_cached("DELETE FROM project_view WHERE project_code = ?1")?
            .execute([project_code])?;
        return Ok(Vec::new());
    }
    let standing = records.standing(eval.today);
    let dues = FeeDue::of(&standing);
    let due = |kind: FeeKind| dues.iter().find(|d| d.fee_kind == kind).map(|d| (d.due_on.to_julian_day(), d.outstanding_fen));
    let (infra_due, infra_outstanding) = due(FeeKind::Infra).unzip();
    let (civil_defence_due, civil_defence_outstanding) = due(FeeKind::CivilDefence).unzip();
    // 项目跟踪: a clerk's choice, and every overdue project on its own.
    let tracking = if records.is_tracked() {
        Some("clerk")
    } else if standing.overdue {
        Some("overdue")
    } else {
        None
    };
    // A payment or notice can arrive before its project: list it under its code, unnamed,
    // so a clerk searching by code still finds what the hub has.
    let project = records.project.as_ref();
    let field = |f: fn(&Project) -> &str| project.map_or("", f);
    let stage = if records.permit_link.is_some() {
        Some("linked")
    } else if records.documents.iter().any(|d| d.state != DocumentState::Voided) {
        Some("issued")
    } else {
        None
    };
    conn.prepare_cached(
        "INSERT OR REPLACE INTO project_view (project_code, name, builder, uscc, district_code, status, overdue, \
         assessed_fen, paid_fen, outstanding_fen, infra_due, infra_outstanding_fen, civil_defence_due, \
         civil_defence_outstanding_fen, tracking, stage) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        project_code,
        field(|p| &p.name),
        field(|p| &p.builder),
        field(|p| p.uscc.as_str()),
        field(|p| &p.district_code),
        status_str(standing.status),
        standing.overdue,
        standing.assessed_fen,
        standing.paid_fen,
        standing.outstanding_fen,
        infra_due,
        infra_outstanding.unwrap_or(0),
        civil_defence_due,
        civil_defence_outstanding.unwrap_or(0),
        tracking,
        stage,
    ])?;
    Ok(dues)
}

/// Recomputes the views of the given projects against the date the views stand at, and
/// their deadline alerts.
pub(crate) fn refresh<'a>(
    conn: &Connection,
    project_codes: impl IntoIterator<Item = &'a str>,
    eval: &Evaluation,
) -> Result<(), ReplicaError> {
    for code in project_codes {
        let records = load_records(conn, code)?;
        let dues = write(conn, code, &records, eval)?;
        alerts::evaluate_project(conn, eval, code, &dues)?;
        alert_view::refresh_project(conn, eval, code)?;
    }
    Ok(())
}

/// Recomputes every view in one pass over the rows in project order, then every deadline
/// alert, and records the evaluation's day as the date they stand at. Returns how many
/// projects it wrote.
pub(crate) fn rebuild_all(conn: &Connection, eval: &Evaluation) -> Result<u64, ReplicaError> {
    conn.execute("DELETE FROM project_view", [])?;
    let written = schema::without_indexes(conn, "project_view", || write_all(conn, eval))?;
    alerts::evaluate_all(conn, eval)?;
    alert_view::rebuild(conn, eval)?;
    conn.execute("UPDATE meta SET view_date = ?1", [format_date(eval.today)])?;
    Ok(written)
}

fn write_all(conn: &Connection, eval: &Evaluation) -> Result<u64, ReplicaError> {
    let mut stmt = conn.prepare("SELECT project_code, entity, key, payload FROM rows ORDER BY project_code")?;
    let mut rows = stmt.query([])?;
    let mut current = String::new();
    let mut records = ProjectRecords::default();
    let mut written = 0;
    while let Some(row) = rows.next()? {
        let code = text(row, 0)?;
        if code != current {
            if !records.is_empty() {
                write(conn, &current, &records, eval)?;
                written += 1;
            }
            records = ProjectRecords::default();
            code.clone_into(&mut current);
        }
        records.add(entity_at(row, 1)?, text(row, 2)?, bytes(row, 3)?)?;
    }
    if !records.is_empty() {
        write(conn, &current, &records, eval)?;
        written += 1;
    }
    Ok(written)
}
