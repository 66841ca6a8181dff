//! 项目代码: the investment project code, `2019-320105-47-01-123456`, treated as opaque
//! once its shape is right.

use crate::text_type::text_type;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectCodeError {
    #[error("项目代码不能为空")]
    Empty,
    #[error(
        "项目代码格式应为 YYYY-XXXXXX-XX-XX-XXXXXX（如 2019-320105-47-01-123456），第{position}位不符合"
    )]
    Shape { position: usize },
}

text_type!(
    /// A 项目代码 of the documented shape; every project-keyed row and command holds one.
    ProjectCode,
    ProjectCodeError,
    check_project_code
);

/// Serde for an optional code written as an empty string when absent, as commands about
/// system alerts carry it.
pub mod empty_as_none {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::ProjectCode;

    pub fn serialize<S: Serializer>(code: &Option<ProjectCode>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(code.as_ref().map_or("", ProjectCode::as_str))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ProjectCode>, D::Error> {
        let text = String::deserialize(d)?;
        if text.is_empty() {
            return Ok(None);
        }
        ProjectCode::parse(text).map(Some).map_err(serde::de::Error::custom)
    }
}

/// `^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$`: `D` is an ASCII digit, `-` itself.
const SHAPE: &[u8; 24] = b"DDDD-DDDDDD-DD-DD-DDDDDD";

/// Checks the shape only. `position` in the error is 1-based and counts characters; a
/// code that is too short fails at the first missing position, one too long at the 25th.
pub fn check_project_code(code: &str) -> Result<(), ProjectCodeError> {
    if code.is_empty() {
        return Err(ProjectCodeError::Empty);
    }
    let mut chars = code.chars();
    for (i, &expected) in SHAPE.iter().enumerate() {
        let fits = match chars.next() {
            Some(c) if expected == b'D' => c.is_ascii_digit(),
            Some(c) => c == '-',
            None => false,
        };
        if !fits {
            return Err(ProjectCodeError::Shape { position: i + 1 });
        }
    }
    match chars.next() {
        Some(_) => Err(ProjectCodeError::Shape {
            position: SHAPE.len() + 1,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_shape() {
        assert_eq!(check_project_code("2019-320105-47-01-123456"), Ok(()));
        assert_eq!(check_project_code("0000-000000-00-00-000000"), Ok(()));
    }

    #[test]
    fn names_the_first_position_that_does_not_fit() {
        let cases: &[(&str, usize)] = &[
            ("x019-320105-47-01-123456", 1),
            ("2019320105-47-01-123456", 5),
            ("2019-32010-547-01-123456", 11),
            ("2019-320105-47-01-12345a", 24),
            ("2019-320105-47-01-12345", 24),
            ("2019-320105-47-01-1234567", 25),
            ("2019-320105-47-01-123456 ", 25),
            (" 2019-320105-47-01-123456", 1),
            ("2019_320105_47_01_123456", 5),
            // Full-width digits are digits to Unicode but not to the shape.
            ("２019-320105-47-01-123456", 1),
            ("2019-320105-四7-01-123456", 13),
            ("2019", 5),
        ];
        for (code, position) in cases {
            assert_eq!(
                check_project_code(code),
                Err(ProjectCodeError::Shape {
                    position: *position
                }),
                "{code}"
            );
        }
    }

    #[test]
    fn a_code_travels_as_its_string_and_is_parsed_again_when_read() {
        let code = ProjectCode::parse("2019-320105-47-01-123456").unwrap();
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, r#""2019-320105-47-01-123456""#);
        assert_eq!(serde_json::from_str::<ProjectCode>(&json).unwrap(), code);
        let err = serde_json::from_str::<ProjectCode>(r#""2019-320105""#).unwrap_err();
        assert!(err.to_string().contains("第12位不符合"), "{err}");
    }

    #[test]
    fn empty_code_has_its_own_message() {
        assert_eq!(check_project_code(""), Err(ProjectCodeError::Empty));
        assert_eq!(
            check_project_code("2019-320105-47-01-12345")
                .unwrap_err()
                .to_string(),
            "项目代码格式应为 YYYY-XXXXXX-XX-XX-XXXXXX（如 2019-320105-47-01-123456），第24位不符合"
        );
    }
}
