//! Fictitious but realistic data for demonstrations, tests and the bootstrap benchmark:
//! projects across Nanjing's eleven districts at every stage of the fee process, seeded
//! through the same validated ingest path as the departments' records.
//!
//! Deterministic: the same seed and `today` give the same records, byte for byte.

mod words;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};
use yizhan_core::code::ProjectCode;
use yizhan_core::clock::{SHANGHAI, shanghai_date};
use yizhan_core::district::NANJING_DISTRICTS;
use yizhan_core::entity::{Area, Exemption, FeeKind};
use yizhan_core::money::Fen;
use yizhan_core::uscc::check_character;
use yizhan_sync::protocol::{
    CivilDefenceNotice, PaymentRecord, PlanningRecord, TaxClearanceRecord,
};

use crate::error::HubError;
use crate::hub::Hub;
use crate::ingest::AssessmentRules;
use words::{
    BUILDER_SUFFIXES, BUILDER_WORDS, CHANNELS, EXEMPTION_BASIS, PHASES, PLACES, USES, Use,
};

/// Projects per round of ingest batches: large transactions are what makes a
/// million-project seed fast, and ~40 MB of records per round keeps memory modest.
const PROJECTS_PER_ROUND: usize = 20_000;
/// Serial numbers in project codes are six digits per district.
const SERIALS_PER_DISTRICT: u32 = 1_000_000;
/// Multiplier coprime to 10⁶: spreads consecutive serials over the range like real codes.
const SERIAL_SCRAMBLE: u32 = 7_919;
/// How far back approvals go.
const HISTORY_DAYS: i64 = 730;
/// The 人防 notice comes this long after the approval, at most.
const NOTICE_LAG_DAYS: i64 = 40;
/// The 人防 notice gives this long to pay.
const NOTICE_DUE_DAYS: i64 = 30;
/// Of the builders in the pool, each builds several projects, as in reality.
const BUILDERS: usize = 800;
const USCC_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub projects: usize,
    pub head: u64,
}

/// Seeds `projects` demo projects relative to today in Asia/Shanghai.
pub async fn seed(hub: &Hub, projects: usize, seed: u64) -> Result<DemoSummary, HubError> {
    seed_on(
        hub,
        projects,
        seed,
        shanghai_date(OffsetDateTime::now_utc()),
    )
    .await
}

/// Seeds as if today were `today`, for reproducible data.
pub async fn seed_on(
    hub: &Hub,
    projects: usize,
    seed: u64,
    today: Date,
) -> Result<DemoSummary, HubError> {
    let mut generator = Generator::new(seed, hub.rules().clone(), today);
    let mut head = hub.store().head().await?;
    let mut done = 0;
    while done < projects {
        let round = PROJECTS_PER_ROUND.min(projects - done);
        let (mut planning, mut notices, mut payments, mut clearances) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..round {
            let project = generator.project();
            planning.push(project.planning);
            notices.extend(project.notice);
            payments.extend(project.payments);
            clearances.extend(project.clearance);
        }
        // Planning first: the other records refer to its projects.
        head = hub.ingest("demo", planning).await?.head;
        head = head.max(hub.ingest("demo", notices).await?.head);
        head = head.max(hub.ingest("demo", payments).await?.head);
        head = head.max(hub.ingest("demo", clearances).await?.head);
        done += round;
        tracing::info!(done, projects, head, "演示数据写入中");
    }
    Ok(DemoSummary { projects, head })
}

/// Everything the departments would send about one project over its life so far.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoProject {
    pub planning: PlanningRecord,
    pub notice: Option<CivilDefenceNotice>,
    pub payments: Vec<PaymentRecord>,
    pub clearance: Option<TaxClearanceRecord>,
}

/// How far a demo project has got, chosen before its records are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Unpaid,
    PartlyPaid,
    FullyPaid,
    Cleared,
}

struct Builder {
    name: String,
    uscc: String,
}

/// Makes demo records. Also used by the simulator for new events, which starts its
/// serials elsewhere (`with_serials`) so its records never collide with the demo's.
pub struct Generator {
    rng: ChaCha8Rng,
    rules: AssessmentRules,
    today: Date,
    builders: Vec<Builder>,
    /// Next project serial per district, in `NANJING_DISTRICTS` order.
    project_serials: [u32; NANJING_DISTRICTS.len()],
    record_serial: u64,
}

