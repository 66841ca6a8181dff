//! Alerts at the hub: the rules in force (built in, or a department's file from
//! `--alert-rules`, reloaded when it changes), evaluated on every delivered change and on a
//! clock tick, kept as `alert` rows so the change log carries them to every counter.

mod evaluate;
mod signals;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use time::Date;
use tokio::sync::{mpsc, watch};
use yizhan_core::alert::Alert;
use yizhan_core::alert::rules::{RuleFileError, RuleSet, RuleSource};
use yizhan_core::clock::Clock;
use yizhan_core::entity::EntityKind;
use yizhan_sync::protocol::{KeyRange, QuarantineState};

use self::evaluate::{SystemFirings, project_alerts};
use crate::audit::{Actor, AuditEvent, Entry};
use crate::hub::Hub;
use crate::store::{RowWrite, StoreError};

/// The origin of the rows alert evaluation writes.
const ORIGIN: &str = "alerts";
/// Projects evaluated per transaction: keeps the writer lock short for ingest.
const CHUNK: usize = 500;
pub const DEFAULT_TICK: Duration = Duration::from_secs(30);
/// How often a pass over every project says how far it has come in the log.
const PROGRESS_EVERY: u64 = 20_000;

enum Wake {
    /// These projects' rows changed.
    Touched(Vec<String>),
    /// Something the system rules read changed (a record quarantined or released).
    Recheck,
}

/// The hub's alert desk: the rules, the clock deadlines are judged by, and the queue of
/// projects to evaluate.
pub struct AlertDesk {
    rules: RwLock<Arc<RuleSet>>,
    rules_dir: Option<PathBuf>,
    /// The files last refused, with why, so the same broken file is reported once.
    refused: Mutex<Option<(Vec<RuleSource>, RuleFileError)>>,
    clock: Clock,
    tick: Duration,
    wake: mpsc::UnboundedSender<Wake>,
    woken: Mutex<Option<mpsc::UnboundedReceiver<Wake>>>,
    /// The last pass over every project, or the one under way.
    pass: Mutex<Option<PassProgress>>,
}

/// Why every project is evaluated again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassReason {
    /// The hub's first tick after it started.
    StartUp,
    /// Midnight in Shanghai: deadlines passed.
    DayTurn,
    /// The rules files changed.
    RulesChanged,
}

impl PassReason {
    pub fn as_str(self) -> &'static str {
        match self {
            PassReason::StartUp => "start_up",
            PassReason::DayTurn => "day_turn",
            PassReason::RulesChanged => "rules_changed",
        }
    }
}

/// How far a pass over every project has come: shown in the log and at `/metrics`. It
/// writes a chunk of projects per transaction and rests between pages, so ingest and
/// long-polls go on beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassProgress {
    pub reason: PassReason,
    /// Projects the hub held when the pass started.
    pub projects: u64,
    pub evaluated: u64,
    /// Alert rows written (raised, escalated, resolved) so far.
    pub changes: u64,
    pub done: bool,
}

/// What `GET /v1/alert-rules` answers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RulesInForce {
    pub rules: Vec<RuleSummary>,
    /// The last rules file refused, when it is still on disk as refused.
    pub refused: Option<RuleFileError>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleSummary {
    pub id: String,
    pub department: String,
    pub level: yizhan_core::alert::AlertLevel,
    pub owner_role: String,
    pub file: String,
    pub line: usize,
}

impl AlertDesk {
    /// The built-in rules with the files of `rules_dir` in place of those of the same name.
    /// A broken file is refused (and reported at `GET /v1/alert-rules`); the hub starts on
    /// the built-in rules rather than not at all.
    pub fn new(rules_dir: Option<PathBuf>, clock: Clock, tick: Duration) -> AlertDesk {
        let (wake, woken) = mpsc::unbounded_channel();
        let desk = AlertDesk {
            rules: RwLock::new(Arc::new(RuleSet::built_in())),
            rules_dir,
            refused: Mutex::new(None),
            clock,
            tick,
            wake,
            woken: Mutex::new(Some(woken)),
            pass: Mutex::new(None),
        };
        desk.reload_rules();
        desk
    }

