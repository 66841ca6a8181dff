//! Field checks at the edge. Each check adds a problem in Chinese that names the field and
//! says what is wrong without echoing personal data; a record is written only when it
//! has no problem at all.

use yizhan_core::code::ProjectCode;
use yizhan_core::district::{NANJING_DISTRICTS, district_name};
use yizhan_core::entity::{Area, Exemption};
use yizhan_core::money::{Fen, format_yuan};
use yizhan_core::tariff::Tariff;
use yizhan_core::uscc::Uscc;
use yizhan_sync::protocol::{
    CivilDefenceNotice, FieldError, PaymentRecord, PlanningRecord, TaxClearanceRecord,
};

/// Longest free text accepted (names, channels, references): enough for any real
/// company or project name, short enough that a runaway field is caught.
const MAX_TEXT_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub problem: String,
}

#[derive(Debug, Default)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn add(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            problem: problem.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn has_field(&self, field: &str) -> bool {
        self.0.iter().any(|p| p.field == field)
    }

    pub fn into_field_errors(self, record: usize, source_id: Option<&str>) -> Vec<FieldError> {
        self.0
            .into_iter()
            .map(|p| FieldError {
                record,
                source_id: source_id.map(str::to_owned),
                field: p.field,
                problem: p.problem,
            })
            .collect()
    }

    /// Free text: present, not blank, not absurdly long.
    pub fn text(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.add(field, "不能为空");
        } else if value.chars().count() > MAX_TEXT_CHARS {
            self.add(field, format!("过长：不能超过{MAX_TEXT_CHARS}个字符"));
        }
    }

    /// A source record id: the key re-sends are matched on, so " P1" and "P1" must not
    /// silently become two records.
    pub fn identifier(&mut self, field: &str, value: &str) {
        self.text(field, value);
        if !value.trim().is_empty()
            && (value.trim() != value || value.chars().any(char::is_control))
        {
            self.add(field, "前后不能有空格，且不能含控制字符");
        }
    }

    pub fn project_code(&mut self, field: &str, value: &str) -> Option<ProjectCode> {
        ProjectCode::parse(value).map_err(|e| self.add(field, e.to_string())).ok()
    }

    /// A code of the wrong shape is refused; one whose only fault is its check character
    /// is a legacy code still in circulation: it flows on and the `uscc_check_failed`
    /// alert rule flags its project (DOMAIN.md).
    pub fn uscc(&mut self, field: &str, value: &str) -> Option<Uscc> {
        Uscc::parse(value).map_err(|e| self.add(field, e.to_string())).ok()
    }

    pub fn district(&mut self, field: &str, value: &str) {
        if district_name(value).is_none() {
            let (first, last) = (
                NANJING_DISTRICTS[0],
                NANJING_DISTRICTS[NANJING_DISTRICTS.len() - 1],
            );
            self.add(
                field,
                format!(
                    "不是南京市的区代码：应为 {}（{}）至 {}（{}）等{}个区之一",
                    first.0,
                    first.1,
                    last.0,
                    last.1,
                    NANJING_DISTRICTS.len()
                ),
            );
        }
    }

    pub fn area(&mut self, field: &str, value: Area) {
        if value.is_negative() {
            self.add(field, "面积不能为负数（单位：0.01平方米）");
        }
    }

    pub fn positive_fen(&mut self, field: &str, value: Fen) {
        if value <= 0 {
            self.add(field, "金额应大于 0（单位：分）");
        }
    }

    /// Mobile (11 digits from 1) or a landline with its area code.
    pub fn phone(&mut self, field: &str, value: &str) {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let mobile = value.len() == 11 && value.starts_with('1') && digits(value);
        let landline = match value.split_once('-') {
            Some((area, number)) => {
                area.starts_with('0')
                    && (3..=4).contains(&area.len())
                    && (7..=8).contains(&number.len())
                    && digits(area)
                    && digits(number)
            }
            None => false,
        };
        if !mobile && !landline {
            self.add(
                field,
                "联系电话应为11位手机号，或带区号的固定电话（如 025-84561234）",
            );
        }
    }

    fn exemption(&mut self, field: &str, exemption: &Exemption) {
        if exemption.amount_fen < 0 {
            self.add(
                format!("{field}.amount_fen"),
                "减免金额不能为负数（单位：分）",
            );
        }
        self.text(&format!("{field}.basis"), &exemption.basis);
    }
}

