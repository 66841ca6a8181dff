//! 统一社会信用代码 (GB 32100-2015).

use crate::text_type::text_type;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("统一社会信用代码应为18位，实际为{0}位")]
    Length(usize),
    #[error(
        "统一社会信用代码第{position}位字符{found:?}不允许（不得使用 I、O、S、V、Z 及小写字母）"
    )]
    Character { position: usize, found: char },
    #[error("统一社会信用代码校验位错误：应为{expected}，实际为{found}")]
    CheckDigit { expected: char, found: char },
    #[error("计算校验位需要统一社会信用代码的前17位，实际为{0}位")]
    BodyLength(usize),
}

/// The 31 characters a USCC may use; a character's value is its index here.
pub const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

text_type!(
    /// A USCC of the right shape: 18 characters of the alphabet. Its check character may
    /// still be wrong — legacy codes in circulation are kept and flagged, not refused
    /// (DOMAIN.md) — so [`Uscc::check_character_holds`] says whether it is.
    Uscc,
    UsccError,
    check_shape
);

impl Uscc {
    pub fn check_character_holds(&self) -> Result<(), UsccError> {
        check_uscc(self.as_str())
    }
}

/// Validates a USCC; Ok when shape and check character are right.
pub fn check_uscc(code: &str) -> Result<(), UsccError> {
    check_shape(code)?;
    let chars: Vec<char> = code.chars().collect();
    let expected = check_character_of(&chars[..17])?;
    let found = chars[17];
    if found == expected {
        Ok(())
    } else {
        Err(UsccError::CheckDigit { expected, found })
    }
}

/// The check character for the first 17 characters (used by the demo generator).
pub fn check_character(first17: &str) -> Result<char, UsccError> {
    let chars: Vec<char> = first17.chars().collect();
    if chars.len() != 17 {
        return Err(UsccError::BodyLength(chars.len()));
    }
    check_character_of(&chars)
}

fn check_character_of(first17: &[char]) -> Result<char, UsccError> {
    let mut sum = 0;
    for (i, (&c, weight)) in first17.iter().zip(WEIGHTS).enumerate() {
        sum += value(c).ok_or(UsccError::Character {
            position: i + 1,
            found: c,
        })? * weight;
    }
    let c = (31 - sum % 31) % 31;
    Ok(char::from(USCC_ALPHABET.as_bytes()[c as usize]))
}

/// Length and alphabet. Every position is checked before the check character so that a
/// typo in the body is reported where it is, not as a wrong check character.
fn check_shape(code: &str) -> Result<(), UsccError> {
    let chars = code.chars().count();
    if chars != 18 {
        return Err(UsccError::Length(chars));
    }
    for (i, c) in code.chars().enumerate() {
        value(c).ok_or(UsccError::Character {
            position: i + 1,
            found: c,
        })?;
    }
    Ok(())
}

fn value(c: char) -> Option<u32> {
    USCC_ALPHABET.find(c).map(|i| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legacy_code_parses_and_says_its_check_character_is_wrong() {
        let legacy = Uscc::parse("91350100M000100Y44").unwrap();
        assert_eq!(
            legacy.check_character_holds(),
            Err(UsccError::CheckDigit {
                expected: '3',
                found: '4'
            })
        );
        assert_eq!(Uscc::parse("91350100M000100Y43").unwrap().check_character_holds(), Ok(()));
        assert_eq!(Uscc::parse("91350100M000100Y4"), Err(UsccError::Length(17)));
        let err = serde_json::from_str::<Uscc>(r#""91350100m000100Y43""#).unwrap_err();
        assert!(err.to_string().contains("第9位字符'm'不允许"), "{err}");
    }

    #[test]
    fn accepts_the_published_examples() {
        assert_eq!(check_uscc("91350100M000100Y43"), Ok(()));
        assert_eq!(check_uscc("91350200776049653A"), Ok(()));
    }

    #[test]
    fn computes_the_check_character_of_the_examples() {
        assert_eq!(check_character("91350100M000100Y4"), Ok('3'));
        assert_eq!(check_character("91350200776049653"), Ok('A'));
    }

    #[test]
    fn a_sum_divisible_by_31_gives_check_character_zero() {
        // All zeros sum to 0: c = 31 − 0 = 31, which the standard maps to 0.
        assert_eq!(check_character("00000000000000000"), Ok('0'));
        assert_eq!(check_uscc("000000000000000000"), Ok(()));
    }

    #[test]
    fn every_check_character_value_is_reachable() {
        // Raising position 1 by one adds weight 1 to the sum, so the check value steps
        // down by one through the whole alphabet.
        let mut seen: Vec<char> = USCC_ALPHABET
            .chars()
            .map(|first| check_character(&format!("{first}0000000000000000")).unwrap())
            .collect();
        seen.sort_unstable();
        let mut alphabet: Vec<char> = USCC_ALPHABET.chars().collect();
        alphabet.sort_unstable();
        assert_eq!(seen, alphabet);
    }

    #[test]
    fn rejects_wrong_length_counting_characters_not_bytes() {
        assert_eq!(check_uscc(""), Err(UsccError::Length(0)));
        assert_eq!(check_uscc("91350100M000100Y4"), Err(UsccError::Length(17)));
        assert_eq!(
            check_uscc("91350100M000100Y433"),
            Err(UsccError::Length(19))
        );
        assert_eq!(
            check_uscc("91350100M000100Y4三"),
            Err(UsccError::Character {
                position: 18,
                found: '三'
            })
        );
        assert_eq!(check_character("9135"), Err(UsccError::BodyLength(4)));
    }

    #[test]
    fn rejects_forbidden_and_lowercase_characters_by_position() {
        let cases: &[(&str, usize, char)] = &[
            ("91350100m000100Y43", 9, 'm'),
            ("I1350100M000100Y43", 1, 'I'),
            ("91O50100M000100Y43", 3, 'O'),
            ("91350100S000100Y43", 9, 'S'),
            ("91350100M000100V43", 16, 'V'),
            ("91350100M000100YZ3", 17, 'Z'),
            ("91350100M000100Y4I", 18, 'I'),
            ("91350100M000100y43", 16, 'y'),
            ("91350100M-00100Y43", 10, '-'),
        ];
        for (code, position, found) in cases {
            assert_eq!(
                check_uscc(code),
                Err(UsccError::Character {
                    position: *position,
                    found: *found
                }),
                "{code}"
            );
        }
    }

    #[test]
    fn rejects_a_wrong_check_character_naming_both() {
        let err = check_uscc("91350100M000100Y44").unwrap_err();
        assert_eq!(
            err,
            UsccError::CheckDigit {
                expected: '3',
                found: '4'
            }
        );
        assert_eq!(
            err.to_string(),
            "统一社会信用代码校验位错误：应为3，实际为4"
        );
        assert_eq!(
            check_uscc("91350200776049653B"),
            Err(UsccError::CheckDigit {
                expected: 'A',
                found: 'B'
            })
        );
    }

    #[test]
    fn a_single_changed_body_character_is_caught() {
        assert_eq!(
            check_uscc("91350100M000200Y43"),
            Err(UsccError::CheckDigit {
                expected: check_character("91350100M000200Y4").unwrap(),
                found: '3'
            })
        );
        assert_ne!(check_character("91350100M000200Y4"), Ok('3'));
    }
}