impl Generator {
    pub fn new(seed: u64, rules: AssessmentRules, today: Date) -> Generator {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let builders = (0..BUILDERS).map(|_| builder(&mut rng)).collect();
        Generator {
            rng,
            rules,
            today,
            builders,
            project_serials: [0; NANJING_DISTRICTS.len()],
            record_serial: 0,
        }
    }

    /// Starts project serials (per district) and record serials at the given values.
    pub fn with_serials(mut self, project: u32, record: u64) -> Generator {
        self.project_serials = [project; NANJING_DISTRICTS.len()];
        self.record_serial = record;
        self
    }

    pub fn today(&self) -> Date {
        self.today
    }

    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    /// One project at a random point of its life over the last two years.
    pub fn project(&mut self) -> DemoProject {
        let age = self.rng.random_range(0..=HISTORY_DAYS);
        let planning = self.planning(self.today - Duration::days(age));
        let stage = self.stage(age);
        let exempt = planning.infra_exemption.is_some();

        let notice_lag = self.rng.random_range(3..=NOTICE_LAG_DAYS);
        let notice =
            (planning.civil_defence_area > Area::ZERO && notice_lag <= age && self.rng.random_bool(0.85))
                .then(|| {
                    let issued_on = planning.approved_on + Duration::days(notice_lag);
                    self.notice(
                        &planning.project_code,
                        planning.civil_defence_area,
                        issued_on,
                    )
                });

        let mut payments = Vec::new();
        let infra_net = if exempt { 0 } else { self.infra_fee(&planning) };
        let mut fees = vec![(FeeKind::Infra, infra_net, planning.approved_on)];
        if let Some(n) = &notice {
            fees.push((FeeKind::CivilDefence, n.amount_fen, n.issued_on));
        }
        for (index, &(fee_kind, net, assessed_on)) in fees.iter().enumerate() {
            // Partly paid: the first fee in part, the rest nothing.
            let share = match stage {
                Stage::Unpaid => 0,
                Stage::PartlyPaid if index == 0 => self.rng.random_range(20..=80),
                Stage::PartlyPaid => 0,
                Stage::FullyPaid | Stage::Cleared => 100,
            };
            payments.extend(self.payments_for(
                &planning.project_code,
                fee_kind,
                net,
                share,
                assessed_on,
            ));
        }

        let clearance = (stage == Stage::Cleared).then(|| {
            let last_paid = payments
                .iter()
                .map(|p| shanghai_date(p.received_at))
                .max()
                .unwrap_or(planning.approved_on);
            let issued_on =
                (last_paid + Duration::days(self.rng.random_range(1..=20))).min(self.today);
            self.clearance(&planning.project_code, &planning.district_code, issued_on)
        });
        DemoProject {
            planning,
            notice,
            payments,
            clearance,
        }
    }

    /// Older projects are further along; a fresh approval is mostly unpaid.
    fn stage(&mut self, age: i64) -> Stage {
        let cleared = match age {
            0..30 => 0.03,
            30..90 => 0.25,
            _ => 0.5,
        };
        let roll: f64 = self.rng.random();
        if roll < cleared {
            Stage::Cleared
        } else if roll < cleared + 0.15 {
            Stage::FullyPaid
        } else if roll < cleared + 0.35 {
            Stage::PartlyPaid
        } else {
            Stage::Unpaid
        }
    }

