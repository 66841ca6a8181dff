//! Clerk commands: what a clerk does at the window, and the rules that decide whether it
//! stands. The counter checks a command against its replica before queueing it (so the
//! clerk hears at once what is certainly wrong); the hub decides again against its own
//! state when the command arrives, which is the decision that counts.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::access::Permission;
use crate::alert::Alert;
use crate::code::ProjectCode;
use crate::id::{CommandId, DeviceId, check_id};
use crate::alert::handling::{AlertHandling, handle};
use crate::document::{Document, DocumentState, IssuedDocument, PermitLink, Reprint, Voiding};
use crate::document_rules::{check_document, describe};
use crate::entity::{EntityKind, FinalCheck, FollowUpNote, Tracking};
use crate::records::ProjectRecords;
use crate::status::FeeStatus;

/// Longest follow-up note, in characters: a note is a few sentences, not a document.
pub const MAX_NOTE_CHARS: usize = 500;
/// Longest remark on a final check, in characters.
pub const MAX_REMARK_CHARS: usize = 200;
/// Longest reason for voiding a document, in characters.
pub const MAX_VOID_REASON_CHARS: usize = 200;
/// Longest construction permit number, in characters.
pub const MAX_PERMIT_CHARS: usize = 40;

/// What the clerk did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClerkAction {
    /// 复核 of a cleared project.
    FinalCheck {
        project_code: ProjectCode,
        #[serde(default)]
        remark: String,
    },
    /// 跟进备注.
    FollowUpNote { project_code: ProjectCode, text: String },
    /// 项目跟踪 on or off.
    Tracking { project_code: ProjectCode, tracked: bool },
    /// An answer to an alert; `project_code` is the alert's, none for a system alert
    /// (an empty string on the wire).
    HandleAlert {
        alert_key: String,
        #[serde(default, with = "crate::code::empty_as_none")]
        #[cfg_attr(feature = "specta", specta(type = String))]
        project_code: Option<ProjectCode>,
        handling: AlertHandling,
    },
    /// 开具: a voucher or invoice the counter numbered, signed and printed.
    IssueDocument {
        project_code: ProjectCode,
        document: Box<Document>,
        /// SM2 signature of the QR payload, base64url.
        signature: String,
        /// SM3 of the PDF, hex; the file follows the command.
        pdf_sm3: String,
    },
    /// 作废 with the reason.
    VoidDocument { project_code: ProjectCode, number: String, reason: String },
    /// 补打: printed again, marked as a reprint.
    ReprintDocument { project_code: ProjectCode, number: String, pdf_sm3: String },
    /// 关联施工许可.
    LinkPermit { project_code: ProjectCode, construction_permit_no: String },
}

impl ClerkAction {
    /// The project the command is about; none for the handling of a system alert.
    pub fn project_code(&self) -> Option<&ProjectCode> {
        match self {
            ClerkAction::FinalCheck { project_code, .. }
            | ClerkAction::FollowUpNote { project_code, .. }
            | ClerkAction::Tracking { project_code, .. }
            | ClerkAction::IssueDocument { project_code, .. }
            | ClerkAction::VoidDocument { project_code, .. }
            | ClerkAction::ReprintDocument { project_code, .. }
            | ClerkAction::LinkPermit { project_code, .. } => Some(project_code),
            ClerkAction::HandleAlert { project_code, .. } => project_code.as_ref(),
        }
    }

    /// The project the rows it reads and writes are kept under: its code, or "" for the
    /// system rows (counter keys, settings, system alerts) of a system alert's handling.
    pub fn project_key(&self) -> &str {
        self.project_code().map_or("", ProjectCode::as_str)
    }

    /// What the clerk must be allowed to issue it: checked at the counter before it is
    /// queued, and again at the hub.
    pub fn permission(&self) -> Permission {
        match self {
            ClerkAction::FinalCheck { .. } => Permission::FinalCheckRecord,
            ClerkAction::FollowUpNote { .. } | ClerkAction::Tracking { .. } => Permission::ProjectRead,
            ClerkAction::HandleAlert { handling: AlertHandling::Assign { .. }, .. } => Permission::AlertAssign,
            ClerkAction::HandleAlert { handling: AlertHandling::Escalate { .. }, .. } => Permission::AlertEscalate,
            ClerkAction::HandleAlert { .. } => Permission::AlertHandle,
            ClerkAction::IssueDocument { .. } | ClerkAction::LinkPermit { .. } => Permission::DocumentIssue,
            ClerkAction::VoidDocument { .. } => Permission::DocumentVoid,
            ClerkAction::ReprintDocument { .. } => Permission::DocumentPrint,
        }
    }

