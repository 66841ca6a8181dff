//! Everything held about one project, parsed from its rows: what the fee status, the
//! detail screen and the clerk-command rules are computed from, at the hub and at the
//! counter alike.

use serde::de::DeserializeOwned;

use crate::alert::Alert;
use crate::document::{IssuedDocument, PermitLink};
use time::Date;

use crate::entity::{
    EntityKind, FeeAssessment, FinalCheck, FollowUpNote, Payment, PlanningApproval, Project, TaxClearance, Tracking,
};
use crate::status::{ProjectFacts, Standing, standing};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProjectRecords {
    pub project: Option<Project>,
    pub approvals: Vec<PlanningApproval>,
    pub assessments: Vec<FeeAssessment>,
    pub payments: Vec<Payment>,
    pub tax_clearances: Vec<TaxClearance>,
    pub final_check: Option<FinalCheck>,
    pub notes: Vec<FollowUpNote>,
    pub tracking: Option<Tracking>,
    /// The alerts raised on the project (or, under the empty project code, on the system).
    pub alerts: Vec<Alert>,
    pub documents: Vec<IssuedDocument>,
    pub permit_link: Option<PermitLink>,
}

/// A stored row that is not the JSON of its entity.
#[derive(Debug, thiserror::Error)]
#[error("{entity} 记录 {key} 无法解析：{source}")]
pub struct RecordError {
    pub entity: &'static str,
    pub key: String,
    #[source]
    pub source: serde_json::Error,
}

impl ProjectRecords {
    /// Whether nothing is known of the project itself: alerts are about a project, not
    /// facts of it, so a project with only alerts left is not listed.
    pub fn is_empty(&self) -> bool {
        self.project.is_none()
            && self.approvals.is_empty()
            && self.assessments.is_empty()
            && self.payments.is_empty()
            && self.tax_clearances.is_empty()
            && self.final_check.is_none()
            && self.notes.is_empty()
            && self.tracking.is_none()
            && self.documents.is_empty()
            && self.permit_link.is_none()
    }

    /// Adds one row; `payload` is its JSON as stored.
    pub fn add(&mut self, entity: EntityKind, key: &str, payload: &[u8]) -> Result<(), RecordError> {
        fn parse<T: DeserializeOwned>(entity: EntityKind, key: &str, payload: &[u8]) -> Result<T, RecordError> {
            serde_json::from_slice(payload).map_err(|source| RecordError {
                entity: entity.as_str(),
                key: key.to_owned(),
                source,
            })
        }
        match entity {
            EntityKind::Project => self.project = Some(parse(entity, key, payload)?),
            EntityKind::PlanningApproval => self.approvals.push(parse(entity, key, payload)?),
            EntityKind::FeeAssessment => self.assessments.push(parse(entity, key, payload)?),
            EntityKind::Payment => self.payments.push(parse(entity, key, payload)?),
            EntityKind::TaxClearance => self.tax_clearances.push(parse(entity, key, payload)?),
            EntityKind::FinalCheck => self.final_check = Some(parse(entity, key, payload)?),
            EntityKind::FollowUpNote => self.notes.push(parse(entity, key, payload)?),
            EntityKind::Tracking => self.tracking = Some(parse(entity, key, payload)?),
            EntityKind::Alert => self.alerts.push(parse(entity, key, payload)?),
            EntityKind::Document => self.documents.push(parse(entity, key, payload)?),
            EntityKind::PermitLink => self.permit_link = Some(parse(entity, key, payload)?),
            EntityKind::AlertRules | EntityKind::CounterKey | EntityKind::DocumentSettings => {}
        }
        Ok(())
    }

    /// The clearance that counts when the tax office sent more than one: the latest.
    pub fn tax_clearance(&self) -> Option<&TaxClearance> {
        self.tax_clearances
            .iter()
            .max_by(|a, b| (a.issued_on, &a.clearance_no).cmp(&(b.issued_on, &b.clearance_no)))
    }

    pub fn standing(&self, today: Date) -> Standing {
        standing(
            ProjectFacts {
                approvals: &self.approvals,
                assessments: &self.assessments,
                payments: &self.payments,
                tax_clearance: self.tax_clearance(),
            },
            today,
        )
    }