    /// A new planning approval of a new project, approved on `approved_on`.
    pub fn planning(&mut self, approved_on: Date) -> PlanningRecord {
        let district_index = self.rng.random_range(0..NANJING_DISTRICTS.len());
        let (district_code, district_name) = NANJING_DISTRICTS[district_index];
        let kind = pick(&mut self.rng, USES);
        let place = pick(&mut self.rng, PLACES[district_index]);
        let phase = pick(&mut self.rng, PHASES);
        let serial = self.project_serials[district_index];
        assert!(
            serial < SERIALS_PER_DISTRICT,
            "{district_name}的演示项目超过一百万个，项目代码的6位序号已用尽"
        );
        self.project_serials[district_index] += 1;
        let code_serial = (u64::from(serial) * u64::from(SERIAL_SCRAMBLE)
            % u64::from(SERIALS_PER_DISTRICT)) as u32;
        let code_year = approved_on.year() - self.rng.random_range(0..=1);
        let stage_code = if self.rng.random_bool(0.85) {
            "01"
        } else {
            "02"
        };
        let project_code = format!(
            "{code_year}-{district_code}-{}-{stage_code}-{code_serial:06}",
            kind.industry
        );
        let builder = &self.builders[self.rng.random_range(0..self.builders.len())];
        let (builder, uscc) = (builder.name.clone(), builder.uscc.clone());

        let residential_area = self.area(kind.residential);
        let non_residential_area = self.area(kind.non_residential);
        let civil_defence_area = if kind.basement && self.rng.random_bool(0.35) {
            let built = residential_area.hundredths() + non_residential_area.hundredths();
            Area::from_hundredths(built * self.rng.random_range(2..=6) / 100)
        } else {
            Area::ZERO
        };
        let record_serial = self.next_record_serial();
        let contact_phone = self.rng.random_bool(0.75).then(|| {
            let prefix = pick(&mut self.rng, &["13", "15", "17", "18", "19"]);
            format!("{prefix}{:09}", self.rng.random_range(0..1_000_000_000u32))
        });
        let mut planning = PlanningRecord {
            planning_permit_no: format!(
                "建字第{district_code}{}{record_serial:07}号",
                approved_on.year()
            ),
            project_code,
            name: format!("{district_name}{place}{}{phase}", kind.name),
            builder,
            uscc,
            district_code: district_code.to_owned(),
            contact_phone,
            approved_on,
            residential_area,
            non_residential_area,
            civil_defence_area,
            infra_exemption: None,
        };
        if kind.exempt {
            planning.infra_exemption = Some(Exemption {
                amount_fen: self.infra_fee(&planning),
                basis: EXEMPTION_BASIS.to_owned(),
            });
        }
        planning
    }

    /// The 人防 notice for a project's civil-defence area, priced by the tariff as the
    /// hub will check it.
    pub fn notice(
        &mut self,
        project_code: &str,
        civil_defence_area: Area,
        issued_on: Date,
    ) -> CivilDefenceNotice {
        let amount_fen = self
            .rules
            .tariff
            .civil_defence_fee(civil_defence_area, issued_on)
            .expect("the demo tariff covers the demo dates")
            .amount_fen;
        CivilDefenceNotice {
            notice_no: format!(
                "宁人防征〔{}〕{:07}号",
                issued_on.year(),
                self.next_record_serial()
            ),
            project_code: project_code.to_owned(),
            civil_defence_area,
            amount_fen,
            issued_on,
            due_on: issued_on + Duration::days(NOTICE_DUE_DAYS),
        }
    }

    /// One payment received on `received_on` during office hours.
    pub fn payment(
        &mut self,
        project_code: &str,
        fee_kind: FeeKind,
        amount_fen: Fen,
        received_on: Date,
    ) -> PaymentRecord {
        let minute = self.rng.random_range(0..(9 * 60));
        let time = Time::from_hms(8, 30, 0).expect("08:30 is a time") + Duration::minutes(minute);
        let received_at = PrimitiveDateTime::new(received_on, time)
            .assume_offset(SHANGHAI)
            .to_offset(time::UtcOffset::UTC);
        PaymentRecord {
            payment_id: format!("FS{}{:010}", received_on.year(), self.next_record_serial()),
            project_code: demo_code(project_code),
            fee_kind,
            amount_fen,
            channel: pick(&mut self.rng, CHANNELS).to_string(),
            reference: format!("{}/{project_code}", fee_kind.name_zh()),
            received_at,
        }
    }

