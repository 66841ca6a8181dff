//! A planning approval as a [`PlanningRecord`], whichever route it came by: the legacy
//! daily export (CSV or XLSX) and the planning database's change stream each decode their
//! cells and hand them here, so the same source row gives the same record, or the same
//! named problems, by both routes, and one approval never becomes two.

use time::Date;
use yizhan_core::entity::{Area, Exemption};
use yizhan_core::money::{Fen, parse_yuan};
use yizhan_sync::protocol::PlanningRecord;

use super::clean::{NO_SUCH_DAY, clean_code, clean_dashed_code, clean_number, parse_date, trim};

/// The fields of a planning approval, which each route names its own way (a column of
/// `planning_approval`, a header of the export).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PlanningField {
    PermitNo,
    ProjectCode,
    Name,
    Builder,
    Uscc,
    District,
    Phone,
    ApprovedOn,
    Residential,
    NonResidential,
    CivilDefence,
    ExemptionAmount,
    ExemptionBasis,
}

impl PlanningField {
    pub(crate) const ALL: [PlanningField; 13] = [
        PlanningField::PermitNo,
        PlanningField::ProjectCode,
        PlanningField::Name,
        PlanningField::Builder,
        PlanningField::Uscc,
        PlanningField::District,
        PlanningField::Phone,
        PlanningField::ApprovedOn,
        PlanningField::Residential,
        PlanningField::NonResidential,
        PlanningField::CivilDefence,
        PlanningField::ExemptionAmount,
        PlanningField::ExemptionBasis,
    ];

    pub(crate) fn required(self) -> bool {
        !matches!(self, PlanningField::Phone | PlanningField::ExemptionAmount | PlanningField::ExemptionBasis)
    }

    /// A code: an identifier whose spaces and full-width characters are noise.
    pub(crate) fn is_code(self) -> bool {
        matches!(
            self,
            PlanningField::PermitNo | PlanningField::ProjectCode | PlanningField::Uscc | PlanningField::District | PlanningField::Phone
        )
    }
}

/// One field's value as its source holds it, decoded as far as the source can.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SourceValue {
    /// Nothing there: a blank cell, NULL.
    Blank,
    /// Text as the source shows it (a number cell as the digits it shows).
    Text(String),
    /// A date the source itself typed (a spreadsheet date cell), and how it showed it;
    /// `None` when it is no calendar day.
    Date { on: Option<Date>, shown: String },
    /// What the source holds cannot be this field's value: why, and what it showed.
    Unreadable { problem: String, shown: String },
}

/// A problem with one field, and what the source showed there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldProblem {
    pub field: PlanningField,
    pub problem: String,
    pub shown: String,
}

pub(crate) const EMPTY: &str = "必填项为空";
const DATE_IN_PLAIN_FIELD: &str = "单元格是日期格式，而这一列不是日期";

/// The record `value` gives field by field, or every problem with it in field order.
pub(crate) fn planning_record(mut value: impl FnMut(PlanningField) -> SourceValue) -> Result<PlanningRecord, Vec<FieldProblem>> {
    let mut row = Row { problems: Vec::new() };
    let mut read = |field: PlanningField| match value(field) {
        SourceValue::Text(text) if trim(&text).is_empty() => SourceValue::Blank,
        other => other,
    };
    let values: Vec<SourceValue> = PlanningField::ALL.iter().map(|&f| read(f)).collect();
    let at = |field: PlanningField| &values[PlanningField::ALL.iter().position(|&f| f == field).expect("every field is listed")];

    let planning_permit_no = row.code(PlanningField::PermitNo, at(PlanningField::PermitNo), clean_code);
    let project_code = row.code(PlanningField::ProjectCode, at(PlanningField::ProjectCode), clean_dashed_code);
    let name = row.text(PlanningField::Name, at(PlanningField::Name));
    let builder = row.text(PlanningField::Builder, at(PlanningField::Builder));
    let uscc = row.code(PlanningField::Uscc, at(PlanningField::Uscc), |s| clean_code(s).to_ascii_uppercase());
    let district_code = row.code(PlanningField::District, at(PlanningField::District), clean_code);
    let contact_phone = row.code(PlanningField::Phone, at(PlanningField::Phone), clean_dashed_code);
    let approved_on = row.date(PlanningField::ApprovedOn, at(PlanningField::ApprovedOn));
    let residential_area = row.area(PlanningField::Residential, at(PlanningField::Residential));
    let non_residential_area = row.area(PlanningField::NonResidential, at(PlanningField::NonResidential));
    let civil_defence_area = row.area(PlanningField::CivilDefence, at(PlanningField::CivilDefence));
    let infra_exemption = row.exemption(at(PlanningField::ExemptionAmount), at(PlanningField::ExemptionBasis));
    match approved_on {
        Some(approved_on) if row.problems.is_empty() => Ok(PlanningRecord {
            planning_permit_no: planning_permit_no.unwrap_or_default(),
            project_code: project_code.unwrap_or_default(),
            name: name.unwrap_or_default(),
            builder: builder.unwrap_or_default(),
            uscc: uscc.unwrap_or_default(),
            district_code: district_code.unwrap_or_default(),
            contact_phone,
            approved_on,
            residential_area,
            non_residential_area,
            civil_defence_area,
            infra_exemption,
        }),
        _ => Err(row.problems),
    }
}

