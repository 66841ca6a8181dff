//! `project_view`: one row per project with what the list shows, derived from the
//! replicated rows by `yizhan_core::status::standing` and kept in step by every write.

use rusqlite::{Connection, params};
use time::Date;
use yizhan_core::entity::Project;
use yizhan_core::records::ProjectRecords;
use yizhan_core::status::FeeStatus;

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

/// Writes (or, when the replica holds nothing of it any more, removes) a project's view.
fn write(conn: &Connection, project_code: &str, records: &ProjectRecords, today: Date) -> Result<(), ReplicaError> {
    if records.is_empty() {
        conn.prepare_cached("DELETE FROM project_view WHERE project_code = ?1")?
            .execute([project_code])?;
        return Ok(());
    }
    let standing = records.standing(today);
    // A payment or notice can arrive before its project: list it under its code, unnamed,
    // so a clerk searching by code still finds what the hub has.
    let project = records.project.as_ref();
    let field = |f: fn(&Project) -> &str| project.map_or("", f);
    conn.prepare_cached(
        "INSERT OR REPLACE INTO project_view (project_code, name, builder, uscc, district_code, status, overdue, \
         assessed_fen, paid_fen, outstanding_fen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        project_code,
        field(|p| &p.name),
        field(|p| &p.builder),
        field(|p| &p.uscc),
        field(|p| &p.district_code),
        status_str(standing.status),
        standing.overdue,
        standing.assessed_fen,
        standing.paid_fen,
        standing.outstanding_fen,
    ])?;
    Ok(())
}

/// Recomputes the views of the given projects against the date the views stand at.
pub(crate) fn refresh<'a>(
    conn: &Connection,
    project_codes: impl IntoIterator<Item = &'a str>,
    today: Date,
) -> Result<(), ReplicaError> {
    for code in project_codes {
        let records = load_records(conn, code)?;
        write(conn, code, &records, today)?;
    }
    Ok(())
}

/// Recomputes every view in one pass over the rows in project order, and records `today`
/// as the date they stand at. Returns how many projects it wrote.
pub(crate) fn rebuild_all(conn: &Connection, today: Date) -> Result<u64, ReplicaError> {
    conn.execute("DELETE FROM project_view", [])?;
    let written = schema::without_indexes(conn, "project_view", || write_all(conn, today))?;
    conn.execute("UPDATE meta SET view_date = ?1", [format_date(today)])?;
    Ok(written)
}

fn write_all(conn: &Connection, today: Date) -> Result<u64, ReplicaError> {
    let mut stmt = conn.prepare("SELECT project_code, entity, key, payload FROM rows ORDER BY project_code")?;
    let mut rows = stmt.query([])?;
    let mut current = String::new();
    let mut records = ProjectRecords::default();
    let mut written = 0;
    while let Some(row) = rows.next()? {
        let code = text(row, 0)?;
        if code != current {
            if !records.is_empty() {
                write(conn, &current, &records, today)?;
                written += 1;
            }
            records = ProjectRecords::default();
            code.clone_into(&mut current);
        }
        records.add(entity_at(row, 1)?, text(row, 2)?, bytes(row, 3)?)?;
    }
    if !records.is_empty() {
        write(conn, &current, &records, today)?;
        written += 1;
    }
    Ok(written)
}
