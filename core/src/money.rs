//! Money in integer fen: parsing, `¥1,234,567.89` display and 人民币大写.

/// An amount in fen (1/100 yuan). Never a float.
pub type Fen = i64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("金额格式不正确：{0:?}")]
    Malformed(String),
}

/// Parses `1234.5`, `1,234.56`, `¥1,234.56`, `-3` into fen; more than two decimals is an error.
pub fn parse_yuan(text: &str) -> Result<Fen, MoneyError> {
    todo!("{text}")
}

/// `¥1,234,567.89`; negative amounts as `-¥12.00`.
pub fn format_yuan(fen: Fen) -> String {
    todo!("{fen}")
}

/// 人民币大写 by 《支付结算办法》 and the convention in DOMAIN.md, prefixed `人民币`.
/// Negative amounts are refused by the caller's validation; this takes `fen >= 0`.
pub fn to_chinese_uppercase(fen: Fen) -> String {
    todo!("{fen}")
}
