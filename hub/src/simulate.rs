//! The departments at work, for demonstrations and load: payments arriving for
//! outstanding fees, tax clearances for fully paid projects, new planning approvals and
//! 人防 notices, posted through the hub's HTTP ingest API at a steady rate.
//!
//! The simulator keeps a model of what is outstanding the way a counter does: it reads
//! the hub's state, then follows its change log (from the store, on the hub's server), so
//! it always picks targets from the hub's real state (including what others changed).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use rand::Rng;
use serde::Deserialize;
use time::OffsetDateTime;
use yizhan_core::clock::shanghai_date;
use yizhan_core::entity::{
    Area, EntityKind, FeeAssessment, FeeKind, Payment, PlanningApproval, Project, TaxClearance,
};
use yizhan_core::mask::mask_mobile;
use yizhan_core::money::Fen;
use yizhan_sync::protocol::{
    ApiError, CivilDefenceNotice, IngestBatch, IngestReport, PaymentRecord, PlanningRecord,
    TaxClearanceRecord,
};

use crate::demo::Generator;
use crate::ingest::{IngestRecord, AssessmentRules};
use crate::store::Store;

/// Events are sent in batches every tick, as department connectors push.
const TICK: Duration = Duration::from_millis(100);
/// Attempts at drawing a project that fits an event before giving up on that event.
const DRAWS: usize = 200;
/// Project serials from here up, far above what the demo seeds per district, so new
/// simulated projects do not collide with demo ones (collisions are also checked).
const FIRST_PROJECT_SERIAL: u32 = 900_000;

pub struct SimulateOptions {
    /// Base URL of the hub, e.g. `http://127.0.0.1:8640`: its demo ingest routes take the
    /// events.
    pub hub: String,
    /// The CA certificate (PEM) of an `https://` hub, trusted alone.
    pub hub_ca: Option<Vec<u8>>,
    /// The hub's store, read for what is outstanding: the simulator runs beside the hub,
    /// as a department's system would, and is no counter.
    pub store: std::sync::Arc<dyn Store>,
    /// Events per second.
    pub rate: f64,
    pub seed: u64,
    /// Run this long; `None` runs until the process is stopped.
    pub duration: Option<Duration>,
    /// Must be the hub's tariff: 人防 notice amounts are checked against it.
    pub rules: AssessmentRules,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SimulateSummary {
    pub planning: u64,
    pub civil_defence: u64,
    pub payments: u64,
    pub tax: u64,
    /// Records the hub refused (batches answered with an error).
    pub rejected: u64,
}

impl SimulateSummary {
    pub fn sent(&self) -> u64 {
        self.planning + self.civil_defence + self.payments + self.tax
    }
}

pub async fn run(options: SimulateOptions) -> anyhow::Result<SimulateSummary> {
    if !(options.rate > 0.0 && options.rate.is_finite()) {
        bail!("--rate 应为大于 0 的每秒事件数");
    }
    let mut client = reqwest::Client::builder().gzip(true);
    if let Some(pem) = &options.hub_ca {
        let ca = reqwest::Certificate::from_pem(pem).context("--hub-ca 不是 PEM 格式的证书")?;
        client = client.tls_built_in_root_certs(false).add_root_certificate(ca);
    }
    let client = client.build()?;
    let hub = options.hub.trim_end_matches('/').to_owned();
    let store = options.store.as_ref();
    let mut model = Model::load(store).await?;
    tracing::info!(
        projects = model.codes.len(),
        as_of = model.cursor,
        "已载入数据中心快照"
    );
    // Serials seeded by the clock as well, so two runs on one day do not re-send each
    // other's payment ids (which the hub would take as corrections).
    let now = OffsetDateTime::now_utc();
    let record_serial = u64::try_from(now.unix_timestamp()).unwrap_or(0) * 1_000;
    let mut generator = Generator::new(options.seed, options.rules, shanghai_date(now))
        .with_serials(FIRST_PROJECT_SERIAL, record_serial);

    let started = Instant::now();
    let mut summary = SimulateSummary::default();
    let mut ticker = tokio::time::interval(TICK);
    let mut last_report = Instant::now();
    loop {
        ticker.tick().await;
        let elapsed = started.elapsed();
        if options.duration.is_some_and(|d| elapsed >= d) {
            break;
        }
        model.follow(store).await?;
        // Catch up with the clock rather than the ticks, so slow posts do not lower the
        // rate; but never more than a second's worth at once.
        let due = (options.rate * elapsed.as_secs_f64()) as u64;
        let count = due
            .saturating_sub(summary.sent() + summary.rejected)
            .min(options.rate.ceil() as u64);
        let events = model.draw(&mut generator, count);
        events.post(&client, &hub, &mut summary).await?;
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            tracing::info!(?summary, head = model.cursor, "模拟进行中");
        }
    }
    Ok(summary)
}

