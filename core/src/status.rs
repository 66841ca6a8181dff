//! The derived fee status of a project, computed purely from the facts the departments sent.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::area::Area;
use crate::entity::{FeeAssessment, FeeKind, Payment, PlanningApproval, TaxClearance};
use crate::money::Fen;

/// Where a project's fees stand. Ordered along the way a project normally goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum FeeStatus {
    /// 待核定: a fee the project owes has not been assessed yet (or no approval yet).
    AwaitingAssessment,
    /// 待缴: assessed, nothing received.
    Due,
    /// 部分到账: some money received, some outstanding.
    PartlyPaid,
    /// 待完税: every fee paid or exempt, the tax clearance not yet received.
    AwaitingTaxClearance,
    /// 已完费: every fee paid in full or exempt and the tax clearance received.
    Cleared,
}

impl FeeStatus {
    pub fn name_zh(self) -> &'static str {
        match self {
            FeeStatus::AwaitingAssessment => "待核定",
            FeeStatus::Due => "待缴",
            FeeStatus::PartlyPaid => "部分到账",
            FeeStatus::AwaitingTaxClearance => "待完税",
            FeeStatus::Cleared => "已完费",
        }
    }
}

/// Everything known about one project.
#[derive(Debug, Clone, Copy)]
pub struct ProjectFacts<'a> {
    pub approvals: &'a [PlanningApproval],
    pub assessments: &'a [FeeAssessment],
    pub payments: &'a [Payment],
    pub tax_clearance: Option<&'a TaxClearance>,
}

/// One fee of one project, as the detail screen and the voucher show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FeeLine {
    pub fee_kind: FeeKind,
    pub assessed_fen: Fen,
    pub exemption_fen: Fen,
    pub net_fen: Fen,
    pub paid_fen: Fen,
    pub outstanding_fen: Fen,
    pub due_on: Option<Date>,
    pub overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Standing {
    pub status: FeeStatus,
    pub overdue: bool,
    pub fees: Vec<FeeLine>,
    pub assessed_fen: Fen,
    pub paid_fen: Fen,
    pub outstanding_fen: Fen,
}

/// Derives the standing of one project from its facts on `today` (Asia/Shanghai).
///
/// A fee is on the project when it is required — the infrastructure fee once there is a
/// planning approval, the civil-defence fee once an approval has civil-defence area — and
/// also when it has been assessed or paid anyway: 人防 may send its notice before the
/// approval arrives, and money received must never vanish from the totals. So money for
/// a fee nobody has assessed holds the project at 待核定 until someone looks.
/// Overpayment leaves nothing outstanding rather than a credit.
pub fn standing(facts: ProjectFacts<'_>, today: Date) -> Standing {
    let assessment = |kind: FeeKind| facts.assessments.iter().find(|a| a.fee_kind == kind);
    let required = |kind: FeeKind| {
        assessment(kind).is_some()
            || facts.payments.iter().any(|p| p.fee_kind == kind)
            || match kind {
                FeeKind::Infra => !facts.approvals.is_empty(),
                FeeKind::CivilDefence => facts.approvals.iter().any(|a| a.civil_defence_area > Area::ZERO),
            }
    };

    let fees: Vec<FeeLine> = [FeeKind::Infra, FeeKind::CivilDefence]
        .into_iter()
        .filter(|&kind| required(kind))
        .map(|kind| fee_line(kind, assessment(kind), facts.payments, today))
        .collect();

    let assessed_fen = fees.iter().map(|f| f.assessed_fen).sum();
    let paid_fen: Fen = fees.iter().map(|f| f.paid_fen).sum();
    let outstanding_fen: Fen = fees.iter().map(|f| f.outstanding_fen).sum();
    let unassessed =
        facts.approvals.is_empty() || fees.iter().any(|f| assessment(f.fee_kind).is_none());
    let status = if unassessed {
        FeeStatus::AwaitingAssessment
    } else if outstanding_fen > 0 {
        if paid_fen == 0 {
            FeeStatus::Due
        } else {
            FeeStatus::PartlyPaid
        }
    } else if facts.tax_clearance.is_none() {
        FeeStatus::AwaitingTaxClearance
    } else {
        FeeStatus::Cleared
    };

    Standing {
        status,
        overdue: fees.iter().any(|f| f.overdue),
        fees,
        assessed_fen,
        paid_fen,
        outstanding_fen,
    }
}

