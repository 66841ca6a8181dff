//! What a voucher or invoice says, and the canonical form its signature covers.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};
use time::OffsetDateTime;

use crate::code::ProjectCode;
use crate::command::Rejection;
use crate::id::{CommandId, DeviceId};
use crate::uscc::Uscc;
use crate::entity::{FeeAssessment, FeeKind, FinalCheck};
use crate::money::Fen;
use crate::records::ProjectRecords;

/// The two documents the window issues for a cleared project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 缴费凭证: the window's receipt for the fees paid.
    Voucher,
    /// 非税收入票据: the fiscal non-tax revenue invoice.
    Invoice,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 2] = [DocumentKind::Voucher, DocumentKind::Invoice];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Voucher => "voucher",
            DocumentKind::Invoice => "invoice",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn title_zh(self) -> &'static str {
        match self {
            DocumentKind::Voucher => "建设工程规费缴费凭证",
            DocumentKind::Invoice => "非税收入统一票据",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            DocumentKind::Voucher => "缴费凭证",
            DocumentKind::Invoice => "非税收入票据",
        }
    }

    /// The letters before the serial in a document number.
    fn prefix(self) -> &'static str {
        match self {
            DocumentKind::Voucher => "PZ",
            DocumentKind::Invoice => "PJ",
        }
    }
}

/// A document number: the kind and a serial the hub handed out in a segment (号段).
/// Serials of one kind are unique across all counters and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DocumentNumber {
    pub kind: DocumentKind,
    pub serial: u64,
}

/// Serials are printed as ten digits, as the fiscal invoice's 票据号码 is.
pub const SERIAL_DIGITS: usize = 10;

impl DocumentNumber {
    /// `PZ0000001234`.
    pub fn display(&self) -> String {
        format!("{}{:0width$}", self.kind.prefix(), self.serial, width = SERIAL_DIGITS)
    }

    /// Reads [`DocumentNumber::display`] back.
    pub fn parse(text: &str) -> Option<DocumentNumber> {
        let text = text.trim();
        let kind = DocumentKind::ALL.into_iter().find(|k| text.starts_with(k.prefix()))?;
        let digits = &text[kind.prefix().len()..];
        if digits.len() != SERIAL_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(DocumentNumber { kind, serial: digits.parse().ok()? })
    }
}

/// 收款单位: the unit that collects the fees and seals the documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct IssuingUnit {
    /// Printed as 收款单位 and around the seal.
    pub name: String,
    /// 票据代码 of the unit's invoices (8 digits).
    pub invoice_code: String,
}

impl IssuingUnit {
    /// A made-up unit for specimens and tests. A real counter prints the unit the hub
    /// distributes (its document settings) and issues nothing until they are set.
    pub fn example() -> IssuingUnit {
        IssuingUnit {
            name: "南京市建设工程收费综合窗口".into(),
            invoice_code: "32010126".into(),
        }
    }
}

/// What every document a counter prints names and links to, as the data centre sets it
/// and hands it to the counters; a counter issues nothing until it has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct DocumentSettings {
    pub unit: IssuingUnit,
    /// The public verification page printed in every QR (`https://…/verify`): an address a
    /// phone outside the counters' network reaches.
    pub verify_url: String,
    /// The kinds a clerk may issue for a project they recorded the 复核 of. Empty by
    /// default: four eyes on every kind, the 复核 by one clerk, the issue by another.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    #[cfg_attr(feature = "specta", specta(type = Vec<DocumentKind>))]
    pub single_clerk_kinds: BTreeSet<DocumentKind>,
}

/// The key of the one `document_settings` row.
pub const DOCUMENT_SETTINGS_KEY: &str = "active";

/// Longest 收款单位 name that fits the document's header and seal.
const MAX_UNIT_CHARS: usize = 40;

