//! A person's account and the security policy the 安全管理员 sets for all of them:
//! password rules, lockout, sessions, offline sign-in and the second factor.

use serde::{Deserialize, Serialize};

use crate::text_type::text_type;

/// Longest account name, in characters: a staff number or a badge's code fits.
pub const MAX_ACCOUNT_CHARS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("账号应为 2–{MAX_ACCOUNT_CHARS} 个字母、数字或 . _ - 字符，收到 {0:?}")]
pub struct AccountError(pub String);

fn check_account(value: &str) -> Result<(), AccountError> {
    let ok = (2..=MAX_ACCOUNT_CHARS).contains(&value.chars().count())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok { Ok(()) } else { Err(AccountError(value.chars().take(40).collect())) }
}

text_type!(
    /// The name a person signs in with: unique at the hub, ASCII so that a badge scanner,
    /// which types as a keyboard does, enters it exactly.
    Account,
    AccountError,
    check_account
);

/// The rules for passwords, lockout and sessions. The defaults are the issue's: what
/// 等保2.0 level 3 assessors expect unless the bureau's own rules are stricter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields, default)]
pub struct SecurityPolicy {
    pub min_length: u32,
    /// Of upper case, lower case, digits and other characters.
    pub min_classes: u32,
    pub expiry_days: u32,
    /// How many earlier passwords may not be used again.
    pub history: u32,
    pub lockout_failures: u32,
    pub lockout_window_minutes: u32,
    pub lockout_minutes: u32,
    pub idle_minutes: u32,
    pub session_hours: u32,
    /// How long after an online sign-in a counter lets the same clerk sign in offline.
    pub offline_days: u32,
    /// Whether clerks too must use a second factor (supervisors and administrators always do).
    pub clerk_second_factor: bool,
}

impl Default for SecurityPolicy {
    fn default() -> SecurityPolicy {
        SecurityPolicy {
            min_length: 8,
            min_classes: 3,
            expiry_days: 90,
            history: 5,
            lockout_failures: 5,
            lockout_window_minutes: 10,
            lockout_minutes: 10,
            idle_minutes: 15,
            session_hours: 12,
            offline_days: 7,
            clerk_second_factor: false,
        }
    }
}

/// The most an idle session may last: level 3 asks for a short idle timeout, and a
/// policy may shorten it but never stretch it past this.
pub const MAX_IDLE_MINUTES: u32 = 30;

/// The range a numeric field of the policy must keep to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PolicyBound {
    /// As the policy record names the field.
    pub field: &'static str,
    pub min: u32,
    pub max: u32,
}

/// The floor level 3 sets, field by field in the order of [`SecurityPolicy::numbers`]:
/// what the hub holds a policy to, and what the policy form checks before sending.
pub const POLICY_BOUNDS: [PolicyBound; 10] = [
    PolicyBound { field: "min_length", min: 8, max: 64 },
    PolicyBound { field: "min_classes", min: 3, max: 4 },
    PolicyBound { field: "expiry_days", min: 1, max: 90 },
    PolicyBound { field: "history", min: 5, max: 24 },
    PolicyBound { field: "lockout_failures", min: 3, max: 10 },
    PolicyBound { field: "lockout_window_minutes", min: 1, max: 1440 },
    PolicyBound { field: "lockout_minutes", min: 10, max: 1440 },
    PolicyBound { field: "idle_minutes", min: 1, max: MAX_IDLE_MINUTES },
    PolicyBound { field: "session_hours", min: 1, max: 24 },
    PolicyBound { field: "offline_days", min: 0, max: 30 },
];

/// A policy value out of its bounds: `field` names it as in the policy record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}：{problem}")]
pub struct PolicyError {
    pub field: &'static str,
    pub problem: String,
}

impl SecurityPolicy {
    /// Refuses a policy weaker than the floor level 3 sets, naming the first bad field.
    pub fn check(&self) -> Result<(), PolicyError> {
        for (bound, value) in POLICY_BOUNDS.iter().zip(self.numbers()) {
            if !(bound.min..=bound.max).contains(&value) {
                let (low, high) = (bound.min, bound.max);
                return Err(PolicyError { field: bound.field, problem: format!("应在 {low}–{high} 之间，收到 {value}") });
            }
        }
        Ok(())
    }