struct Row {
    problems: Vec<FieldProblem>,
}

impl Row {
    fn problem(&mut self, field: PlanningField, problem: impl Into<String>, shown: &str) {
        self.problems.push(FieldProblem { field, problem: problem.into(), shown: shown.to_owned() });
    }

    /// Trimmed text of a field that is not a date; `None` for a blank (a problem when the
    /// field is required) or a problem.
    fn plain(&mut self, field: PlanningField, value: &SourceValue) -> Option<String> {
        match value {
            SourceValue::Text(text) => Some(trim(text).to_owned()),
            SourceValue::Blank => {
                if field.required() {
                    self.problem(field, EMPTY, "");
                }
                None
            }
            SourceValue::Date { shown, .. } => {
                self.problem(field, DATE_IN_PLAIN_FIELD, shown);
                None
            }
            SourceValue::Unreadable { problem, shown } => {
                self.problem(field, problem.clone(), shown);
                None
            }
        }
    }

    fn text(&mut self, field: PlanningField, value: &SourceValue) -> Option<String> {
        self.plain(field, value)
    }

    fn code(&mut self, field: PlanningField, value: &SourceValue, clean: fn(&str) -> String) -> Option<String> {
        self.plain(field, value).map(|text| clean(&text))
    }

    fn date(&mut self, field: PlanningField, value: &SourceValue) -> Option<Date> {
        match value {
            SourceValue::Date { on: Some(on), .. } => Some(*on),
            SourceValue::Date { on: None, shown } => {
                self.problem(field, NO_SUCH_DAY, shown);
                None
            }
            SourceValue::Text(text) => parse_date(trim(text)).map_err(|problem| self.problem(field, problem, trim(text))).ok(),
            SourceValue::Blank => {
                self.problem(field, EMPTY, "");
                None
            }
            SourceValue::Unreadable { problem, shown } => {
                self.problem(field, problem.clone(), shown);
                None
            }
        }
    }

    /// m² with at most two decimals; the money parser never reads an area.
    fn area(&mut self, field: PlanningField, value: &SourceValue) -> Area {
        let Some(text) = self.plain(field, value) else { return Area::ZERO };
        Area::parse(&clean_number(&text)).unwrap_or_else(|e| {
            self.problem(field, e.to_string(), &text);
            Area::ZERO
        })
    }

    fn amount(&mut self, field: PlanningField, value: &SourceValue) -> Option<Fen> {
        let text = self.plain(field, value)?;
        match parse_yuan(&clean_number(&text)) {
            Ok(fen) if fen < 0 => {
                self.problem(field, "减免金额应为非负数", &text);
                None
            }
            Ok(fen) => Some(fen),
            Err(e) => {
                self.problem(field, e.to_string(), &text);
                None
            }
        }
    }

