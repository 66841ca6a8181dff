//! Civil dates on the wire as `YYYY-MM-DD`, the form every department's export uses.

use serde::{Deserialize, Deserializer, Serializer};
use time::Date;
use time::format_description::FormatItem;
use time::macros::format_description;

pub const DATE_FORMAT: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

pub fn serialize<S: Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
    let text = date.format(DATE_FORMAT).map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    let text = <&str>::deserialize(d)?;
    Date::parse(text, DATE_FORMAT)
        .map_err(|_| serde::de::Error::custom(format!("expected a date as YYYY-MM-DD, got {text:?}")))
}
