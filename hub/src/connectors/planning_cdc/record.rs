//! A row of the department's `planning_approval` table (schema.sql) as a
//! [`PlanningRecord`]. Snapshot rows and streamed rows arrive alike, as PostgreSQL's text
//! output of each column (the session settings are pinned so dates render the same on both
//! routes), and go through the same cleaning as the legacy export: a permit number read
//! here equals the same permit read from the USB stick, so one approval never becomes two.
//!
//! A row that cannot become a record is not dropped: its problems name the column and go
//! to the quarantine with the row as received.

use yizhan_sync::protocol::{FieldError, PlanningRecord};

use crate::connectors::SourceChange;
use crate::etl::clean::{clean_code, clean_dashed_code};
use crate::etl::planning::{PlanningField, SourceValue, planning_record};

/// The table the connector reads, in whichever schema the publication has it.
pub const TABLE: &str = "planning_approval";

pub const PERMIT_NO: &str = "planning_permit_no";
pub const PROJECT_CODE: &str = "project_code";
pub const PROJECT_NAME: &str = "project_name";
pub const BUILDER: &str = "builder";
pub const USCC: &str = "builder_uscc";
pub const DISTRICT: &str = "district_code";
pub const PHONE: &str = "contact_phone";
pub const APPROVED_ON: &str = "approved_on";
pub const RESIDENTIAL: &str = "residential_area_m2";
pub const NON_RESIDENTIAL: &str = "non_residential_area_m2";
pub const CIVIL_DEFENCE: &str = "civil_defence_area_m2";
pub const EXEMPTION_AMOUNT: &str = "infra_exemption_yuan";
pub const EXEMPTION_BASIS: &str = "infra_exemption_basis";

/// One column's value as the source sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Null,
    Text(&'a str),
    /// Bytes that are not UTF-8 text: the column is not a text rendering.
    Unreadable(&'a [u8]),
}

/// A source row: its columns in the table's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceRow<'a> {
    columns: Vec<(&'a str, Value<'a>)>,
}

impl<'a> SourceRow<'a> {
    pub fn push(&mut self, column: &'a str, value: Value<'a>) {
        self.columns.push((column, value));
    }

    /// `None` when the row has no such column at all (the table lacks it, or PostgreSQL
    /// left an unchanged long value out of an UPDATE).
    pub fn get(&self, column: &str) -> Option<Value<'a>> {
        self.columns
            .iter()
            .find(|(name, _)| *name == column)
            .map(|(_, value)| *value)
    }

    /// Fills the columns this row lacks from `older` (the old row an UPDATE carries under
    /// REPLICA IDENTITY FULL): a value left out was not changed.
    pub fn fill_from(&mut self, older: &SourceRow<'a>) {
        for &(name, value) in &older.columns {
            if self.get(name).is_none() {
                self.columns.push((name, value));
            }
        }
    }

    /// The row as received, for the quarantine: a JSON object of column to text.
    pub fn raw(&self) -> String {
        let object: serde_json::Map<String, serde_json::Value> = self
            .columns
            .iter()
            .map(|&(name, value)| {
                let value = match value {
                    Value::Null => serde_json::Value::Null,
                    Value::Text(text) => text.into(),
                    Value::Unreadable(bytes) => format!("\\x{}", hex::encode(bytes)).into(),
                };
                (name.to_owned(), value)
            })
            .collect();
        serde_json::Value::Object(object).to_string()
    }

    /// The permit number as the hub keys the approval, if the row has one.
    pub fn permit_no(&self) -> Option<String> {
        match self.get(PERMIT_NO) {
            Some(Value::Text(text)) => Some(clean_code(text)).filter(|p| !p.is_empty()),
            _ => None,
        }
    }
}

/// An inserted or updated row, for the hub to check and write or quarantine.
pub fn upsert(location: String, row: &SourceRow<'_>) -> SourceChange<PlanningRecord> {
    SourceChange::Upsert {
        location,
        raw: row.raw(),
        record: record(row),
    }
}

/// A deleted row (or the old key of a row whose permit number changed); under REPLICA
/// IDENTITY DEFAULT only the key arrives, and the project code is not needed to find the
/// approval.
pub fn withdraw(location: String, old: &SourceRow<'_>) -> SourceChange<PlanningRecord> {
    let project_code = match old.get(PROJECT_CODE) {
        Some(Value::Text(text)) => clean_dashed_code(text),
        _ => String::new(),
    };
    SourceChange::Withdraw {
        location,
        source_id: old.permit_no().unwrap_or_default(),
        project_code,
    }
}

/// The record the row holds, or every problem with it, each naming its column.
/// A row as the quarantine keeps it ([`SourceRow::raw`]: column → text), perhaps corrected
/// by an operator, read again as the stream reads it; `None` when `raw` is not such a row.
pub fn record_from_raw(raw: &str) -> Option<Result<PlanningRecord, Vec<FieldError>>> {
    let columns: std::collections::BTreeMap<String, Option<String>> = serde_json::from_str(raw).ok()?;
    let mut row = SourceRow::default();
    for (name, value) in &columns {
        row.push(name, value.as_deref().map_or(Value::Null, Value::Text));
    }
    Some(record(&row))
}

