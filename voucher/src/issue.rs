//! Making the paper: a project's document laid out, signed with the counter's key and
//! printed to PDF, ready to be queued as the clerk's command — and the same document
//! printed again, marked 补打 (and 作废 once voided).

use sm3::{Digest, Sm3};
use yizhan_core::clock::shanghai_date;
use yizhan_core::command::{ClerkAction, Rejection};
use yizhan_core::document::{Document, DocumentNumber, IssueContext, IssuedDocument};
use yizhan_core::document_rules::{check_document, describe};
use yizhan_core::records::ProjectRecords;
use yizhan_core::status::FeeStatus;

use crate::pdf::{Marks, render};
use crate::qr::QrPayload;
use crate::signature::CounterKey;

/// A document ready to queue.
pub struct Printed {
    pub action: ClerkAction,
    pub pdf: Vec<u8>,
    /// The QR's text, for showing and checking.
    pub qr_url: String,
}

fn refused(code: &str, reason: String) -> Rejection {
    Rejection { code: code.into(), reason }
}

/// Lays out, signs and prints `number` for the project in `records`, which must be
/// cleared as this counter sees it (the hub checks again and records a conflict if not).
pub fn print_new(
    records: &ProjectRecords,
    number: DocumentNumber,
    ctx: &IssueContext<'_>,
    key: &CounterKey,
    verify_base: &str,
) -> Result<Printed, Rejection> {
    let status = records.standing(shanghai_date(ctx.at)).status;
    if status != FeeStatus::Cleared {
        return Err(refused(
            "not_cleared",
            format!("项目当前为「{}」，尚未完费，不能开具{}。", status.name_zh(), number.kind.name_zh()),
        ));
    }
    let document = Document::for_project(records, number, ctx)?;
    // The same rules the hub applies, here before any paper exists: what is printed is
    // what this counter's records bear out.
    let failed = check_document(&document, records, shanghai_date(ctx.at));
    if !failed.is_empty() {
        return Err(refused("document_check_failed", format!("票据与本机记录不符，未开具：{}。", describe(&failed))));
    }
    let payload = QrPayload::seal(&document, key).map_err(|e| refused("invalid_document", e.to_string()))?;
    let qr_url = payload.to_url(verify_base);
    let pdf = render(&document, &qr_url, &Marks::default()).map_err(|e| refused("print_failed", format!("票据排版失败：{e}")))?;
    Ok(Printed {
        action: ClerkAction::IssueDocument {
            project_code: document.project_code.clone(),
            pdf_sm3: hex::encode(Sm3::digest(&pdf)),
            signature: payload.signature_text(),
            document: Box::new(document),
        },
        pdf,
        qr_url,
    })
}

/// The document as recorded, printed again with its original QR and marked 补打 (and
/// 作废 with the reason when voided).
pub fn print_again(doc: &IssuedDocument, verify_base: &str) -> Result<Vec<u8>, Rejection> {
    let signature = QrPayload::parse_signature(&doc.signature)
        .ok_or_else(|| refused("invalid_document", format!("票据 {} 的签名记录已损坏，不能补打。", doc.key())))?;
    let qr_url = QrPayload::of(&doc.document, signature).to_url(verify_base);
    let marks = Marks { reprint: true, voided: doc.voiding.as_ref().map(|v| v.reason.clone()) };
    render(&doc.document, &qr_url, &marks).map_err(|e| refused("print_failed", format!("票据排版失败：{e}")))
}
