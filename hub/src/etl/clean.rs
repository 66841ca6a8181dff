//! Cleaning what departments send, whatever the route (file, database, push): what a
//! clerk typed in full-width mode, stray spaces and dashes, dates in every spelling. Codes
//! cleaned here compare equal across routes, so one permit never becomes two records.

use time::{Date, Month};

pub(crate) const NOT_DATE: &str =
    "日期格式应为 2026-11-24、2026/11/24、2026.11.24、20261124 或 2026年11月24日";
pub(crate) const NO_SUCH_DAY: &str = "没有这一天：请核对年、月、日";

/// Full-width ASCII (what a Chinese input method types in full-width mode) as ASCII.
pub(crate) fn halfwidth(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Whitespace by Unicode (which covers U+3000 and NBSP), plus the invisible characters
/// that copy-paste from web pages and Word leaves in cells.
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{FEFF}')
}

pub(crate) fn trim(text: &str) -> &str {
    text.trim_matches(is_space)
}

/// Codes are typed by hand: full-width digits and letters, spaces in the middle.
pub(crate) fn clean_code(text: &str) -> String {
    text.chars()
        .map(halfwidth)
        .filter(|c| !is_space(*c))
        .collect()
}

/// Project codes and phone numbers have ASCII hyphens by their shape; a dash of any
/// other kind is the same hyphen mistyped. Permit numbers are left as the department
/// wrote them: they are the key the planning database knows them by.
pub(crate) fn clean_dashed_code(text: &str) -> String {
    clean_code(text)
        .chars()
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' => '-',
            _ => c,
        })
        .collect()
}

/// A number as typed: `１２３４．５６`, `1，234.56` and a minus of any kind read as ASCII.
pub(crate) fn clean_number(text: &str) -> String {
    trim(text)
        .chars()
        .map(|c| match halfwidth(c) {
            '\u{2212}' | '\u{FE63}' => '-',
            c => c,
        })
        .collect()
}

/// `2026-11-24`, `2026/11/24`, `2026.11.24` (month and day with or without a leading
/// zero), `20261124` and `2026年11月24日`, in full-width digits too. A time after the
/// date (what a database export writes for a date column) is allowed and dropped: the
/// approval is the day.
pub(crate) fn parse_date(text: &str) -> Result<Date, &'static str> {
    let text: String = text.chars().map(halfwidth).collect();
    let (day, time) = match text.trim().split_once([' ', 'T']) {
        Some((day, time)) => (day, Some(time.trim())),
        None => (text.trim(), None),
    };
    let is_time = |t: &str| {
        t.contains(':')
            && t.chars()
                .all(|c| c.is_ascii_digit() || c == ':' || c == '.')
    };
    if time.is_some_and(|t| !is_time(t)) {
        return Err(NOT_DATE);
    }
    let parts: Option<(&str, &str, &str)> = if let Some(rest) = day.strip_suffix('日') {
        rest.split_once('年')
            .and_then(|(y, md)| md.split_once('月').map(|(m, d)| (y, m, d)))
    } else if day.len() == 8 && day.bytes().all(|b| b.is_ascii_digit()) {
        Some((&day[..4], &day[4..6], &day[6..]))
    } else {
        ['-', '/', '.'].into_iter().find_map(|sep| {
            let mut it = day.split(sep);
            match (it.next(), it.next(), it.next(), it.next()) {
                (Some(y), Some(m), Some(d), None) => Some((y, m, d)),
                _ => None,
            }
        })
    };
    let (year, month, day) = parts
        .and_then(|(y, m, d)| Some((digits(y, 4..=4)?, digits(m, 1..=2)?, digits(d, 1..=2)?)))
        .ok_or(NOT_DATE)?;
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or(NO_SUCH_DAY)?;
    let day = u8::try_from(day).map_err(|_| NO_SUCH_DAY)?;
    Date::from_calendar_date(i32::from(year), month, day).map_err(|_| NO_SUCH_DAY)
}

fn digits(text: &str, lengths: std::ops::RangeInclusive<usize>) -> Option<u16> {
    if lengths.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

