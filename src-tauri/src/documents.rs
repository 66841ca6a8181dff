//! Documents at the counter: issue, void, reprint, link the construction permit, preview,
//! print and verify. The work is in `yizhan-voucher` (paper, signatures) and
//! `yizhan-sync` (numbers, outbox, files); these commands only join them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use tauri::State;
use tauri::ipc::Channel;
use yizhan_core::access::Permission;
use yizhan_core::command::ClerkAction;
use yizhan_core::document::{DocumentKind, IssueContext};
use yizhan_core::audit::AuditEvent;
use yizhan_sync::replica::{CounterAudit, Issued, OutboxEntry, SerialsLeft};
use yizhan_voucher::issue::{print_again, print_new};
use yizhan_voucher::preview::preview_png;
use yizhan_voucher::print::{Printer, print_pdf, printers};
use yizhan_voucher::qr::QrPayload;
use yizhan_voucher::signature::PublicKey;
use yizhan_voucher::verify::{Checked, Recorded};

use crate::error::{CommandError, ErrorCode};
use crate::Counter;
use crate::session::Session;
use crate::projects::{issue, typed_code};

/// 开具: the next number of `kind` from this counter's segment, laid out, signed and
/// kept with its PDF, queued for the hub.
#[tauri::command]
#[specta::specta]
pub async fn issue_document(
    counter: State<'_, Counter>,
    session: State<'_, Session>,
    project_code: String,
    kind: DocumentKind,
) -> Result<OutboxEntry, CommandError> {
    let issuer = counter.issuer(&session.acting(&[Permission::DocumentIssue])?)?;
    let key = counter.signing_key()?.clone();
    let clerk = issuer.clerk().to_owned();
    counter
        .outbox()
        .issue_document(&typed_code(&project_code)?, kind, &issuer, move |to_issue| {
            let device_id = to_issue.device_id.clone();
            let ctx = IssueContext { unit: &to_issue.settings.unit, issuer: &clerk, device_id: &device_id, at: to_issue.at };
            let printed = print_new(to_issue.records, to_issue.number, &ctx, &key, &to_issue.settings.verify_url)?;
            Ok(Issued { action: printed.action, pdf: printed.pdf })
        })
        .await
        .map_err(CommandError::from)
}

/// 作废 with the reason.
#[tauri::command]
#[specta::specta]
pub async fn void_document(counter: State<'_, Counter>, session: State<'_, Session>, project_code: String, number: String, reason: String) -> Result<OutboxEntry, CommandError> {
    issue(&counter, &session, ClerkAction::VoidDocument { project_code: typed_code(&project_code)?, number: number.trim().to_owned(), reason }).await
}

/// 补打: the recorded document printed again with its original QR, marked as a reprint.
#[tauri::command]
#[specta::specta]
pub async fn reprint_document(
    counter: State<'_, Counter>,
    session: State<'_, Session>,
    project_code: String,
    number: String,
) -> Result<OutboxEntry, CommandError> {
    let issuer = counter.issuer(&session.acting(&[Permission::DocumentPrint])?)?;
    let verify_url = counter
        .read(|r| r.document_settings())?
        .map(|s| s.verify_url)
        .ok_or_else(|| {
            CommandError::new(
                ErrorCode::SigningUnavailable,
                "数据中心尚未设置查验地址，暂不能补打。请联系数据中心管理员设置，联网同步后即可补打。",
            )
        })?;
    counter
        .outbox()
        .reprint_document(&typed_code(&project_code)?, number.trim(), &issuer, move |doc| print_again(doc, &verify_url))
        .await
        .map_err(CommandError::from)
}

/// 关联施工许可.
#[tauri::command]
#[specta::specta]
pub async fn link_permit(counter: State<'_, Counter>, session: State<'_, Session>, project_code: String, construction_permit_no: String) -> Result<OutboxEntry, CommandError> {
    issue(&counter, &session, ClerkAction::LinkPermit { project_code: typed_code(&project_code)?, construction_permit_no }).await
}