    pub fn rules(&self) -> Arc<RuleSet> {
        Arc::clone(&self.rules.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The pass over every project under way, or the last one.
    pub fn pass(&self) -> Option<PassProgress> {
        self.pass.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn start_pass(&self, pass: PassProgress) {
        *self.pass.lock().unwrap_or_else(PoisonError::into_inner) = Some(pass);
    }

    fn pass_progress(&self, update: impl FnOnce(&mut PassProgress)) {
        if let Some(pass) = self.pass.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            update(pass);
        }
    }

    pub fn in_force(&self) -> RulesInForce {
        RulesInForce {
            rules: self
                .rules()
                .rules
                .iter()
                .map(|r| RuleSummary {
                    id: r.id.clone(),
                    department: r.department.clone(),
                    level: r.level,
                    owner_role: r.owner_role.clone(),
                    file: r.file.clone(),
                    line: r.line,
                })
                .collect(),
            refused: self.refused.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map(|(_, e)| e.clone()),
        }
    }

    /// Projects whose rows changed: evaluated by the running desk soon after.
    pub(crate) fn touched(&self, codes: impl IntoIterator<Item = String>) {
        let codes: Vec<String> = codes.into_iter().collect();
        if !codes.is_empty() {
            let _ = self.wake.send(Wake::Touched(codes));
        }
    }

    pub(crate) fn recheck(&self) {
        let _ = self.wake.send(Wake::Recheck);
    }

    /// Reads the rules folder again: whether the rules in force changed, or an edit was
    /// refused (both are configuration changes the audit trail records).
    fn reload_rules(&self) -> RulesReload {
        let Some(dir) = &self.rules_dir else { return RulesReload::Unchanged };
        let files = match read_rule_files(dir) {
            Ok(files) => files,
            Err(error) => {
                tracing::error!(dir = %dir.display(), %error, "无法读取预警规则文件夹，沿用现有规则");
                return RulesReload::Unchanged;
            }
        };
        let mut refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.rules();
        if refused.as_ref().is_some_and(|(sources, _)| *sources == files) {
            return RulesReload::Unchanged;
        }
        let names: Vec<String> = files.iter().map(|f| f.file.clone()).collect();
        match RuleSet::built_in_with(files.clone()) {
            Ok(rules) if rules == *current => {
                *refused = None;
                RulesReload::Unchanged
            }
            Ok(rules) => {
                tracing::info!(rules = rules.rules.len(), dir = %dir.display(), "预警规则已更新");
                let ids = rules.rules.iter().map(|r| r.id.clone()).collect();
                *self.rules.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(rules);
                *refused = None;
                RulesReload::Changed { files: names, rules: ids }
            }
            Err(error) => {
                tracing::error!(%error, "预警规则文件有误，未生效，沿用现有规则");
                let reason = error.to_string();
                *refused = Some((files, error));
                RulesReload::Refused { files: names, reason }
            }
        }
    }
}

/// What reading the rules folder again came to.
enum RulesReload {
    Unchanged,
    /// New rules in force: the files read and the rule ids now in force.
    Changed { files: Vec<String>, rules: Vec<String> },
    /// An edit that does not read: the rules in force stay.
    Refused { files: Vec<String>, reason: String },
}

fn read_rule_files(dir: &Path) -> std::io::Result<Vec<RuleSource>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            files.push(RuleSource { file, text: std::fs::read_to_string(&path)? });
        }
    }
    files.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(files)
}

