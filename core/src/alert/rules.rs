//! Alert rules as configuration: one TOML file per department (`core/alert-rules/` holds
//! the built-in set). A file is checked whole before it is used; the first problem is
//! reported with the file, the line and what is wrong, and the caller keeps the rules it
//! had.
//!
//! ```toml
//! department = "收费窗口"
//! [respond_within]          # per level; a rule may set its own for the level it raises
//! yellow = "24h"
//! orange = "4h"
//! red = "30m"
//!
//! [[rule]]
//! id = "payment-due-soon"
//! input = "due_soon"         # what the rule watches; see `Input`
//! days = 7
//! level = "黄"
//! owner = "clerk"            # clerk or supervisor: the role that answers
//! message = "项目 {project_code} 的{fee}将于 {due_on} 到期，尚欠 {outstanding}。"
//! runbook = "电话提醒建设单位经办人。"
//! ```

use serde::{Deserialize, Serialize};
use time::Duration;

use super::AlertLevel;
use crate::access::BuiltinRole;

/// The built-in rules: every example of DOMAIN.md "Alerts", one file per department.
pub const BUILT_IN: [(&str, &str); 3] = [
    ("window.toml", include_str!("../../alert-rules/window.toml")),
    ("civil-defence.toml", include_str!("../../alert-rules/civil-defence.toml")),
    ("data-centre.toml", include_str!("../../alert-rules/data-centre.toml")),
];

/// The roles an alert may be owned by: the built-in roles that answer alerts. What the
/// data centre's feeds raise goes to the supervisor, who works the quarantine and calls
/// in the technicians the runbook names.
pub const OWNER_ROLES: [&str; 2] = [BuiltinRole::Clerk.id(), BuiltinRole::Supervisor.id()];

/// A rules file refused: where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[error("预警规则文件 {file} 第 {line} 行：{problem}")]
pub struct RuleFileError {
    pub file: String,
    pub line: usize,
    pub problem: String,
}

/// What a rule watches, with its own settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "input", rename_all = "snake_case")]
pub enum Input {
    /// An outstanding fee falls due within `days` days (the due date itself included).
    DueSoon { days: u32 },
    /// A fee is past its due date and not paid, for more than `grace_days` days.
    Overdue { grace_days: u32 },
    /// A record the data centre quarantined; `sources`/`fields` narrow it (empty: any).
    ValidationFailed { sources: Vec<String>, fields: Vec<String> },
    /// A counter has not heard from the hub for `minutes`; red after `red_after_minutes`.
    SyncLag { minutes: u32, red_after_minutes: Option<u32> },
    /// A streaming connector has been failing for `minutes`.
    ConnectorDown { minutes: u32 },
    /// A replication slot holds more than `mib` MiB of unsent WAL.
    SlotLag { mib: u64 },
    /// A hole or a break in the change log a counter received.
    LogGap,
    /// A source or a counter disagrees with the hub when compared.
    ReconciliationMismatch,
    /// A counter that issues documents has fewer than `below` serials of a kind left.
    SerialsLow { below: u32 },
    /// The hub finds the counter's clock off by more than its margin: offline commands
    /// and documents carry that time.
    ClockSkew,
    /// A project's builder USCC is well formed but fails its check character: a legacy
    /// code still in circulation, kept and flagged rather than dropped (GB 32100-2015).
    UsccCheckFailed,
    /// A document issued at a counter that the hub's document rules found wrong: on record
    /// as 冲突待处理 until a supervisor sorts it out.
    DocumentConflict,
    /// Failed sign-ins at the hub reach `failures`, or account lockouts reach `lockouts`,
    /// within the last `minutes`: someone may be guessing passwords.
    LoginBurst { failures: u32, lockouts: u32, minutes: u32 },
    /// The audit trail could not be written, or its chain no longer verifies.
    AuditFailure,
    /// Commands a counter queued for a clerk whose account was disabled before they
    /// reached the hub: taken, since the clerk could issue them then, for a supervisor to
    /// look over.
    DisabledAccountCommand,
}