/// Page 1 of the newest PDF of `number` kept here, as a PNG data URL `width` pixels wide.
#[tauri::command(async)]
#[specta::specta]
pub fn document_preview(counter: State<'_, Counter>, session: State<'_, Session>, number: String, width: u32) -> Result<String, CommandError> {
    let person = session.acting(&[Permission::ProjectRead])?;
    counter.record(&CounterAudit::new(person.account.as_str(), AuditEvent::DocumentViewed, number.trim()))?;
    let pdf = counter
        .read(|r| r.document_pdf(number.trim()))?
        .ok_or_else(|| {
            CommandError::new(
                ErrorCode::NotFound,
                format!("本机没有票据 {} 的 PDF（可能由其他窗口开具），请在开具窗口补打。", number.trim()),
            )
        })?;
    let png = preview_png(&pdf, width).map_err(CommandError::from)?;
    Ok(format!("data:image/png;base64,{}", STANDARD.encode(png)))
}

#[tauri::command(async)]
#[specta::specta]
pub fn list_printers() -> Result<Vec<Printer>, CommandError> {
    printers().map_err(CommandError::from)
}

/// One document of a print run done (or failed).
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct PrintProgress {
    pub done: usize,
    pub total: usize,
    pub number: String,
    /// Why this document did not print; the batch goes on.
    pub error: Option<String>,
}

/// Prints the newest PDF of each document to `printer`, in order, telling the caller after
/// each one on `progress`.
#[tauri::command(async)]
#[specta::specta]
pub fn print_documents(
    counter: State<'_, Counter>,
    session: State<'_, Session>,
    numbers: Vec<String>,
    printer: String,
    progress: Channel<PrintProgress>,
) -> Result<Vec<PrintProgress>, CommandError> {
    let person = session.acting(&[Permission::DocumentPrint])?;
    let total = numbers.len();
    let mut report = Vec::with_capacity(total);
    for (i, number) in numbers.into_iter().enumerate() {
        let number = number.trim().to_owned();
        let error = match counter.read(|r| r.document_pdf(&number)) {
            Ok(Some(pdf)) => print_pdf(&printer, &number, &pdf).err().map(|e| e.to_string()),
            Ok(None) => Some(format!("本机没有票据 {number} 的 PDF")),
            Err(e) => Some(e.message),
        };
        let printed = CounterAudit::new(person.account.as_str(), AuditEvent::DocumentPrinted, &number)
            .detail(serde_json::json!({ "printer": printer }));
        counter.record(&match &error {
            Some(e) => printed.failed(e),
            None => printed,
        })?;
        let done = PrintProgress { done: i + 1, total, number, error };
        if let Err(error) = progress.send(done.clone()) {
            tracing::warn!(%error, "print progress not delivered to the screen");
        }
        report.push(done);
    }
    Ok(report)
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct OfflineVerification {
    #[serde(flatten)]
    pub checked: Checked,
    pub payer: Option<String>,
}

/// Checks a scanned or pasted QR with the keys and documents this counter holds, so it
/// works without the network.
#[tauri::command(async)]
#[specta::specta]
pub fn verify_document(counter: State<'_, Counter>, session: State<'_, Session>, text: String) -> Result<OfflineVerification, CommandError> {
    let person = session.acting(&[Permission::ProjectRead])?;
    let payload = QrPayload::from_url(&text).map_err(|e| CommandError::invalid("text", e.to_string()))?;
    let number = payload.number.display();
    counter.record(
        &CounterAudit::new(person.account.as_str(), AuditEvent::DocumentViewed, &number).detail(serde_json::json!({ "via": "verify" })),
    )?;
    let (key, doc) = counter.read(|r| Ok((r.counter_key(&payload.device_id)?, r.document(&number)?)))?;
    let key = key.and_then(|k| PublicKey::from_hex(&k.public_key).ok());
    let checked = Checked::of(payload, key.as_ref(), doc.as_ref().map(Recorded::of).as_ref());
    Ok(OfflineVerification { checked, payer: doc.map(|d| d.document.payer) })
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SigningStatus {
    /// Documents can be issued here.
    pub ready: bool,
    pub problem: Option<String>,
    pub serials_left: Vec<SerialsLeft>,
}

#[tauri::command(async)]
#[specta::specta]
pub fn signing_status(counter: State<'_, Counter>) -> Result<SigningStatus, CommandError> {
    let serials_left = counter.read(|r| r.serials_left())?;
    let problem = match (counter.signing_key(), counter.read(|r| r.document_settings())?) {
        (Err(problem), _) => Some(problem.message),
        (Ok(_), None) => Some("数据中心尚未设置收款单位、票据代码和查验地址，暂不能开具票据。".to_owned()),
        (Ok(_), Some(_)) => None,
    };
    Ok(SigningStatus { ready: problem.is_none(), problem, serials_left })
}