fn fee_line(
    kind: FeeKind,
    assessment: Option<&FeeAssessment>,
    payments: &[Payment],
    today: Date,
) -> FeeLine {
    let paid_fen: Fen = payments
        .iter()
        .filter(|p| p.fee_kind == kind)
        .map(|p| p.amount_fen)
        .sum();
    let (assessed_fen, net_fen, due_on) = match assessment {
        Some(a) => (a.amount_fen, a.net_fen(), Some(a.due_on)),
        None => (0, 0, None),
    };
    let outstanding_fen = (net_fen - paid_fen).max(0);
    FeeLine {
        fee_kind: kind,
        assessed_fen,
        // What the exemption actually took off: an exemption larger than the fee
        // cannot exempt more than the fee, so lines always add up.
        exemption_fen: assessed_fen - net_fen,
        net_fen,
        paid_fen,
        outstanding_fen,
        due_on,
        // Due on the due date itself is still on time.
        overdue: outstanding_fen > 0 && due_on.is_some_and(|d| d < today),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::Exemption;
    use time::macros::{date, datetime};

    const CODE: &str = "2019-320105-47-01-123456";
    const DUE: Date = date!(2026 - 03 - 31);

    fn approval(civil_defence_area: i64) -> PlanningApproval {
        let civil_defence_area = Area::from_hundredths(civil_defence_area);
        PlanningApproval {
            planning_permit_no: "建字第320105202600001号".into(),
            project_code: CODE.parse().unwrap(),
            approved_on: date!(2026 - 01 - 05),
            residential_area: Area::from_hundredths(1_000_000),
            non_residential_area: Area::from_hundredths(50_000),
            civil_defence_area,
        }
    }

    fn assessed(fee_kind: FeeKind, amount_fen: Fen, exempt: Option<Fen>) -> FeeAssessment {
        FeeAssessment {
            project_code: CODE.parse().unwrap(),
            fee_kind,
            amount_fen,
            basis: "演示〔2024〕1号（演示费率）".into(),
            assessed_on: date!(2026 - 03 - 01),
            due_on: DUE,
            exemption: exempt.map(|amount_fen| Exemption {
                amount_fen,
                basis: "2019年第76号公告".into(),
            }),
        }
    }

    fn paid(fee_kind: FeeKind, amount_fen: Fen) -> Payment {
        Payment {
            payment_id: format!("P-{}-{amount_fen}", fee_kind.as_str()),
            project_code: CODE.parse().unwrap(),
            fee_kind,
            amount_fen,
            channel: "非税支付平台".into(),
            reference: CODE.into(),
            received_at: datetime!(2026 - 03 - 10 09:30 UTC),
        }
    }

    fn clearance() -> TaxClearance {
        TaxClearance {
            clearance_no: "WS-2026-0001".into(),
            project_code: CODE.parse().unwrap(),
            tax_office: "国家税务总局南京市建邺区税务局".into(),
            issued_on: date!(2026 - 03 - 20),
        }
    }

    use FeeKind::{CivilDefence as Cd, Infra};
    use FeeStatus::*;

    struct Case {
        name: &'static str,
        approvals: Vec<PlanningApproval>,
        assessments: Vec<FeeAssessment>,
        payments: Vec<Payment>,
        cleared_tax: bool,
        status: FeeStatus,
        /// (assessed, paid, outstanding) totals.
        totals: (Fen, Fen, Fen),
    }

    fn run(case: &Case, today: Date) -> Standing {
        let clearance = clearance();
        standing(
            ProjectFacts {
                approvals: &case.approvals,
                assessments: &case.assessments,
                payments: &case.payments,
                tax_clearance: case.cleared_tax.then_some(&clearance),
            },
            today,
        )
    }

    #[test]
    fn status_follows_the_facts_through_every_stage() {
        let cases = vec![
            Case {
                name: "nothing known yet",
                approvals: vec![],
                assessments: vec![],
                payments: vec![],
                cleared_tax: false,
                status: AwaitingAssessment,
                totals: (0, 0, 0),
            },
            Case {
                name: "人防 notice before the approval arrived",
                approvals: vec![],
                assessments: vec![assessed(Cd, 50_000, None)],
                payments: vec![],
                cleared_tax: false,
                status: AwaitingAssessment,
                totals: (50_000, 0, 50_000),
            },
            Case {
                name: "approved, not assessed",
                approvals: vec![approval(0)],
                assessments: vec![],
                payments: vec![],
                cleared_tax: false,
                status: AwaitingAssessment,
                totals: (0, 0, 0),
            },
            Case {
                name: "civil-defence area but no 人防 notice yet",
                approvals: vec![approval(20_000)],
                assessments: vec![assessed(Infra, 100_000, None)],
                payments: vec![paid(Infra, 100_000)],
                cleared_tax: true,
                status: AwaitingAssessment,
                totals: (100_000, 100_000, 0),
            },
            Case {
                name: "assessed, nothing paid",
                approvals: vec![approval(0)],
                assessments: vec![assessed(Infra, 100_000, None)],
                payments: vec![],
                cleared_tax: false,
                status: Due,
                totals: (100_000, 0, 100_000),
            },
            Case {
                name: "tax clearance does not stand in for payment",
                approvals: vec![approval(0)],
                assessments: vec![assessed(Infra, 100_000, None)],
                payments: vec![],
                cleared_tax: true,
                status: Due,
                totals: (100_000, 0, 100_000),
            },
            Case {
                name: "part paid",
                approvals: vec![approval(0)],
                assessments: vec![assessed(Infra, 100_000, None)],
                payments: vec![paid(Infra, 30_000)],
                cleared_tax: false,
                status: PartlyPaid,
                totals: (100_000, 30_000, 70_000),
            },
            Case {
                name: "paid in two parts, no tax clearance",
                approvals: vec![approval(0)],
                assessments: vec![assessed(Infra, 100_000, None)],
                payments: vec![paid(Infra, 30_000), paid(Infra, 70_000)],
                cleared_tax: false,
                status: AwaitingTaxClearance,
                totals: (100_000, 100_000, 0),
            },
            Case {
                name: "paid and tax cleared",
                approvals: vec![approval(0)],
                assessments: vec![assessed(Infra, 100_000, None)],
                payments: vec![paid(Infra, 30_000), paid(Infra, 70_000)],
                cleared_tax: true,
                status: Cleared,
                totals: (100_000, 100_000, 0),
            },
            Case {
                name: "exempt to zero counts as settled",
                approvals: vec![approval(0)],
                assessments: vec![assessed(Infra, 100_000, Some(100_000))],
                payments: vec![],
                cleared_tax: false,
                status: AwaitingTaxClearance,
                totals: (100_000, 0, 0),
            },
            Case {
                name: "exempt to zero and tax cleared",
                approvals: vec![approval(0)],
                assessments: vec![assessed(Infra, 100_000, Some(100_000))],
                payments: vec![],
                cleared_tax: true,
                status: Cleared,
                totals: (100_000, 0, 0),
            },
            Case {
                name: "reduction, the rest paid",
                approvals: vec![approval(0)],
                assessments: vec![assessed(Infra, 100_000, Some(40_000))],
                payments: vec![paid(Infra, 60_000)],
                cleared_tax: true,
                status: Cleared,
                totals: (100_000, 60_000, 0),
            },
            Case {
                name: "overpaid leaves nothing outstanding, not a credit",
                approvals: vec![approval(0)],
                assessments: vec![assessed(Infra, 100_000, None)],
                payments: vec![paid(Infra, 120_000)],
                cleared_tax: false,
                status: AwaitingTaxClearance,
                totals: (100_000, 120_000, 0),
            },
            Case {
                name: "both fees, only 人防 paid",
                approvals: vec![approval(20_000)],
                assessments: vec![assessed(Cd, 50_000, None), assessed(Infra, 100_000, None)],
                payments: vec![paid(Cd, 50_000)],
                cleared_tax: false,
                status: PartlyPaid,
                totals: (150_000, 50_000, 100_000),
            },
            Case {
                name: "both fees, only infrastructure paid",
                approvals: vec![approval(20_000)],
                assessments: vec![assessed(Infra, 100_000, None), assessed(Cd, 50_000, None)],
                payments: vec![paid(Infra, 100_000)],
                cleared_tax: false,
                status: PartlyPaid,
                totals: (150_000, 100_000, 50_000),
            },
            Case {
                name: "both fees paid in parts in any order",
                approvals: vec![approval(20_000)],
                assessments: vec![assessed(Cd, 50_000, None), assessed(Infra, 100_000, None)],
                payments: vec![
                    paid(Cd, 20_000),
                    paid(Infra, 1),
                    paid(Cd, 30_000),
                    paid(Infra, 99_999),
                ],
                cleared_tax: true,
                status: Cleared,
                totals: (150_000, 150_000, 0),
            },
            Case {
                name: "overpaying one fee does not pay the other",
                approvals: vec![approval(20_000)],
                assessments: vec![assessed(Infra, 100_000, None), assessed(Cd, 50_000, None)],
                payments: vec![paid(Infra, 150_000)],
                cleared_tax: true,
                status: PartlyPaid,
                totals: (150_000, 150_000, 50_000),
            },
            Case {
                name: "人防 money before the 人防 notice",
                approvals: vec![approval(20_000)],
                assessments: vec![assessed(Infra, 100_000, None)],
                payments: vec![paid(Cd, 50_000)],
                cleared_tax: false,
                status: AwaitingAssessment,
                totals: (100_000, 50_000, 100_000),
            },
            Case {
                name: "人防 money with neither civil-defence area nor notice",
                approvals: vec![approval(0)],
                assessments: vec![assessed(Infra, 100_000, None)],
                payments: vec![paid(Infra, 100_000), paid(Cd, 50_000)],
                cleared_tax: true,
                status: AwaitingAssessment,
                totals: (100_000, 150_000, 0),
            },
            Case {
                name: "money before any approval",
                approvals: vec![],
                assessments: vec![],
                payments: vec![paid(Infra, 100_000)],
                cleared_tax: false,
                status: AwaitingAssessment,
                totals: (0, 100_000, 0),
            },
            Case {
                name: "人防 notice without civil-defence area still owes the fee",
                approvals: vec![approval(0)],
                assessments: vec![assessed(Infra, 100_000, None), assessed(Cd, 50_000, None)],
                payments: vec![paid(Infra, 100_000)],
                cleared_tax: true,
                status: PartlyPaid,
                totals: (150_000, 100_000, 50_000),
            },
        ];
        for case in &cases {
            let s = run(case, DUE);
            assert_eq!(s.status, case.status, "{}", case.name);
            assert_eq!(
                (s.assessed_fen, s.paid_fen, s.outstanding_fen),
                case.totals,
                "{}",
                case.name
            );
            assert!(
                !s.overdue,
                "{}: nothing is overdue on the due date",
                case.name
            );
        }
    }

    #[test]
    fn lines_list_infrastructure_then_civil_defence_with_every_amount() {
        let approvals = [approval(20_000)];
        let assessments = [
            assessed(Cd, 50_000, None),
            assessed(Infra, 100_000, Some(40_000)),
        ];
        let payments = [paid(Cd, 10_000), paid(Infra, 60_000)];
        let s = standing(
            ProjectFacts {
                approvals: &approvals,
                assessments: &assessments,
                payments: &payments,
                tax_clearance: None,
            },
            date!(2026 - 04 - 01),
        );
        assert_eq!(
            s.fees,
            vec![
                FeeLine {
                    fee_kind: Infra,
                    assessed_fen: 100_000,
                    exemption_fen: 40_000,
                    net_fen: 60_000,
                    paid_fen: 60_000,
                    outstanding_fen: 0,
                    due_on: Some(DUE),
                    overdue: false,
                },
                FeeLine {
                    fee_kind: Cd,
                    assessed_fen: 50_000,
                    exemption_fen: 0,
                    net_fen: 50_000,
                    paid_fen: 10_000,
                    outstanding_fen: 40_000,
                    due_on: Some(DUE),
                    overdue: true,
                },
            ]
        );
        assert_eq!(s.status, PartlyPaid);
        assert!(s.overdue);
    }

    #[test]
    fn an_unassessed_fee_has_a_zero_line_without_due_date() {
        let approvals = [approval(20_000)];
        let payments = [paid(Cd, 5_000)];
        let s = standing(
            ProjectFacts {
                approvals: &approvals,
                assessments: &[],
                payments: &payments,
                tax_clearance: None,
            },
            date!(2030 - 01 - 01),
        );
        let zero = |fee_kind, paid_fen| FeeLine {
            fee_kind,
            assessed_fen: 0,
            exemption_fen: 0,
            net_fen: 0,
            paid_fen,
            outstanding_fen: 0,
            due_on: None,
            overdue: false,
        };
        assert_eq!(s.fees, vec![zero(Infra, 0), zero(Cd, 5_000)]);
        assert_eq!(s.status, AwaitingAssessment);
        assert!(!s.overdue);
    }

    #[test]
    fn an_exemption_larger_than_the_fee_exempts_only_the_fee() {
        let approvals = [approval(0)];
        let assessments = [assessed(Infra, 100_000, Some(150_000))];
        let s = standing(
            ProjectFacts {
                approvals: &approvals,
                assessments: &assessments,
                payments: &[],
                tax_clearance: None,
            },
            DUE,
        );
        assert_eq!(
            (
                s.fees[0].exemption_fen,
                s.fees[0].net_fen,
                s.fees[0].outstanding_fen
            ),
            (100_000, 0, 0)
        );
        assert_eq!(s.status, AwaitingTaxClearance);
    }

    #[test]
    fn overdue_starts_the_day_after_the_due_date_and_ends_with_full_payment() {
        let approvals = [approval(0)];
        // (today, infra payments, exemption, line overdue)
        let cases: &[(Date, &[Fen], Option<Fen>, bool)] = &[
            (date!(2026 - 03 - 30), &[], None, false),
            (DUE, &[], None, false),
            (date!(2026 - 04 - 01), &[], None, true),
            (date!(2027 - 01 - 01), &[99_999], None, true),
            (date!(2026 - 04 - 01), &[100_000], None, false),
            (date!(2026 - 04 - 01), &[40_000, 60_000], None, false),
            (date!(2026 - 04 - 01), &[], Some(100_000), false),
        ];
        for (today, amounts, exempt, overdue) in cases {
            let assessments = [assessed(Infra, 100_000, *exempt)];
            let payments: Vec<Payment> = amounts.iter().map(|a| paid(Infra, *a)).collect();
            let s = standing(
                ProjectFacts {
                    approvals: &approvals,
                    assessments: &assessments,
                    payments: &payments,
                    tax_clearance: None,
                },
                *today,
            );
            assert_eq!(
                (s.fees[0].overdue, s.overdue),
                (*overdue, *overdue),
                "{today} {amounts:?} {exempt:?}"
            );
        }
    }

    #[test]
    fn one_overdue_fee_makes_the_project_overdue() {
        let approvals = [approval(20_000)];
        let mut late = assessed(Cd, 50_000, None);
        late.due_on = date!(2026 - 02 - 28);
        let assessments = [assessed(Infra, 100_000, None), late];
        let s = standing(
            ProjectFacts {
                approvals: &approvals,
                assessments: &assessments,
                payments: &[],
                tax_clearance: None,
            },
            date!(2026 - 03 - 15),
        );
        assert_eq!(
            s.fees.iter().map(|f| f.overdue).collect::<Vec<_>>(),
            vec![false, true]
        );
        assert!(s.overdue);
        assert_eq!(s.status, Due);
    }

    #[test]
    fn status_wire_names_are_snake_case() {
        let names: Vec<String> = [
            AwaitingAssessment,
            Due,
            PartlyPaid,
            AwaitingTaxClearance,
            Cleared,
        ]
        .iter()
        .map(|s| serde_json::to_string(s).unwrap())
        .collect();
        assert_eq!(
            names,
            [
                "\"awaiting_assessment\"",
                "\"due\"",
                "\"partly_paid\"",
                "\"awaiting_tax_clearance\"",
                "\"cleared\""
            ]
        );
    }
}