impl Input {
    fn name(&self) -> &'static str {
        match self {
            Input::DueSoon { .. } => "due_soon",
            Input::Overdue { .. } => "overdue",
            Input::ValidationFailed { .. } => "validation_failed",
            Input::SyncLag { .. } => "sync_lag",
            Input::ConnectorDown { .. } => "connector_down",
            Input::SlotLag { .. } => "slot_lag",
            Input::LogGap => "log_gap",
            Input::ReconciliationMismatch => "reconciliation_mismatch",
            Input::SerialsLow { .. } => "serials_low",
            Input::ClockSkew => "clock_skew",
            Input::UsccCheckFailed => "uscc_check_failed",
            Input::DocumentConflict => "document_conflict",
            Input::LoginBurst { .. } => "login_burst",
            Input::AuditFailure => "audit_failure",
            Input::DisabledAccountCommand => "disabled_account_command",
        }
    }

    /// The names a message template may use.
    pub fn placeholders(&self) -> &'static [&'static str] {
        match self {
            Input::DueSoon { .. } | Input::Overdue { .. } => &["project_code", "fee", "due_on", "outstanding"],
            Input::ValidationFailed { .. } => {
                &["project_code", "source", "connector", "location", "field", "problem"]
            }
            Input::SyncLag { .. } => &["device", "minutes"],
            Input::ConnectorDown { .. } => &["connector", "minutes", "error"],
            Input::SlotLag { .. } => &["connector", "mib"],
            Input::LogGap => &["device", "problem"],
            Input::ReconciliationMismatch => &["subject", "problem"],
            Input::SerialsLow { .. } => &["device", "kind", "left"],
            Input::ClockSkew => &["device", "seconds", "direction"],
            Input::UsccCheckFailed => &["project_code", "uscc", "problem"],
            Input::DocumentConflict => &["project_code", "number", "problem"],
            Input::LoginBurst { .. } => &["failures", "lockouts", "minutes"],
            Input::AuditFailure => &["problem"],
            Input::DisabledAccountCommand => &["account", "commands"],
        }
    }

    /// Whether it is about projects (evaluated per project) or about the system.
    pub fn is_project(&self) -> bool {
        matches!(self, Input::DueSoon { .. } | Input::Overdue { .. } | Input::UsccCheckFailed | Input::DocumentConflict)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub department: String,
    pub input: Input,
    pub level: AlertLevel,
    pub message: String,
    pub owner_role: String,
    pub runbook: String,
    /// How long each level may go unanswered, indexed by level.
    respond_within: [Duration; 3],
    pub file: String,
    pub line: usize,
}

impl Rule {
    pub fn respond_within(&self, level: AlertLevel) -> Duration {
        self.respond_within[level.index()]
    }
}

/// A rules file as written, kept so the hub can hand the same text to the counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct RuleSource {
    pub file: String,
    pub text: String,
}

/// The rules in force as the hub hands them to the counters (the `alert_rules` row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct RuleFiles {
    pub files: Vec<RuleSource>,
}

/// The rules in force, and the files they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub sources: Vec<RuleSource>,
}

impl RuleSet {
    pub fn built_in() -> RuleSet {
        RuleSet::built_in_with(Vec::new()).expect("the built-in alert rules are valid (tested)")
    }

    /// Checks every file; the first problem refuses the whole set. Rule ids are unique
    /// across files.
    pub fn from_sources(sources: Vec<RuleSource>) -> Result<RuleSet, RuleFileError> {
        let mut rules: Vec<Rule> = Vec::new();
        for source in &sources {
            for rule in parse_file(&source.file, &source.text)? {
                if let Some(first) = rules.iter().find(|r| r.id == rule.id) {
                    return Err(RuleFileError {
                        file: rule.file,
                        line: rule.line,
                        problem: format!(
                            "规则编号 {} 已在 {} 第 {} 行使用，编号不能重复",
                            rule.id, first.file, first.line
                        ),
                    });
                }
                rules.push(rule);
            }
        }
        Ok(RuleSet { rules, sources })
    }

    /// The built-in files with `overrides` in place of those of the same name, and any
    /// other file of `overrides` added: a department's file replaces the shipped one.
    pub fn built_in_with(overrides: Vec<RuleSource>) -> Result<RuleSet, RuleFileError> {
        let mut sources: Vec<RuleSource> = BUILT_IN
            .iter()
            .filter(|(file, _)| !overrides.iter().any(|o| o.file == *file))
            .map(|(file, text)| RuleSource { file: (*file).to_owned(), text: (*text).to_owned() })
            .collect();
        sources.extend(overrides);
        RuleSet::from_sources(sources)
    }