    /// The wire name of the kind, as in the JSON's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            ClerkAction::FinalCheck { .. } => "final_check",
            ClerkAction::FollowUpNote { .. } => "follow_up_note",
            ClerkAction::Tracking { .. } => "tracking",
            ClerkAction::HandleAlert { .. } => "handle_alert",
            ClerkAction::IssueDocument { .. } => "issue_document",
            ClerkAction::VoidDocument { .. } => "void_document",
            ClerkAction::ReprintDocument { .. } => "reprint_document",
            ClerkAction::LinkPermit { .. } => "link_permit",
        }
    }
}

/// Who issued a command, from where and when (by the counter's clock), under which id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued<'a> {
    pub command_id: &'a CommandId,
    pub clerk: &'a str,
    pub device_id: &'a DeviceId,
    pub at: OffsetDateTime,
}

/// Why a command does not stand: a stable code for programs and a reason for the clerk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[error("{reason}")]
pub struct Rejection {
    pub code: String,
    pub reason: String,
}

impl Rejection {
    pub fn new(code: &str, reason: impl Into<String>) -> Rejection {
        Rejection {
            code: code.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The row a command writes when it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    FinalCheck(FinalCheck),
    FollowUpNote(FollowUpNote),
    Tracking(Tracking),
    Alert(Box<Alert>),
    Document(Box<IssuedDocument>),
    PermitLink(PermitLink),
}

impl Effect {
    pub fn entity(&self) -> EntityKind {
        match self {
            Effect::FinalCheck(_) => EntityKind::FinalCheck,
            Effect::FollowUpNote(_) => EntityKind::FollowUpNote,
            Effect::Tracking(_) => EntityKind::Tracking,
            Effect::Alert(_) => EntityKind::Alert,
            Effect::Document(_) => EntityKind::Document,
            Effect::PermitLink(_) => EntityKind::PermitLink,
        }
    }

    /// The row's key: one final check and one tracking flag per project, notes by command.
    pub fn key(&self) -> String {
        match self {
            Effect::FinalCheck(c) => c.project_code.to_string(),
            Effect::FollowUpNote(n) => n.note_id.clone(),
            Effect::Tracking(t) => t.project_code.to_string(),
            Effect::Alert(a) => a.key(),
            Effect::Document(d) => d.key(),
            Effect::PermitLink(l) => l.project_code.to_string(),
        }
    }

    /// The row's canonical JSON.
    pub fn payload(&self) -> String {
        let json = match self {
            Effect::FinalCheck(c) => serde_json::to_string(c),
            Effect::FollowUpNote(n) => serde_json::to_string(n),
            Effect::Tracking(t) => serde_json::to_string(t),
            Effect::Alert(a) => serde_json::to_string(a.as_ref()),
            Effect::Document(d) => serde_json::to_string(d.as_ref()),
            Effect::PermitLink(l) => serde_json::to_string(l),
        };
        json.expect("entities serialise to JSON: plain structs, string keys")
    }
}

/// Decides `action` against what is known of its project on `today`.
///
/// The rules (docs/api.md, "Clerk commands"):
/// - every command names a project the records hold, and a clerk of at most
///   [`crate::id::MAX_ID_CHARS`] characters;
/// - 复核 only of a project whose fees are 已完费 (all paid or exempt and the tax
///   clearance received), once per project; a second check by the same command is the
///   same check, by another command it is refused;
/// - a note is 1..=[`MAX_NOTE_CHARS`] characters of text, no control characters but line
///   breaks;
/// - tracking sets the flag to the value given, so a repeat or a race of two counters
///   ends at the value of the later command.
pub fn decide(
    action: &ClerkAction,
    issued: &Issued<'_>,
    records: &ProjectRecords,
    today: Date,
) -> Result<Effect, Rejection> {
    check_clerk(issued.clerk)?;
    let known_project = || {
        if records.project.is_none() {
            let code = action.project_code().map_or("", ProjectCode::as_str);
            return Err(Rejection::new(
                "unknown_project",
                format!("数据中心没有项目 {code}，请核对项目编号。"),
            ));
        }
        Ok(())
    };
    match action {
        ClerkAction::FinalCheck { project_code, remark } => {
            known_project()?;
            let remark = remark.trim();
            check_text("remark", "复核意见", remark, 0, MAX_REMARK_CHARS)?;
            if let Some(done) = &records.final_check
                && done.command_id != *issued.command_id
            {
                return Err(Rejection::new(
                    "already_checked",
                    format!(
                        "该项目已由 {} 复核（{}），无需重复复核。",
                        done.checked_by,
                        crate::clock::shanghai_minute(done.checked_at)
                    ),
                ));
            }
            let status = records.standing(today).status;
            if status != FeeStatus::Cleared {
                return Err(Rejection::new(
                    "not_cleared",
                    format!(
                        "项目当前为「{}」，尚未完费，不能复核。请待费用全部到账并收到完税反馈单后再复核。",
                        status.name_zh()
                    ),
                ));
            }
            Ok(Effect::FinalCheck(FinalCheck {
                project_code: project_code.clone(),
                checked_by: issued.clerk.to_owned(),
                device_id: issued.device_id.clone(),
                checked_at: issued.at,
                remark: remark.to_owned(),
                command_id: issued.command_id.clone(),
            }))
        }
        ClerkAction::FollowUpNote { project_code, text } => {
            known_project()?;
            let text = text.trim();
            check_text("text", "跟进备注", text, 1, MAX_NOTE_CHARS)?;
            Ok(Effect::FollowUpNote(FollowUpNote {
                note_id: issued.command_id.to_string(),
                project_code: project_code.clone(),
                text: text.to_owned(),
                written_by: issued.clerk.to_owned(),
                device_id: issued.device_id.clone(),
                written_at: issued.at,
            }))
        }
        ClerkAction::HandleAlert { alert_key, handling, .. } => {
            let Some(alert) = records.alerts.iter().find(|a| a.key() == *alert_key) else {
                return Err(Rejection::new(
                    "unknown_alert",
                    format!("数据中心没有预警 {alert_key}，可能已被清理，请刷新预警列表。"),
                ));
            };
            handle(alert, handling, issued.clerk, issued.at).map(|answered| Effect::Alert(Box::new(answered)))
        }
        ClerkAction::Tracking { project_code, tracked } => known_project().map(|()| Effect::Tracking(Tracking {
            project_code: project_code.clone(),
            tracked: *tracked,
            set_by: issued.clerk.to_owned(),
            device_id: issued.device_id.clone(),
            set_at: issued.at,
            command_id: issued.command_id.clone(),
        })),
        ClerkAction::IssueDocument { document, signature, pdf_sm3, .. } => {
            known_project()?;
            decide_issue(document, signature, pdf_sm3, issued, records, today)
        }
        ClerkAction::VoidDocument { number, reason, .. } => {
            let doc = recorded_document(records, number)?;
            let reason = reason.trim();
            check_text("reason", "作废原因", reason, 1, MAX_VOID_REASON_CHARS)?;
            match &doc.voiding {
                Some(v) if v.command_id == *issued.command_id => return Ok(Effect::Document(Box::new(doc.clone()))),
                Some(v) => {
                    return Err(Rejection::new(
                        "already_voided",
                        format!("票据 {number} 已于 {} 由 {} 作废（{}）。", crate::clock::shanghai_minute(v.at), v.by, v.reason),
                    ));
                }
                None => {}
            }
            let mut voided = doc.clone();
            voided.state = DocumentState::Voided;
            voided.voiding = Some(Voiding {
                reason: reason.to_owned(),
                by: issued.clerk.to_owned(),
                at: issued.at,
                command_id: issued.command_id.clone(),
            });
            Ok(Effect::Document(Box::new(voided)))
        }
        ClerkAction::ReprintDocument { number, pdf_sm3, .. } => {
            let doc = recorded_document(records, number)?;
            check_sm3(pdf_sm3)?;
            if doc.reprints.iter().any(|r| r.command_id == *issued.command_id) {
                return Ok(Effect::Document(Box::new(doc.clone())));
            }
            if doc.state == DocumentState::Voided {
                return Err(Rejection::new("voided", format!("票据 {number} 已作废，不能补打。如需票据请重新开具。")));
            }
            let mut reprinted = doc.clone();
            reprinted.reprints.push(Reprint {
                by: issued.clerk.to_owned(),
                at: issued.at,
                pdf_sm3: pdf_sm3.clone(),
                command_id: issued.command_id.clone(),
            });
            Ok(Effect::Document(Box::new(reprinted)))
        }
        ClerkAction::LinkPermit { project_code, construction_permit_no } => {
            known_project()?;
            let permit = construction_permit_no.trim();
            check_text("construction_permit_no", "施工许可证号", permit, 1, MAX_PERMIT_CHARS)?;
            if permit.contains('\n') {
                return Err(Rejection::new("invalid_command", "施工许可证号（construction_permit_no）应为一行，不能换行。"));
            }
            if !records.documents.iter().any(|d| d.state == DocumentState::Issued) {
                return Err(Rejection::new(
                    "not_issued",
                    "该项目还没有有效的缴费凭证或票据，请先开具再关联施工许可。",
                ));
            }
            Ok(Effect::PermitLink(PermitLink {
                project_code: project_code.clone(),
                construction_permit_no: permit.to_owned(),
                linked_by: issued.clerk.to_owned(),
                device_id: issued.device_id.clone(),
                linked_at: issued.at,
                command_id: issued.command_id.clone(),
            }))
        }
    }
}

/// A document issued at a counter is put on record whatever the hub finds: its number is
/// spent and its paper is in the payer's hands. When the hub does not find the project
/// cleared, the record says so (`Conflict`) for a supervisor to sort out.
fn decide_issue(
    document: &Document,
    signature: &str,
    pdf_sm3: &str,
    issued: &Issued<'_>,
    records: &ProjectRecords,
    today: Date,
) -> Result<Effect, Rejection> {
    let number = document.number.display();
    if let Some(done) = records.document(&number) {
        if done.command_id == *issued.command_id {
            return Ok(Effect::Document(Box::new(done.clone())));
        }
        return Err(Rejection::new("number_used", format!("票据号码 {number} 已被使用，不能重复开具。")));
    }
    if records.project.as_ref().is_none_or(|p| p.project_code != document.project_code) {
        return Err(Rejection::new("invalid_command", "票据上的项目编号与指令不一致。"));
    }
    if document.device_id != *issued.device_id {
        return Err(Rejection::new("invalid_command", "票据上的开具终端与发出指令的终端不一致。"));
    }
    if document.lines.is_empty() || document.total_fen < 0 {
        return Err(Rejection::new("invalid_command", "票据没有收费项目或合计为负数。"));
    }
    check_sm3(pdf_sm3)?;
    if signature.len() != 86 || !signature.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(Rejection::new("invalid_command", "票据签名（signature）应为 86 个 base64url 字符。"));
    }
    let failed_checks = check_document(document, records, today);
    let (state, conflict) = if failed_checks.is_empty() {
        (DocumentState::Issued, None)
    } else {
        (
            DocumentState::Conflict,
            Some(format!("数据中心核对未通过：{}。票据已登记为冲突，请主管核实处理。", describe(&failed_checks))),
        )
    };
    Ok(Effect::Document(Box::new(IssuedDocument {
        document: document.clone(),
        signature: signature.to_owned(),
        pdf_sm3: pdf_sm3.to_owned(),
        state,
        conflict,
        failed_checks,
        voiding: None,
        reprints: Vec::new(),
        command_id: issued.command_id.clone(),
    })))
}

fn recorded_document<'r>(records: &'r ProjectRecords, number: &str) -> Result<&'r IssuedDocument, Rejection> {
    records
        .document(number.trim())
        .ok_or_else(|| Rejection::new("unknown_document", format!("该项目没有号码为 {number} 的票据，请核对号码。")))
}

