//! The versioned tariff: fen per m² by use type, each rate effective from a date and set
//! by a document (文号).

use serde::{Deserialize, Serialize};
use time::Date;

use crate::entity::AreaCm2;
use crate::money::Fen;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UseType {
    Residential,
    NonResidential,
    /// 人防易地建设: the province's rate per m² of basement not built.
    CivilDefence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub use_type: UseType,
    pub fen_per_m2: Fen,
    #[serde(with = "crate::serde_date")]
    pub effective_from: Date,
    pub document_no: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tariff {
    /// Shown wherever the tariff is: `true` for the demo rates shipped in assets/.
    pub demo: bool,
    pub rates: Vec<Rate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TariffError {
    #[error("收费标准文件格式错误：{0}")]
    Parse(String),
    #[error("{date} 没有有效的{use_type:?}收费标准")]
    NoRate { use_type: UseType, date: Date },
}

/// An amount assessed from a tariff, with the 文号 it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessed {
    pub amount_fen: Fen,
    pub basis: String,
}

impl Tariff {
    /// The rate in force for `use_type` on `date`: the latest `effective_from <= date`.
    pub fn rate_on(&self, use_type: UseType, date: Date) -> Result<&Rate, TariffError> {
        let _ = (use_type, date);
        todo!()
    }

    /// Infrastructure fee for the approved areas on `date` (before exemption).
    pub fn infra_fee(&self, residential: AreaCm2, non_residential: AreaCm2, date: Date) -> Result<Assessed, TariffError> {
        let _ = (residential, non_residential, date);
        todo!()
    }

    /// Civil-defence fee expected for `area` on `date`, to cross-check a 人防 notice.
    pub fn civil_defence_fee(&self, area: AreaCm2, date: Date) -> Result<Assessed, TariffError> {
        let _ = (area, date);
        todo!()
    }
}