    pub fn files(&self) -> RuleFiles {
        RuleFiles { files: self.sources.clone() }
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    department: String,
    #[serde(default)]
    respond_within: RawDeadlines,
    #[serde(default, rename = "rule")]
    rules: Vec<toml::Spanned<RawRule>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDeadlines {
    yellow: Option<toml::Spanned<String>>,
    orange: Option<toml::Spanned<String>>,
    red: Option<toml::Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    input: String,
    level: String,
    message: String,
    owner: String,
    #[serde(default)]
    runbook: String,
    respond_within: Option<String>,
    days: Option<u32>,
    grace_days: Option<u32>,
    sources: Option<Vec<String>>,
    fields: Option<Vec<String>>,
    minutes: Option<u32>,
    red_after_minutes: Option<u32>,
    mib: Option<u64>,
    below: Option<u32>,
    failures: Option<u32>,
    lockouts: Option<u32>,
}

/// Level deadlines when a file sets none: a working day, half a day, half an hour.
const DEFAULT_DEADLINES: [Duration; 3] = [Duration::hours(24), Duration::hours(4), Duration::minutes(30)];

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn parse_file(file: &str, text: &str) -> Result<Vec<Rule>, RuleFileError> {
    let fail = |offset: usize, problem: String| RuleFileError {
        file: file.to_owned(),
        line: line_of(text, offset),
        problem,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        fail(offset, e.message().trim().to_owned())
    })?;
    let department = raw.department.trim().to_owned();
    if department.is_empty() {
        return Err(fail(0, "department（部门）不能为空".into()));
    }
    let mut deadlines = DEFAULT_DEADLINES;
    for (level, value) in [
        (AlertLevel::Yellow, &raw.respond_within.yellow),
        (AlertLevel::Orange, &raw.respond_within.orange),
        (AlertLevel::Red, &raw.respond_within.red),
    ] {
        if let Some(value) = value {
            deadlines[level.index()] = parse_duration(value.get_ref())
                .map_err(|problem| fail(value.span().start, format!("respond_within.{}：{problem}", level.as_str())))?;
        }
    }
    let mut rules = Vec::with_capacity(raw.rules.len());
    for spanned in raw.rules {
        let offset = spanned.span().start;
        let raw = spanned.into_inner();
        let rule = check_rule(raw, &department, deadlines, file, line_of(text, offset))
            .map_err(|problem| fail(offset, problem))?;
        if rules.iter().any(|r: &Rule| r.id == rule.id) {
            return Err(fail(offset, format!("规则编号 {} 在本文件中重复", rule.id)));
        }
        rules.push(rule);
    }
    Ok(rules)
}

fn check_rule(
    raw: RawRule,
    department: &str,
    mut respond_within: [Duration; 3],
    file: &str,
    line: usize,
) -> Result<Rule, String> {
    let id = raw.id.trim().to_owned();
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format!("规则编号 id = {:?} 应为 1–64 个英文字母、数字、- 或 _", raw.id));
    }
    let named = |what: &str| format!("规则 {id}：{what}");
    let need = |value: Option<u32>, field: &str| value.ok_or_else(|| named(&format!("输入 {} 需要 {field}", raw.input)));
    let input = match raw.input.as_str() {
        "due_soon" => Input::DueSoon { days: need(raw.days, "days")? },
        "overdue" => Input::Overdue { grace_days: raw.grace_days.unwrap_or(0) },
        "validation_failed" => Input::ValidationFailed {
            sources: raw.sources.clone().unwrap_or_default(),
            fields: raw.fields.clone().unwrap_or_default(),
        },
        "sync_lag" => {
            let minutes = need(raw.minutes, "minutes")?;
            if raw.red_after_minutes.is_some_and(|red| red <= minutes) {
                return Err(named("red_after_minutes 应大于 minutes"));
            }
            Input::SyncLag { minutes, red_after_minutes: raw.red_after_minutes }
        }
        "connector_down" => Input::ConnectorDown { minutes: need(raw.minutes, "minutes")? },
        "slot_lag" => Input::SlotLag {
            mib: raw.mib.ok_or_else(|| named("输入 slot_lag 需要 mib"))?,
        },
        "log_gap" => Input::LogGap,
        "reconciliation_mismatch" => Input::ReconciliationMismatch,
        "serials_low" => Input::SerialsLow { below: need(raw.below, "below")? },
        "clock_skew" => Input::ClockSkew,
        "uscc_check_failed" => Input::UsccCheckFailed,
        "document_conflict" => Input::DocumentConflict,
        "login_burst" => Input::LoginBurst {
            failures: need(raw.failures, "failures")?,
            lockouts: need(raw.lockouts, "lockouts")?,
            minutes: need(raw.minutes, "minutes")?,
        },
        "audit_failure" => Input::AuditFailure,
        "disabled_account_command" => Input::DisabledAccountCommand,
        other => {
            return Err(named(&format!(
                "未知的输入 input = {other:?}；可用：due_soon、overdue、validation_failed、sync_lag、connector_down、slot_lag、log_gap、reconciliation_mismatch、serials_low、clock_skew、uscc_check_failed、document_conflict、login_burst、audit_failure、disabled_account_command"
            )));
        }
    };
    let settings_used: &[(&str, bool)] = &[
        ("days", raw.days.is_some()),
        ("grace_days", raw.grace_days.is_some()),
        ("sources", raw.sources.is_some()),
        ("fields", raw.fields.is_some()),
        ("minutes", raw.minutes.is_some()),
        ("red_after_minutes", raw.red_after_minutes.is_some()),
        ("mib", raw.mib.is_some()),
        ("below", raw.below.is_some()),
        ("failures", raw.failures.is_some()),
        ("lockouts", raw.lockouts.is_some()),
    ];
    let own: &[&str] = match &input {
        Input::DueSoon { .. } => &["days"],
        Input::Overdue { .. } => &["grace_days"],
        Input::ValidationFailed { .. } => &["sources", "fields"],
        Input::SyncLag { .. } => &["minutes", "red_after_minutes"],
        Input::ConnectorDown { .. } => &["minutes"],
        Input::SlotLag { .. } => &["mib"],
        Input::LogGap
        | Input::ReconciliationMismatch
        | Input::UsccCheckFailed
        | Input::DocumentConflict
        | Input::AuditFailure
        | Input::ClockSkew
        | Input::DisabledAccountCommand => &[],
        Input::SerialsLow { .. } => &["below"],
        Input::LoginBurst { .. } => &["failures", "lockouts", "minutes"],
    };
    if let Some((stray, _)) = settings_used.iter().find(|(name, used)| *used && !own.contains(name)) {
        return Err(named(&format!("输入 {} 没有设置项 {stray}", input.name())));
    }
    let level = AlertLevel::parse(&raw.level)
        .ok_or_else(|| named(&format!("level = {:?} 无效，应为 黄、橙 或 红", raw.level)))?;
    if !OWNER_ROLES.contains(&raw.owner.as_str()) {
        return Err(named(&format!("owner = {:?} 无效，应为 clerk（窗口人员）或 supervisor（科长）", raw.owner)));
    }
    let message = raw.message.trim().to_owned();
    if message.is_empty() {
        return Err(named("message（提示文字）不能为空"));
    }
    if let Some(unknown) = super::engine::template_names(&message).find(|n| !input.placeholders().contains(n)) {
        return Err(named(&format!(
            "提示文字中的 {{{unknown}}} 不是输入 {} 提供的内容；可用：{}",
            input.name(),
            input.placeholders().join("、")
        )));
    }
    if let Some(own_deadline) = &raw.respond_within {
        respond_within[level.index()] = parse_duration(own_deadline).map_err(|p| named(&format!("respond_within：{p}")))?;
    }
    Ok(Rule {
        id,
        department: department.to_owned(),
        input,
        level,
        message,
        owner_role: raw.owner,
        runbook: raw.runbook.trim().to_owned(),
        respond_within,
        file: file.to_owned(),
        line,
    })
}

