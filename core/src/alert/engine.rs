//! Evaluation: which rules fire on what is known. Pure and cheap, so the hub runs it on
//! every delivered change and the counters on every applied batch and clock tick, with
//! the same result for the same facts and the same clock.

use time::{Date, OffsetDateTime};

use super::AlertLevel;
use super::rules::{Input, Rule, RuleSet};
use crate::document::{DocumentState, IssuedDocument};
use crate::document_rules::describe;
use crate::entity::FeeKind;
use crate::records::ProjectRecords;
use crate::uscc::UsccError;
use crate::money::{Fen, format_yuan};
use crate::status::Standing;

/// One outstanding fee with its due date: what the deadline rules read of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeDue {
    pub fee_kind: FeeKind,
    pub due_on: Date,
    pub outstanding_fen: Fen,
}

impl FeeDue {
    /// The fees of a standing that still have money outstanding against a due date.
    pub fn of(standing: &Standing) -> Vec<FeeDue> {
        standing
            .fees
            .iter()
            .filter(|f| f.outstanding_fen > 0)
            .filter_map(|f| {
                f.due_on.map(|due_on| FeeDue {
                    fee_kind: f.fee_kind,
                    due_on,
                    outstanding_fen: f.outstanding_fen,
                })
            })
            .collect()
    }
}

/// What the system rules read: one subject each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemSignal {
    /// A record held in quarantine (open only).
    Quarantined {
        id: u64,
        connector: String,
        source: String,
        location: String,
        project_code: String,
        /// (field, problem) pairs.
        problems: Vec<(String, String)>,
    },
    /// A department feed at the hub.
    Connector {
        name: String,
        /// Whether it keeps a connection open (CDC): only those can be "down".
        streaming: bool,
        /// When the current run of failures began; `None` while it works.
        failing_since: Option<OffsetDateTime>,
        last_error: Option<String>,
        slot_lag_bytes: Option<i64>,
        /// What the last comparison with its source found, when it disagreed.
        mismatch: Option<String>,
    },
    /// A counter's link to the hub and the state of its replica.
    Counter {
        device: String,
        /// The last time the hub answered; `None` before it ever did.
        last_contact: Option<OffsetDateTime>,
        /// When this counter started (how long "never" has lasted).
        started_at: OffsetDateTime,
        /// A change-log batch or snapshot that did not check out.
        log_problem: Option<String>,
        /// What the last reconciliation found, when it disagreed.
        mismatch: Option<String>,
        /// Serials left per document kind (its Chinese name), for a counter that issues
        /// documents; empty for one that does not.
        serials_left: Vec<(String, u64)>,
        /// How far the hub last found its clock off, beyond the hub's margin (seconds,
        /// positive: ahead).
        clock_skew_seconds: Option<i64>,
    },
    /// Signing in and the audit trail at the hub.
    Security {
        /// When sign-ins failed, and when accounts were locked, recently (the hub's last
        /// day at most): each rule counts those within its own window.
        failed_logins: Vec<OffsetDateTime>,
        lockouts: Vec<OffsetDateTime>,
        /// Why the audit trail is in doubt: a record that could not be written, or the
        /// first record its verification found changed, removed or inserted.
        audit_problem: Option<String>,
        /// The accounts whose commands arrived after the account was disabled, recently,
        /// one entry a command.
        disabled_account_commands: Vec<String>,
    },
}

/// A rule that holds on a subject now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firing {
    pub rule_id: String,
    pub subject: String,
    pub project_code: String,
    pub level: AlertLevel,
    pub message: String,
    pub quarantine_id: Option<u64>,
}

impl Firing {
    pub fn key(&self) -> String {
        super::Alert::key_for(&self.rule_id, &self.subject)
    }
}

pub fn project_subject(project_code: &str) -> String {
    format!("project/{project_code}")
}

