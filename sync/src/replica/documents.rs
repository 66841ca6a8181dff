//! Issuing documents at the counter, online or not: serials come from the segments the
//! hub handed this counter, the PDF is kept here, and issuing, reprinting and voiding are
//! clerk commands like any other.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use sm3::{Digest, Sm3};
use time::OffsetDateTime;
use yizhan_core::command::{ClerkAction, Rejection};
use yizhan_core::document::{
    CounterKeyRecord, DOCUMENT_SETTINGS_KEY, Document, DocumentKind, DocumentNumber, DocumentSettings, IssueContext, IssuedDocument, four_eyes,
};
use yizhan_core::code::ProjectCode;
use yizhan_core::id::{CommandId, DeviceId};
use yizhan_core::entity::EntityKind;
use yizhan_core::records::ProjectRecords;

use super::outbox::{Issuer, OutboxEntry, overlay, queue};
use super::view::load_records;
use super::{Replica, ReplicaError, ReplicaReader, format_time, read_meta};
use crate::protocol::Segment;

/// Below this many serials left of a kind the counter asks the hub for more: well above
/// the 黄 alert's threshold (the `serials-low` rule), so only a counter that stays offline
/// sees the alert.
pub const LOW_SERIALS: u64 = 50;

/// A PDF waiting for the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingFile {
    pub number: String,
    pub pdf_sm3: String,
    pub bytes: Vec<u8>,
}

/// Serials left of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SerialsLeft {
    pub kind: DocumentKind,
    pub left: u64,
}

/// What the document maker gets: the number to print and the project as this counter
/// sees it (pending commands included).
pub struct ToIssue<'a> {
    pub number: DocumentNumber,
    pub records: &'a ProjectRecords,
    /// This counter, whose key signs the document.
    pub device_id: DeviceId,
    /// When it is issued, by the counter's clock.
    pub at: OffsetDateTime,
    /// The issuing unit and verify address the hub set.
    pub settings: &'a DocumentSettings,
}

/// What the document maker returns: the command to queue and the PDF it printed.
pub struct Issued {
    pub action: ClerkAction,
    pub pdf: Vec<u8>,
}

impl Replica {
    /// Keeps a segment the hub handed out; the same segment again changes nothing.
    pub fn add_segment(&mut self, segment: Segment) -> Result<(), ReplicaError> {
        self.conn.execute(
            "INSERT INTO number_segments (kind, first_serial, last_serial, next_serial, received_at)
             VALUES (?1, ?2, ?3, ?2, ?4) ON CONFLICT (kind, first_serial) DO NOTHING",
            params![segment.kind.as_str(), segment.first as i64, segment.last as i64, format_time(OffsetDateTime::now_utc())],
        )?;
        Ok(())
    }

    /// The document `kind` would be for the project now, under the next serial, as this
    /// counter would print it: what the hub checks before a number is spent online.
    pub fn document_draft(&self, project_code: &ProjectCode, kind: DocumentKind, clerk: &str, at: OffsetDateTime) -> Result<Document, ReplicaError> {
        let settings = settings_to_issue(&self.conn)?;
        let (_, serial) = next_serial(&self.conn, kind)?;
        let number = DocumentNumber { kind, serial: serial as u64 };
        let records = seen_records(&self.conn, project_code.as_str(), self.clock.today())?;
        let device_id = super::outbox::device_id(&self.conn)?;
        let ctx = IssueContext { unit: &settings.unit, issuer: clerk, device_id: &device_id, at };
        Document::for_project(&records, number, &ctx).map_err(ReplicaError::Refused)
    }

