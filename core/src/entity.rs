//! The facts the departments send, as the hub stores them and the counters replicate them.
//!
//! Every entity is keyed by a string the hub derives from the record (see `key()`), so the
//! change log, the snapshot and the replica speak of rows the same way. Areas are integer
//! hundredths of a square metre, money is integer fen, dates are civil dates in
//! Asia/Shanghai, instants are UTC.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::code::ProjectCode;
use crate::id::{CommandId, DeviceId};
use crate::money::Fen;
use crate::uscc::Uscc;

pub use crate::area::Area;

/// The kinds of row the change log carries; the names are the wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Project,
    PlanningApproval,
    FeeAssessment,
    Payment,
    TaxClearance,
    /// Written by the window itself through clerk commands (`crate::command`).
    FinalCheck,
    FollowUpNote,
    Tracking,
    /// Raised by the hub's alert rules, answered by clerk commands (`crate::alert`).
    Alert,
    /// The alert rules in force at the hub, so the counters evaluate the same rules. One
    /// row, key `active`, no project.
    AlertRules,
    /// Vouchers and invoices the counters issued (`crate::document`).
    Document,
    /// The construction permit linked to a cleared project.
    PermitLink,
    /// A counter's registered public key; no project.
    CounterKey,
    /// What every document printed names and links to (`crate::document::DocumentSettings`).
    /// One row, key `active`, no project; set by the data centre's administrator.
    DocumentSettings,
}

impl EntityKind {
    pub const ALL: [EntityKind; 14] = [
        EntityKind::Project,
        EntityKind::PlanningApproval,
        EntityKind::FeeAssessment,
        EntityKind::Payment,
        EntityKind::TaxClearance,
        EntityKind::FinalCheck,
        EntityKind::FollowUpNote,
        EntityKind::Tracking,
        EntityKind::Alert,
        EntityKind::AlertRules,
        EntityKind::Document,
        EntityKind::PermitLink,
        EntityKind::CounterKey,
        EntityKind::DocumentSettings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Project => "project",
            EntityKind::PlanningApproval => "planning_approval",
            EntityKind::FeeAssessment => "fee_assessment",
            EntityKind::Payment => "payment",
            EntityKind::TaxClearance => "tax_clearance",
            EntityKind::FinalCheck => "final_check",
            EntityKind::FollowUpNote => "follow_up_note",
            EntityKind::Tracking => "tracking",
            EntityKind::Alert => "alert",
            EntityKind::AlertRules => "alert_rules",
            EntityKind::Document => "document",
            EntityKind::PermitLink => "permit_link",
            EntityKind::CounterKey => "counter_key",
            EntityKind::DocumentSettings => "document_settings",
        }
    }

    pub fn parse(s: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The two fees the window collects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum FeeKind {
    /// 城市基础设施配套费
    Infra,
    /// 防空地下室易地建设费 (人防费)
    CivilDefence,
}

impl FeeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeeKind::Infra => "infra",
            FeeKind::CivilDefence => "civil_defence",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            FeeKind::Infra => "城市基础设施配套费",
            FeeKind::CivilDefence => "防空地下室易地建设费",
        }
    }
}

/// 项目: the construction project and its 建设单位.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub project_code: ProjectCode,
    pub name: String,
    pub builder: String,
    pub uscc: Uscc,
    /// GB/T 2260 code of the Nanjing district, e.g. `320105`.
    pub district_code: String,
    /// Contact mobile of the builder's agent; personal data, masked for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
}

/// 规划审批: the approved areas by use, from which the infrastructure fee is assessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct PlanningApproval {
    pub planning_permit_no: String,
    pub project_code: ProjectCode,
    #[serde(with = "crate::serde_date")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub approved_on: Date,
    pub residential_area: Area,
    pub non_residential_area: Area,
    /// Basement area that should have been built for civil defence; > 0 means the project
    /// owes the civil-defence fee instead.
    pub civil_defence_area: Area,
}

/// 减免: an exemption or reduction with its legal basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Exemption {
    pub amount_fen: Fen,
    pub basis: String,
}

/// 核定: one fee assessed for one project. Key: `{project_code}/{fee_kind}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct FeeAssessment {
    pub project_code: ProjectCode,
    pub fee_kind: FeeKind,
    /// Assessed amount before any exemption.
    pub amount_fen: Fen,
    /// Standard and document the amount rests on (tariff 文号, 人防征收联系单 number).
    pub basis: String,
    #[serde(with = "crate::serde_date")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub assessed_on: Date,
    #[serde(with = "crate::serde_date")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub due_on: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption: Option<Exemption>,
}

