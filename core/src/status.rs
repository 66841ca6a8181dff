//! The derived fee status of a project, computed purely from the facts the departments sent.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::entity::{FeeAssessment, FeeKind, Payment, PlanningApproval, TaxClearance};
use crate::money::Fen;

/// Where a project's fees stand. Ordered along the way a project normally goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
pub struct Standing {
    pub status: FeeStatus,
    pub overdue: bool,
    pub fees: Vec<FeeLine>,
    pub assessed_fen: Fen,
    pub paid_fen: Fen,
    pub outstanding_fen: Fen,
}

pub fn standing(facts: ProjectFacts<'_>, today: Date) -> Standing {
    let _ = (facts, today);
    todo!()
}
