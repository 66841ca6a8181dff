//! The document rules: what a voucher or invoice states must be what the project's records
//! bear out. The counter checks them against its replica before it prints; the hub checks
//! them against its own records before a number is spent online, and again when an issued
//! document reaches it, so a document with a wrong amount, payer or line is never taken
//! for genuine.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::document::{Document, LineItem, assessed_lines};
use crate::money::{Fen, format_yuan};
use crate::uscc::Uscc;
use crate::records::ProjectRecords;
use crate::status::FeeStatus;

/// One rule a document breaks, with what it states and what the records say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum FailedCheck {
    /// No record of the project at all.
    UnknownProject,
    /// 复核 was not recorded.
    NotChecked,
    /// The project is not 已完费.
    NotCleared { status: FeeStatus },
    /// 交款人 is not the project's builder.
    Payer { stated: String, recorded: String },
    PayerUscc { stated: Uscc, recorded: Uscc },
    /// A fee's amount differs from its assessment (net of exemption).
    Amount { item_name: String, stated_fen: Fen, assessed_fen: Fen },
    /// A line for a fee the project was not assessed.
    ExtraLine { item_name: String, stated_fen: Fen },
    /// An assessed fee the document leaves out.
    MissingLine { item_name: String, assessed_fen: Fen },
    /// The total is not the sum of the lines.
    Total { stated_fen: Fen, lines_fen: Fen },
}

impl fmt::Display for FailedCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailedCheck::UnknownProject => write!(f, "没有该项目的资料"),
            FailedCheck::NotChecked => write!(f, "项目尚未复核"),
            FailedCheck::NotCleared { status } => write!(f, "项目为「{}」，尚未完费", status.name_zh()),
            FailedCheck::Payer { stated, recorded } => write!(f, "交款人「{stated}」与登记的建设单位「{recorded}」不符"),
            FailedCheck::PayerUscc { stated, recorded } => {
                write!(f, "交款人统一社会信用代码 {stated} 与登记的 {recorded} 不符")
            }
            FailedCheck::Amount { item_name, stated_fen, assessed_fen } => write!(
                f,
                "{item_name}金额 {} 与核定应缴 {} 不符",
                format_yuan(*stated_fen),
                format_yuan(*assessed_fen)
            ),
            FailedCheck::ExtraLine { item_name, stated_fen } => {
                write!(f, "多出未核定的{item_name} {}", format_yuan(*stated_fen))
            }
            FailedCheck::MissingLine { item_name, assessed_fen } => {
                write!(f, "缺少已核定的{item_name} {}", format_yuan(*assessed_fen))
            }
            FailedCheck::Total { stated_fen, lines_fen } => write!(
                f,
                "合计 {} 与各项金额之和 {} 不符",
                format_yuan(*stated_fen),
                format_yuan(*lines_fen)
            ),
        }
    }
}

/// Every failed check joined for a person to read: `项目尚未复核；交款人…`.
pub fn describe(failed: &[FailedCheck]) -> String {
    failed.iter().map(ToString::to_string).collect::<Vec<_>>().join("；")
}