impl FeeAssessment {
    pub fn key_for(project_code: &str, fee_kind: FeeKind) -> String {
        format!("{project_code}/{}", fee_kind.as_str())
    }

    /// What the builder must pay: assessed minus exemption, never below zero.
    pub fn net_fen(&self) -> Fen {
        let exempt = self.exemption.as_ref().map_or(0, |e| e.amount_fen);
        (self.amount_fen - exempt).max(0)
    }
}

/// 到账: money received for one fee. Key: `payment_id` (the payment platform's id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Payment {
    pub payment_id: String,
    pub project_code: ProjectCode,
    pub fee_kind: FeeKind,
    pub amount_fen: Fen,
    /// Bank or platform the money came through, e.g. `非税支付平台`, `建设银行`.
    pub channel: String,
    /// The payer's reference on the bank slip.
    pub reference: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub received_at: OffsetDateTime,
}

/// 完税反馈单 from the district tax office. Key: `clearance_no`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct TaxClearance {
    pub clearance_no: String,
    pub project_code: ProjectCode,
    pub tax_office: String,
    #[serde(with = "crate::serde_date")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub issued_on: Date,
}

/// 复核: the window's final check of a cleared project before its file is closed.
/// Key: the project code (a project is checked once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct FinalCheck {
    pub project_code: ProjectCode,
    pub checked_by: String,
    pub device_id: DeviceId,
    /// When the clerk checked it, by the counter's clock.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub checked_at: OffsetDateTime,
    pub remark: String,
    /// The clerk command that made it.
    pub command_id: CommandId,
}

/// 跟进备注: a clerk's follow-up note on a project. Key: the id of the command that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct FollowUpNote {
    pub note_id: String,
    pub project_code: ProjectCode,
    pub text: String,
    pub written_by: String,
    pub device_id: DeviceId,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub written_at: OffsetDateTime,
}

/// 项目跟踪: whether the window follows a project closely. Key: the project code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Tracking {
    pub project_code: ProjectCode,
    pub tracked: bool,
    pub set_by: String,
    pub device_id: DeviceId,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub set_at: OffsetDateTime,
    pub command_id: CommandId,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn assessment(amount_fen: Fen, exempt: Option<Fen>) -> FeeAssessment {
        FeeAssessment {
            project_code: "2019-320105-47-01-123456".parse().unwrap(),
            fee_kind: FeeKind::Infra,
            amount_fen,
            basis: "演示〔2024〕1号（演示费率）".into(),
            assessed_on: date!(2026 - 03 - 01),
            due_on: date!(2026 - 03 - 31),
            exemption: exempt.map(|amount_fen| Exemption {
                amount_fen,
                basis: "2019年第76号公告".into(),
            }),
        }
    }

    #[test]
    fn net_is_assessed_minus_exemption_never_below_zero() {
        assert_eq!(assessment(100_000, None).net_fen(), 100_000);
        assert_eq!(assessment(100_000, Some(40_000)).net_fen(), 60_000);
        assert_eq!(assessment(100_000, Some(100_000)).net_fen(), 0);
        assert_eq!(assessment(100_000, Some(150_000)).net_fen(), 0);
    }

    #[test]
    fn entity_kinds_parse_their_own_wire_names_only() {
        for kind in EntityKind::ALL {
            assert_eq!(EntityKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        assert_eq!(EntityKind::parse("Project"), None);
        assert_eq!(EntityKind::parse("fee"), None);
    }

    #[test]
    fn assessment_keys_and_wire_form() {
        assert_eq!(
            FeeAssessment::key_for("2019-320105-47-01-123456", FeeKind::CivilDefence),
            "2019-320105-47-01-123456/civil_defence"
        );
        let json = serde_json::to_value(assessment(100_000, None)).unwrap();
        assert_eq!(json["fee_kind"], "infra");
        assert_eq!(json["due_on"], "2026-03-31");
        assert!(json.get("exemption").is_none());
        let back: FeeAssessment = serde_json::from_value(json).unwrap();
        assert_eq!(back, assessment(100_000, None));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let json = r#"{"clearance_no":"WS-1","project_code":"2019-320105-47-01-123456","tax_office":"T","issued_on":"2026-03-20","extra":1}"#;
        let err = serde_json::from_str::<TaxClearance>(json).unwrap_err();
        assert!(err.to_string().contains("unknown field `extra`"), "{err}");
    }
}
