//! Money in integer fen: parsing, `¥1,234,567.89` display and 人民币大写.

use crate::decimal::Fault;

/// An amount in fen (1/100 yuan). Never a float.
pub type Fen = i64;

/// Each variant names one problem so the form can say exactly what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// A sign or ¥ where it does not belong (`3-`, `--3`, `¥¥3`).
    #[error("金额格式不正确：{0:?}，负号和 ¥ 只能各写一次并写在数字前面，如 -¥1,234.56")]
    Malformed(String),
    #[error("金额不能为空，请输入如 1234.56 的金额")]
    Empty,
    #[error("金额 {0:?} 中没有数字，请输入如 1234.56 的金额")]
    NoDigits(String),
    #[error("金额 {0:?} 含有不允许的字符，只能输入数字、小数点、千分位逗号、¥ 和负号")]
    Character(String),
    #[error("金额 {0:?} 的小数点不对：只能有一个，且前后都要有数字，如 0.50")]
    DecimalPoint(String),
    #[error("金额 {0:?} 最多保留两位小数（精确到分）")]
    TooManyDecimals(String),
    #[error("金额 {0:?} 的千分位逗号位置不对，应在整数部分每三位一个，如 1,234,567.89")]
    Comma(String),
    #[error("金额 {0:?} 超出可处理的范围")]
    Overflow(String),
}

/// Parses `1234.5`, `1,234.56`, `¥1,234.56`, `-3` into fen; more than two decimals is an error.
///
/// Also accepts the full-width `￥`, surrounding spaces and `-¥12.00` / `¥-12.00`, so
/// whatever [`format_yuan`] prints parses back.
pub fn parse_yuan(text: &str) -> Result<Fen, MoneyError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(MoneyError::Empty);
    }
    let owned = || text.to_owned();
    let (negative, body) = strip_sign_and_currency(trimmed);
    if body.is_empty() {
        return Err(MoneyError::NoDigits(owned()));
    }

    let fen = crate::decimal::hundredths(body).map_err(|fault| match fault {
        // A second sign or symbol is as wrong as a letter; say which one it is.
        Fault::Character('-' | '¥' | '￥') => MoneyError::Malformed(owned()),
        Fault::Character(_) => MoneyError::Character(owned()),
        Fault::DecimalPoint => MoneyError::DecimalPoint(owned()),
        Fault::TooManyDecimals => MoneyError::TooManyDecimals(owned()),
        Fault::Comma => MoneyError::Comma(owned()),
        Fault::Overflow => MoneyError::Overflow(owned()),
    })?;
    Ok(if negative { -fen } else { fen })
}

fn strip_currency(s: &str) -> Option<&str> {
    s.strip_prefix(['¥', '￥']).map(str::trim_start)
}

fn strip_sign_and_currency(s: &str) -> (bool, &str) {
    if let Some(rest) = s.strip_prefix('-') {
        let rest = rest.trim_start();
        return (true, strip_currency(rest).unwrap_or(rest));
    }
    match strip_currency(s) {
        Some(rest) => match rest.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, rest),
        },
        None => (false, s),
    }
}

/// `¥1,234,567.89`; negative amounts as `-¥12.00`.
pub fn format_yuan(fen: Fen) -> String {
    // unsigned_abs: i64::MIN has no positive i64 counterpart.
    let abs = fen.unsigned_abs();
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}¥{}.{:02}", crate::decimal::grouped(abs / 100), abs % 100)
}

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
const PLACES: [&str; 4] = ["", "拾", "佰", "仟"];
const YI: u64 = 100_000_000;

/// 人民币大写 by 《支付结算办法》 and the convention in DOMAIN.md, prefixed `人民币`.
/// Negative amounts are refused by the caller's validation; this takes `fen >= 0`.
///
/// Should a negative amount slip through anyway, it is written with a leading `负` rather
/// than panicking in the middle of printing a voucher or showing it as positive.
pub fn to_chinese_uppercase(fen: Fen) -> String {
    let abs = fen.unsigned_abs();
    let (yuan, jiao, fen_digit) = (abs / 100, abs / 10 % 10, abs % 10);
    let mut w = UppercaseWriter::new(if fen < 0 { "人民币负" } else { "人民币" });
    if abs == 0 {
        w.out.push_str("零元整");
        return w.out;
    }
    if yuan > 0 {
        w.integer(yuan);
        w.out.push('元');
    }
    w.digit(jiao, "角");
    w.digit(fen_digit, "分");
    if jiao == 0 && fen_digit == 0 {
        w.out.push('整');
    }
    w.out
}