fn check_sm3(hex: &str) -> Result<(), Rejection> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Rejection::new("invalid_command", "PDF 摘要（pdf_sm3）应为 64 位十六进制数字。"));
    }
    Ok(())
}

/// The clerk is named by text, not yet by an account, but held to an id's rule.
fn check_clerk(clerk: &str) -> Result<(), Rejection> {
    check_id(clerk).map_err(|e| Rejection::new("invalid_command", format!("指令的 clerk {e}。")))
}

pub(crate) fn check_text(field: &str, name: &str, text: &str, min: usize, max: usize) -> Result<(), Rejection> {
    let chars = text.chars().count();
    if chars < min {
        return Err(Rejection::new("invalid_command", format!("{name}（{field}）不能为空。")));
    }
    if chars > max {
        return Err(Rejection::new(
            "invalid_command",
            format!("{name}（{field}）最多 {max} 个字，现有 {chars} 个字，请精简后再提交。"),
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Rejection::new(
            "invalid_command",
            format!("{name}（{field}）含有不可见的控制字符，请重新输入。"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::MAX_ID_CHARS;
    use crate::records::tests::{CODE, checked, example as project};
    use time::macros::{date, datetime};
    const TODAY: Date = date!(2026 - 11 - 24);

    fn issued(command_id: &str) -> Issued<'_> {
        Issued {
            command_id: Box::leak(Box::new(command_id.parse().unwrap())),
            clerk: "窗口03-王芳",
            device_id: Box::leak(Box::new("counter-03".parse().unwrap())),
            at: datetime!(2026-11-24 02:30 UTC),
        }
    }

    /// A project with an infrastructure fee of ¥10,000.00, `paid` of it received, and a tax
    /// clearance when `cleared_tax`.
    fn final_check(remark: &str) -> ClerkAction {
        ClerkAction::FinalCheck {
            project_code: CODE.parse().unwrap(),
            remark: remark.into(),
        }
    }

    fn note(text: &str) -> ClerkAction {
        ClerkAction::FollowUpNote {
            project_code: CODE.parse().unwrap(),
            text: text.into(),
        }
    }

    fn code_of(result: Result<Effect, Rejection>) -> String {
        match result {
            Ok(effect) => format!("ok:{}", effect.entity().as_str()),
            Err(r) => r.code,
        }
    }

    #[test]
    fn final_check_stands_only_on_a_cleared_project() {
        let cases = [
            (0, false, "not_cleared"),
            (400_000, false, "not_cleared"),
            (1_000_000, false, "not_cleared"),
            (400_000, true, "not_cleared"),
            (1_000_000, true, "ok:final_check"),
        ];
        for (paid, tax, expected) in cases {
            let got = code_of(decide(&final_check(""), &issued("c1"), &project(paid, tax), TODAY));
            assert_eq!(got, expected, "paid {paid}, tax clearance {tax}");
        }
        let refused = decide(&final_check(""), &issued("c1"), &project(400_000, true), TODAY).unwrap_err();
        assert!(refused.reason.contains("「部分到账」"), "{}", refused.reason);
    }

    #[test]
    fn a_project_is_checked_once_but_the_same_command_is_the_same_check() {
        let mut records = project(1_000_000, true);
        let Effect::FinalCheck(done) = decide(&final_check(" 资料齐全 "), &issued("c1"), &records, TODAY).unwrap()
        else {
            panic!("a final check")
        };
        assert_eq!(done.remark, "资料齐全");
        assert_eq!(done.checked_by, "窗口03-王芳");
        records.final_check = Some(done.clone());
        assert_eq!(
            decide(&final_check(" 资料齐全 "), &issued("c1"), &records, TODAY).unwrap(),
            Effect::FinalCheck(done)
        );
        let again = decide(&final_check(""), &issued("c2"), &records, TODAY).unwrap_err();
        assert_eq!(again.code, "already_checked");
        assert!(again.reason.contains("窗口03-王芳") && again.reason.contains("2026年11月24日 10:30"), "{}", again.reason);
    }

    #[test]
    fn every_command_needs_a_known_project_and_a_named_clerk() {
        let unknown = ProjectRecords::default();
        for action in [final_check(""), note("请补交材料"), ClerkAction::Tracking { project_code: CODE.parse().unwrap(), tracked: true }] {
            assert_eq!(code_of(decide(&action, &issued("c1"), &unknown, TODAY)), "unknown_project");
        }
        let records = project(0, false);
        let nobody = Issued { clerk: "", ..issued("c1") };
        let refused = decide(&note("x"), &nobody, &records, TODAY).unwrap_err();
        assert!(refused.reason.contains("clerk"), "{}", refused.reason);
        let long_clerk = "王".repeat(MAX_ID_CHARS + 1);
        let refused = decide(&note("x"), &Issued { clerk: &long_clerk, ..issued("c1") }, &records, TODAY).unwrap_err();
        assert!(refused.reason.contains("clerk"), "{}", refused.reason);
    }

    #[test]
    fn notes_are_trimmed_bounded_and_free_of_control_characters() {
        let records = project(0, false);
        let decide_note = |text: &str| decide(&note(text), &issued("n1"), &records, TODAY);
        let Effect::FollowUpNote(n) = decide_note("  已电话催缴，\n对方承诺月底前缴清。 ").unwrap() else {
            panic!("a note")
        };
        assert_eq!(n.text, "已电话催缴，\n对方承诺月底前缴清。");
        assert_eq!(n.note_id, "n1");
        assert!(decide_note(&"字".repeat(MAX_NOTE_CHARS)).is_ok());
        let too_long = decide_note(&"字".repeat(MAX_NOTE_CHARS + 1)).unwrap_err();
        assert!(too_long.reason.contains("最多 500 个字") && too_long.reason.contains("501"), "{}", too_long.reason);
        assert!(decide_note("   ").unwrap_err().reason.contains("不能为空"));
        assert!(decide_note("催缴\u{7}").unwrap_err().reason.contains("控制字符"));
        assert!(decide_note("催缴\u{202e}").is_ok(), "format characters are text, not control characters");
    }

    #[test]
    fn tracking_sets_the_given_value() {
        let records = project(0, false);
        for tracked in [true, false] {
            let action = ClerkAction::Tracking { project_code: CODE.parse().unwrap(), tracked };
            let Effect::Tracking(t) = decide(&action, &issued("t1"), &records, TODAY).unwrap() else {
                panic!("tracking")
            };
            assert_eq!(t.tracked, tracked);
        }
    }

    fn issue(records: &ProjectRecords, serial: u64) -> ClerkAction {
        use crate::document::{DocumentKind, DocumentNumber, IssueContext, IssuingUnit};
        let ctx = IssueContext { unit: &IssuingUnit::example(), issuer: "王芳", device_id: &"counter-03".parse().unwrap(), at: datetime!(2026-11-24 02:30 UTC) };
        let document = Document::for_project(records, DocumentNumber { kind: DocumentKind::Voucher, serial }, &ctx).unwrap();
        ClerkAction::IssueDocument {
            project_code: CODE.parse().unwrap(),
            document: Box::new(document),
            signature: "A".repeat(86),
            pdf_sm3: "ab".repeat(32),
        }
    }

    fn issued_document(result: Result<Effect, Rejection>) -> IssuedDocument {
        match result {
            Ok(Effect::Document(d)) => *d,
            other => panic!("a document: {other:?}"),
        }
    }

    #[test]
    fn a_document_for_a_project_the_hub_finds_not_cleared_is_recorded_as_a_conflict() {
        let cleared = checked(1_000_000, true);
        let doc = issued_document(decide(&issue(&cleared, 7), &issued("i1"), &cleared, TODAY));
        assert_eq!((doc.state, doc.conflict.as_deref()), (DocumentState::Issued, None));
        assert_eq!(doc.key(), "PZ0000000007");
        let unpaid = checked(400_000, true);
        let doc = issued_document(decide(&issue(&unpaid, 8), &issued("i2"), &unpaid, TODAY));
        assert_eq!(doc.state, DocumentState::Conflict);
        assert!(doc.conflict.unwrap().contains("部分到账"));
    }

    #[test]
    fn a_number_is_issued_once_and_a_resent_command_is_the_same_issue() {
        let mut records = checked(1_000_000, true);
        let first = issued_document(decide(&issue(&records, 7), &issued("i1"), &records, TODAY));
        records.documents.push(first.clone());
        assert_eq!(issued_document(decide(&issue(&records, 7), &issued("i1"), &records, TODAY)), first);
        let again = decide(&issue(&records, 7), &issued("i9"), &records, TODAY).unwrap_err();
        assert_eq!(again.code, "number_used");
        let mut lying = issue(&records, 8);
        if let ClerkAction::IssueDocument { document, .. } = &mut lying {
            document.total_fen += 1;
        }
        let kept = issued_document(decide(&lying, &issued("i3"), &records, TODAY));
        assert_eq!(kept.state, DocumentState::Conflict, "its paper is out: kept on record, never as genuine");
        assert!(kept.conflict.as_deref().unwrap().contains("合计"), "{:?}", kept.conflict);
        assert!(matches!(&kept.failed_checks[..], [crate::document_rules::FailedCheck::Total { .. }]));
        let other_counter = Issued { device_id: &"counter-09".parse().unwrap(), ..issued("i4") };
        assert!(decide(&issue(&records, 9), &other_counter, &records, TODAY).unwrap_err().reason.contains("终端"));
    }

    #[test]
    fn void_reprint_and_permit_follow_the_document() {
        let mut records = checked(1_000_000, true);
        let link = ClerkAction::LinkPermit { project_code: CODE.parse().unwrap(), construction_permit_no: " 320105202611240101 ".into() };
        assert_eq!(decide(&link, &issued("l0"), &records, TODAY).unwrap_err().code, "not_issued");
        records.documents.push(issued_document(decide(&issue(&records, 7), &issued("i1"), &records, TODAY)));
        let Effect::PermitLink(l) = decide(&link, &issued("l1"), &records, TODAY).unwrap() else { panic!("a link") };
        assert_eq!(l.construction_permit_no, "320105202611240101");
        let reprint = ClerkAction::ReprintDocument { project_code: CODE.parse().unwrap(), number: "PZ0000000007".into(), pdf_sm3: "cd".repeat(32) };
        let reprinted = issued_document(decide(&reprint, &issued("r1"), &records, TODAY));
        assert_eq!(reprinted.reprints.len(), 1);
        let void = |reason: &str| ClerkAction::VoidDocument { project_code: CODE.parse().unwrap(), number: "PZ0000000007".into(), reason: reason.into() };
        assert!(decide(&void("  "), &issued("v0"), &records, TODAY).unwrap_err().reason.contains("作废原因"));
        let voided = issued_document(decide(&void("金额开错"), &issued("v1"), &records, TODAY));
        assert_eq!((voided.state, voided.voiding.as_ref().unwrap().reason.as_str()), (DocumentState::Voided, "金额开错"));
        records.documents = vec![voided];
        assert_eq!(decide(&void("再次"), &issued("v2"), &records, TODAY).unwrap_err().code, "already_voided");
        assert_eq!(decide(&reprint, &issued("r2"), &records, TODAY).unwrap_err().code, "voided");
        assert_eq!(decide(&link, &issued("l2"), &records, TODAY).unwrap_err().code, "not_issued", "a voided document links nothing");
        let unknown = ClerkAction::VoidDocument { project_code: CODE.parse().unwrap(), number: "PZ0000000099".into(), reason: "x".into() };
        assert_eq!(decide(&unknown, &issued("v3"), &records, TODAY).unwrap_err().code, "unknown_document");
    }

    #[test]
    fn actions_travel_as_tagged_json() {
        let json = serde_json::to_value(final_check("ok")).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "final_check", "project_code": CODE, "remark": "ok"}));
        let back: ClerkAction = serde_json::from_value(serde_json::json!({"kind": "tracking", "project_code": CODE, "tracked": false})).unwrap();
        assert_eq!(back.kind(), "tracking");
        assert!(serde_json::from_value::<ClerkAction>(serde_json::json!({"kind": "delete_project", "project_code": CODE})).is_err());
    }
}