impl RuleSet {
    /// The deadline rules on one project's outstanding fees, `today` in Asia/Shanghai. Each
    /// rule fires once per project, on the fee that is most pressing.
    pub fn project_firings(&self, project_code: &str, dues: &[FeeDue], today: Date) -> Vec<Firing> {
        let mut firings = Vec::new();
        if dues.is_empty() {
            return firings;
        }
        for rule in &self.rules {
            let fired = match rule.input {
                Input::DueSoon { days } => dues
                    .iter()
                    .filter(|d| d.due_on >= today && (d.due_on - today).whole_days() <= i64::from(days))
                    .min_by_key(|d| d.due_on)
                    .map(|d| render_due(rule, project_code, d)),
                Input::Overdue { grace_days } => dues
                    .iter()
                    .filter(|d| (today - d.due_on).whole_days() > i64::from(grace_days))
                    .min_by_key(|d| d.due_on)
                    .map(|d| render_due(rule, project_code, d)),
                _ => None,
            };
            if let Some(message) = fired {
                firings.push(Firing {
                    rule_id: rule.id.clone(),
                    subject: project_subject(project_code),
                    project_code: project_code.to_owned(),
                    level: rule.level,
                    message,
                    quarantine_id: None,
                });
            }
        }
        firings
    }

    /// The rules on what a project's records say (not its deadlines): a legacy USCC, a
    /// document in conflict. One firing per rule at most, under the project's subject like
    /// the deadline rules.
    pub fn record_firings(&self, records: &ProjectRecords) -> Vec<Firing> {
        let Some(project) = &records.project else { return Vec::new() };
        let code = project.project_code.as_str();
        let mut firings = Vec::new();
        for rule in &self.rules {
            let values: Vec<(&str, String)> = match rule.input {
                Input::UsccCheckFailed => match project.uscc.check_character_holds() {
                    Err(problem @ UsccError::CheckDigit { .. }) => {
                        vec![("uscc", project.uscc.to_string()), ("problem", problem.to_string())]
                    }
                    _ => continue,
                },
                Input::DocumentConflict => {
                    let conflicts: Vec<&IssuedDocument> =
                        records.documents.iter().filter(|d| d.state == DocumentState::Conflict).collect();
                    if conflicts.is_empty() {
                        continue;
                    }
                    let numbers = conflicts.iter().map(|d| d.key()).collect::<Vec<_>>().join("、");
                    let problems = conflicts.iter().map(|d| describe(&d.failed_checks)).collect::<Vec<_>>().join("；");
                    vec![("number", numbers), ("problem", problems)]
                }
                _ => continue,
            };
            let mut values: Vec<(&str, &str)> = values.iter().map(|(name, value)| (*name, value.as_str())).collect();
            values.push(("project_code", code));
            firings.push(Firing {
                rule_id: rule.id.clone(),
                subject: project_subject(code),
                project_code: code.to_owned(),
                level: rule.level,
                message: render(&rule.message, &values),
                quarantine_id: None,
            });
        }
        firings
    }

    /// The system rules on one subject at `now`.
    pub fn system_firings(&self, signal: &SystemSignal, now: OffsetDateTime) -> Vec<Firing> {
        let mut firings = Vec::new();
        for rule in &self.rules {
            if let Some(firing) = system_firing(rule, signal, now) {
                firings.push(firing);
            }
        }
        firings
    }
}

/// The message names the due date, not a count of days: a count would change the alert
/// every midnight and send every open deadline alert down the change log again.
fn render_due(rule: &Rule, project_code: &str, due: &FeeDue) -> String {
    let due_on = chinese_date(due.due_on);
    let outstanding = format_yuan(due.outstanding_fen);
    let values = [
        ("project_code", project_code),
        ("fee", due.fee_kind.name_zh()),
        ("due_on", due_on.as_str()),
        ("outstanding", outstanding.as_str()),
    ];
    render(&rule.message, &values)
}

