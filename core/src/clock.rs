//! The window works on Beijing time: due dates, "today" and every date shown are civil
//! dates in Asia/Shanghai (UTC+8 all year, no daylight saving), while instants are UTC.

use std::sync::Arc;

use time::{Date, OffsetDateTime, UtcOffset};

pub const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("UTC+8 is a valid offset"),
};

/// The civil date in Asia/Shanghai at the instant `now`.
pub fn shanghai_date(now: OffsetDateTime) -> Date {
    now.to_offset(SHANGHAI).date()
}

/// Where "now" comes from: the system clock in the product. A suite gives a counter a
/// clock it moves by hand, to live through days in seconds: an outage across midnights,
/// deadlines passing while nothing else happens.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> OffsetDateTime + Send + Sync>);

impl Clock {
    pub fn system() -> Clock {
        Clock(Arc::new(OffsetDateTime::now_utc))
    }

    pub fn from_fn(now: impl Fn() -> OffsetDateTime + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    pub fn now(&self) -> OffsetDateTime {
        (self.0)()
    }

    /// Today in Asia/Shanghai.
    pub fn today(&self) -> Date {
        shanghai_date(self.now())
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

/// A clock set and moved by hand: how the suites live through days in seconds (an outage
/// across midnights, deadlines passing while nothing else happens).
#[derive(Clone)]
pub struct SimulatedClock(Arc<std::sync::Mutex<OffsetDateTime>>);

impl SimulatedClock {
    pub fn starting_at(now: OffsetDateTime) -> SimulatedClock {
        SimulatedClock(Arc::new(std::sync::Mutex::new(now)))
    }

    pub fn set(&self, now: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = now;
    }

    pub fn advance(&self, by: time::Duration) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += by;
    }

    pub fn clock(&self) -> Clock {
        let now = Arc::clone(&self.0);
        Clock::from_fn(move || *now.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
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
    fn a_clock_tells_the_shanghai_date_of_its_instant() {
        let clock = Clock::from_fn(|| datetime!(2026-03-31 16:00:00 UTC));
        assert_eq!(clock.today(), date!(2026 - 04 - 01));
        let system = Clock::system().now();
        assert!((system - OffsetDateTime::now_utc()).abs() < time::Duration::seconds(5));
    }

    #[test]
    fn instants_read_in_shanghai_to_the_minute() {
        assert_eq!(shanghai_minute(datetime!(2026-03-31 16:05:59 UTC)), "2026年4月1日 00:05");
    }
}
