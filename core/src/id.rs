//! Ids a counter makes up and the hub keys on: opaque, but short and printable, because
//! they end up in logs, file names and the clerk's conflict list.

use crate::text_type::text_type;

/// Longest device or command id, in characters.
pub const MAX_ID_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("应为 1–{MAX_ID_CHARS} 个字符且不含控制字符，收到 {chars} 个字符")]
pub struct IdError {
    pub chars: usize,
}

pub(crate) fn check_id(value: &str) -> Result<(), IdError> {
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_ID_CHARS || value.chars().any(char::is_control) {
        return Err(IdError { chars });
    }
    Ok(())
}

text_type!(
    /// The id a counter PC was registered under.
    DeviceId,
    IdError,
    check_id
);

text_type!(
    /// The id a counter gave a clerk command; the hub runs a command id once.
    CommandId,
    IdError,
    check_id
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_short_printable_text() {
        assert!(DeviceId::parse("counter-01").is_ok());
        assert!(CommandId::parse("c".repeat(MAX_ID_CHARS)).is_ok());
        assert_eq!(CommandId::parse(""), Err(IdError { chars: 0 }));
        assert_eq!(
            CommandId::parse("c".repeat(MAX_ID_CHARS + 1)),
            Err(IdError { chars: MAX_ID_CHARS + 1 })
        );
        assert_eq!(DeviceId::parse("a\u{0}b"), Err(IdError { chars: 3 }));
        let err = serde_json::from_str::<DeviceId>(r#""""#).unwrap_err();
        assert!(err.to_string().contains("收到 0 个字符"), "{err}");
    }
}