    /// Takes the next serial of `kind`, has `make` lay out, sign and print the document,
    /// and queues its command with the PDF kept — one transaction, so after a crash the
    /// serial is either still free or spent on a queued document.
    pub fn issue_document(
        &mut self,
        project_code: &ProjectCode,
        kind: DocumentKind,
        issuer: &Issuer,
        at: OffsetDateTime,
        make: impl FnOnce(ToIssue<'_>) -> Result<Issued, Rejection>,
    ) -> Result<OutboxEntry, ReplicaError> {
        let clock_today = self.clock.today();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let settings = settings_to_issue(&tx)?;
        let (first, serial) = next_serial(&tx, kind)?;
        tx.execute(
            "UPDATE number_segments SET next_serial = next_serial + 1 WHERE kind = ?1 AND first_serial = ?2",
            params![kind.as_str(), first],
        )?;
        let records = seen_records(&tx, project_code.as_str(), clock_today)?;
        four_eyes(&settings.single_clerk_kinds, kind, records.final_check.as_ref(), issuer.clerk()).map_err(ReplicaError::Refused)?;
        let number = DocumentNumber { kind, serial: serial as u64 };
        let device_id = super::outbox::device_id(&tx)?;
        let issued = make(ToIssue { number, records: &records, device_id, at, settings: &settings }).map_err(ReplicaError::Refused)?;
        let entry = queue(&tx, clock_today, issued.action, issuer, at, None)?;
        keep_file(&tx, &number.display(), &entry.command_id, &issued.pdf)?;
        tx.commit()?;
        Ok(entry)
    }

    /// Prints `number` again (`make` marks it 补打) and queues the reprint with its PDF.
    pub fn reprint_document(
        &mut self,
        project_code: &ProjectCode,
        number: &str,
        issuer: &Issuer,
        at: OffsetDateTime,
        make: impl FnOnce(&IssuedDocument) -> Result<Vec<u8>, Rejection>,
    ) -> Result<OutboxEntry, ReplicaError> {
        let clock_today = self.clock.today();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let records = seen_records(&tx, project_code.as_str(), clock_today)?;
        let doc = records.document(number).ok_or_else(|| {
            ReplicaError::Refused(Rejection {
                code: "unknown_document".into(),
                reason: format!("该项目没有号码为 {number} 的票据，请核对号码。"),
            })
        })?;
        let pdf = make(doc).map_err(ReplicaError::Refused)?;
        let action = ClerkAction::ReprintDocument {
            project_code: project_code.clone(),
            number: number.to_owned(),
            pdf_sm3: hex::encode(Sm3::digest(&pdf)),
        };
        let entry = queue(&tx, clock_today, action, issuer, at, None)?;
        keep_file(&tx, number, &entry.command_id, &pdf)?;
        tx.commit()?;
        Ok(entry)
    }

    /// Files whose command the hub accepted and that it does not have yet.
    pub fn files_to_upload(&self, limit: usize) -> Result<Vec<PendingFile>, ReplicaError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.number, f.pdf_sm3, f.bytes FROM document_files f JOIN outbox o ON o.command_id = f.command_id
             WHERE f.uploaded_at IS NULL AND f.upload_error IS NULL AND o.state = 'accepted' ORDER BY f.created_at LIMIT ?1",
        )?;
        let files = stmt
            .query_map([limit as i64], |r| Ok(PendingFile { number: r.get(0)?, pdf_sm3: r.get(1)?, bytes: r.get(2)? }))?
            .collect::<Result<_, _>>()?;
        Ok(files)
    }

    /// Documents issued here whose PDF the hub does not have yet (refused ones included:
    /// they are still not there).
    pub fn documents_pending(&self) -> Result<u64, ReplicaError> {
        Ok(self.conn.query_row("SELECT count(*) FROM document_files WHERE uploaded_at IS NULL", [], |r| r.get(0))?)
    }

    /// Records the hub's answer to an upload: kept, or refused for good with its reason.
    pub fn file_uploaded(&mut self, pdf_sm3: &str, refused: Option<&str>) -> Result<(), ReplicaError> {
        let now = format_time(OffsetDateTime::now_utc());
        match refused {
            None => self.conn.execute("UPDATE document_files SET uploaded_at = ?2 WHERE pdf_sm3 = ?1", params![pdf_sm3, now])?,
            Some(reason) => self.conn.execute("UPDATE document_files SET upload_error = ?2 WHERE pdf_sm3 = ?1", params![pdf_sm3, reason])?,
        };
        Ok(())
    }

    pub fn serials_left(&self) -> Result<Vec<SerialsLeft>, ReplicaError> {
        serials_left_in(&self.conn)
    }

    /// Who this counter is to the hub (made on first use).
    pub fn device_id(&self) -> Result<DeviceId, ReplicaError> {
        super::outbox::device_id(&self.conn)
    }
}

