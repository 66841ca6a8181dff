//! The versioned tariff: fen per m² by use type, each rate effective from a date and set
//! by a document (文号).

use serde::{Deserialize, Serialize};
use time::Date;

use crate::area::Area;
use crate::money::Fen;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum UseType {
    Residential,
    NonResidential,
    /// 人防易地建设: the province's rate per m² of basement not built.
    CivilDefence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub use_type: UseType,
    pub fen_per_m2: Fen,
    #[serde(with = "crate::serde_date")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub effective_from: Date,
    pub document_no: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    /// Shown wherever the tariff is: `true` for the demo rates shipped in assets/.
    pub demo: bool,
    pub rates: Vec<Rate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TariffError {
    #[error("收费标准文件格式错误：{0}")]
    Parse(String),
    #[error("{date} 没有生效的{}收费标准，请在收费标准中补充该日期适用的费率", use_type.name_zh())]
    NoRate { use_type: UseType, date: Date },
    #[error("面积不能为负数：{0}")]
    NegativeArea(Area),
    #[error("面积 {area} 按收费标准计算的金额超出可处理的范围")]
    Overflow { area: Area },
}

/// An amount assessed from a tariff, with the 文号 it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessed {
    pub amount_fen: Fen,
    pub basis: String,
}

impl UseType {
    pub fn name_zh(self) -> &'static str {
        match self {
            UseType::Residential => "住宅",
            UseType::NonResidential => "非住宅",
            UseType::CivilDefence => "人防易地建设",
        }
    }
}

/// Marks every basis assessed from a demo tariff, so a demo amount never passes for real.
pub const DEMO_MARK: &str = "（演示费率）";

impl Tariff {
    /// Parses and checks a tariff file (see `assets/tariff-demo.toml` for the layout).
    /// Syntax errors name the line and column; a rate that is negative, has no 文号 or
    /// repeats another's use type and date is refused, since any of those would make an
    /// assessment wrong or ambiguous.
    pub fn from_toml(text: &str) -> Result<Tariff, TariffError> {
        let tariff: Tariff = toml::from_str(text).map_err(|e| TariffError::Parse(e.to_string()))?;
        for (i, rate) in tariff.rates.iter().enumerate() {
            let row = i + 1;
            if rate.fen_per_m2 < 0 {
                return Err(TariffError::Parse(format!(
                    "第{row}条费率（{}）为负数",
                    rate.use_type.name_zh()
                )));
            }
            if rate.document_no.trim().is_empty() {
                return Err(TariffError::Parse(format!(
                    "第{row}条费率（{}）缺少文号",
                    rate.use_type.name_zh()
                )));
            }
            let earlier = tariff.rates[..i].iter().position(|r| {
                r.use_type == rate.use_type && r.effective_from == rate.effective_from
            });
            if let Some(j) = earlier {
                return Err(TariffError::Parse(format!(
                    "第{}条与第{row}条费率的用途（{}）和生效日期（{}）相同，无法确定适用哪一条",
                    j + 1,
                    rate.use_type.name_zh(),
                    rate.effective_from
                )));
            }
        }
        Ok(tariff)
    }

    /// The demo tariff shipped in `assets/tariff-demo.toml`, marked `demo = true`.
    pub fn demo() -> Tariff {
        Tariff::from_toml(include_str!("../../assets/tariff-demo.toml"))
            .expect("the shipped demo tariff parses (checked by the tariff tests)")
    }

    /// The rate in force for `use_type` on `date`: the latest `effective_from <= date`.
    pub fn rate_on(&self, use_type: UseType, date: Date) -> Result<&Rate, TariffError> {
        self.rates
            .iter()
            .filter(|r| r.use_type == use_type && r.effective_from <= date)
            .max_by_key(|r| r.effective_from)
            .ok_or(TariffError::NoRate { use_type, date })
    }

    /// Infrastructure fee for the approved areas on `date` (before exemption).
    ///
    /// Each use type is rounded to the fen on its own, then summed, because that is how the
    /// assessment notice lists them: one line per use type, each a whole number of fen.
    /// Both rates must be in force on `date` even when one area is zero, so a tariff with
    /// a gap is found on the first assessment rather than on the first mixed-use project.
    pub fn infra_fee(
        &self,
        residential: Area,
        non_residential: Area,
        date: Date,
    ) -> Result<Assessed, TariffError> {
        let res = self.rate_on(UseType::Residential, date)?;
        let non_res = self.rate_on(UseType::NonResidential, date)?;
        let amount_fen = area_fee(residential, res)?
            .checked_add(area_fee(non_residential, non_res)?)
            .ok_or(TariffError::Overflow {
                area: residential.saturating_add(non_residential),
            })?;
        Ok(Assessed {
            amount_fen,
            basis: self.basis(&[res, non_res]),
        })
    }

