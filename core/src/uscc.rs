//! 统一社会信用代码 (GB 32100-2015).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("统一社会信用代码应为18位，实际为{0}位")]
    Length(usize),
    #[error("统一社会信用代码第{position}位字符{found:?}不允许（不得使用 I、O、S、V、Z 及小写字母）")]
    Character { position: usize, found: char },
    #[error("统一社会信用代码校验位错误：应为{expected}，实际为{found}")]
    CheckDigit { expected: char, found: char },
}

/// Validates a USCC; Ok when shape and check character are right.
pub fn check_uscc(code: &str) -> Result<(), UsccError> {
    todo!("{code}")
}

/// The check character for the first 17 characters (used by the demo generator).
pub fn check_character(first17: &str) -> Result<char, UsccError> {
    todo!("{first17}")
}