/// The record's codes, parsed, when they are well formed.
pub fn planning(r: &PlanningRecord, p: &mut Problems) -> Option<(ProjectCode, Uscc)> {
    p.identifier("planning_permit_no", &r.planning_permit_no);
    let project_code = p.project_code("project_code", &r.project_code);
    p.text("name", &r.name);
    p.text("builder", &r.builder);
    let uscc = p.uscc("uscc", &r.uscc);
    p.district("district_code", &r.district_code);
    if let Some(phone) = &r.contact_phone {
        p.phone("contact_phone", phone);
    }
    p.area("residential_area", r.residential_area);
    p.area("non_residential_area", r.non_residential_area);
    p.area("civil_defence_area", r.civil_defence_area);
    if let Some(exemption) = &r.infra_exemption {
        p.exemption("infra_exemption", exemption);
    }
    project_code.zip(uscc)
}

/// The notice's amount must be what the configured rate gives for its area on its
/// issue date: a mismatch means one side has the wrong area or rate.
pub fn civil_defence(n: &CivilDefenceNotice, tariff: &Tariff, p: &mut Problems) -> Option<ProjectCode> {
    p.identifier("notice_no", &n.notice_no);
    let project_code = p.project_code("project_code", &n.project_code);
    if n.civil_defence_area <= Area::ZERO {
        p.add(
            "civil_defence_area",
            "人防易地建设面积应大于 0（单位：0.01平方米）",
        );
    }
    p.positive_fen("amount_fen", n.amount_fen);
    if n.due_on < n.issued_on {
        p.add(
            "due_on",
            format!("缴费期限 {} 早于开具日期 {}", n.due_on, n.issued_on),
        );
    }
    if n.civil_defence_area > Area::ZERO && n.amount_fen > 0 {
        match tariff.civil_defence_fee(n.civil_defence_area, n.issued_on) {
            Ok(expected) if expected.amount_fen != n.amount_fen => p.add(
                "amount_fen",
                format!(
                    "与面积×费率不符：按 {} 核算应为 {}（{} 分），联系单为 {}（{} 分）",
                    expected.basis,
                    format_yuan(expected.amount_fen),
                    expected.amount_fen,
                    format_yuan(n.amount_fen),
                    n.amount_fen
                ),
            ),
            Ok(_) => {}
            Err(e) => p.add("issued_on", e.to_string()),
        }
    }
    project_code
}

/// The project code arrived parsed: a malformed one never becomes a record.
pub fn payment(r: &PaymentRecord, p: &mut Problems) {
    p.identifier("payment_id", &r.payment_id);
    p.positive_fen("amount_fen", r.amount_fen);
    p.text("channel", &r.channel);
    p.text("reference", &r.reference);
}

pub fn tax_clearance(r: &TaxClearanceRecord, p: &mut Problems) {
    p.identifier("clearance_no", &r.clearance_no);
    p.text("tax_office", &r.tax_office);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(p: &Problems) -> Vec<&str> {
        p.0.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn phone_accepts_mobiles_and_landlines_only() {
        for good in ["13812341234", "025-84561234", "0510-1234567"] {
            let mut p = Problems::default();
            p.phone("contact_phone", good);
            assert!(p.is_empty(), "{good}");
        }
        for bad in [
            "",
            "1381234123",
            "23812341234",
            "138-1234-1234",
            "025-12",
            "abc-84561234",
        ] {
            let mut p = Problems::default();
            p.phone("contact_phone", bad);
            assert_eq!(fields(&p), ["contact_phone"], "{bad}");
            assert!(
                !p.0[0].problem.contains(bad) || bad.is_empty(),
                "the problem must not echo the number"
            );
        }
    }

    #[test]
    fn identifiers_refuse_blank_padded_and_control_characters() {
        for (value, expected) in [
            ("P1", 0),
            ("", 1),
            ("   ", 1),
            (" P1", 1),
            ("P1\n", 1),
            ("P\u{7}1", 1),
        ] {
            let mut p = Problems::default();
            p.identifier("payment_id", value);
            assert_eq!(p.0.len(), expected, "{value:?}: {:?}", p.0);
        }
    }

    #[test]
    fn district_must_be_one_of_nanjings() {
        let mut p = Problems::default();
        p.district("district_code", "320115");
        p.district("district_code", "320100");
        p.district("district_code", "110101");
        assert_eq!(fields(&p), ["district_code", "district_code"]);
        assert!(p.0[0].problem.contains("320102"));
    }
}