/// What the simulator knows of one project.
#[derive(Debug, Default)]
struct Tracked {
    district_code: String,
    approved: bool,
    civil_defence_area: Area,
    /// Net amount per fee once assessed, indexed by `fee_index`.
    net: [Option<Fen>; 2],
    paid: [Fen; 2],
    cleared: bool,
}

const FEES: [FeeKind; 2] = [FeeKind::Infra, FeeKind::CivilDefence];

fn fee_index(kind: FeeKind) -> usize {
    match kind {
        FeeKind::Infra => 0,
        FeeKind::CivilDefence => 1,
    }
}

impl Tracked {
    fn outstanding(&self, kind: FeeKind) -> Fen {
        let i = fee_index(kind);
        self.net[i].map_or(0, |net| (net - self.paid[i]).max(0))
    }

    fn needs_notice(&self) -> bool {
        self.approved
            && self.civil_defence_area > Area::ZERO
            && self.net[fee_index(FeeKind::CivilDefence)].is_none()
    }

    fn ready_for_tax(&self) -> bool {
        self.approved
            && !self.cleared
            && !self.needs_notice()
            && self.net[fee_index(FeeKind::Infra)].is_some()
            && FEES.iter().all(|&k| self.outstanding(k) == 0)
    }
}

#[derive(Default)]
struct Model {
    projects: HashMap<String, Tracked>,
    /// The keys of `projects`, to draw from.
    codes: Vec<String>,
    cursor: u64,
}

impl Model {
    async fn load(store: &dyn Store) -> anyhow::Result<Model> {
        let snapshot = store.snapshot(None).await.context("无法读取数据中心的数据")?;
        let mut model = Model { cursor: snapshot.position.as_of, ..Model::default() };
        let mut chunks = snapshot.rows;
        while let Some(chunk) = chunks.next().await {
            for row in chunk? {
                model.apply(row.entity, row.version, &row.payload)?;
            }
        }
        Ok(model)
    }

    /// Applies the changes committed since the model's cursor.
    async fn follow(&mut self, store: &dyn Store) -> anyhow::Result<()> {
        loop {
            let changes = store.changes_after(self.cursor, 10_000).await?;
            let Some(last) = changes.last().map(|c| c.seq) else {
                return Ok(());
            };
            for change in &changes {
                if let Some(payload) = &change.payload {
                    self.apply(change.entity, change.version, payload)?;
                }
            }
            self.cursor = last;
        }
    }

    fn apply(
        &mut self,
        entity: EntityKind,
        version: u64,
        payload: &str,
    ) -> anyhow::Result<()> {
        fn read<T: for<'de> Deserialize<'de>>(payload: &str) -> anyhow::Result<T> {
            serde_json::from_str(payload).context("数据中心发来的记录无法解析")
        }
        match entity {
            EntityKind::Project => {
                let project: Project = read(payload)?;
                self.tracked(project.project_code.as_str()).district_code = project.district_code;
            }
            EntityKind::PlanningApproval => {
                let approval: PlanningApproval = read(payload)?;
                let tracked = self.tracked(approval.project_code.as_str());
                tracked.approved = true;
                tracked.civil_defence_area = approval.civil_defence_area;
            }
            EntityKind::FeeAssessment => {
                let assessment: FeeAssessment = read(payload)?;
                self.tracked(assessment.project_code.as_str()).net[fee_index(assessment.fee_kind)] =
                    Some(assessment.net_fen());
            }
            // Only first versions add money: a later version is a correction of a payment
            // already counted, and the simulator itself never sends corrections.
            EntityKind::Payment if version == 1 => {
                let payment: Payment = read(payload)?;
                self.tracked(payment.project_code.as_str()).paid[fee_index(payment.fee_kind)] +=
                    payment.amount_fen;
            }
            EntityKind::Payment => {}
            EntityKind::TaxClearance => {
                let clearance: TaxClearance = read(payload)?;
                self.tracked(clearance.project_code.as_str()).cleared = true;
            }
            // The window's own records: the simulator plays the departments only.
            EntityKind::FinalCheck
            | EntityKind::FollowUpNote
            | EntityKind::Tracking
            | EntityKind::Alert
            | EntityKind::AlertRules
            | EntityKind::Document
            | EntityKind::PermitLink
            | EntityKind::CounterKey
            | EntityKind::DocumentSettings => {}
        }
        Ok(())
    }

    fn tracked(&mut self, code: &str) -> &mut Tracked {
        if !self.projects.contains_key(code) {
            self.codes.push(code.to_owned());
        }
        self.projects.entry(code.to_owned()).or_default()
    }

