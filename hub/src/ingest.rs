//! From department records to state rows: each record type says how it is checked and
//! which rows it becomes. A batch is all-or-nothing: every record is checked first, and
//! either all are written in one transaction or none is and every problem is reported.

use serde::de::DeserializeOwned;
use time::Duration;
use yizhan_core::entity::{EntityKind, FeeAssessment, FeeKind, PlanningApproval, Project};
use yizhan_core::money::{Fen, format_yuan};
use yizhan_core::records::ProjectRecords;
use yizhan_core::tariff::Tariff;
use yizhan_sync::protocol::{
    CivilDefenceNotice, FieldError, IngestReport, PaymentRecord, PlanningRecord, TaxClearanceRecord,
};

use crate::store::RowWrite;
use crate::etl::validate::{self, Problems};

/// What assessing needs beyond the records themselves.
#[derive(Debug, Clone)]
pub struct AssessmentRules {
    pub tariff: Tariff,
    /// The infrastructure fee is due this many days after its approval.
    pub due_days: u32,
}

pub trait IngestRecord: DeserializeOwned + Send + Sync + 'static {
    /// The endpoint `POST /v1/ingest/{SOURCE}` and the origin `{channel}:{SOURCE}`.
    const SOURCE: &'static str;
    /// The field that identifies the record at its source: re-sending the same id with
    /// the same content is a no-op, with other content a correction.
    const ID_FIELD: &'static str;
    /// Whether the record refers to a project the hub must already hold.
    const REFERS_TO_PROJECT: bool;
    /// The kind of row a record deleted at its source takes away: its own, never more (a
    /// withdrawn planning approval leaves its project and assessment to the operators).
    const WITHDRAWN: EntityKind;

    /// The key of that row.
    fn withdrawn_key(source_id: &str, _project_code: &str) -> String {
        source_id.to_owned()
    }

    /// Problems only the project as the hub holds it reveals, such as a payment beyond
    /// what was assessed. `project` includes the records of the same delivery taken before.
    fn cross_check(&self, _project: &ProjectRecords, _problems: &mut Problems) {}

    /// Adds this record, taken, to what the rest of its delivery is checked against.
    fn taken_into(&self, _project: &mut ProjectRecords) {}

    fn source_id(&self) -> &str;
    fn project_code(&self) -> &str;
    /// The rows this record upserts, or every problem found in it.
    fn rows(&self, rules: &AssessmentRules) -> Result<Vec<RowWrite>, Problems>;
}

fn checked(
    problems: Problems,
    rows: impl FnOnce() -> Vec<RowWrite>,
) -> Result<Vec<RowWrite>, Problems> {
    if problems.is_empty() {
        Ok(rows())
    } else {
        Err(problems)
    }
}

impl IngestRecord for PlanningRecord {
    const SOURCE: &'static str = "planning";
    const ID_FIELD: &'static str = "planning_permit_no";
    const REFERS_TO_PROJECT: bool = false;
    const WITHDRAWN: EntityKind = EntityKind::PlanningApproval;

    fn source_id(&self) -> &str {
        &self.planning_permit_no
    }

    fn project_code(&self) -> &str {
        &self.project_code
    }