/// What `doc` states that `records` do not bear out on `today` (Asia/Shanghai); empty
/// when it may be issued. Every rule is checked, so the answer names all that is wrong.
pub fn check_document(doc: &Document, records: &ProjectRecords, today: Date) -> Vec<FailedCheck> {
    let Some(project) = &records.project else {
        return vec![FailedCheck::UnknownProject];
    };
    let mut failed = Vec::new();
    if records.final_check.is_none() {
        failed.push(FailedCheck::NotChecked);
    }
    let status = records.standing(today).status;
    if status != FeeStatus::Cleared {
        failed.push(FailedCheck::NotCleared { status });
    }
    if doc.payer != project.builder {
        failed.push(FailedCheck::Payer { stated: doc.payer.clone(), recorded: project.builder.clone() });
    }
    if doc.payer_uscc != project.uscc {
        failed.push(FailedCheck::PayerUscc { stated: doc.payer_uscc.clone(), recorded: project.uscc.clone() });
    }
    let assessed = assessed_lines(records);
    let find = |lines: &[LineItem], code: &str| lines.iter().find(|l| l.item_code == code).map(|l| l.amount_fen);
    for line in &doc.lines {
        match find(&assessed, &line.item_code) {
            Some(assessed_fen) if assessed_fen != line.amount_fen => failed.push(FailedCheck::Amount {
                item_name: line.item_name.clone(),
                stated_fen: line.amount_fen,
                assessed_fen,
            }),
            Some(_) => {}
            None => failed.push(FailedCheck::ExtraLine { item_name: line.item_name.clone(), stated_fen: line.amount_fen }),
        }
    }
    for line in &assessed {
        if find(&doc.lines, &line.item_code).is_none() {
            failed.push(FailedCheck::MissingLine { item_name: line.item_name.clone(), assessed_fen: line.amount_fen });
        }
    }
    if doc.lines_total() != doc.total_fen {
        failed.push(FailedCheck::Total { stated_fen: doc.total_fen, lines_fen: doc.lines_total() });
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{DocumentKind, DocumentNumber, IssueContext, IssuingUnit};
    use crate::records::tests::cleared_and_checked;
    use time::macros::{date, datetime};

    const TODAY: Date = date!(2026 - 11 - 24);

    fn document(records: &ProjectRecords) -> Document {
        let unit = IssuingUnit::example();
        let ctx = IssueContext { unit: &unit, issuer: "王芳", device_id: &"counter-03".parse().unwrap(), at: datetime!(2026-11-24 02:30 UTC) };
        Document::for_project(records, DocumentNumber { kind: DocumentKind::Voucher, serial: 7 }, &ctx).unwrap()
    }

    #[test]
    fn a_document_made_from_the_records_passes_every_check() {
        let records = cleared_and_checked();
        assert_eq!(check_document(&document(&records), &records, TODAY), []);
    }

    #[test]
    fn each_statement_the_records_do_not_bear_out_is_named() {
        let records = cleared_and_checked();
        let good = document(&records);

        let mut unchecked = records.clone();
        unchecked.final_check = None;
        assert_eq!(check_document(&good, &unchecked, TODAY), [FailedCheck::NotChecked]);

        let mut changed = good.clone();
        changed.lines[0].amount_fen += 100;
        changed.total_fen += 100;
        let failed = check_document(&changed, &records, TODAY);
        assert!(matches!(&failed[..], [FailedCheck::Amount { stated_fen, assessed_fen, .. }] if stated_fen - assessed_fen == 100), "{failed:?}");
        assert!(describe(&failed).contains("与核定应缴"), "{}", describe(&failed));

        let mut payer = good.clone();
        payer.payer = "南京另一置业有限公司".into();
        payer.payer_uscc = "91350200776049653A".parse().unwrap();
        let failed = check_document(&payer, &records, TODAY);
        assert!(matches!(&failed[..], [FailedCheck::Payer { .. }, FailedCheck::PayerUscc { .. }]), "{failed:?}");

        let mut extra = good.clone();
        extra.lines.push(LineItem { item_code: "103099".into(), item_name: "其他费用".into(), basis: String::new(), amount_fen: 500 });
        extra.total_fen += 500;
        assert_eq!(check_document(&extra, &records, TODAY), [FailedCheck::ExtraLine { item_name: "其他费用".into(), stated_fen: 500 }]);

        let mut missing = good.clone();
        let dropped = missing.lines.remove(0);
        missing.total_fen -= dropped.amount_fen;
        assert!(matches!(&check_document(&missing, &records, TODAY)[..], [FailedCheck::MissingLine { .. }]));

        let mut total = good.clone();
        total.total_fen += 1;
        assert!(matches!(&check_document(&total, &records, TODAY)[..], [FailedCheck::Total { .. }]));
    }

    #[test]
    fn a_failed_check_travels_tagged_with_what_it_is() {
        let check = FailedCheck::NotCleared { status: FeeStatus::PartlyPaid };
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(json, serde_json::json!({"check": "not_cleared", "status": "partly_paid"}));
        assert_eq!(serde_json::from_value::<FailedCheck>(json).unwrap(), check);
        assert_eq!(check.to_string(), "项目为「部分到账」，尚未完费");
    }
}