    /// Civil-defence fee expected for `area` on `date`, to cross-check a 人防 notice.
    pub fn civil_defence_fee(&self, area: Area, date: Date) -> Result<Assessed, TariffError> {
        let rate = self.rate_on(UseType::CivilDefence, date)?;
        Ok(Assessed {
            amount_fen: area_fee(area, rate)?,
            basis: self.basis(&[rate]),
        })
    }

    /// The distinct 文号 in order, joined by 、, marked when the tariff is the demo.
    fn basis(&self, rates: &[&Rate]) -> String {
        let mut documents: Vec<&str> = Vec::new();
        for rate in rates {
            if !documents.contains(&rate.document_no.as_str()) {
                documents.push(&rate.document_no);
            }
        }
        let mut basis = documents.join("、");
        if self.demo {
            basis.push_str(DEMO_MARK);
        }
        basis
    }
}

/// `area` (hundredths of m²) × fen per m², rounded half up to the fen: the product is in
/// hundredths of a fen, so 0.50 fen and more rounds up. Computed in i128 so a large area
/// times a large rate cannot wrap before the division.
fn area_fee(area: Area, rate: &Rate) -> Result<Fen, TariffError> {
    if area.is_negative() {
        return Err(TariffError::NegativeArea(area));
    }
    let hundredths_of_fen = i128::from(area.hundredths()) * i128::from(rate.fen_per_m2);
    Fen::try_from((hundredths_of_fen + 50).div_euclid(100))
        .map_err(|_| TariffError::Overflow { area })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn a(hundredths: i64) -> Area {
        Area::from_hundredths(hundredths)
    }

    fn rate(use_type: UseType, fen_per_m2: Fen, effective_from: Date, document_no: &str) -> Rate {
        Rate {
            use_type,
            fen_per_m2,
            effective_from,
            document_no: document_no.to_owned(),
        }
    }

    #[test]
    fn the_shipped_demo_tariff_parses_and_is_marked_demo() {
        let tariff = Tariff::demo();
        assert!(tariff.demo);
        assert_eq!(tariff.rates.len(), 6);
        assert_eq!(
            tariff.rates[1],
            rate(
                UseType::Residential,
                18_000,
                date!(2024 - 01 - 01),
                "演示〔2024〕1号"
            )
        );
        assert!(
            tariff
                .rates
                .iter()
                .all(|r| r.document_no.starts_with("演示"))
        );
    }

    #[test]
    fn rate_switches_on_its_effective_date() {
        let tariff = Tariff::demo();
        let cases: &[(UseType, Date, Fen)] = &[
            (UseType::Residential, date!(2019 - 01 - 01), 15_000),
            (UseType::Residential, date!(2023 - 12 - 31), 15_000),
            (UseType::Residential, date!(2024 - 01 - 01), 18_000),
            (UseType::Residential, date!(2030 - 06 - 30), 18_000),
            (UseType::NonResidential, date!(2023 - 12 - 31), 20_000),
            (UseType::NonResidential, date!(2024 - 01 - 01), 23_000),
            (UseType::CivilDefence, date!(2023 - 12 - 31), 240_000),
            (UseType::CivilDefence, date!(2024 - 01 - 01), 260_000),
        ];
        for (use_type, on, fen_per_m2) in cases {
            assert_eq!(
                tariff.rate_on(*use_type, *on).unwrap().fen_per_m2,
                *fen_per_m2,
                "{use_type:?} {on}"
            );
        }
    }

    #[test]
    fn rate_order_in_the_file_does_not_matter() {
        let tariff = Tariff {
            demo: false,
            rates: vec![
                rate(UseType::Residential, 300, date!(2024 - 01 - 01), "B"),
                rate(UseType::Residential, 100, date!(2010 - 01 - 01), "A"),
                rate(UseType::Residential, 200, date!(2019 - 01 - 01), "C"),
            ],
        };
        assert_eq!(
            tariff
                .rate_on(UseType::Residential, date!(2020 - 01 - 01))
                .unwrap()
                .document_no,
            "C"
        );
        assert_eq!(
            tariff
                .rate_on(UseType::Residential, date!(2024 - 06 - 01))
                .unwrap()
                .document_no,
            "B"
        );
    }

    #[test]
    fn no_rate_before_the_first_effective_date() {
        let err = Tariff::demo()
            .rate_on(UseType::Residential, date!(2018 - 12 - 31))
            .unwrap_err();
        assert_eq!(
            err,
            TariffError::NoRate {
                use_type: UseType::Residential,
                date: date!(2018 - 12 - 31)
            }
        );
        assert_eq!(
            Tariff::demo().civil_defence_fee(a(100), date!(2018 - 12 - 31)),
            Err(TariffError::NoRate {
                use_type: UseType::CivilDefence,
                date: date!(2018 - 12 - 31)
            })
        );
    }

    #[test]
    fn infra_fee_sums_both_use_types_and_names_the_document() {
        let tariff = Tariff::demo();
        // 1,000.00 m² × 180 + 250.50 m² × 230 = 180,000 + 57,615 yuan.
        assert_eq!(
            tariff.infra_fee(a(100_000), a(25_050), date!(2024 - 03 - 01)),
            Ok(Assessed {
                amount_fen: 23_761_500,
                basis: "演示〔2024〕1号（演示费率）".to_owned()
            })
        );
        // The day before the switch: 1,000.00 × 150 + 250.50 × 200.
        assert_eq!(
            tariff
                .infra_fee(a(100_000), a(25_050), date!(2023 - 12 - 31))
                .unwrap()
                .amount_fen,
            20_010_000
        );
    }

    #[test]
    fn infra_fee_names_each_distinct_document_and_only_marks_demo_tariffs() {
        let tariff = Tariff {
            demo: false,
            rates: vec![
                rate(
                    UseType::Residential,
                    15_000,
                    date!(2023 - 01 - 01),
                    "宁价费〔2023〕1号",
                ),
                rate(
                    UseType::NonResidential,
                    20_000,
                    date!(2019 - 01 - 01),
                    "宁价费〔2019〕5号",
                ),
            ],
        };
        assert_eq!(
            tariff.infra_fee(a(100), a(100), date!(2024 - 01 - 01)),
            Ok(Assessed {
                amount_fen: 35_000,
                basis: "宁价费〔2023〕1号、宁价费〔2019〕5号".to_owned()
            })
        );
    }

    #[test]
    fn infra_fee_needs_both_rates_even_for_a_zero_area() {
        let tariff = Tariff {
            demo: false,
            rates: vec![rate(
                UseType::Residential,
                15_000,
                date!(2019 - 01 - 01),
                "A",
            )],
        };
        assert_eq!(
            tariff.infra_fee(a(100), a(0), date!(2024 - 01 - 01)),
            Err(TariffError::NoRate {
                use_type: UseType::NonResidential,
                date: date!(2024 - 01 - 01)
            })
        );
    }

    #[test]
    fn each_use_type_rounds_half_up_to_the_fen_on_its_own() {
        let tariff = Tariff {
            demo: false,
            rates: vec![
                rate(UseType::Residential, 1, date!(2019 - 01 - 01), "A"),
                rate(UseType::NonResidential, 3, date!(2019 - 01 - 01), "A"),
                rate(UseType::CivilDefence, 1, date!(2019 - 01 - 01), "A"),
            ],
        };
        let on = date!(2024 - 01 - 01);
        let cases: &[(i64, i64, Fen)] = &[
            (49, 0, 0),  // 0.49 fen
            (50, 0, 1),  // 0.50 fen rounds up
            (150, 0, 2), // 1.50 fen
            (149, 0, 1), // 1.49 fen
            (50, 50, 3), // 0.50 → 1, plus 1.50 → 2: rounding each part, not the sum (2.00)
            (0, 17, 1),  // 0.51 fen
            (0, 16, 0),  // 0.48 fen
            (0, 0, 0),
        ];
        for (res, non_res, fen) in cases {
            assert_eq!(
                tariff.infra_fee(a(*res), a(*non_res), on).unwrap().amount_fen,
                *fen,
                "{res} {non_res}"
            );
        }
        assert_eq!(tariff.civil_defence_fee(a(250), on).unwrap().amount_fen, 3);
        assert_eq!(tariff.civil_defence_fee(a(249), on).unwrap().amount_fen, 2);
    }

    #[test]
    fn civil_defence_fee_uses_the_civil_defence_rate() {
        // 123.45 m² × 2,600 元/m² = 320,970 元.
        assert_eq!(
            Tariff::demo().civil_defence_fee(a(12_345), date!(2024 - 05 - 20)),
            Ok(Assessed {
                amount_fen: 32_097_000,
                basis: "演示〔2024〕2号（演示费率）".to_owned()
            })
        );
    }

    #[test]
    fn refuses_negative_and_incomputable_areas() {
        let tariff = Tariff::demo();
        let on = date!(2024 - 01 - 01);
        assert_eq!(
            tariff.infra_fee(a(-1), Area::ZERO, on),
            Err(TariffError::NegativeArea(a(-1)))
        );
        assert_eq!(
            tariff.civil_defence_fee(a(-5), on),
            Err(TariffError::NegativeArea(a(-5)))
        );
        assert_eq!(
            tariff.civil_defence_fee(a(i64::MAX), on),
            Err(TariffError::Overflow { area: a(i64::MAX) })
        );
        // Each part fits but the sum does not.
        let huge = a(i64::MAX / 230);
        assert_eq!(
            tariff.infra_fee(huge, huge, on),
            Err(TariffError::Overflow {
                area: huge.saturating_add(huge)
            })
        );
    }

    #[test]
    fn parses_a_minimal_tariff() {
        let text = r#"
demo = false

[[rates]]
use_type = "civil_defence"
fen_per_m2 = 250000
effective_from = "2021-07-01"
document_no = "苏人防〔2021〕示例号"
"#;
        assert_eq!(
            Tariff::from_toml(text),
            Ok(Tariff {
                demo: false,
                rates: vec![rate(
                    UseType::CivilDefence,
                    250_000,
                    date!(2021 - 07 - 01),
                    "苏人防〔2021〕示例号"
                )],
            })
        );
    }

    fn parse_error(text: &str) -> String {
        match Tariff::from_toml(text) {
            Err(TariffError::Parse(message)) => message,
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let message = parse_error(
            "demo = true\n[[rates]]\nuse_type = \"residential\"\nfen_per_m2 = 15000\neffective_from = \"2019-01-01\"\ndocument_no = 演示\n",
        );
        assert!(message.contains("line 6"), "{message}");
    }

    #[test]
    fn field_errors_name_the_line_and_the_field() {
        let unknown_use = "demo = true\n[[rates]]\nuse_type = \"commercial\"\nfen_per_m2 = 1\neffective_from = \"2019-01-01\"\ndocument_no = \"A\"\n";
        let message = parse_error(unknown_use);
        assert!(
            message.contains("line 3") && message.contains("commercial"),
            "{message}"
        );

        let bad_date = "demo = true\n[[rates]]\nuse_type = \"residential\"\nfen_per_m2 = 1\neffective_from = \"2019-13-01\"\ndocument_no = \"A\"\n";
        let message = parse_error(bad_date);
        assert!(
            message.contains("line 5") && message.contains("2019-13-01"),
            "{message}"
        );

        let typo = "demo = true\n[[rates]]\nuse_type = \"residential\"\nfen_per_m = 1\neffective_from = \"2019-01-01\"\ndocument_no = \"A\"\n";
        let message = parse_error(typo);
        assert!(message.contains("fen_per_m"), "{message}");

        assert!(parse_error("rates = []\n").contains("demo"));
    }

    #[test]
    fn refuses_rates_that_would_make_assessments_wrong_or_ambiguous() {
        let row = |use_type: &str, fen: i64, from: &str, doc: &str| {
            format!(
                "[[rates]]\nuse_type = \"{use_type}\"\nfen_per_m2 = {fen}\neffective_from = \"{from}\"\ndocument_no = \"{doc}\"\n"
            )
        };
        let negative = format!("demo = true\n{}", row("residential", -1, "2019-01-01", "A"));
        assert_eq!(parse_error(&negative), "第1条费率（住宅）为负数");

        let no_document = format!(
            "demo = true\n{}",
            row("non_residential", 1, "2019-01-01", " ")
        );
        assert_eq!(parse_error(&no_document), "第1条费率（非住宅）缺少文号");

        let duplicate = format!(
            "demo = true\n{}{}{}",
            row("residential", 1, "2019-01-01", "A"),
            row("non_residential", 1, "2019-01-01", "A"),
            row("residential", 2, "2019-01-01", "B"),
        );
        assert_eq!(
            parse_error(&duplicate),
            "第1条与第3条费率的用途（住宅）和生效日期（2019-01-01）相同，无法确定适用哪一条"
        );
    }

    #[test]
    fn errors_read_as_chinese() {
        assert_eq!(
            TariffError::Parse("第1条费率（住宅）为负数".into()).to_string(),
            "收费标准文件格式错误：第1条费率（住宅）为负数"
        );
        assert_eq!(
            TariffError::NegativeArea(a(-5)).to_string(),
            "面积不能为负数：-0.05 m²"
        );
    }
}