impl DocumentSettings {
    /// Trimmed and checked; the error names the setting and what is wrong with it.
    pub fn new(unit_name: &str, invoice_code: &str, verify_url: &str) -> Result<DocumentSettings, Rejection> {
        let (name, code, url) = (unit_name.trim(), invoice_code.trim(), verify_url.trim());
        if name.is_empty() || name.chars().count() > MAX_UNIT_CHARS || name.chars().any(char::is_control) {
            return Err(Rejection::new(
                "invalid_settings",
                format!("收款单位名称（unit_name）应为 1–{MAX_UNIT_CHARS} 个字符的一行文字"),
            ));
        }
        if code.len() != 8 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Rejection::new("invalid_settings", format!("票据代码（invoice_code）应为 8 位数字，收到 {code:?}")));
        }
        let parsed = url::Url::parse(url).ok().filter(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) && u.query().is_none() && u.fragment().is_none()
        });
        if parsed.is_none() || url.contains(' ') {
            return Err(Rejection::new(
                "invalid_settings",
                format!("查验地址（verify_url）应为 http:// 或 https:// 开头、不带参数的网址，如 https://yizhan.example.gov.cn/verify，收到 {url:?}"),
            ));
        }
        Ok(DocumentSettings {
            unit: IssuingUnit { name: name.to_owned(), invoice_code: code.to_owned() },
            verify_url: url.trim_end_matches('/').to_owned(),
            single_clerk_kinds: BTreeSet::new(),
        })
    }

    /// Whether a phone that scans the QR can reach the verify address: not when it names
    /// this machine (`127.0.0.1`, `localhost`), as a development setup does.
    pub fn reachable_by_phones(&self) -> bool {
        match url::Url::parse(&self.verify_url).ok().and_then(|u| u.host().map(|h| h.to_owned())) {
            Some(url::Host::Domain(name)) => name != "localhost",
            Some(url::Host::Ipv4(ip)) => !ip.is_loopback() && !ip.is_unspecified(),
            Some(url::Host::Ipv6(ip)) => !ip.is_loopback() && !ip.is_unspecified(),
            None => false,
        }
    }
}

/// Four eyes: `clerk` may not issue a document of `kind` for a project whose 复核 they
/// recorded, unless the data centre let one clerk do both for the kind (`single_clerk`, from
/// [`DocumentSettings::single_clerk_kinds`]; on for every kind until settings say so).
/// Checked at the counter before anything is printed, and again at the hub.
pub fn four_eyes(single_clerk: &BTreeSet<DocumentKind>, kind: DocumentKind, final_check: Option<&FinalCheck>, clerk: &str) -> Result<(), Rejection> {
    match final_check {
        Some(check) if check.checked_by == clerk && !single_clerk.contains(&kind) => Err(Rejection::new(
            "four_eyes",
            format!("{clerk} 已复核本项目，不能再开具它的{}（复核与开具须由两人办理）。请由另一位窗口人员开具。", kind.name_zh()),
        )),
        _ => Ok(()),
    }
}

/// One fee on the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LineItem {
    /// 项目编码 of the non-tax revenue item, e.g. `103040`.
    pub item_code: String,
    /// 项目名称, e.g. 城市基础设施配套费.
    pub item_name: String,
    /// 计费依据/标准 as assessed, e.g. `住宅 12,000.00 m² × ¥210.00/m²`.
    pub basis: String,
    pub amount_fen: Fen,
}

/// Everything a printed voucher or invoice states. The signature covers all of it
/// through [`Document::digest`]; the QR repeats the key fields so a reader can check
/// them against the paper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Document {
    pub number: DocumentNumber,
    pub unit: IssuingUnit,
    pub project_code: ProjectCode,
    pub project_name: String,
    /// 交款人: the builder.
    pub payer: String,
    pub payer_uscc: Uscc,
    pub lines: Vec<LineItem>,
    pub total_fen: Fen,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub issued_at: OffsetDateTime,
    /// 开票人/收款人: the clerk who issued it.
    pub issuer: String,
    /// 复核人: the clerk who did the final check.
    pub checker: String,
    pub planning_permit_nos: Vec<String>,
    /// Empty until the construction permit is linked; the linkage is recorded beside the
    /// document, not by changing what was signed.
    #[serde(default)]
    pub construction_permit_no: String,
    /// The counter that issued it; its key signed it.
    pub device_id: DeviceId,
}

impl Document {
    /// 校验码 of an invoice: six digits derived from the digest, so a typo in the code
    /// or the number is caught by whoever looks it up.
    pub fn check_code(&self) -> String {
        let d = self.digest();
        let n = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % 1_000_000;
        format!("{n:06}")
    }

    /// SM3 of the canonical JSON of every field: serde writes the fields in declaration
    /// order, the same on every platform, with no whitespace.
    pub fn digest(&self) -> [u8; 32] {
        let canonical = serde_json::to_vec(self).expect("a document serialises: plain fields, string keys");
        Sm3::digest(&canonical).into()
    }

