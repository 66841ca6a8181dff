//! Numbers written with two decimals at most — amounts in yuan, areas in m² — read by
//! decimal arithmetic into whole hundredths, so no float ever rounds a fen or a 0.01 m².

/// What is wrong with the digits; each kind of number says it in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Character(char),
    DecimalPoint,
    TooManyDecimals,
    Comma,
    Overflow,
}

/// `1234.5`, `1,234.56` (thousands commas, if any, every three digits) as hundredths.
/// `body` carries no sign and no unit; it is not empty.
pub(crate) fn hundredths(body: &str) -> Result<i64, Fault> {
    if let Some(c) = body.chars().find(|c| !(c.is_ascii_digit() || *c == ',' || *c == '.')) {
        return Err(Fault::Character(c));
    }
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let frac = match frac_part {
        _ if int_part.is_empty() => return Err(Fault::DecimalPoint),
        None => "",
        Some(f) if f.is_empty() || f.contains('.') => return Err(Fault::DecimalPoint),
        Some(f) if f.contains(',') => return Err(Fault::Comma),
        Some(f) if f.len() > 2 => return Err(Fault::TooManyDecimals),
        Some(f) => f,
    };
    if int_part.contains(',') && !commas_well_placed(int_part) {
        return Err(Fault::Comma);
    }
    let mut whole: i64 = 0;
    for digit in int_part.bytes().filter(u8::is_ascii_digit) {
        whole = whole
            .checked_mul(10)
            .and_then(|w| w.checked_add(i64::from(digit - b'0')))
            .ok_or(Fault::Overflow)?;
    }
    let mut frac_digits = frac.bytes().map(|d| i64::from(d - b'0'));
    let tenths = frac_digits.next().unwrap_or(0);
    let hundredths = frac_digits.next().unwrap_or(0);
    whole.checked_mul(100).and_then(|w| w.checked_add(tenths * 10 + hundredths)).ok_or(Fault::Overflow)
}

/// `1,234,567`: a leading group of 1–3 digits, then groups of exactly three.
fn commas_well_placed(int_part: &str) -> bool {
    let mut groups = int_part.split(',');
    let first_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()));
    first_ok && groups.all(|g| g.len() == 3)
}

/// `1234567` → `1,234,567`.
pub(crate) fn grouped(whole: u64) -> String {
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