    /// The project, the approval and the infrastructure fee assessed from it.
    fn rows(&self, rules: &AssessmentRules) -> Result<Vec<RowWrite>, Problems> {
        let mut problems = Problems::default();
        let codes = validate::planning(self, &mut problems);
        let mut assessed = None;
        if !problems.has_field("residential_area") && !problems.has_field("non_residential_area") {
            match rules.tariff.infra_fee(
                self.residential_area,
                self.non_residential_area,
                self.approved_on,
            ) {
                Ok(fee) => assessed = Some(fee),
                Err(e) => problems.add("approved_on", e.to_string()),
            }
        }
        if let (Some(fee), Some(exemption)) = (&assessed, &self.infra_exemption)
            && exemption.amount_fen > fee.amount_fen
        {
            problems.add(
                "infra_exemption.amount_fen",
                format!(
                    "减免金额 {} 分超过核定的配套费 {} 分",
                    exemption.amount_fen, fee.amount_fen
                ),
            );
        }
        checked(problems, || {
            let fee = assessed.expect("assessed whenever there is no problem");
            let (code, uscc) = codes.expect("parsed whenever there is no problem");
            let project = Project {
                project_code: code.clone(),
                name: self.name.clone(),
                builder: self.builder.clone(),
                uscc,
                district_code: self.district_code.clone(),
                contact_phone: self.contact_phone.clone(),
            };
            let approval = PlanningApproval {
                planning_permit_no: self.planning_permit_no.clone(),
                project_code: code.clone(),
                approved_on: self.approved_on,
                residential_area: self.residential_area,
                non_residential_area: self.non_residential_area,
                civil_defence_area: self.civil_defence_area,
            };
            let assessment = FeeAssessment {
                project_code: code.clone(),
                fee_kind: FeeKind::Infra,
                amount_fen: fee.amount_fen,
                basis: fee.basis,
                assessed_on: self.approved_on,
                due_on: self.approved_on + Duration::days(rules.due_days.into()),
                exemption: self.infra_exemption.clone(),
            };
            let code = code.as_str();
            vec![
                RowWrite::upsert(EntityKind::Project, code.to_owned(), code, &project),
                RowWrite::upsert(
                    EntityKind::PlanningApproval,
                    self.planning_permit_no.clone(),
                    code,
                    &approval,
                ),
                RowWrite::upsert(
                    EntityKind::FeeAssessment,
                    FeeAssessment::key_for(code, FeeKind::Infra),
                    code,
                    &assessment,
                ),
            ]
        })
    }
}

impl IngestRecord for CivilDefenceNotice {
    const WITHDRAWN: EntityKind = EntityKind::FeeAssessment;

    fn withdrawn_key(_: &str, project_code: &str) -> String {
        FeeAssessment::key_for(project_code, FeeKind::CivilDefence)
    }

    const SOURCE: &'static str = "civil-defence";
    const ID_FIELD: &'static str = "notice_no";
    const REFERS_TO_PROJECT: bool = true;

    fn source_id(&self) -> &str {
        &self.notice_no
    }

    fn project_code(&self) -> &str {
        &self.project_code
    }

    /// The civil-defence fee assessment; the notice number is its basis.
    fn rows(&self, rules: &AssessmentRules) -> Result<Vec<RowWrite>, Problems> {
        let mut problems = Problems::default();
        let code = validate::civil_defence(self, &rules.tariff, &mut problems);
        checked(problems, || {
            let code = code.expect("parsed whenever there is no problem");
            let assessment = FeeAssessment {
                project_code: code.clone(),
                fee_kind: FeeKind::CivilDefence,
                amount_fen: self.amount_fen,
                basis: format!("人防征收联系单 {}", self.notice_no),
                assessed_on: self.issued_on,
                due_on: self.due_on,
                exemption: None,
            };
            let key = FeeAssessment::key_for(code.as_str(), FeeKind::CivilDefence);
            vec![RowWrite::upsert(
                EntityKind::FeeAssessment,
                key,
                code.as_str(),
                &assessment,
            )]
        })
    }
}

impl IngestRecord for PaymentRecord {
    const WITHDRAWN: EntityKind = EntityKind::Payment;

    /// Money for a fee never assessed, or beyond what is owed, is a mistake somewhere
    /// upstream (wrong project, wrong fee, a payment booked twice): held for a person.
    fn cross_check(&self, project: &ProjectRecords, problems: &mut Problems) {
        let Some(assessment) = project.assessments.iter().find(|a| a.fee_kind == self.fee_kind) else {
            problems.add(
                "fee_kind",
                format!("项目 {} 尚未核定{}，不能入账：请先送达核定（规划审批或人防征收联系单）", self.project_code, self.fee_kind.name_zh()),
            );
            return;
        };
        let paid_before: Fen = project
            .payments
            .iter()
            .filter(|p| p.fee_kind == self.fee_kind && p.payment_id != self.payment_id)
            .map(|p| p.amount_fen)
            .sum();
        let owed = assessment.net_fen();
        if paid_before + self.amount_fen > owed {
            problems.add(
                "amount_fen",
                format!(
                    "累计到账 {} 将超过核定应缴 {}（已到账 {}）：请核对是否重复入账或项目、费种有误",
                    format_yuan(paid_before + self.amount_fen),
                    format_yuan(owed),
                    format_yuan(paid_before)
                ),
            );
        }
    }

