//! The window works on Beijing time: due dates, "today" and every date shown are civil
//! dates in Asia/Shanghai (UTC+8 all year, no daylight saving), while instants are UTC.

use time::{Date, OffsetDateTime, UtcOffset};

pub const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("UTC+8 is a valid offset"),
};

/// The civil date in Asia/Shanghai at the instant `now`.
pub fn shanghai_date(now: OffsetDateTime) -> Date {
    now.to_offset(SHANGHAI).date()
}
