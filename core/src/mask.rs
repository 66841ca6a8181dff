//! Masking of personal data for display, logs and exports (DOMAIN.md "Masking").
//!
//! Every function counts characters, not bytes, and never returns the input unmasked:
//! what is too short to keep a part of is starred out entirely.

/// `13812341234` → `138****1234`.
///
/// Anything else of at least 8 characters (a landline, `+86…`) keeps its first 3 and
/// last 4 with one `*` per hidden character; shorter input becomes all `*`.
pub fn mask_mobile(mobile: &str) -> String {
    keep_ends(mobile, 3, 4)
}

/// `张三` → `张*`, `张三丰` → `张**`, `欧阳娜娜` → `欧阳**`.
///
/// A four-character name is taken as a compound surname (欧阳, 司马, 诸葛) plus a
/// two-character given name; every other name keeps only its first character. A single
/// character is starred out, since it may be the whole given name.
pub fn mask_person_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let kept = match chars.len() {
        0 | 1 => 0,
        4 => 2,
        _ => 1,
    };
    chars
        .iter()
        .take(kept)
        .chain(std::iter::repeat_n(&'*', chars.len() - kept))
        .collect()
}

/// `320102199001011234` → `3201**********1234`: the region prefix and the last four stay
/// (the 15-digit legacy numbers likewise); 8 characters or fewer become all `*`.
pub fn mask_id_number(id: &str) -> String {
    if id.chars().count() <= 8 {
        "*".repeat(id.chars().count())
    } else {
        keep_ends(id, 4, 4)
    }
}

/// `6222021234561234` → `6222 **** **** 1234`. Spaces in the input are ignored; the
/// output always has two starred groups so it does not reveal the account's length.
/// 8 digits or fewer become all `*`.
pub fn mask_bank_account(account: &str) -> String {
    let chars: Vec<char> = account.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head} **** **** {tail}")
}

fn keep_ends(text: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() - head - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(hidden));
    out.extend(&chars[head + hidden..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_mobiles() {
        let cases: &[(&str, &str)] = &[
            ("13812341234", "138****1234"),
            ("+8613812341234", "+86*******1234"),
            ("025-84561234", "025*****1234"),
            ("12345678", "123*5678"),
            ("1234567", "*******"),
            ("110", "***"),
            ("", ""),
        ];
        for (input, masked) in cases {
            assert_eq!(mask_mobile(input), *masked, "{input}");
        }
    }

    #[test]
    fn masks_person_names() {
        let cases: &[(&str, &str)] = &[
            ("张三", "张*"),
            ("张三丰", "张**"),
            ("欧阳娜娜", "欧阳**"),
            ("司马相如", "司马**"),
            ("阿依古丽·买买提", "阿*******"),
            ("王", "*"),
            ("", ""),
        ];
        for (input, masked) in cases {
            assert_eq!(mask_person_name(input), *masked, "{input}");
        }
    }

    #[test]
    fn masks_id_numbers() {
        let cases: &[(&str, &str)] = &[
            ("320102199001011234", "3201**********1234"),
            ("32010219900101123X", "3201**********123X"),
            ("320102900101123", "3201*******1123"),
            ("123456789", "1234*6789"),
            ("12345678", "********"),
            ("", ""),
        ];
        for (input, masked) in cases {
            assert_eq!(mask_id_number(input), *masked, "{input}");
        }
    }

    #[test]
    fn masks_bank_accounts() {
        let cases: &[(&str, &str)] = &[
            ("6222021234561234", "6222 **** **** 1234"),
            ("6222 0212 3456 1234", "6222 **** **** 1234"),
            ("6217001234567890123", "6217 **** **** 0123"),
            ("123456789", "1234 **** **** 6789"),
            ("12345678", "********"),
            ("", ""),
        ];
        for (input, masked) in cases {
            assert_eq!(mask_bank_account(input), *masked, "{input}");
        }
    }
}