    /// Both fields or neither: an amount without its legal basis cannot be granted, and a
    /// basis without an amount says nothing about how much.
    fn exemption(&mut self, amount: &SourceValue, basis: &SourceValue) -> Option<Exemption> {
        let given = |v: &SourceValue| !matches!(v, SourceValue::Blank);
        match (given(amount), given(basis)) {
            (false, false) => None,
            (true, false) => {
                self.problem(PlanningField::ExemptionBasis, "填写了减免金额，必须同时填写减免依据", "");
                None
            }
            (false, true) => {
                self.problem(PlanningField::ExemptionAmount, "填写了减免依据，必须同时填写减免金额", "");
                None
            }
            (true, true) => {
                let amount_fen = self.amount(PlanningField::ExemptionAmount, amount);
                let basis = self.text(PlanningField::ExemptionBasis, basis);
                Some(Exemption { amount_fen: amount_fen?, basis: basis? })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::legacy_file::{self, Outcome, header_name};
    use crate::connectors::planning_cdc::record::{SourceRow, Value, column, record};

    /// A good row, in [`PlanningField::ALL`] order, with what people type: full-width
    /// digits and dashes, stray spaces, a lower-case USCC.
    const GOOD: [&str; 13] = [
        "建字第３２０１１５２０２６００１２号",
        "2026–320115–47–01–000012",
        " 江宁区社区养老服务中心 ",
        "南京某建设有限公司",
        "91350100m000100y43",
        "320115",
        "025－84561234",
        "2026-11-20",
        "1,234.56",
        "0",
        "300.10",
        "",
        "",
    ];

    fn with(changes: &[(PlanningField, &'static str)]) -> [&'static str; 13] {
        let mut row = GOOD;
        for (field, value) in changes {
            row[PlanningField::ALL.iter().position(|f| f == field).unwrap()] = value;
        }
        row
    }

    /// The outcome by the planning database's stream: the record, or (field, problem).
    fn by_stream(row: &[&str; 13]) -> Result<PlanningRecord, Vec<(PlanningField, String)>> {
        let mut source = SourceRow::default();
        for (field, value) in PlanningField::ALL.iter().zip(row) {
            source.push(column(*field), if value.is_empty() { Value::Null } else { Value::Text(value) });
        }
        record(&source).map_err(|problems| {
            problems
                .into_iter()
                .map(|p| (*PlanningField::ALL.iter().find(|f| column(**f) == p.field).unwrap(), p.problem))
                .collect()
        })
    }

    /// The outcome by the daily export (CSV), the same row under the export's headers.
    fn by_export(row: &[&str; 13]) -> Result<PlanningRecord, Vec<(PlanningField, String)>> {
        let quoted = |cells: Vec<String>| cells.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect::<Vec<_>>().join(",");
        let header = quoted(PlanningField::ALL.iter().map(|f| header_name(*f).to_owned()).collect());
        let csv = format!("{header}\n{}\n", quoted(row.iter().map(|c| (*c).to_owned()).collect()));
        let file = legacy_file::read(csv.as_bytes()).unwrap();
        match &file.rows[0].outcome {
            Outcome::Record(record) => Ok(record.clone()),
            Outcome::Rejected(problems) => Err(problems
                .iter()
                .map(|p| (*PlanningField::ALL.iter().find(|f| header_name(**f) == p.field).unwrap(), p.problem.clone()))
                .collect()),
            other => panic!("one row, neither a record nor rejected: {other:?}"),
        }
    }

    #[test]
    fn the_same_row_gives_the_same_record_or_the_same_named_problems_by_both_routes() {
        use PlanningField::*;
        let table: Vec<(&str, [&str; 13])> = vec![
            ("good", GOOD),
            ("partial exemption", with(&[(ExemptionAmount, "1,000.50"), (ExemptionBasis, "2019年第76号公告")])),
            ("legacy USCC: kept, flagged later by its alert", with(&[(Uscc, "91350100M000100Y44")])),
            ("¥ in an area", with(&[(Residential, "¥1,234.00")])),
            ("negative area and blank name", with(&[(NonResidential, "-5"), (Name, "  ")])),
            ("three decimals", with(&[(CivilDefence, "12.345")])),
            ("no such day", with(&[(ApprovedOn, "2026-02-30")])),
            ("amount without basis", with(&[(ExemptionAmount, "500")])),
            ("basis without amount", with(&[(ExemptionBasis, "2019年第76号公告")])),
            ("negative exemption", with(&[(ExemptionAmount, "-1"), (ExemptionBasis, "依据")])),
            ("area in 亩", with(&[(Residential, "12亩")])),
        ];
        for (what, row) in &table {
            let (stream, export) = (by_stream(row), by_export(row));
            assert_eq!(stream, export, "{what}");
        }
        let good = by_stream(&GOOD).unwrap();
        assert_eq!((good.planning_permit_no.as_str(), good.uscc.as_str()), ("建字第32011520260012号", "91350100M000100Y43"));
        assert_eq!(good.residential_area, Area::from_hundredths(123_456));
        let exempt = by_stream(&table[1].1).unwrap();
        assert_eq!(exempt.infra_exemption, Some(Exemption { amount_fen: 100_050, basis: "2019年第76号公告".into() }));
        assert!(by_stream(&table[2].1).is_ok(), "a legacy USCC is not refused here");
        assert_eq!(by_stream(&table[3].1).unwrap_err(), [(Residential, "应为面积数字（单位：平方米），如 1234.56，不能带货币符号".to_owned())]);
        assert_eq!(
            by_stream(&table[4].1).unwrap_err().iter().map(|(f, _)| *f).collect::<Vec<_>>(),
            [Name, NonResidential],
            "every problem, in field order"
        );
    }
}