    /// 样张: a voucher with the window's two usual fees, for checking a printer's
    /// alignment and as the suites' example.
    pub fn specimen() -> Document {
        Document {
            number: DocumentNumber { kind: DocumentKind::Voucher, serial: 1234 },
            unit: IssuingUnit::example(),
            project_code: "2019-320105-47-01-123456".parse().expect("the specimen's code has the documented shape"),
            project_name: "演示花园一期".into(),
            payer: "南京演示置业有限公司".into(),
            payer_uscc: "91320105MA1W8XQ258".parse().expect("the specimen's USCC has the documented shape"),
            lines: vec![
                LineItem {
                    item_code: "103040".into(),
                    item_name: "城市基础设施配套费".into(),
                    basis: "住宅 12,000.00 m² × ¥210.00/m²".into(),
                    amount_fen: 252_000_000,
                },
                LineItem {
                    item_code: "103041".into(),
                    item_name: "防空地下室易地建设费".into(),
                    basis: "应建面积 300.00 m² × ¥1,800.00/m²".into(),
                    amount_fen: 54_000_000,
                },
            ],
            total_fen: 306_000_000,
            issued_at: time::macros::datetime!(2026-11-24 02:30:05 UTC),
            issuer: "王芳".into(),
            checker: "李强".into(),
            planning_permit_nos: vec!["建字第320105202600001号".into()],
            construction_permit_no: String::new(),
            device_id: "counter-03".parse().expect("a short printable id"),
        }
    }

    /// The sum of the lines; a document whose total disagrees is refused before signing.
    pub fn lines_total(&self) -> Fen {
        self.lines.iter().map(|l| l.amount_fen).sum()
    }
}

/// Who issues a document, where and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueContext<'a> {
    pub unit: &'a IssuingUnit,
    pub issuer: &'a str,
    pub device_id: &'a DeviceId,
    pub at: OffsetDateTime,
}

/// The catalogue code of each fee in the non-tax revenue item list (非税收入项目编码).
pub fn item_code(kind: FeeKind) -> &'static str {
    match kind {
        FeeKind::Infra => "103040",
        FeeKind::CivilDefence => "103041",
    }
}

impl Document {
    /// The document for a project as its records stand: one line per assessed fee (an
    /// exempt fee at its net amount with the exemption's basis), the 复核人 of its final
    /// check, its planning permits and any linked construction permit.
    pub fn for_project(
        records: &ProjectRecords,
        number: DocumentNumber,
        ctx: &IssueContext<'_>,
    ) -> Result<Document, Rejection> {
        let Some(project) = &records.project else {
            return Err(Rejection::new("unknown_project", "没有该项目的资料，不能开具票据。"));
        };
        let Some(check) = &records.final_check else {
            return Err(Rejection::new("not_checked", "该项目尚未复核，请先完成复核再开具票据。"));
        };
        let lines = assessed_lines(records);
        if lines.is_empty() {
            return Err(Rejection::new("no_fees", "该项目没有核定的费用，无需开具票据。"));
        }
        let mut planning_permit_nos: Vec<String> = records.approvals.iter().map(|a| a.planning_permit_no.clone()).collect();
        planning_permit_nos.sort();
        Ok(Document {
            number,
            unit: ctx.unit.clone(),
            project_code: project.project_code.clone(),
            project_name: project.name.clone(),
            payer: project.builder.clone(),
            payer_uscc: project.uscc.clone(),
            total_fen: lines.iter().map(|l| l.amount_fen).sum(),
            lines,
            issued_at: ctx.at,
            issuer: ctx.issuer.to_owned(),
            checker: check.checked_by.clone(),
            planning_permit_nos,
            construction_permit_no: records.permit_link.as_ref().map(|l| l.construction_permit_no.clone()).unwrap_or_default(),
            device_id: ctx.device_id.clone(),
        })
    }
}

/// One line per assessed fee, in fee order: an exempt fee at its net amount with the
/// exemption's basis.
pub(crate) fn assessed_lines(records: &ProjectRecords) -> Vec<LineItem> {
    let mut assessments: Vec<&FeeAssessment> = records.assessments.iter().collect();
    assessments.sort_by_key(|a| a.fee_kind);
    assessments
        .into_iter()
        .map(|a| LineItem {
            item_code: item_code(a.fee_kind).to_owned(),
            item_name: a.fee_kind.name_zh().to_owned(),
            basis: match &a.exemption {
                Some(e) => format!("{}；减免 {}（{}）", a.basis, crate::money::format_yuan(e.amount_fen), e.basis),
                None => a.basis.clone(),
            },
            amount_fen: a.net_fen(),
        })
        .collect()
}

/// Where an issued document stands at the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DocumentState {
    Issued,
    /// Issued at a counter for a project the hub did not find cleared: on record (its
    /// number is spent) but to be sorted out by a supervisor.
    Conflict,
    /// 作废.
    Voided,
}

impl DocumentState {
    pub fn name_zh(self) -> &'static str {
        match self {
            DocumentState::Issued => "已开具",
            DocumentState::Conflict => "冲突待处理",
            DocumentState::Voided => "已作废",
        }
    }
}