fn system_firing(rule: &Rule, signal: &SystemSignal, now: OffsetDateTime) -> Option<Firing> {
    let minutes_since = |at: OffsetDateTime| (now - at).whole_minutes();
    let fire = |subject: String, project_code: &str, level: AlertLevel, values: &[(&str, &str)], quarantine_id| Firing {
        rule_id: rule.id.clone(),
        subject,
        project_code: project_code.to_owned(),
        level,
        message: render(&rule.message, values),
        quarantine_id,
    };
    match (&rule.input, signal) {
        (
            Input::ValidationFailed { sources, fields },
            SystemSignal::Quarantined { id, connector, source, location, project_code, problems },
        ) => {
            if !sources.is_empty() && !sources.contains(source) {
                return None;
            }
            let (field, problem) = problems
                .iter()
                .find(|(field, _)| fields.is_empty() || fields.contains(field))?;
            let values = [
                ("project_code", project_code.as_str()),
                ("source", source_name(source)),
                ("connector", connector.as_str()),
                ("location", location.as_str()),
                ("field", field.as_str()),
                ("problem", problem.as_str()),
            ];
            Some(fire(format!("quarantine/{id}"), project_code, rule.level, &values, Some(*id)))
        }
        (Input::ConnectorDown { minutes }, SystemSignal::Connector { name, streaming: true, failing_since: Some(since), last_error, .. }) => {
            let down = minutes_since(*since);
            (down >= i64::from(*minutes)).then(|| {
                let down = down.to_string();
                let error = last_error.as_deref().unwrap_or("原因不明");
                fire(format!("connector/{name}"), "", rule.level, &[("connector", name), ("minutes", &down), ("error", error)], None)
            })
        }
        (Input::SlotLag { mib }, SystemSignal::Connector { name, slot_lag_bytes: Some(bytes), .. }) => {
            let lag_mib = u64::try_from(*bytes).unwrap_or(0) / (1024 * 1024);
            (lag_mib > *mib).then(|| {
                let lag = lag_mib.to_string();
                fire(format!("connector/{name}"), "", rule.level, &[("connector", name), ("mib", &lag)], None)
            })
        }
        (Input::ReconciliationMismatch, SystemSignal::Connector { name, mismatch: Some(problem), .. }) => {
            let subject = format!("数据接入 {name}");
            Some(fire(format!("connector/{name}"), "", rule.level, &[("subject", &subject), ("problem", problem)], None))
        }
        (Input::SyncLag { minutes, red_after_minutes }, SystemSignal::Counter { device, last_contact, started_at, .. }) => {
            let silent = minutes_since(last_contact.unwrap_or(*started_at));
            (silent >= i64::from(*minutes)).then(|| {
                let level = match red_after_minutes {
                    Some(red) if silent >= i64::from(*red) => AlertLevel::Red,
                    _ => rule.level,
                };
                let silent = silent.to_string();
                fire(format!("counter/{device}"), "", level, &[("device", device), ("minutes", &silent)], None)
            })
        }
        (Input::LogGap, SystemSignal::Counter { device, log_problem: Some(problem), .. }) => {
            let name = format!("窗口 {device}");
            Some(fire(format!("counter/{device}"), "", rule.level, &[("device", &name), ("problem", problem)], None))
        }
        (Input::ReconciliationMismatch, SystemSignal::Counter { device, mismatch: Some(problem), .. }) => {
            let subject = format!("窗口 {device} 的本地数据");
            Some(fire(format!("counter/{device}"), "", rule.level, &[("subject", &subject), ("problem", problem)], None))
        }
        (Input::SerialsLow { below }, SystemSignal::Counter { device, serials_left, .. }) => {
            let (kind, left) = serials_left.iter().filter(|(_, left)| *left < u64::from(*below)).min_by_key(|(_, left)| *left)?;
            let (name, left) = (format!("窗口 {device}"), left.to_string());
            Some(fire(format!("counter/{device}"), "", rule.level, &[("device", &name), ("kind", kind), ("left", &left)], None))
        }
        (Input::ClockSkew, SystemSignal::Counter { device, clock_skew_seconds: Some(skew), .. }) => {
            let (name, seconds) = (format!("窗口 {device}"), skew.unsigned_abs().to_string());
            let direction = if *skew > 0 { "快" } else { "慢" };
            Some(fire(format!("counter/{device}"), "", rule.level, &[("device", &name), ("seconds", &seconds), ("direction", direction)], None))
        }
        (Input::LoginBurst { failures, lockouts, minutes }, SystemSignal::Security { failed_logins, lockouts: locked, .. }) => {
            let within = |times: &[OffsetDateTime]| times.iter().filter(|at| minutes_since(**at) < i64::from(*minutes)).count();
            let (failed, locked) = (within(failed_logins), within(locked));
            (failed >= *failures as usize || locked >= *lockouts as usize).then(|| {
                let (failed, locked, minutes) = (failed.to_string(), locked.to_string(), minutes.to_string());
                let values = [("failures", failed.as_str()), ("lockouts", locked.as_str()), ("minutes", minutes.as_str())];
                fire("security/sign-in".into(), "", rule.level, &values, None)
            })
        }
        (Input::AuditFailure, SystemSignal::Security { audit_problem: Some(problem), .. }) => {
            Some(fire("security/audit".into(), "", rule.level, &[("problem", problem)], None))
        }
        (Input::DisabledAccountCommand, SystemSignal::Security { disabled_account_commands, .. }) => {
            let accounts: std::collections::BTreeSet<&str> = disabled_account_commands.iter().map(String::as_str).collect();
            (!accounts.is_empty()).then(|| {
                let (accounts, commands) = (accounts.into_iter().collect::<Vec<_>>().join("、"), disabled_account_commands.len().to_string());
                fire("security/disabled-account".into(), "", rule.level, &[("account", &accounts), ("commands", &commands)], None)
            })
        }
        _ => None,
    }
}