/// Writes digits most significant first. The whole amount — 亿, 万 and 元 sections, then
/// 角 and 分 — is one stream: any run of zeros between two non-zero digits becomes a single
/// 零, wherever it falls. That one rule yields both the mandatory 零 and our "always write
/// it" choice for the optional ones (a 0 in the 元 or 万 place, 角 = 0 before 分).
struct UppercaseWriter {
    out: String,
    seen_nonzero: bool,
    pending_zero: bool,
}

impl UppercaseWriter {
    fn new(prefix: &str) -> Self {
        UppercaseWriter {
            out: prefix.to_owned(),
            seen_nonzero: false,
            pending_zero: false,
        }
    }

    fn digit(&mut self, d: u64, unit: &str) {
        if d == 0 {
            // Leading zeros are never written, so 0.05 is 伍分, not 零伍分.
            self.pending_zero |= self.seen_nonzero;
            return;
        }
        if std::mem::take(&mut self.pending_zero) {
            self.out.push('零');
        }
        self.out.push(DIGITS[d as usize]);
        self.out.push_str(unit);
        self.seen_nonzero = true;
    }

    /// Section units (万, 亿) go straight after their section and leave a pending 零 for
    /// the next non-zero digit: 100,000.50 is 壹拾万元零伍角, with the 零 after 万 and 元.
    fn integer(&mut self, n: u64) {
        if n >= YI {
            // Beyond 9999亿 the high part itself has a 万 section: 壹万亿, 玖万零壹亿.
            self.integer(n / YI);
            self.out.push('亿');
        }
        let below_yi = n % YI;
        for position in (0..8).rev() {
            self.digit(
                below_yi / 10u64.pow(position) % 10,
                PLACES[position as usize % 4],
            );
            if position == 4 && below_yi / 10_000 > 0 {
                self.out.push('万');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_clerks_type() {
        let cases: &[(&str, Fen)] = &[
            ("1234.5", 123_450),
            ("1234.56", 123_456),
            ("1,234.56", 123_456),
            ("¥1,234.56", 123_456),
            ("￥1,234.56", 123_456),
            ("¥ 1,234.56", 123_456),
            ("-3", -300),
            ("-¥12.00", -1200),
            ("¥-12.00", -1200),
            ("  42  ", 4200),
            ("0", 0),
            ("0.05", 5),
            ("007", 700),
            ("1,234,567.89", 123_456_789),
            ("123", 12_300),
            ("92233720368547758.07", i64::MAX),
        ];
        for (text, fen) in cases {
            assert_eq!(parse_yuan(text), Ok(*fen), "{text:?}");
        }
    }

    #[test]
    fn rejects_malformed_amounts_naming_the_problem() {
        use MoneyError::*;
        let cases: &[(&str, MoneyError)] = &[
            ("", Empty),
            ("   ", Empty),
            ("1.234", TooManyDecimals("1.234".into())),
            ("0.001", TooManyDecimals("0.001".into())),
            ("12a", Character("12a".into())),
            ("一百", Character("一百".into())),
            ("1 234", Character("1 234".into())),
            ("1234,56", Comma("1234,56".into())),
            ("12,34", Comma("12,34".into())),
            (",123", Comma(",123".into())),
            ("1234,567", Comma("1234,567".into())),
            ("1,,234", Comma("1,,234".into())),
            ("1.2,3", Comma("1.2,3".into())),
            ("1.2.3", DecimalPoint("1.2.3".into())),
            ("1..2", DecimalPoint("1..2".into())),
            ("12.", DecimalPoint("12.".into())),
            (".5", DecimalPoint(".5".into())),
            (".", DecimalPoint(".".into())),
            ("-", NoDigits("-".into())),
            ("¥", NoDigits("¥".into())),
            ("-¥", NoDigits("-¥".into())),
            ("--3", Malformed("--3".into())),
            ("¥¥3", Malformed("¥¥3".into())),
            ("3-", Malformed("3-".into())),
            (
                "92233720368547758.08",
                Overflow("92233720368547758.08".into()),
            ),
            (
                "99999999999999999999",
                Overflow("99999999999999999999".into()),
            ),
        ];
        for (text, err) in cases {
            assert_eq!(parse_yuan(text).as_ref(), Err(err), "{text:?}");
        }
    }

    #[test]
    fn parse_errors_read_as_chinese_instructions() {
        assert_eq!(
            parse_yuan("1.234").unwrap_err().to_string(),
            "金额 \"1.234\" 最多保留两位小数（精确到分）"
        );
        assert_eq!(
            parse_yuan("").unwrap_err().to_string(),
            "金额不能为空，请输入如 1234.56 的金额"
        );
        assert_eq!(
            parse_yuan("3-").unwrap_err().to_string(),
            "金额格式不正确：\"3-\"，负号和 ¥ 只能各写一次并写在数字前面，如 -¥1,234.56"
        );
    }

    #[test]
    fn formats_with_yuan_sign_and_thousands() {
        let cases: &[(Fen, &str)] = &[
            (0, "¥0.00"),
            (5, "¥0.05"),
            (50, "¥0.50"),
            (100, "¥1.00"),
            (99_999, "¥999.99"),
            (100_000, "¥1,000.00"),
            (123_456_789, "¥1,234,567.89"),
            (100_000_000_000, "¥1,000,000,000.00"),
            (-1200, "-¥12.00"),
            (-5, "-¥0.05"),
            (i64::MAX, "¥92,233,720,368,547,758.07"),
            (i64::MIN, "-¥92,233,720,368,547,758.08"),
        ];
        for (fen, text) in cases {
            assert_eq!(format_yuan(*fen), *text, "{fen}");
        }
    }

    #[test]
    fn formatted_amounts_parse_back() {
        for fen in [0, 1, 99, 100_000, 123_456_789, -1200, i64::MAX] {
            assert_eq!(parse_yuan(&format_yuan(fen)), Ok(fen));
        }
    }

    /// `yuan_text` is written as on a bank slip so the table reads like one.
    fn check_uppercase(cases: &[(&str, &str)]) {
        for (yuan_text, expected) in cases {
            let fen = parse_yuan(yuan_text).unwrap();
            assert_eq!(to_chinese_uppercase(fen), *expected, "{yuan_text}");
        }
    }

    #[test]
    fn uppercase_matches_every_example_in_domain_md() {
        check_uppercase(&[
            ("1409.50", "人民币壹仟肆佰零玖元伍角"),
            ("6007.14", "人民币陆仟零柒元壹角肆分"),
            ("1680.32", "人民币壹仟陆佰捌拾元零叁角贰分"),
            ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
            ("325.04", "人民币叁佰贰拾伍元零肆分"),
            ("0", "人民币零元整"),
            ("15", "人民币壹拾伍元整"),
            ("1000000", "人民币壹佰万元整"),
        ]);
    }

    #[test]
    fn uppercase_below_one_yuan_has_no_yuan_and_no_leading_zero() {
        check_uppercase(&[
            ("0.05", "人民币伍分"),
            ("0.50", "人民币伍角"),
            ("0.55", "人民币伍角伍分"),
            ("0.01", "人民币壹分"),
            ("0.10", "人民币壹角"),
        ]);
    }

    #[test]
    fn uppercase_jiao_and_fen_after_whole_yuan() {
        check_uppercase(&[
            ("1.00", "人民币壹元整"),
            ("1.50", "人民币壹元伍角"),
            ("1.05", "人民币壹元零伍分"),
            ("1.55", "人民币壹元伍角伍分"),
            ("10.50", "人民币壹拾元零伍角"),
            ("10.05", "人民币壹拾元零伍分"),
            ("100.01", "人民币壹佰元零壹分"),
        ]);
    }

    #[test]
    fn uppercase_ten_to_nineteen_lead_with_yi_shi() {
        check_uppercase(&[
            ("10", "人民币壹拾元整"),
            ("19", "人民币壹拾玖元整"),
            ("110", "人民币壹佰壹拾元整"),
            ("100000", "人民币壹拾万元整"),
            ("150000", "人民币壹拾伍万元整"),
            ("1000010", "人民币壹佰万零壹拾元整"),
        ]);
    }

    #[test]
    fn uppercase_zeros_inside_and_across_the_wan_section() {
        check_uppercase(&[
            ("101", "人民币壹佰零壹元整"),
            ("1001", "人民币壹仟零壹元整"),
            ("1010", "人民币壹仟零壹拾元整"),
            ("1100", "人民币壹仟壹佰元整"),
            ("10001", "人民币壹万零壹元整"),
            ("10100", "人民币壹万零壹佰元整"),
            // 万 digit 0, 千 digit not: the optional 零, which we always write.
            ("107000.53", "人民币壹拾万零柒仟元零伍角叁分"),
            ("10005000", "人民币壹仟万零伍仟元整"),
            // 1010万 ends in a 0 in the 万 place, so 零 follows 万 as well.
            ("10105000", "人民币壹仟零壹拾万零伍仟元整"),
            ("10015000", "人民币壹仟零壹万伍仟元整"),
            ("10010500", "人民币壹仟零壹万零伍佰元整"),
            ("15000000.05", "人民币壹仟伍佰万元零伍分"),
            (
                "99999999.99",
                "人民币玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
            ),
        ]);
    }

    #[test]
    fn uppercase_at_and_above_one_yi() {
        check_uppercase(&[
            ("100000000.00", "人民币壹亿元整"),
            ("100000001.00", "人民币壹亿零壹元整"),
            // The 万 section is all zeros: no 万, one 零 for the whole run.
            ("100001000", "人民币壹亿零壹仟元整"),
            ("100010000.00", "人民币壹亿零壹万元整"),
            ("105000000.00", "人民币壹亿零伍佰万元整"),
            ("150000000", "人民币壹亿伍仟万元整"),
            ("110000000", "人民币壹亿壹仟万元整"),
            ("1000000000.50", "人民币壹拾亿元零伍角"),
            ("1000000000.05", "人民币壹拾亿元零伍分"),
            ("1000100000", "人民币壹拾亿零壹拾万元整"),
            (
                "1234567890.12",
                "人民币壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元零壹角贰分",
            ),
            ("10000000000", "人民币壹佰亿元整"),
            ("1000000000000", "人民币壹万亿元整"),
            ("9000100000000", "人民币玖万零壹亿元整"),
        ]);
    }

    #[test]
    fn uppercase_of_the_largest_amount_does_not_overflow() {
        assert_eq!(
            to_chinese_uppercase(i64::MAX),
            "人民币玖亿贰仟贰佰叁拾叁万柒仟贰佰零叁亿陆仟捌佰伍拾肆万柒仟柒佰伍拾捌元零柒分"
        );
    }

    #[test]
    fn uppercase_marks_a_negative_amount_that_slipped_through() {
        assert_eq!(to_chinese_uppercase(-1200), "人民币负壹拾贰元整");
    }

    /// Reads 人民币大写 back into fen, written independently of the writer (the usual
    /// section-accumulator reading), so a wrong digit or unit cannot agree with itself.
    fn read_uppercase(text: &str) -> Fen {
        let body = text.strip_prefix("人民币").unwrap();
        let (mut total, mut section, mut digit, mut fen): (i128, i128, i128, i128) = (0, 0, 0, 0);
        for c in body.chars() {
            match c {
                '零' | '整' => {}
                '拾' => (section, digit) = (section + digit * 10, 0),
                '佰' => (section, digit) = (section + digit * 100, 0),
                '仟' => (section, digit) = (section + digit * 1000, 0),
                '万' => (section, digit) = ((section + digit) * 10_000, 0),
                '亿' => (total, section, digit) = ((total + section + digit) * 100_000_000, 0, 0),
                '元' => (total, section, digit) = (total + section + digit, 0, 0),
                '角' => (fen, digit) = (fen + digit * 10, 0),
                '分' => (fen, digit) = (fen + digit, 0),
                d => digit = DIGITS.iter().position(|x| *x == d).unwrap() as i128,
            }
        }
        Fen::try_from(total * 100 + fen).unwrap()
    }

    /// Our convention, stated on the plain digits: one 零 per run of zeros that has a
    /// non-zero digit on both sides, counting 角 and 分 as the last two digits.
    fn expected_zeros(fen: Fen) -> usize {
        let digits = fen.to_string();
        let trimmed = digits.trim_matches('0');
        trimmed
            .split(|c| c != '0')
            .filter(|run| !run.is_empty())
            .count()
    }

    fn amounts_with_many_zeros() -> Vec<Fen> {
        let mut amounts: Vec<Fen> = (0..20_000).collect();
        // Every pattern of 0 and 7 over 14 digits: zero runs of every length at every
        // place, across 万, 亿, 元 and 角.
        amounts.extend((0..1 << 14).map(|bits: i64| {
            (0..14)
                .filter(|i| bits >> i & 1 == 1)
                .map(|i| 7 * 10i64.pow(i))
                .sum::<Fen>()
        }));
        // Pseudo-random 17-digit amounts, each digit 0 with probability 3/4.
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            let mut fen: Fen = 0;
            for _ in 0..17 {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let r = seed >> 33;
                fen = fen * 10
                    + if r.is_multiple_of(4) {
                        (r / 4 % 9 + 1) as Fen
                    } else {
                        0
                    };
            }
            amounts.push(fen);
        }
        amounts
    }

    #[test]
    fn uppercase_reads_back_to_the_same_amount() {
        for fen in amounts_with_many_zeros() {
            assert_eq!(read_uppercase(&to_chinese_uppercase(fen)), fen, "{fen}");
        }
    }

    #[test]
    fn uppercase_writes_one_zero_per_inner_run_of_zeros_and_nowhere_else() {
        for fen in amounts_with_many_zeros().into_iter().filter(|f| *f > 0) {
            let text = to_chinese_uppercase(fen);
            assert_eq!(
                text.matches('零').count(),
                expected_zeros(fen),
                "{fen}: {text}"
            );
            // A 零 always stands right before a digit: never before a unit, never last.
            let chars: Vec<char> = text.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                if *c == '零' {
                    assert!(DIGITS[1..].contains(&chars[i + 1]), "{fen}: {text}");
                }
            }
            assert_eq!(text.ends_with('整'), fen % 100 == 0, "{fen}: {text}");
            assert_eq!(text.contains('元'), fen >= 100, "{fen}: {text}");
        }
    }
}