impl Hub {
    /// Records a change of the rule files, or an edit refused, as a configuration change by
    /// whoever edited the folder (the hub knows the folder, not the person).
    async fn audit_rules_reload(&self, reload: RulesReload) -> Result<(), StoreError> {
        let actor = Actor { user: "alert-rules".into(), role: "config".into(), ..Actor::default() };
        let entry = match reload {
            RulesReload::Unchanged => return Ok(()),
            RulesReload::Changed { files, rules } => {
                Entry::new(&actor, AuditEvent::ConfigChanged, "alert_rules").detail(serde_json::json!({"files": files, "after": rules}))
            }
            RulesReload::Refused { files, reason } => {
                Entry::new(&actor, AuditEvent::ConfigChanged, "alert_rules").detail(serde_json::json!({"files": files})).failed(reason)
            }
        };
        self.audit(entry).await
    }
}

impl Hub {
    /// Every alert the hub keeps, parsed.
    pub async fn alerts(&self) -> Result<Vec<Alert>, StoreError> {
        self.store()
            .range_rows(KeyRange::whole(EntityKind::Alert), usize::MAX)
            .await?
            .iter()
            .map(|row| serde_json::from_str(&row.payload).map_err(|e| StoreError::Corrupt(format!("预警 {} 无法解析：{e}", row.key))))
            .collect()
    }

    /// Evaluates the projects' alerts now, with the system rules' findings when given, a
    /// chunk of projects per transaction. Returns how many alert rows it wrote.
    async fn evaluate(&self, desk: &AlertDesk, codes: Vec<String>, system: Option<Arc<SystemFirings>>) -> Result<u64, StoreError> {
        let rules = desk.rules();
        let now = desk.clock.now();
        let today = desk.clock.today();
        let mut written = 0;
        for chunk in codes.chunks(CHUNK) {
            let rules = Arc::clone(&rules);
            let system = system.clone();
            let outcome = self
                .store()
                .update_projects(
                    ORIGIN,
                    chunk.to_vec(),
                    Box::new(move |code, rows| project_alerts(&rules, code, rows, system.as_deref(), today, now)),
                )
                .await?;
            written += outcome.seqs.iter().flatten().count() as u64;
        }
        Ok(written)
    }