    /// The document under `number` (as printed, `PZ0000001234`).
    pub fn document(&self, number: &str) -> Option<&IssuedDocument> {
        self.documents.iter().find(|d| d.key() == number)
    }

    pub fn is_tracked(&self) -> bool {
        self.tracking.as_ref().is_some_and(|t| t.tracked)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::area::Area;
    use crate::entity::FeeKind;
    use time::macros::{date, datetime};

    pub(crate) const CODE: &str = "2019-320105-47-01-123456";

    /// One project with its infrastructure fee of ¥10,000.00 assessed, `paid` fen of it
    /// received, and the tax clearance when `cleared_tax`.
    pub(crate) fn example(paid: i64, cleared_tax: bool) -> ProjectRecords {
        let mut r = ProjectRecords {
            project: Some(Project {
                project_code: CODE.parse().unwrap(),
                name: "演示花园一期".into(),
                builder: "南京演示置业有限公司".into(),
                uscc: "91320105MA1W8XQ258".parse().unwrap(),
                district_code: "320105".into(),
                contact_phone: None,
            }),
            approvals: vec![PlanningApproval {
                planning_permit_no: "建字第320105202600001号".into(),
                project_code: CODE.parse().unwrap(),
                approved_on: date!(2026 - 03 - 01),
                residential_area: Area::from_m2(100),
                non_residential_area: Area::ZERO,
                civil_defence_area: Area::ZERO,
            }],
            assessments: vec![FeeAssessment {
                project_code: CODE.parse().unwrap(),
                fee_kind: FeeKind::Infra,
                amount_fen: 1_000_000,
                basis: "演示".into(),
                assessed_on: date!(2026 - 03 - 01),
                due_on: date!(2026 - 12 - 31),
                exemption: None,
            }],
            ..ProjectRecords::default()
        };
        if paid > 0 {
            r.payments.push(Payment {
                payment_id: "PAY-1".into(),
                project_code: CODE.parse().unwrap(),
                fee_kind: FeeKind::Infra,
                amount_fen: paid,
                channel: "非税支付平台".into(),
                reference: "R1".into(),
                received_at: datetime!(2026-11-01 01:00 UTC),
            });
        }
        if cleared_tax {
            r.tax_clearances.push(TaxClearance {
                clearance_no: "WS-1".into(),
                project_code: CODE.parse().unwrap(),
                tax_office: "演示税务所".into(),
                issued_on: date!(2026 - 11 - 02),
            });
        }
        r
    }

    /// [`example`] paid in full, tax cleared and 复核 recorded.
    pub(crate) fn cleared_and_checked() -> ProjectRecords {
        checked(1_000_000, true)
    }

    /// [`example`] with 复核 recorded (which the rules allow only once cleared: a record
    /// as a stale counter or a later reversal leaves it).
    pub(crate) fn checked(paid: i64, cleared_tax: bool) -> ProjectRecords {
        let mut records = example(paid, cleared_tax);
        records.final_check = Some(FinalCheck {
            project_code: CODE.parse().unwrap(),
            checked_by: "李强".into(),
            device_id: "counter-03".parse().unwrap(),
            checked_at: datetime!(2026-11-24 02:00 UTC),
            remark: String::new(),
            command_id: "fc".parse().unwrap(),
        });
        records
    }

    #[test]
    fn rows_land_in_their_place_and_bad_json_names_the_row() {
        let mut records = ProjectRecords::default();
        assert!(records.is_empty());
        records
            .add(
                EntityKind::Tracking,
                "2019-320105-47-01-123456",
                br#"{"project_code":"2019-320105-47-01-123456","tracked":true,"set_by":"clerk-1","device_id":"D1","set_at":"2026-11-24T01:00:00Z","command_id":"c1"}"#,
            )
            .unwrap();
        assert!(records.is_tracked());
        assert!(!records.is_empty());
        let err = records.add(EntityKind::FollowUpNote, "n1", br#"{"note_id":1}"#).unwrap_err();
        assert_eq!(err.entity, "follow_up_note");
        assert!(err.to_string().starts_with("follow_up_note 记录 n1 无法解析"), "{err}");
        assert!(records.notes.is_empty(), "a row that fails to parse adds nothing");
    }
}