impl ReplicaReader {
    /// The newest PDF of `number` kept here (the reprint, when there is one).
    pub fn document_pdf(&self, number: &str) -> Result<Option<Vec<u8>>, ReplicaError> {
        Ok(self
            .conn
            .query_row(
                "SELECT bytes FROM document_files WHERE number = ?1 ORDER BY created_at DESC, rowid DESC LIMIT 1",
                [number],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// A counter's registered public key as replicated from the hub.
    pub fn counter_key(&self, device_id: &DeviceId) -> Result<Option<CounterKeyRecord>, ReplicaError> {
        system_row(&self.conn, EntityKind::CounterKey, device_id.as_str())
    }

    /// What documents name and link to, as the hub last set them.
    pub fn document_settings(&self) -> Result<Option<DocumentSettings>, ReplicaError> {
        system_row(&self.conn, EntityKind::DocumentSettings, DOCUMENT_SETTINGS_KEY)
    }

    /// The document under `number` as this counter sees it (its own pending commands
    /// included), wherever it was issued.
    pub fn document(&self, number: &str) -> Result<Option<IssuedDocument>, ReplicaError> {
        let project: Option<String> = self
            .conn
            .query_row(
                "SELECT project_code FROM rows WHERE entity = 'document' AND key = ?1
                 UNION ALL SELECT o.project_code FROM document_files f JOIN outbox o ON o.command_id = f.command_id
                 WHERE f.number = ?1 LIMIT 1",
                [number],
                |r| r.get(0),
            )
            .optional()?;
        let Some(project) = project else { return Ok(None) };
        let records = seen_records(&self.conn, &project, self.clock.today())?;
        Ok(records.document(number).cloned())
    }

    pub fn serials_left(&self) -> Result<Vec<SerialsLeft>, ReplicaError> {
        serials_left_in(&self.conn)
    }
}

pub(crate) fn serials_left_in(conn: &Connection) -> Result<Vec<SerialsLeft>, ReplicaError> {
    let mut left = Vec::new();
    for kind in DocumentKind::ALL {
        let n: i64 = conn.query_row(
            "SELECT coalesce(sum(last_serial - next_serial + 1), 0) FROM number_segments WHERE kind = ?1 AND next_serial <= last_serial",
            [kind.as_str()],
            |r| r.get(0),
        )?;
        left.push(SerialsLeft { kind, left: n as u64 });
    }
    Ok(left)
}

/// The project as the clerk sees it: replicated rows plus this counter's pending commands.
/// The segment (its first serial) and the serial `kind` is issued from next, or the clerk
/// told that none is left.
fn next_serial(conn: &Connection, kind: DocumentKind) -> Result<(i64, i64), ReplicaError> {
    conn.query_row(
        "SELECT first_serial, next_serial FROM number_segments WHERE kind = ?1 AND next_serial <= last_serial
         ORDER BY first_serial LIMIT 1",
        [kind.as_str()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| {
        ReplicaError::Refused(Rejection::new(
            "no_serials",
            format!("本终端没有可用的{}号段，请联网后由系统自动领取，或联系数据中心。", kind.name_zh()),
        ))
    })
}

/// The settings a document needs, or the clerk told why nothing can be issued yet.
fn settings_to_issue(conn: &Connection) -> Result<DocumentSettings, ReplicaError> {
    system_row(conn, EntityKind::DocumentSettings, DOCUMENT_SETTINGS_KEY)?.ok_or_else(|| {
        ReplicaError::Refused(Rejection::new(
            "no_document_settings",
            "数据中心尚未设置收款单位、票据代码和查验地址，本窗口暂不能开具票据。请联系数据中心管理员设置，联网同步后即可开具。",
        ))
    })
}

/// A row with no project (a counter's key, the settings) as its entity.
fn system_row<T: serde::de::DeserializeOwned>(conn: &Connection, entity: EntityKind, key: &str) -> Result<Option<T>, ReplicaError> {
    let payload: Option<String> = conn
        .query_row("SELECT payload FROM rows WHERE entity = ?1 AND key = ?2", params![entity.as_str(), key], |r| r.get(0))
        .optional()?;
    payload
        .map(|p| serde_json::from_str(&p).map_err(|source| ReplicaError::Payload { entity: entity.as_str(), key: key.to_owned(), source }))
        .transpose()
}

fn seen_records(conn: &Connection, project_code: &str, clock_today: time::Date) -> Result<ProjectRecords, ReplicaError> {
    let meta = read_meta(conn)?;
    let cursor = meta.cursor.ok_or(ReplicaError::NotBootstrapped)?;
    let mut records = load_records(conn, project_code)?;
    overlay(conn, &mut records, project_code, cursor, meta.view_date.unwrap_or(clock_today))?;
    Ok(records)
}

fn keep_file(conn: &Connection, number: &str, command_id: &CommandId, pdf: &[u8]) -> Result<(), ReplicaError> {
    conn.execute(
        "INSERT INTO document_files (pdf_sm3, number, command_id, bytes, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (pdf_sm3) DO NOTHING",
        params![hex::encode(Sm3::digest(pdf)), number, command_id.as_str(), pdf, format_time(OffsetDateTime::now_utc())],
    )?;
    Ok(())
}
