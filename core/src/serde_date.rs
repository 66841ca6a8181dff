//! Civil dates on the wire as `YYYY-MM-DD`, the form every department's export uses.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};
use time::Date;
use time::format_description::FormatItem;
use time::macros::format_description;

pub const DATE_FORMAT: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

pub fn serialize<S: Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
    let text = date
        .format(DATE_FORMAT)
        .map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}

/// Takes the text borrowed or owned: the TOML parser, `serde_json::from_value` and
/// strings with escapes hand it over owned, and a `&str` field would refuse those.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    d.deserialize_str(DateVisitor)
}

struct DateVisitor;

impl Visitor<'_> for DateVisitor {
    type Value = Date;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a date as YYYY-MM-DD")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Date, E> {
        Date::parse(text, DATE_FORMAT)
            .map_err(|_| E::custom(format!("expected a date as YYYY-MM-DD, got {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use time::macros::date;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Dated {
        #[serde(with = "super")]
        on: Date,
    }

    use super::Date;

    #[test]
    fn round_trips_as_yyyy_mm_dd() {
        let dated = Dated {
            on: date!(2026 - 11 - 24),
        };
        let json = serde_json::to_string(&dated).unwrap();
        assert_eq!(json, r#"{"on":"2026-11-24"}"#);
        assert_eq!(serde_json::from_str::<Dated>(&json).unwrap(), dated);
    }

    #[test]
    fn accepts_owned_strings() {
        let value = serde_json::json!({ "on": "2019-01-01" });
        assert_eq!(
            serde_json::from_value::<Dated>(value).unwrap(),
            Dated {
                on: date!(2019 - 01 - 01)
            }
        );
        let escaped = r#"{"on":"2019\u002d01-01"}"#;
        assert_eq!(
            serde_json::from_str::<Dated>(escaped).unwrap(),
            Dated {
                on: date!(2019 - 01 - 01)
            }
        );
    }

    #[test]
    fn refuses_other_shapes_naming_the_text() {
        for text in ["2019-1-1", "2019/01/01", "2019-02-30", "20190101", ""] {
            let err = serde_json::from_str::<Dated>(&format!(r#"{{"on":"{text}"}}"#)).unwrap_err();
            assert!(
                err.to_string().contains(&format!("got {text:?}")),
                "{text}: {err}"
            );
        }
        assert!(serde_json::from_str::<Dated>(r#"{"on":20190101}"#).is_err());
    }
}
