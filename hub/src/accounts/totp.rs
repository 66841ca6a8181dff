//! The second factor: TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps), which every
//! usual authenticator app speaks, and one-time recovery codes for a lost phone.

use rand::Rng;
use sm3::{Digest, Sm3};
use totp_rs::{Algorithm, Secret, TOTP};

const DIGITS: usize = 6;
const STEP_SECONDS: u64 = 30;
/// Steps either side of now a code is still taken in: a phone's clock drifts.
const SKEW_STEPS: i64 = 1;
pub const RECOVERY_CODES: usize = 8;

/// A new secret (160 bits, as RFC 4226 recommends), base32 as apps take it.
pub fn new_secret() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

fn totp(secret: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECONDS, bytes, Some("一站收费窗口".to_owned()), account.to_owned()).ok()
}

/// The `otpauth://` address an app scans from the enrolment QR code.
pub fn enrolment_url(secret: &str, account: &str) -> Option<String> {
    Some(totp(secret, account)?.get_url())
}

/// The step of `code` if it is right within the skew window at `now` (Unix seconds) and
/// later than `last_step`, the step last accepted: a code is taken once.
pub fn accept(secret: &str, code: &str, now: i64, last_step: Option<i64>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "")?;
    let current = now.div_euclid(STEP_SECONDS as i64);
    (current - SKEW_STEPS..=current + SKEW_STEPS)
        .filter(|&step| last_step.is_none_or(|last| step > last) && step >= 0)
        .find(|&step| totp.generate(step as u64 * STEP_SECONDS) == code)
}

/// The code of the step at `now`: what the app shows (tests and the demo use it).
pub fn code_at(secret: &str, now: i64) -> Option<String> {
    Some(totp(secret, "")?.generate(now.max(0) as u64))
}

/// Fresh recovery codes (shown once) and the SM3 of each (kept).
pub fn recovery_codes() -> (Vec<String>, Vec<String>) {
    let mut rng = rand::rng();
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let n: u64 = rng.random_range(0..10u64.pow(10));
            let text = format!("{n:010}");
            format!("{}-{}", &text[..5], &text[5..])
        })
        .collect();
    let hashes = codes.iter().map(|c| recovery_hash(c)).collect();
    (codes, hashes)
}

/// How a recovery code is kept: SM3 of its digits, so a typed `12345 67890` matches too.
pub fn recovery_hash(code: &str) -> String {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    hex::encode(Sm3::digest(digits.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_taken_in_its_window_once_and_refused_outside_it() {
        let secret = new_secret();
        let now = 1_796_000_000;
        let code = code_at(&secret, now).unwrap();
        let step = accept(&secret, &code, now, None).expect("the current code");
        assert_eq!(accept(&secret, &code, now + 30, None), Some(step), "one step late is taken");
        assert_eq!(accept(&secret, &code, now, Some(step)), None, "a replay is refused");
        assert_eq!(accept(&secret, &code, now + 95, None), None, "three steps late is refused");
        assert_eq!(accept(&secret, "12345", now, None), None);
        assert!(enrolment_url(&secret, "wangfang").unwrap().starts_with("otpauth://totp/"));
    }

    #[test]
    fn the_rfc_6238_vector_holds() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); the 6-digit code is its tail.
        let secret = Secret::Raw(b"12345678901234567890".to_vec()).to_encoded().to_string();
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
    }

    #[test]
    fn recovery_codes_are_kept_as_hashes_and_read_with_or_without_spaces() {
        let (codes, hashes) = recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(recovery_hash(&codes[0]), hashes[0]);
        assert_eq!(recovery_hash(&codes[0].replace('-', " ")), hashes[0]);
        assert!(!hashes[0].contains(&codes[0]));
    }
}
