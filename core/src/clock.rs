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

/// `2026年11月24日 10:30`: an instant as a clerk reads it, in Asia/Shanghai.
pub fn shanghai_minute(at: OffsetDateTime) -> String {
    let local = at.to_offset(SHANGHAI);
    format!(
        "{}年{}月{}日 {:02}:{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn the_shanghai_day_starts_at_16_00_utc() {
        assert_eq!(
            shanghai_date(datetime!(2026-03-31 15:59:59 UTC)),
            date!(2026 - 03 - 31)
        );
        assert_eq!(
            shanghai_date(datetime!(2026-03-31 16:00:00 UTC)),
            date!(2026 - 04 - 01)
        );
        assert_eq!(
            shanghai_date(datetime!(2026-04-01 00:30 +08:00)),
            date!(2026 - 04 - 01)
        );
    }

    #[test]
    fn instants_read_in_shanghai_to_the_minute() {
        assert_eq!(shanghai_minute(datetime!(2026-03-31 16:05:59 UTC)), "2026年4月1日 00:05");
    }
}