    /// Draws `count` events. A project gets at most one event per tick: its previous
    /// event reaches the model through the change feed only on the next tick.
    fn draw(&self, generator: &mut Generator, count: u64) -> Events {
        let mut events = Events::default();
        let mut touched = HashSet::new();
        let today = generator.today();
        for _ in 0..count {
            let roll: f64 = generator.rng().random();
            let drawn = if roll < 0.5 {
                self.find(generator, &mut touched, |t| {
                    FEES.iter().any(|&k| t.outstanding(k) > 0)
                })
                .map(|(code, t)| {
                    let kind = FEES
                        .into_iter()
                        .find(|&k| t.outstanding(k) > 0)
                        .expect("drawn for an outstanding fee");
                    let outstanding = t.outstanding(kind);
                    let amount = if outstanding > 200 && generator.rng().random_bool(0.4) {
                        (outstanding * generator.rng().random_range(30..=70) / 100 / 100 * 100)
                            .max(100)
                    } else {
                        outstanding
                    };
                    events
                        .payments
                        .push(generator.payment(code, kind, amount, today));
                })
            } else if roll < 0.65 {
                self.find(generator, &mut touched, Tracked::ready_for_tax)
                    .map(|(code, t)| {
                        events
                            .tax
                            .push(generator.clearance(code, &t.district_code, today))
                    })
            } else if roll < 0.8 {
                self.find(generator, &mut touched, Tracked::needs_notice)
                    .map(|(code, t)| {
                        events.civil_defence.push(generator.notice(
                            code,
                            t.civil_defence_area,
                            today,
                        ))
                    })
            } else {
                None
            };
            if drawn.is_none() {
                self.new_project(generator, &mut events);
            }
        }
        events
    }

    fn find<'m>(
        &'m self,
        generator: &mut Generator,
        touched: &mut HashSet<&'m str>,
        fits: impl Fn(&Tracked) -> bool,
    ) -> Option<(&'m str, &'m Tracked)> {
        if self.codes.is_empty() {
            return None;
        }
        for _ in 0..DRAWS {
            let code = self.codes[generator.rng().random_range(0..self.codes.len())].as_str();
            let tracked = &self.projects[code];
            if !touched.contains(code) && fits(tracked) {
                touched.insert(code);
                return Some((code, tracked));
            }
        }
        None
    }

    fn new_project(&self, generator: &mut Generator, events: &mut Events) {
        let mut planning = generator.planning(generator.today());
        while self.projects.contains_key(&planning.project_code)
            || events
                .planning
                .iter()
                .any(|p| p.project_code == planning.project_code)
        {
            planning = generator.planning(generator.today());
        }
        let contact = planning.contact_phone.as_deref().map(mask_mobile);
        tracing::debug!(project = planning.project_code, contact, "新的规划审批");
        events.planning.push(planning);
    }
}

#[derive(Default)]
struct Events {
    planning: Vec<PlanningRecord>,
    civil_defence: Vec<CivilDefenceNotice>,
    payments: Vec<PaymentRecord>,
    tax: Vec<TaxClearanceRecord>,
}

impl Events {
    async fn post(
        self,
        client: &reqwest::Client,
        hub: &str,
        summary: &mut SimulateSummary,
    ) -> anyhow::Result<()> {
        summary.planning += post(client, hub, self.planning, &mut summary.rejected).await?;
        summary.civil_defence +=
            post(client, hub, self.civil_defence, &mut summary.rejected).await?;
        summary.payments += post(client, hub, self.payments, &mut summary.rejected).await?;
        summary.tax += post(client, hub, self.tax, &mut summary.rejected).await?;
        Ok(())
    }
}

/// Posts one batch; returns how many records were accepted. A refused batch is logged
/// and counted, not fatal: the simulator goes on as a connector would.
async fn post<R: IngestRecord + serde::Serialize>(
    client: &reqwest::Client,
    hub: &str,
    records: Vec<R>,
    rejected: &mut u64,
) -> anyhow::Result<u64> {
    if records.is_empty() {
        return Ok(0);
    }
    let count = records.len() as u64;
    let response = client
        .post(format!("{hub}/v1/ingest/{}", R::SOURCE))
        .json(&IngestBatch { records })
        .send()
        .await
        .context("无法连接数据中心")?;
    match ok_or_api_error(response).await {
        Ok(response) => {
            let report: IngestReport = response.json().await?;
            Ok(report.received as u64)
        }
        Err(e) => {
            tracing::warn!(source = R::SOURCE, error = %e, "数据中心拒收了一批模拟记录");
            *rejected += count;
            Ok(0)
        }
    }
}

async fn ok_or_api_error(response: reqwest::Response) -> anyhow::Result<reqwest::Response> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<ApiError>(&text) {
        Ok(error) => bail!(
            "{status} {}：{}（{:?}）",
            error.code,
            error.message,
            error.errors
        ),
        Err(_) => bail!("{status}：{text}"),
    }
}
