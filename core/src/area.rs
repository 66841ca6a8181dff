//! Areas: 住宅 / 非住宅 / 人防 面积, in m² with two decimals, kept as whole hundredths of a
//! square metre so that sums and fees are exact. Its own type, so an area is never added
//! to money or passed where fen are expected.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::decimal::{Fault, grouped, hundredths};

/// An area in hundredths of a square metre (`Area::from_hundredths(12345)` = 123.45 m²).
/// On the wire and in payloads it is that whole number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(transparent)]
pub struct Area(i64);

/// What is wrong with an area as written; each says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaError {
    #[error("面积不能为空，请填写如 1234.56 的面积（单位：平方米）")]
    Empty,
    #[error("面积应为非负数")]
    Negative,
    #[error("应为面积数字（单位：平方米），如 1234.56，不能带货币符号")]
    Currency,
    #[error("应为面积数字（单位：平方米），如 1234.56")]
    NotANumber,
    #[error("面积最多保留两位小数（精确到0.01平方米）")]
    TooManyDecimals,
    #[error("千分位逗号位置不对，应每三位一个，如 1,234.56")]
    Comma,
    #[error("面积数值过大")]
    Overflow,
}

impl Area {
    pub const ZERO: Area = Area(0);

    pub const fn from_hundredths(hundredths: i64) -> Area {
        Area(hundredths)
    }

    /// Whole square metres, for rates and generated data.
    pub const fn from_m2(m2: i64) -> Area {
        Area(m2 * 100)
    }

    pub const fn hundredths(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Area) -> Option<Area> {
        self.0.checked_add(other.0).map(Area)
    }

    pub fn saturating_add(self, other: Area) -> Area {
        Area(self.0.saturating_add(other.0))
    }

    /// `1234.5`, `1,234.56`, with or without a trailing `m²`, `㎡` or `平方米`. Not the
    /// money parser: a `¥` or a minus sign is an error here, not part of the number.
    pub fn parse(text: &str) -> Result<Area, AreaError> {
        let body = text.trim();
        let body = ["平方米", "m²", "m2", "㎡"]
            .iter()
            .find_map(|unit| body.strip_suffix(unit))
            .unwrap_or(body)
            .trim_end();
        if body.is_empty() {
            return Err(AreaError::Empty);
        }
        if body.contains(['¥', '￥']) {
            return Err(AreaError::Currency);
        }
        if body.starts_with('-') {
            return Err(AreaError::Negative);
        }
        hundredths(body).map(Area).map_err(|fault| match fault {
            Fault::Character(_) | Fault::DecimalPoint => AreaError::NotANumber,
            Fault::TooManyDecimals => AreaError::TooManyDecimals,
            Fault::Comma => AreaError::Comma,
            Fault::Overflow => AreaError::Overflow,
        })
    }
}

/// `1,234.56 m²`; what [`Area::parse`] reads back.
impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{:02} m²", grouped(abs / 100), abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_are_read_as_exact_hundredths_of_a_square_metre() {
        for (text, hundredths) in [
            ("1234.5", 123_450),
            ("1,234.56", 123_456),
            (" 880 ", 88_000),
            ("0.01", 1),
            ("12000.00 m²", 1_200_000),
            ("300㎡", 30_000),
            ("45.6平方米", 4_560),
        ] {
            assert_eq!(Area::parse(text), Ok(Area::from_hundredths(hundredths)), "{text}");
        }
    }

    #[test]
    fn a_wrong_area_is_refused_naming_what_to_fix() {
        for (text, error) in [
            ("", AreaError::Empty),
            ("㎡", AreaError::Empty),
            ("-12.5", AreaError::Negative),
            ("¥1,234.00", AreaError::Currency),
            ("1234.567", AreaError::TooManyDecimals),
            ("12,34.5", AreaError::Comma),
            ("十二", AreaError::NotANumber),
            ("1.2.3", AreaError::NotANumber),
            ("99999999999999999999", AreaError::Overflow),
        ] {
            assert_eq!(Area::parse(text), Err(error), "{text}");
        }
    }

    #[test]
    fn an_area_is_shown_in_square_metres_and_reads_back() {
        for hundredths in [0, 1, 99, 100, 123_456, 1_200_000, 123_456_789_012] {
            let area = Area::from_hundredths(hundredths);
            assert_eq!(Area::parse(&area.to_string()), Ok(area));
        }
        assert_eq!(Area::from_hundredths(1_200_000).to_string(), "12,000.00 m²");
        assert_eq!(Area::from_m2(300), Area::from_hundredths(30_000));
    }

    #[test]
    fn an_area_travels_as_its_whole_number_of_hundredths() {
        assert_eq!(serde_json::to_string(&Area::from_hundredths(123_450)).unwrap(), "123450");
        assert_eq!(serde_json::from_str::<Area>("88000").unwrap(), Area::from_hundredths(88_000));
    }
}