    fn taken_into(&self, project: &mut ProjectRecords) {
        project.payments.retain(|p| p.payment_id != self.payment_id);
        project.payments.push(self.clone());
    }
    const SOURCE: &'static str = "payments";
    const ID_FIELD: &'static str = "payment_id";
    const REFERS_TO_PROJECT: bool = true;

    fn source_id(&self) -> &str {
        &self.payment_id
    }

    fn project_code(&self) -> &str {
        self.project_code.as_str()
    }

    fn rows(&self, _: &AssessmentRules) -> Result<Vec<RowWrite>, Problems> {
        let mut problems = Problems::default();
        validate::payment(self, &mut problems);
        checked(problems, || {
            vec![RowWrite::upsert(
                EntityKind::Payment,
                self.payment_id.clone(),
                self.project_code.as_str(),
                self,
            )]
        })
    }
}

impl IngestRecord for TaxClearanceRecord {
    const WITHDRAWN: EntityKind = EntityKind::TaxClearance;
    const SOURCE: &'static str = "tax";
    const ID_FIELD: &'static str = "clearance_no";
    const REFERS_TO_PROJECT: bool = true;

    fn source_id(&self) -> &str {
        &self.clearance_no
    }

    fn project_code(&self) -> &str {
        self.project_code.as_str()
    }

    fn rows(&self, _: &AssessmentRules) -> Result<Vec<RowWrite>, Problems> {
        let mut problems = Problems::default();
        validate::tax_clearance(self, &mut problems);
        checked(problems, || {
            vec![RowWrite::upsert(
                EntityKind::TaxClearance,
                self.clearance_no.clone(),
                self.project_code.as_str(),
                self,
            )]
        })
    }
}

/// A batch whose records have been turned into rows, ready for one write.
pub(crate) struct Prepared {
    pub rows: Vec<RowWrite>,
    /// Rows per record, to count records (not rows) as changed or unchanged.
    pub rows_per_record: Vec<usize>,
}

/// Checks every record (those that could not even be read arrive as their errors) and
/// collects every problem, so one answer lists all that is wrong with the batch. The
/// rows are only to be written when the errors are empty.
pub(crate) fn prepare<R: IngestRecord>(
    records: &[Result<R, Vec<FieldError>>],
    rules: &AssessmentRules,
) -> (Prepared, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut prepared = Prepared {
        rows: Vec::new(),
        rows_per_record: Vec::with_capacity(records.len()),
    };
    for (index, record) in records.iter().enumerate() {
        match record {
            Err(unreadable) => errors.extend_from_slice(unreadable),
            Ok(record) => match record.rows(rules) {
                Ok(rows) => {
                    prepared.rows_per_record.push(rows.len());
                    prepared.rows.extend(rows);
                }
                Err(problems) => {
                    errors.extend(problems.into_field_errors(index, Some(record.source_id())))
                }
            },
        }
    }
    (prepared, errors)
}

/// The unknown-project problem of every record whose project the hub does not hold.
pub(crate) fn unknown_projects<R: IngestRecord>(
    records: &[Result<R, Vec<FieldError>>],
    is_known: impl Fn(&str) -> bool,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (index, record) in records.iter().enumerate() {
        if let Ok(record) = record
            && yizhan_core::code::check_project_code(record.project_code()).is_ok()
            && !is_known(record.project_code())
        {
            let mut problems = Problems::default();
            problems.add(
                "project_code",
                format!(
                    "数据中心没有项目 {}：请先推送该项目的规划审批（/v1/ingest/planning）",
                    record.project_code()
                ),
            );
            errors.extend(problems.into_field_errors(index, Some(record.source_id())));
        }
    }
    errors
}

/// Records changed: those with at least one row that was not identical to the stored one.
pub(crate) fn report(
    received: usize,
    rows_per_record: &[usize],
    seqs: &[Option<u64>],
    head: u64,
) -> IngestReport {
    let mut changed = 0;
    let mut offset = 0;
    for &n in rows_per_record {
        if seqs[offset..offset + n].iter().any(Option::is_some) {
            changed += 1;
        }
        offset += n;
    }
    IngestReport {
        received,
        changed,
        unchanged: received - changed,
        head,
    }
}