    /// Every project, evaluated: on the first tick, when the day turns (deadlines pass at
    /// midnight, Shanghai time) and when the rules change. Its progress goes to the log
    /// and to [`AlertDesk::pass`].
    async fn evaluate_all(&self, desk: &AlertDesk, reason: PassReason) -> Result<(), StoreError> {
        let projects = self.store().range_sums(vec![KeyRange::whole(EntityKind::Project)]).await?;
        let projects = projects.first().map_or(0, |sum| sum.count);
        let started = std::time::Instant::now();
        tracing::info!(reason = reason.as_str(), projects, "预警全量评估开始");
        desk.start_pass(PassProgress { reason, projects, evaluated: 0, changes: 0, done: false });
        let mut after: Option<String> = None;
        let (mut evaluated, mut changes, mut reported) = (0u64, 0u64, 0u64);
        loop {
            let range = KeyRange { entity: EntityKind::Project, after: after.clone(), upto: None };
            let page = self.store().range_rows(range, CHUNK * 4).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.key.clone());
            evaluated += page.len() as u64;
            let page_started = std::time::Instant::now();
            changes += self.evaluate(desk, page.into_iter().map(|row| row.key).collect(), None).await?;
            // Rest as long as the page took. The writer is a plain lock that a loop taking
            // it again at once would keep from ingest, and counters apply what the pass
            // writes before any payment behind it: at half its pace a payment waits for a
            // page at most, and counters stay ahead of the pass (docs/perf.md §12).
            tokio::time::sleep(page_started.elapsed()).await;
            desk.pass_progress(|p| (p.evaluated, p.changes) = (evaluated, changes));
            if evaluated - reported >= PROGRESS_EVERY {
                reported = evaluated;
                tracing::info!(reason = reason.as_str(), evaluated, projects, changes, "预警全量评估进行中");
            }
        }
        desk.pass_progress(|p| p.done = true);
        let seconds = started.elapsed().as_secs_f64();
        tracing::info!(reason = reason.as_str(), evaluated, changes, seconds = format!("{seconds:.1}"), "预警全量评估完成");
        Ok(())
    }

    /// The system rules over the feeds and the quarantine, and the deadlines that passed.
    async fn evaluate_system(&self, desk: &AlertDesk) -> Result<(), StoreError> {
        let rules = desk.rules();
        let now = desk.clock.now();
        let mut firings = SystemFirings::default();
        for connector in self.store().connectors().await? {
            for firing in rules.system_firings(&signals::connector(&connector), now) {
                firings.add(firing);
            }
        }
        // On the hub's own clock, which stamps the audit records it counts.
        let hub_now = self.clock().now();
        for firing in rules.system_firings(&signals::security(self, hub_now).await, hub_now) {
            firings.add(firing);
        }
        let open = self.store().quarantine(Some(QuarantineState::Open), None, signals::QUARANTINE_SCAN).await?;
        for entry in &open {
            for firing in rules.system_firings(&signals::quarantined(entry), now) {
                firings.add(firing);
            }
        }
        let mut codes: BTreeSet<String> = firings.by_project.keys().cloned().collect();
        codes.insert(String::new());
        codes.extend(self.store().alert_projects_to_tick(now).await?);
        self.evaluate(desk, codes.into_iter().collect(), Some(Arc::new(firings))).await?;
        Ok(())
    }

    /// Hands the rules in force to the counters (a row they replicate).
    async fn publish_rules(&self, desk: &AlertDesk) -> Result<(), StoreError> {
        let files = desk.rules().files();
        self.store()
            .write(ORIGIN, vec![RowWrite::upsert(EntityKind::AlertRules, "active".into(), "", &files)])
            .await?;
        Ok(())
    }

    async fn alert_tick(&self, desk: &AlertDesk, evaluated_day: &mut Option<Date>) -> Result<(), StoreError> {
        let reload = desk.reload_rules();
        let rules_changed = matches!(reload, RulesReload::Changed { .. });
        self.audit_rules_reload(reload).await?;
        self.publish_rules(desk).await?;
        let today = desk.clock.today();
        let reason = match *evaluated_day {
            None => Some(PassReason::StartUp),
            Some(_) if rules_changed => Some(PassReason::RulesChanged),
            Some(day) if day != today => Some(PassReason::DayTurn),
            Some(_) => None,
        };
        if let Some(reason) = reason {
            self.evaluate_all(desk, reason).await?;
            *evaluated_day = Some(today);
        }
        self.evaluate_system(desk).await
    }
}

/// Runs the desk until the hub closes: changed projects as they come, everything on the
/// tick. Only the first caller runs it (the desk has one queue).
pub(crate) async fn run(hub: Hub, desk: Arc<AlertDesk>, mut closing: watch::Receiver<bool>) {
    let Some(mut woken) = desk.woken.lock().unwrap_or_else(PoisonError::into_inner).take() else {
        return;
    };
    let mut ticks = tokio::time::interval(desk.tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut evaluated_day = None;
    loop {
        let result = tokio::select! {
            _ = ticks.tick() => hub.alert_tick(&desk, &mut evaluated_day).await,
            Some(wake) = woken.recv() => {
                let mut codes = BTreeSet::new();
                let mut recheck = false;
                let mut take = |wake| match wake {
                    Wake::Touched(touched) => codes.extend(touched),
                    Wake::Recheck => recheck = true,
                };
                take(wake);
                while let Ok(more) = woken.try_recv() {
                    take(more);
                }
                match hub.evaluate(&desk, codes.into_iter().collect(), None).await {
                    Ok(_) if recheck => hub.evaluate_system(&desk).await,
                    evaluated => evaluated.map(|_| ()),
                }
            }
            _ = closing.changed() => break,
        };
        if let Err(error) = result {
            tracing::error!(%error, "预警评估失败，下一轮重试");
        }
    }
}