/// 作废: who voided a document, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Voiding {
    pub reason: String,
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub at: OffsetDateTime,
    pub command_id: CommandId,
}

/// 补打: one reprint, with the SM3 of the PDF it produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Reprint {
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub at: OffsetDateTime,
    pub pdf_sm3: String,
    pub command_id: CommandId,
}

/// 号段: serials `first..=last` of `kind`, for one counter only, never handed out again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Segment {
    pub kind: DocumentKind,
    pub first: u64,
    pub last: u64,
}

/// An issued document as the change log carries it. Key: the number (`PZ0000001234`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct IssuedDocument {
    pub document: Document,
    /// The counter's SM2 signature of the QR payload, base64url.
    pub signature: String,
    /// SM3 of the PDF as first issued, hex; the file itself is kept beside the log.
    pub pdf_sm3: String,
    pub state: DocumentState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<String>,
    /// The document rules it broke when the hub checked it (`Conflict` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_checks: Vec<crate::document_rules::FailedCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voiding: Option<Voiding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reprints: Vec<Reprint>,
    pub command_id: CommandId,
}

impl IssuedDocument {
    pub fn key(&self) -> String {
        self.document.number.display()
    }
}

/// 关联施工许可: the construction permit issued on the strength of the cleared fees.
/// Key: the project code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct PermitLink {
    pub project_code: ProjectCode,
    pub construction_permit_no: String,
    pub linked_by: String,
    pub device_id: DeviceId,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub linked_at: OffsetDateTime,
    pub command_id: CommandId,
}

/// A counter's registered public key, replicated so every counter can verify every
/// other counter's documents offline. Key: the device id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct CounterKeyRecord {
    pub device_id: DeviceId,
    /// SM2 public key, uncompressed SEC1 in hex.
    pub public_key: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub registered_at: OffsetDateTime,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;


    #[test]
    fn document_settings_are_checked_naming_the_setting() {
        let ok = DocumentSettings::new(" 南京市建设工程收费综合窗口 ", "32010126", "https://yz.example.gov.cn/verify/").unwrap();
        assert_eq!((ok.unit.name.as_str(), ok.verify_url.as_str()), ("南京市建设工程收费综合窗口", "https://yz.example.gov.cn/verify"));
        assert!(ok.reachable_by_phones());
        for (name, code, url, names) in [
            ("", "32010126", "https://a/verify", "unit_name"),
            ("窗口\n二", "32010126", "https://a/verify", "unit_name"),
            ("窗口", "3201012", "https://a/verify", "invoice_code"),
            ("窗口", "3201012X", "https://a/verify", "invoice_code"),
            ("窗口", "32010126", "ftp://a/verify", "verify_url"),
            ("窗口", "32010126", "https://a/verify?k=1", "verify_url"),
            ("窗口", "32010126", "http://", "verify_url"),
            ("窗口", "32010126", "https://yz.example.gov.cn/verify#x", "verify_url"),
        ] {
            let refused = DocumentSettings::new(name, code, url).unwrap_err();
            assert!(refused.reason.contains(names), "{name:?} {code:?} {url:?}: {}", refused.reason);
        }
        for local in ["http://127.0.0.1:8640/verify", "http://localhost/verify", "http://[::1]:8640/verify"] {
            assert!(!DocumentSettings::new("窗口", "32010126", local).unwrap().reachable_by_phones(), "{local}");
        }
    }

    #[test]
    fn numbers_print_with_their_kind_and_ten_digits_and_read_back() {
        let n = DocumentNumber { kind: DocumentKind::Invoice, serial: 42 };
        assert_eq!(n.display(), "PJ0000000042");
        assert_eq!(DocumentNumber::parse(" PJ0000000042 "), Some(n));
        for bad in ["PJ42", "XX0000000042", "PJ00000000420", "PJ000000004x", ""] {
            assert_eq!(DocumentNumber::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_field_changes_the_digest() {
        let base = Document::specimen();
        let d = base.digest();
        let mut changed = base.clone();
        changed.lines[1].amount_fen += 1;
        assert_ne!(changed.digest(), d, "an amount");
        let mut changed = base.clone();
        changed.payer_uscc = "91320105MA1W8XQ25L".parse().unwrap();
        assert_ne!(changed.digest(), d, "the payer's USCC");
        let mut changed = base.clone();
        changed.checker = "李 强".into();
        assert_ne!(changed.digest(), d, "the checker");
        assert_eq!(base.clone().digest(), d, "the same fields, the same digest");
        assert_eq!(base.lines_total(), base.total_fen);
        assert_eq!(base.check_code().len(), 6);
    }
}