fn source_name(source: &str) -> &str {
    match source {
        "planning" => "规划审批",
        "civil-defence" => "人防征收",
        "tax" => "完税反馈",
        "payments" => "缴款到账",
        other => other,
    }
}

/// `2026年12月31日`.
pub fn chinese_date(date: Date) -> String {
    format!("{}年{}月{}日", date.year(), u8::from(date.month()), date.day())
}

/// The `{name}`s a template uses.
pub(crate) fn template_names(template: &str) -> impl Iterator<Item = &str> {
    template.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// Fills `{name}` from `values`; the rules check made sure every name is known.
fn render(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.split_once('}') {
            Some((name, tail)) => {
                match values.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = tail;
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    const CODE: &str = "2019-320105-47-01-123456";
    const TODAY: Date = date!(2026 - 11 - 24);

    #[test]
    fn a_legacy_uscc_and_a_document_in_conflict_each_raise_one_orange_alert_on_the_project() {
        use crate::document::{Document, DocumentNumber, DocumentKind, IssueContext, IssuingUnit};
        use crate::document_rules::{FailedCheck, check_document};
        let rules = RuleSet::built_in();
        let mut records = crate::records::tests::cleared_and_checked();
        assert!(rules.record_firings(&records).is_empty(), "a sound project raises nothing");

        records.project.as_mut().unwrap().uscc = "91350100M000100Y44".parse().unwrap();
        let firings = rules.record_firings(&records);
        assert_eq!(firings.iter().map(|f| (f.rule_id.as_str(), f.level)).collect::<Vec<_>>(), [("uscc-check-failed", AlertLevel::Orange)]);
        assert!(firings[0].message.contains("91350100M000100Y44") && firings[0].message.contains("校验位"), "{}", firings[0].message);

        let unit = IssuingUnit::example();
        let ctx = IssueContext { unit: &unit, issuer: "王芳", device_id: &"counter-03".parse().unwrap(), at: datetime!(2026-11-24 02:30 UTC) };
        let mut records = crate::records::tests::cleared_and_checked();
        let mut document = Document::for_project(&records, DocumentNumber { kind: DocumentKind::Voucher, serial: 9 }, &ctx).unwrap();
        document.payer = "南京另一置业有限公司".into();
        let failed_checks = check_document(&document, &records, TODAY);
        assert!(matches!(&failed_checks[..], [FailedCheck::Payer { .. }]));
        records.documents.push(crate::document::IssuedDocument {
            document,
            signature: "A".repeat(86),
            pdf_sm3: "ab".repeat(32),
            state: crate::document::DocumentState::Conflict,
            conflict: Some("数据中心核对未通过".into()),
            failed_checks,
            voiding: None,
            reprints: Vec::new(),
            command_id: "i1".parse().unwrap(),
        });
        let firings = rules.record_firings(&records);
        assert_eq!(firings.iter().map(|f| (f.rule_id.as_str(), f.level)).collect::<Vec<_>>(), [("document-conflict", AlertLevel::Orange)]);
        assert!(firings[0].message.contains("PZ0000000009") && firings[0].message.contains("交款人"), "{}", firings[0].message);
    }

    fn due(kind: FeeKind, due_on: Date, outstanding_fen: Fen) -> FeeDue {
        FeeDue { fee_kind: kind, due_on, outstanding_fen }
    }

    fn fired(firings: &[Firing]) -> Vec<(&str, AlertLevel)> {
        firings.iter().map(|f| (f.rule_id.as_str(), f.level)).collect()
    }

    #[test]
    fn due_soon_fires_within_its_window_and_clears_outside_it() {
        let rules = RuleSet::built_in();
        let fires = |due_on| rules.project_firings(CODE, &[due(FeeKind::Infra, due_on, 150_000)], TODAY).len();
        assert_eq!(fires(date!(2026 - 12 - 01)), 1, "due in 7 days: inside a 7-day window");
        assert_eq!(fires(date!(2026 - 12 - 02)), 0, "due in 8 days: not yet");
        let firings = rules.project_firings(CODE, &[due(FeeKind::Infra, date!(2026 - 11 - 30), 150_000)], TODAY);
        assert_eq!(fired(&firings), [("payment-due-soon", AlertLevel::Yellow)]);
        assert_eq!(
            firings[0].message,
            "项目 2019-320105-47-01-123456 的城市基础设施配套费将于 2026年11月30日 到期，尚欠 ¥1,500.00。"
        );
        assert_eq!(firings[0].subject, "project/2019-320105-47-01-123456");
        assert_eq!(fires(TODAY), 1, "due today is still due soon");
        assert!(rules.project_firings(CODE, &[], TODAY).is_empty(), "paid: nothing fires");
    }

    #[test]
    fn overdue_fires_the_day_after_the_due_date_on_the_oldest_fee() {
        let rules = RuleSet::built_in();
        let dues = [
            due(FeeKind::Infra, date!(2026 - 11 - 20), 1_00),
            due(FeeKind::CivilDefence, date!(2026 - 11 - 23), 2_00),
            due(FeeKind::CivilDefence, date!(2026 - 11 - 26), 3_00),
        ];
        let firings = rules.project_firings(CODE, &dues, TODAY);
        assert_eq!(fired(&firings), [("payment-due-soon", AlertLevel::Yellow), ("payment-overdue", AlertLevel::Orange)]);
        assert!(firings[1].message.contains("已于 2026年11月20日 到期"), "{}", firings[1].message);
        assert!(firings[1].message.contains("城市基础设施配套费"), "{}", firings[1].message);
        let on_due_date = rules.project_firings(CODE, &[due(FeeKind::Infra, TODAY, 1)], TODAY);
        assert_eq!(fired(&on_due_date), [("payment-due-soon", AlertLevel::Yellow)]);
    }

    fn quarantined(source: &str, field: &str) -> SystemSignal {
        SystemSignal::Quarantined {
            id: 7,
            connector: "civil-defence-push".into(),
            source: source.into(),
            location: "请求 r-1 第1条".into(),
            project_code: CODE.into(),
            problems: vec![(field.into(), "金额与面积×标准不符".into())],
        }
    }

    #[test]
    fn validation_rules_fire_on_quarantine_narrowed_by_source_and_field() {
        let rules = RuleSet::built_in();
        let now = datetime!(2026-11-24 02:00 UTC);
        let cd = rules.system_firings(&quarantined("civil-defence", "amount_fen"), now);
        assert_eq!(fired(&cd), [("civil-defence-mismatch", AlertLevel::Orange), ("validation-failed", AlertLevel::Orange)]);
        assert_eq!((cd[0].subject.as_str(), cd[0].quarantine_id, cd[0].project_code.as_str()), ("quarantine/7", Some(7), CODE));
        let tax = rules.system_firings(&quarantined("tax", "issued_on"), now);
        assert_eq!(fired(&tax), [("validation-failed", AlertLevel::Orange)]);
        assert!(tax[0].message.contains("完税反馈"), "{}", tax[0].message);
    }

    fn connector(failing_since: Option<OffsetDateTime>, lag: Option<i64>, mismatch: Option<&str>) -> SystemSignal {
        SystemSignal::Connector {
            name: "planning-cdc".into(),
            streaming: true,
            failing_since,
            last_error: Some("连接被拒绝".into()),
            slot_lag_bytes: lag,
            mismatch: mismatch.map(str::to_owned),
        }
    }

    #[test]
    fn connector_rules_fire_on_down_time_slot_lag_and_mismatch() {
        let rules = RuleSet::built_in();
        let now = datetime!(2026-11-24 02:00 UTC);
        assert!(rules.system_firings(&connector(Some(now - time::Duration::minutes(4)), Some(0), None), now).is_empty());
        let down = rules.system_firings(&connector(Some(now - time::Duration::minutes(5)), None, None), now);
        assert_eq!(fired(&down), [("connector-down", AlertLevel::Red)]);
        assert_eq!(down[0].message, "数据接入 planning-cdc 已中断 5 分钟：连接被拒绝");
        let lag = rules.system_firings(&connector(None, Some(2 * 1024 * 1024 * 1024), None), now);
        assert_eq!(fired(&lag), [("slot-lag", AlertLevel::Red)]);
        let mismatch = rules.system_firings(&connector(None, Some(0), Some("来源 10 条，数据中心 9 条")), now);
        assert_eq!(fired(&mismatch), [("reconciliation-mismatch", AlertLevel::Red)]);
    }

    #[test]
    fn counter_rules_fire_on_silence_gaps_and_mismatch_and_sync_lag_turns_red_when_long() {
        let rules = RuleSet::built_in();
        let now = datetime!(2026-11-24 02:00 UTC);
        let counter = |silent_minutes: i64, log_problem: Option<&str>, mismatch: Option<&str>| SystemSignal::Counter {
            device: "counter-03".into(),
            last_contact: Some(now - time::Duration::minutes(silent_minutes)),
            started_at: now - time::Duration::days(1),
            log_problem: log_problem.map(str::to_owned),
            mismatch: mismatch.map(str::to_owned),
            serials_left: vec![("缴费凭证".into(), 20), ("非税收入票据".into(), 150)],
            clock_skew_seconds: None,
        };
        assert!(rules.system_firings(&counter(14, None, None), now).is_empty());
        assert_eq!(fired(&rules.system_firings(&counter(15, None, None), now)), [("sync-lag", AlertLevel::Yellow)]);
        assert_eq!(fired(&rules.system_firings(&counter(120, None, None), now)), [("sync-lag", AlertLevel::Red)]);
        assert_eq!(fired(&rules.system_firings(&counter(0, Some("第 12 号变更校验失败"), None), now)), [("log-gap", AlertLevel::Red)]);
        assert_eq!(
            fired(&rules.system_firings(&counter(0, None, Some("3 条记录不一致")), now)),
            [("reconciliation-mismatch", AlertLevel::Red)]
        );
        let never = SystemSignal::Counter {
            device: "counter-03".into(),
            last_contact: None,
            started_at: now - time::Duration::minutes(20),
            log_problem: None,
            mismatch: None,
            serials_left: Vec::new(),
            clock_skew_seconds: None,
        };
        assert_eq!(fired(&rules.system_firings(&never, now)), [("sync-lag", AlertLevel::Yellow)]);
    }

    #[test]
    fn a_burst_of_failed_sign_ins_or_lockouts_is_orange_and_a_doubtful_audit_trail_red() {
        let rules = RuleSet::built_in();
        let now = datetime!(2026-11-24 02:00 UTC);
        let ago = |minutes: i64| now - time::Duration::minutes(minutes);
        let signal = |failed: Vec<OffsetDateTime>, locked: Vec<OffsetDateTime>, audit: Option<&str>| SystemSignal::Security {
            failed_logins: failed,
            lockouts: locked,
            audit_problem: audit.map(str::to_owned),
            disabled_account_commands: Vec::new(),
        };
        let quiet = signal((0..19).map(|_| ago(1)).collect(), vec![ago(1), ago(2)], None);
        assert!(rules.system_firings(&quiet, now).is_empty(), "19 failures and 2 lockouts in 10 minutes are a busy morning");
        let stale = signal((0..40).map(|_| ago(11)).collect(), (0..5).map(|_| ago(30)).collect(), None);
        assert!(rules.system_firings(&stale, now).is_empty(), "what is older than the window does not count");
        let guessing = rules.system_firings(&signal((0..20).map(|_| ago(3)).collect(), Vec::new(), None), now);
        assert_eq!(fired(&guessing), [("login-burst", AlertLevel::Orange)]);
        assert_eq!(guessing[0].message, "最近 10 分钟内数据中心登录失败 20 次、锁定账号 0 个，可能有人在猜测口令。");
        let locking = rules.system_firings(&signal(Vec::new(), vec![ago(1), ago(2), ago(9)], None), now);
        assert_eq!(fired(&locking), [("login-burst", AlertLevel::Orange)]);
        let broken = rules.system_firings(&signal(Vec::new(), Vec::new(), Some("校验失败：第 42 条被改动")), now);
        assert_eq!(fired(&broken), [("audit-failure", AlertLevel::Red)]);
        assert!(broken[0].message.contains("第 42 条被改动"), "{}", broken[0].message);
    }

    #[test]
    fn commands_from_an_account_disabled_before_they_arrived_are_orange() {
        let rules = RuleSet::built_in();
        let now = datetime!(2026-11-24 02:00 UTC);
        let signal = |accounts: &[&str]| SystemSignal::Security {
            failed_logins: Vec::new(),
            lockouts: Vec::new(),
            audit_problem: None,
            disabled_account_commands: accounts.iter().map(|a| (*a).to_owned()).collect(),
        };
        assert!(rules.system_firings(&signal(&[]), now).is_empty());
        let flagged = rules.system_firings(&signal(&["clerk07", "clerk02", "clerk07"]), now);
        assert_eq!(fired(&flagged), [("disabled-account-command", AlertLevel::Orange)]);
        assert_eq!(
            flagged[0].message,
            "账号 clerk02、clerk07 停用前在窗口离线办理的 3 条指令已上传并受理，请科长逐条核对。"
        );
    }

    #[test]
    fn a_counter_running_low_on_serials_gets_a_yellow_alert_naming_the_kind() {
        let rules = RuleSet::built_in();
        let now = datetime!(2026-11-24 02:00 UTC);
        let counter = |voucher: u64, invoice: u64| SystemSignal::Counter {
            device: "counter-03".into(),
            last_contact: Some(now),
            started_at: now,
            log_problem: None,
            mismatch: None,
            serials_left: vec![("缴费凭证".into(), voucher), ("非税收入票据".into(), invoice)],
            clock_skew_seconds: None,
        };
        assert!(rules.system_firings(&counter(20, 200), now).is_empty());
        let low = rules.system_firings(&counter(150, 3), now);
        assert_eq!(fired(&low), [("serials-low", AlertLevel::Yellow)]);
        assert_eq!(low[0].message, "窗口 counter-03 的非税收入票据号段仅剩 3 个号码，请保持联网以便自动领取新号段。");
    }

    #[test]
    fn templates_fill_known_names_and_leave_stray_braces() {
        assert_eq!(render("{a} 与 {b}，{c", &[("a", "甲"), ("b", "乙")]), "甲 与 乙，{c");
        assert_eq!(template_names("x {a} y {b} {").collect::<Vec<_>>(), ["a", "b"]);
    }
}