/// `30m`, `4h`, `3d`: a whole number of minutes, hours or days, more than zero.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("时限 {text:?} 无效，应写成 30m、4h 或 3d（分钟、小时、天）");
    let split = text.len().checked_sub(1).filter(|&i| text.is_char_boundary(i)).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| bad())?;
    if n <= 0 || n > 365 * 24 * 60 {
        return Err(bad());
    }
    match unit {
        "m" => Ok(Duration::minutes(n)),
        "h" => Ok(Duration::hours(n)),
        "d" => Ok(Duration::days(n)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> RuleFileError {
        RuleSet::from_sources(vec![RuleSource { file: "finance.toml".into(), text: text.into() }])
            .expect_err("the file must be refused")
    }

    const HEAD: &str = "department = \"财务科\"\n";

    #[test]
    fn the_built_in_set_covers_every_domain_example() {
        let set = RuleSet::built_in();
        let has = |pred: fn(&Input) -> bool, level: AlertLevel| {
            set.rules.iter().any(|r| pred(&r.input) && r.level == level)
        };
        assert!(has(|i| matches!(i, Input::DueSoon { .. }), AlertLevel::Yellow));
        assert!(has(|i| matches!(i, Input::Overdue { .. }), AlertLevel::Orange));
        assert!(has(|i| matches!(i, Input::ValidationFailed { fields, .. } if fields.is_empty()), AlertLevel::Orange));
        assert!(has(
            |i| matches!(i, Input::ValidationFailed { sources, .. } if sources == &["civil-defence"]),
            AlertLevel::Orange
        ));
        assert!(has(|i| matches!(i, Input::SyncLag { red_after_minutes: Some(_), .. }), AlertLevel::Yellow));
        assert!(has(|i| matches!(i, Input::ConnectorDown { .. }), AlertLevel::Red));
        assert!(has(|i| matches!(i, Input::SlotLag { .. }), AlertLevel::Red));
        assert!(has(|i| matches!(i, Input::LogGap), AlertLevel::Red));
        assert!(has(|i| matches!(i, Input::ReconciliationMismatch), AlertLevel::Red));
        assert!(set.rules.iter().all(|r| !r.runbook.is_empty() || r.level != AlertLevel::Red), "red rules carry a runbook");
        let departments: std::collections::BTreeSet<_> = set.rules.iter().map(|r| r.department.as_str()).collect();
        assert_eq!(departments.len(), 3, "{departments:?}");
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let err = refused(&format!("{HEAD}\n[[rule]]\nid = \"a\"\ninput = due_soon\n"));
        assert_eq!((err.file.as_str(), err.line), ("finance.toml", 5), "{err}");
        assert!(err.to_string().starts_with("预警规则文件 finance.toml 第 5 行："), "{err}");
    }

    #[test]
    fn a_missing_field_or_unknown_key_names_the_rule_line() {
        let missing = refused(&format!("{HEAD}[[rule]]\nid = \"a\"\ninput = \"overdue\"\nlevel = \"橙\"\nowner = \"clerk\"\n"));
        assert_eq!(missing.line, 2, "{missing}");
        assert!(missing.problem.contains("message"), "{missing}");
        let stray = refused(&format!(
            "{HEAD}[[rule]]\nid = \"a\"\ninput = \"overdue\"\nlevel = \"橙\"\nowner = \"clerk\"\nmessage = \"m\"\ncolour = \"red\"\n"
        ));
        assert!(stray.problem.contains("colour"), "{stray}");
    }

    fn rule_with(extra: &str) -> String {
        format!("{HEAD}\n[[rule]]\nid = \"late\"\ninput = \"overdue\"\nlevel = \"橙\"\nowner = \"clerk\"\nmessage = \"{{project_code}} 逾期\"\n{extra}")
    }

    #[test]
    fn semantic_problems_are_named_in_chinese_at_the_rule() {
        let cases = [
            (rule_with("").replace("\"橙\"", "\"紫\""), "level"),
            (rule_with("").replace("\"clerk\"", "\"boss\""), "owner"),
            (rule_with("").replace("\"overdue\"", "\"weather\""), "未知的输入"),
            (rule_with("").replace("{project_code}", "{builder}"), "{builder}"),
            (rule_with("respond_within = \"4 weeks\"\n"), "时限"),
            (rule_with("respond_within = \"0h\"\n"), "时限"),
            (rule_with("days = 3\n"), "没有设置项 days"),
            (rule_with("").replace("\"overdue\"", "\"due_soon\""), "需要 days"),
            (rule_with("").replace("id = \"late\"", "id = \"逾期\""), "规则编号"),
        ];
        for (text, expected) in cases {
            let err = refused(&text);
            assert_eq!(err.line, 3, "{text}\n{err}");
            assert!(err.problem.contains(expected), "{expected:?} not in {err}");
        }
    }

    #[test]
    fn ids_are_unique_across_files_and_deadlines_apply_per_level() {
        let file = |name: &str| RuleSource { file: name.into(), text: rule_with("respond_within = \"2h\"\n") };
        let err = RuleSet::from_sources(vec![file("a.toml"), file("b.toml")]).unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("b.toml", 3));
        assert!(err.problem.contains("a.toml 第 3 行"), "{err}");

        let set = RuleSet::from_sources(vec![RuleSource {
            file: "a.toml".into(),
            text: rule_with("respond_within = \"2h\"\n").replace(HEAD, &format!("{HEAD}[respond_within]\nred = \"15m\"\n")),
        }])
        .unwrap();
        let rule = set.rule("late").unwrap();
        assert_eq!(rule.respond_within(AlertLevel::Orange), Duration::hours(2));
        assert_eq!(rule.respond_within(AlertLevel::Red), Duration::minutes(15));
        assert_eq!(rule.respond_within(AlertLevel::Yellow), Duration::hours(24));
        assert_eq!(rule.department, "财务科");
    }

    #[test]
    fn a_bad_level_deadline_names_its_line() {
        let err = refused(&format!("{HEAD}[respond_within]\norange = \"soon\"\n"));
        assert_eq!(err.line, 3, "{err}");
        assert!(err.problem.contains("respond_within.orange"), "{err}");
    }
}