pub fn record(row: &SourceRow<'_>) -> Result<PlanningRecord, Vec<FieldError>> {
    let source_id = row.permit_no();
    planning_record(|field| match row.get(column(field)) {
        Some(Value::Text(text)) => SourceValue::Text(text.to_owned()),
        Some(Value::Null) => SourceValue::Blank,
        Some(Value::Unreadable(bytes)) => SourceValue::Unreadable {
            problem: "不是文本值（UTF-8）：请检查该列的类型".into(),
            shown: format!("\\x{}", hex::encode(bytes)),
        },
        None => SourceValue::Unreadable {
            problem: "规划库送来的行中没有这一列：请核对表结构（见 schema.sql）".into(),
            shown: String::new(),
        },
    })
    .map_err(|problems| {
        problems
            .into_iter()
            .map(|p| FieldError { record: 0, source_id: source_id.clone(), field: column(p.field).to_owned(), problem: p.problem })
            .collect()
    })
}

/// The column of `planning_approval` (schema.sql) that holds `field`.
pub(crate) fn column(field: PlanningField) -> &'static str {
    match field {
        PlanningField::PermitNo => PERMIT_NO,
        PlanningField::ProjectCode => PROJECT_CODE,
        PlanningField::Name => PROJECT_NAME,
        PlanningField::Builder => BUILDER,
        PlanningField::Uscc => USCC,
        PlanningField::District => DISTRICT,
        PlanningField::Phone => PHONE,
        PlanningField::ApprovedOn => APPROVED_ON,
        PlanningField::Residential => RESIDENTIAL,
        PlanningField::NonResidential => NON_RESIDENTIAL,
        PlanningField::CivilDefence => CIVIL_DEFENCE,
        PlanningField::ExemptionAmount => EXEMPTION_AMOUNT,
        PlanningField::ExemptionBasis => EXEMPTION_BASIS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::legacy_file::{self, Outcome};
    use yizhan_core::entity::{Area, Exemption};
    use time::macros::date;

    fn good() -> Vec<(&'static str, Value<'static>)> {
        vec![
            (
                PERMIT_NO,
                Value::Text("建字第３２０１１５２０２６００１２号"),
            ),
            (PROJECT_CODE, Value::Text("2026–320115–47–01–000012")),
            (PROJECT_NAME, Value::Text(" 江宁区社区养老服务中心 ")),
            (BUILDER, Value::Text("南京某建设有限公司")),
            (USCC, Value::Text("91350100m000100y43")),
            (DISTRICT, Value::Text("320115")),
            (PHONE, Value::Text("025－84561234")),
            (APPROVED_ON, Value::Text("2026-11-20")),
            (RESIDENTIAL, Value::Text("1234.56")),
            (NON_RESIDENTIAL, Value::Text("0.00")),
            (CIVIL_DEFENCE, Value::Text("300.10")),
            (EXEMPTION_AMOUNT, Value::Text("1000.50")),
            (EXEMPTION_BASIS, Value::Text("2019年第76号公告")),
            ("updated_at", Value::Text("2026-11-20 08:00:00+00")),
        ]
    }

    #[test]
    fn a_quarantined_row_corrected_by_an_operator_is_read_as_the_stream_reads_it() {
        let raw = row(good()).raw();
        let as_kept = record_from_raw(&raw).expect("a row as the quarantine keeps it").unwrap();
        assert_eq!(as_kept, record(&row(good())).unwrap());
        let mut bad: serde_json::Value = serde_json::from_str(&raw).unwrap();
        bad[RESIDENTIAL] = "-1".into();
        let problems = record_from_raw(&bad.to_string()).unwrap().unwrap_err();
        assert_eq!(problems[0].field, RESIDENTIAL);
        assert!(record_from_raw("[1, 2]").is_none(), "not a row");
    }

    fn row(columns: Vec<(&'static str, Value<'static>)>) -> SourceRow<'static> {
        let mut row = SourceRow::default();
        for (name, value) in columns {
            row.push(name, value);
        }
        row
    }

    fn with(column: &'static str, value: Value<'static>) -> SourceRow<'static> {
        row(good()
            .into_iter()
            .map(|(n, v)| (n, if n == column { value } else { v }))
            .collect())
    }

    fn fields(result: Result<PlanningRecord, Vec<FieldError>>) -> Vec<(String, String)> {
        result
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.problem))
            .collect()
    }

    #[test]
    fn a_row_becomes_the_record_the_legacy_export_gives_for_it() {
        let cdc = record(&row(good())).unwrap();
        assert_eq!(cdc.planning_permit_no, "建字第32011520260012号");
        assert_eq!(cdc.project_code, "2026-320115-47-01-000012");
        assert_eq!(cdc.uscc, "91350100M000100Y43");
        assert_eq!(cdc.residential_area, Area::from_hundredths(123_456));
        assert_eq!(cdc.civil_defence_area, Area::from_hundredths(30_010));
        assert_eq!(cdc.approved_on, date!(2026 - 11 - 20));
        assert_eq!(
            cdc.infra_exemption,
            Some(Exemption {
                amount_fen: 100_050,
                basis: "2019年第76号公告".into()
            })
        );

        let csv = "规划许可证号,项目编号,项目名称,建设单位,统一社会信用代码,行政区划代码,联系电话,批准日期,\
                   住宅面积(㎡),非住宅面积(㎡),人防面积(㎡),配套费减免金额(元),减免依据\n\
                   建字第３２０１１５２０２６００１２号,2026–320115–47–01–000012, 江宁区社区养老服务中心 ,\
                   南京某建设有限公司,91350100m000100y43,320115,025－84561234,2026-11-20,1234.56,0.00,300.10,\
                   1000.50,2019年第76号公告\n";
        let file = legacy_file::read(csv.as_bytes()).unwrap();
        let Outcome::Record(legacy) = &file.rows[0].outcome else {
            panic!("the export row is rejected: {:?}", file.rows[0].outcome)
        };
        assert_eq!(&cdc, legacy);
    }

    #[test]
    fn each_problem_names_its_column_and_every_one_is_reported() {
        let mut columns = good();
        for (name, value) in &mut columns {
            match *name {
                RESIDENTIAL => *value = Value::Text("-5.00"),
                NON_RESIDENTIAL => *value = Value::Text("12.345"),
                APPROVED_ON => *value = Value::Text("2026-02-30"),
                PROJECT_NAME => *value = Value::Text("  "),
                BUILDER => *value = Value::Null,
                _ => {}
            }
        }
        let problems = record(&row(columns)).unwrap_err();
        let named: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            named,
            [
                PROJECT_NAME,
                BUILDER,
                APPROVED_ON,
                RESIDENTIAL,
                NON_RESIDENTIAL
            ]
        );
        assert!(
            problems
                .iter()
                .all(|p| p.source_id.as_deref() == Some("建字第32011520260012号"))
        );
        assert_eq!(problems[3].problem, "面积应为非负数");
        assert_eq!(
            problems[4].problem,
            "面积最多保留两位小数（精确到0.01平方米）"
        );
    }

    #[test]
    fn a_missing_column_is_a_problem_never_a_default() {
        let columns = good()
            .into_iter()
            .filter(|(n, _)| *n != CIVIL_DEFENCE && *n != PHONE)
            .collect();
        let problems = fields(record(&row(columns)));
        assert_eq!(problems.len(), 2);
        assert!(problems.iter().all(|(_, p)| p.contains("没有这一列")));
    }

    #[test]
    fn an_exemption_needs_both_amount_and_basis() {
        let problems = fields(record(&with(EXEMPTION_BASIS, Value::Null)));
        assert_eq!(
            problems,
            [(
                EXEMPTION_BASIS.into(),
                "填写了减免金额，必须同时填写减免依据".into()
            )]
        );
        let problems = fields(record(&with(EXEMPTION_AMOUNT, Value::Null)));
        assert_eq!(
            problems,
            [(
                EXEMPTION_AMOUNT.into(),
                "填写了减免依据，必须同时填写减免金额".into()
            )]
        );
        let problems = fields(record(&with(EXEMPTION_AMOUNT, Value::Text("abc"))));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, EXEMPTION_AMOUNT);
        let none = row(good()
            .into_iter()
            .map(|(n, v)| match n {
                EXEMPTION_AMOUNT | EXEMPTION_BASIS => (n, Value::Null),
                _ => (n, v),
            })
            .collect());
        assert_eq!(record(&none).unwrap().infra_exemption, None);
    }

    #[test]
    fn a_value_left_out_of_an_update_comes_from_the_old_row() {
        let old = row(good());
        let mut new = row(good()
            .into_iter()
            .filter(|(n, _)| *n != EXEMPTION_BASIS)
            .collect());
        new.fill_from(&old);
        assert_eq!(record(&new).unwrap(), record(&old).unwrap());
    }

    #[test]
    fn a_withdrawal_keys_the_cleaned_permit_and_the_raw_row_keeps_every_column() {
        let SourceChange::Withdraw {
            source_id,
            project_code,
            ..
        } = withdraw("LSN 0/1".into(), &row(good()))
        else {
            panic!("not a withdrawal")
        };
        assert_eq!(source_id, "建字第32011520260012号");
        assert_eq!(project_code, "2026-320115-47-01-000012");
        let key_only = row(vec![(PERMIT_NO, Value::Text("P-1"))]);
        let SourceChange::Withdraw {
            source_id,
            project_code,
            ..
        } = withdraw("LSN 0/2".into(), &key_only)
        else {
            panic!("not a withdrawal")
        };
        assert_eq!((source_id.as_str(), project_code.as_str()), ("P-1", ""));

        let raw: serde_json::Value =
            serde_json::from_str(&with(PHONE, Value::Unreadable(&[0xff, 0x00])).raw()).unwrap();
        assert_eq!(raw[PHONE], "\\xff00");
        assert_eq!(raw[BUILDER], "南京某建设有限公司");
        assert_eq!(raw.as_object().unwrap().len(), good().len());
    }
}