    /// The numeric fields in the order of [`POLICY_BOUNDS`].
    fn numbers(&self) -> [u32; 10] {
        [
            self.min_length,
            self.min_classes,
            self.expiry_days,
            self.history,
            self.lockout_failures,
            self.lockout_window_minutes,
            self.lockout_minutes,
            self.idle_minutes,
            self.session_hours,
            self.offline_days,
        ]
    }
}

/// What is wrong with a proposed password. Never carries the password itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("密码至少 {0} 个字符")]
    TooShort(u32),
    #[error("密码应包含大写字母、小写字母、数字、其他符号中的至少 {0} 类")]
    TooFewClasses(u32),
    #[error("密码不能包含账号")]
    ContainsAccount,
    #[error("不能使用最近 {0} 次用过的密码")]
    Reused(u32),
    #[error("新密码不能与当前密码相同")]
    Unchanged,
}

/// Checks `password` against the rules a policy sets on the text alone (the hub checks
/// history, which needs the stored hashes).
pub fn check_password(policy: &SecurityPolicy, account: &Account, password: &str) -> Result<(), PasswordProblem> {
    if (password.chars().count() as u64) < u64::from(policy.min_length) {
        return Err(PasswordProblem::TooShort(policy.min_length));
    }
    let classes = [
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        // Anything else, Chinese characters among them.
        password.chars().any(|c| !(c.is_uppercase() || c.is_lowercase() || c.is_ascii_digit())),
    ]
    .into_iter()
    .filter(|&present| present)
    .count() as u32;
    if classes < policy.min_classes {
        return Err(PasswordProblem::TooFewClasses(policy.min_classes));
    }
    if password.to_lowercase().contains(&account.as_str().to_lowercase()) {
        return Err(PasswordProblem::ContainsAccount);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wang() -> Account {
        Account::parse("wangfang").unwrap()
    }

    #[test]
    fn an_account_is_what_a_badge_scanner_types() {
        assert!(Account::parse("clerk.03").is_ok());
        assert!(Account::parse("A-1_b").is_ok());
        assert!(Account::parse("王芳").is_err());
        assert!(Account::parse("a").is_err());
        assert!(Account::parse("a b").is_err());
        assert!(Account::parse("x".repeat(MAX_ACCOUNT_CHARS + 1)).is_err());
    }

    #[test]
    fn the_default_policy_refuses_short_plain_and_self_naming_passwords() {
        let policy = SecurityPolicy::default();
        assert_eq!(check_password(&policy, &wang(), "Ab1!"), Err(PasswordProblem::TooShort(8)));
        assert_eq!(check_password(&policy, &wang(), "abcdefgh1"), Err(PasswordProblem::TooFewClasses(3)));
        assert_eq!(check_password(&policy, &wang(), "XWangFang1"), Err(PasswordProblem::ContainsAccount));
        assert_eq!(check_password(&policy, &wang(), "Counter-2026"), Ok(()));
        assert_eq!(check_password(&policy, &wang(), "counter-2026"), Ok(()));
        assert_eq!(check_password(&policy, &wang(), "柜台密码abc12"), Ok(()), "Chinese characters count as a class");
    }

    #[test]
    fn a_policy_may_be_stricter_than_level_3_but_not_weaker() {
        assert_eq!(SecurityPolicy::default().check(), Ok(()));
        let weak = SecurityPolicy { idle_minutes: 45, ..SecurityPolicy::default() };
        assert_eq!(weak.check().unwrap_err().field, "idle_minutes");
        let short = SecurityPolicy { min_length: 6, ..SecurityPolicy::default() };
        assert_eq!(short.check().unwrap_err().field, "min_length");
        let strict = SecurityPolicy { min_length: 12, expiry_days: 30, ..SecurityPolicy::default() };
        // Each bound names the field it holds: one past its ceiling is refused on that field.
        let policy = serde_json::to_value(SecurityPolicy::default()).unwrap();
        for bound in POLICY_BOUNDS {
            let mut over = policy.clone();
            over[bound.field] = (bound.max + 1).into();
            let over: SecurityPolicy = serde_json::from_value(over).unwrap();
            assert_eq!(over.check().unwrap_err().field, bound.field);
        }
        assert_eq!(strict.check(), Ok(()));
        let json = r#"{"min_length": 10}"#;
        let parsed: SecurityPolicy = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.min_length, 10);
        assert_eq!(parsed.expiry_days, 90);
    }
}