    pub fn clearance(
        &mut self,
        project_code: &str,
        district_code: &str,
        issued_on: Date,
    ) -> TaxClearanceRecord {
        let district = yizhan_core::district::district_name(district_code).unwrap_or("");
        TaxClearanceRecord {
            clearance_no: format!(
                "WS{district_code}{}{:07}",
                issued_on.year(),
                self.next_record_serial()
            ),
            project_code: demo_code(project_code),
            tax_office: format!("国家税务总局南京市{district}税务局"),
            issued_on,
        }
    }

    /// `share` percent of `net`, as one payment or (sometimes, when paying in full) two
    /// instalments, received between `assessed_on` and yesterday.
    fn payments_for(
        &mut self,
        code: &str,
        fee_kind: FeeKind,
        net: Fen,
        share: i64,
        assessed_on: Date,
    ) -> Vec<PaymentRecord> {
        let last_day = self.today - Duration::days(1);
        if net <= 0 || share == 0 || last_day < assessed_on {
            return Vec::new();
        }
        let day = |rng: &mut ChaCha8Rng, from: Date| {
            from + Duration::days(rng.random_range(0..=(last_day - from).whole_days()))
        };
        let target = net * share / 100;
        let first_day = day(&mut self.rng, assessed_on);
        if share == 100 && net >= 200 && self.rng.random_bool(0.3) {
            // Instalments are round yuan amounts, the last one pays the exact rest.
            let first = (net * self.rng.random_range(30..=70) / 100 / 100 * 100).max(100);
            let second_day = day(&mut self.rng, first_day);
            return vec![
                self.payment(code, fee_kind, first, first_day),
                self.payment(code, fee_kind, net - first, second_day),
            ];
        }
        let amount = if share == 100 {
            net
        } else {
            (target / 100 * 100).max(1)
        };
        vec![self.payment(code, fee_kind, amount, first_day)]
    }

    fn infra_fee(&self, planning: &PlanningRecord) -> Fen {
        self.rules
            .tariff
            .infra_fee(
                planning.residential_area,
                planning.non_residential_area,
                planning.approved_on,
            )
            .expect("the demo tariff covers the demo dates")
            .amount_fen
    }

    /// An area in hundredths of m² within `range` m² (none when the range is empty).
    fn area(&mut self, (low, high): (i64, i64)) -> Area {
        if high == 0 {
            Area::ZERO
        } else {
            Area::from_hundredths(self.rng.random_range(low * 100..=high * 100))
        }
    }

    fn next_record_serial(&mut self) -> u64 {
        self.record_serial += 1;
        self.record_serial
    }
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T
where
    T: Weighted,
{
    let total: u32 = items.iter().map(Weighted::weight).sum();
    let mut roll = rng.random_range(0..total);
    for item in items {
        if roll < item.weight() {
            return item;
        }
        roll -= item.weight();
    }
    unreachable!("roll < total")
}

trait Weighted {
    fn weight(&self) -> u32;
}

impl Weighted for Use {
    fn weight(&self) -> u32 {
        self.weight
    }
}

impl Weighted for &str {
    fn weight(&self) -> u32 {
        1
    }
}

/// A builder company with a valid USCC: `91` (enterprise), a Nanjing region code, a
/// nine-character organisation code and the GB 32100 check character.
fn builder(rng: &mut ChaCha8Rng) -> Builder {
    let name = format!(
        "南京{}{}{}",
        pick(rng, BUILDER_WORDS),
        pick(rng, BUILDER_WORDS),
        pick(rng, BUILDER_SUFFIXES)
    );
    let region = NANJING_DISTRICTS[rng.random_range(0..NANJING_DISTRICTS.len())].0;
    let org: String = (0..9)
        .map(|i| {
            // Mostly digits, as most organisation codes are.
            let alphabet = if i < 8 && rng.random_bool(0.8) {
                &USCC_ALPHABET[..10]
            } else {
                USCC_ALPHABET
            };
            char::from(alphabet[rng.random_range(0..alphabet.len())])
        })
        .collect();
    let first17 = format!("91{region}{org}");
    let check = check_character(&first17).expect("17 characters from the USCC alphabet");
    Builder {
        name,
        uscc: format!("{first17}{check}"),
    }
}

/// A code the generator made, in the documented shape by construction.
fn demo_code(code: &str) -> ProjectCode {
    code.parse().expect("the demo generator writes codes of the documented shape")
}
