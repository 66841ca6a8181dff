use std::io::Cursor;

use serde::Serialize;
use tempfile::TempDir;
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};
use yizhan_core::entity::{
    EntityKind, Exemption, FeeAssessment, FeeKind, Payment, PlanningApproval, Project, TaxClearance,
};
use yizhan_core::status::FeeStatus;

use super::*;
use crate::integrity::{ChainHash, HubSigner};
use yizhan_core::clock::Clock;
use crate::protocol::{Change, ChangeBatch, Op, RowPosition, SnapshotHeader, SnapshotRow};
use crate::status::BootstrapProgress;

const TODAY: Date = date!(2026 - 03 - 20);
const DUE: Date = date!(2026 - 03 - 31);
const AT: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);

const CODE_A: &str = "2019-320105-47-01-123456";
const CODE_B: &str = "2020-320115-48-02-654321";
const CODE_C: &str = "2021-320102-70-03-000777";
const USCC_A: &str = "91350100M000100Y43";
const USCC_B: &str = "91350200776049653A";

struct Fixture {
    _dir: TempDir,
    path: std::path::PathBuf,
    replica: Replica,
}

impl Fixture {
    /// A replica bootstrapped from an empty snapshot at seq 0, views standing at `TODAY`.
    fn new() -> Fixture {
        Fixture::on(Clock::system(), TODAY)
    }

    /// A replica on `clock` bootstrapped from an empty snapshot at seq 0, views standing
    /// at `today`.
    fn on(clock: Clock, today: Date) -> Fixture {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("replica.sqlite3");
        let mut replica = Replica::open_with_clock(&path, clock).unwrap();
        replica
            .bootstrap("http://hub", None, Cursor::new(snapshot(0, &[])), |_| {})
            .unwrap();
        replica.roll_day(today).unwrap();
        Fixture {
            _dir: dir,
            path,
            replica,
        }
    }

    fn reader(&self) -> ReplicaReader {
        ReplicaReader::open(&self.path).unwrap()
    }

    fn cursor(&self) -> u64 {
        self.replica.meta().unwrap().cursor.unwrap()
    }

    /// Applies `changes` as the next batch, numbering them from the cursor.
    fn apply(&mut self, changes: Vec<ChangeSpec>) -> Result<Vec<String>, ReplicaError> {
        let batch = sealed_for(&self.replica, batch(self.cursor(), changes));
        self.replica.apply(&batch)
    }

    fn rows(&self) -> Vec<SnapshotRow> {
        let mut rows = Vec::new();
        self.reader().for_each_row(|row| rows.push(row)).unwrap();
        rows
    }

    fn history_len(&self) -> u64 {
        self.replica
            .conn
            .query_row("SELECT count(*) FROM history", [], |r| r.get(0))
            .unwrap()
    }

    fn row(&self, code: &str) -> Option<ProjectRow> {
        let query = ProjectQuery {
            search: Some(code.into()),
            limit: 10,
            ..ProjectQuery::default()
        };
        self.reader().list_projects(&query).unwrap().rows.into_iter().next()
    }
}

/// A change before it gets its seq.
struct ChangeSpec {
    entity: EntityKind,
    key: String,
    project_code: String,
    version: u64,
    payload: Option<serde_json::Value>,
}

impl ChangeSpec {
    fn v(mut self, version: u64) -> ChangeSpec {
        self.version = version;
        self
    }

    fn deleted(mut self) -> ChangeSpec {
        self.payload = None;
        self
    }
}

fn spec(entity: EntityKind, key: &str, project_code: &str, payload: impl Serialize) -> ChangeSpec {
    ChangeSpec {
        entity,
        key: key.into(),
        project_code: project_code.into(),
        version: 1,
        payload: Some(serde_json::to_value(payload).unwrap()),
    }
}

fn batch(after: u64, changes: Vec<ChangeSpec>) -> ChangeBatch {
    let upto = after + changes.len() as u64;
    let changes = changes
        .into_iter()
        .zip(after + 1..)
        .map(|(c, seq)| Change {
            seq,
            op: if c.payload.is_some() { Op::Upsert } else { Op::Delete },
            entity: c.entity,
            key: c.key,
            project_code: c.project_code,
            version: c.version,
            payload: c.payload.map(|p| serde_json::value::to_raw_value(&p).unwrap()),
            origin: "test".into(),
            committed_at: AT + time::Duration::seconds(seq as i64),
        })
        .collect();
    seal(ChangeBatch {
        after,
        upto,
        head: upto,
        seal: SIGNER.seal_batch(after, upto, 0, ChainHash::ZERO, ChainHash::ZERO),
        changes,
    }, ChainHash::ZERO)
}

/// The test hub's key: every snapshot and batch here is sealed with it.
static SIGNER: std::sync::LazyLock<HubSigner> = std::sync::LazyLock::new(HubSigner::generate);

/// Seals `batch` as the hub would, continuing the chain from `prev`.
fn seal(mut batch: ChangeBatch, prev: ChainHash) -> ChangeBatch {
    let chain = batch.changes.iter().fold(prev, |c, change| c.link(&change.frame()));
    batch.seal = SIGNER.seal_batch(batch.after, batch.upto, batch.changes.len() as u64, prev, chain);
    batch
}

/// `batch` sealed to continue what `replica` holds.
fn sealed_for(replica: &Replica, batch: ChangeBatch) -> ChangeBatch {
    let prev = replica.meta().unwrap().chain.unwrap();
    seal(batch, prev)
}

/// A whole snapshot of `rows` as the hub sends it: in (entity, key) order.
fn snapshot(as_of: u64, rows: &[SnapshotRow]) -> Vec<u8> {
    let mut sorted = rows.to_vec();
    sorted.sort_by(|a, b| (a.entity.as_str(), &a.key).cmp(&(b.entity.as_str(), &b.key)));
    snapshot_part(as_of, &sorted, None)
}

/// The snapshot stream with `rows` as given, the rest of a snapshot when `after` is set.
fn snapshot_part(as_of: u64, rows: &[SnapshotRow], after: Option<RowPosition>) -> Vec<u8> {
    let mut text = serde_json::to_string(&SnapshotHeader {
        as_of,
        rows: rows.len() as u64,
        seal: SIGNER.seal_snapshot(as_of, rows.len() as u64, after.as_ref(), ChainHash::ZERO),
        after,
    })
    .unwrap();
    for row in rows {
        text.push('\n');
        text.push_str(&serde_json::to_string(row).unwrap());
    }
    text.push('\n');
    text.into_bytes()
}

fn project(code: &str, name: &str, builder: &str, uscc: &str, district: &str) -> ChangeSpec {
    let payload = Project {
        project_code: code.parse().unwrap(),
        name: name.into(),
        builder: builder.into(),
        uscc: uscc.parse().unwrap(),
        district_code: district.into(),
        contact_phone: Some("13812341234".into()),
    };
    spec(EntityKind::Project, code, code, payload)
}

fn approval(code: &str, permit: &str, approved_on: Date) -> ChangeSpec {
    let payload = PlanningApproval {
        planning_permit_no: permit.into(),
        project_code: code.parse().unwrap(),
        approved_on,
        residential_area: yizhan_core::area::Area::from_hundredths(1_000_000),
        non_residential_area: yizhan_core::area::Area::from_hundredths(50_000),
        civil_defence_area: yizhan_core::area::Area::ZERO,
    };
    spec(EntityKind::PlanningApproval, permit, code, payload)
}

fn assessment(code: &str, amount_fen: i64, exemption: Option<i64>) -> ChangeSpec {
    assessment_due(code, amount_fen, exemption, DUE)
}

fn assessment_due(code: &str, amount_fen: i64, exemption: Option<i64>, due_on: Date) -> ChangeSpec {
    let payload = FeeAssessment {
        project_code: code.parse().unwrap(),
        fee_kind: FeeKind::Infra,
        amount_fen,
        basis: "演示〔2024〕1号".into(),
        assessed_on: date!(2026 - 03 - 01),
        due_on,
        exemption: exemption.map(|amount_fen| Exemption {
            amount_fen,
            basis: "2019年第76号公告".into(),
        }),
    };
    spec(
        EntityKind::FeeAssessment,
        &FeeAssessment::key_for(code, FeeKind::Infra),
        code,
        payload,
    )
}

fn payment(code: &str, id: &str, amount_fen: i64, received_at: OffsetDateTime) -> ChangeSpec {
    let payload = Payment {
        payment_id: id.into(),
        project_code: code.parse().unwrap(),
        fee_kind: FeeKind::Infra,
        amount_fen,
        channel: "非税支付平台".into(),
        reference: format!("REF-{id}"),
        received_at,
    };
    spec(EntityKind::Payment, id, code, payload)
}

fn clearance(code: &str, no: &str) -> ChangeSpec {
    let payload = TaxClearance {
        clearance_no: no.into(),
        project_code: code.parse().unwrap(),
        tax_office: "建邺区税务局".into(),
        issued_on: date!(2026 - 03 - 10),
    };
    spec(EntityKind::TaxClearance, no, code, payload)
}

/// Project A, approved and assessed ¥1,000.00 due `DUE`, nothing paid.
fn assessed_project_a() -> Vec<ChangeSpec> {
    vec![
        project(CODE_A, "河西市民中心", "南京河西建设有限公司", USCC_A, "320105"),
        approval(CODE_A, "建字第320105202600001号", date!(2026 - 01 - 05)),
        assessment(CODE_A, 100_000, None),
    ]
}

mod alert_batches;

#[test]
fn migrations_are_in_order_and_each_runs_once() {
    let versions: Vec<&str> = schema::MIGRATIONS.iter().map(|m| m.version).collect();
    let mut sorted = versions.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        versions, sorted,
        "migrations must be listed in version order, without repeats"
    );

    let dir = TempDir::new().unwrap();
    let mut conn = rusqlite::Connection::open(dir.path().join("r.sqlite3")).unwrap();
    assert_eq!(schema::migrate(&mut conn).unwrap(), schema::MIGRATIONS.len());
    assert_eq!(schema::migrate(&mut conn).unwrap(), 0);
    assert_eq!(schema::applied_versions(&conn).unwrap(), versions);
}

#[test]
fn a_file_at_an_older_schema_migrates_and_gets_its_project_views() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("old.sqlite3");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        schema::migrate_to(&mut conn, 1).unwrap();
        conn.execute(
            "UPDATE meta SET cursor = 3, snapshot_as_of = 3, hub_url = 'http://hub'",
            [],
        )
        .unwrap();
        for (seq, change) in (1..).zip(assessed_project_a()) {
            conn.execute(
                "INSERT INTO rows VALUES (?1, ?2, ?3, 1, ?4, '2026-03-01T09:00:00Z', ?5)",
                rusqlite::params![
                    change.entity.as_str(),
                    change.key,
                    change.project_code,
                    seq,
                    change.payload.unwrap().to_string()
                ],
            )
            .unwrap();
        }
    }
    let replica = Replica::open(&path).unwrap();
    assert_eq!(
        schema::applied_versions(&replica.conn).unwrap().len(),
        schema::MIGRATIONS.len()
    );
    let meta = replica.meta().unwrap();
    assert_eq!((meta.cursor, meta.view_date), (Some(3), Some(Clock::system().today())));
    let page = ReplicaReader::open(&path)
        .unwrap()
        .list_projects(&ProjectQuery {
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        page.rows.len(),
        1,
        "the migration's new view must be built from the rows already held"
    );
    assert_eq!(
        (page.rows[0].status, page.rows[0].outstanding_fen),
        (FeeStatus::Due, 100_000)
    );
}

#[test]
fn a_file_from_a_newer_program_is_refused() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("new.sqlite3");
    drop(Replica::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO schema_migrations VALUES ('29991231_0000_future', '2999-12-31T00:00:00Z')",
            [],
        )
        .unwrap();
    assert!(matches!(Replica::open(&path), Err(ReplicaError::SchemaTooNew(v)) if v == "29991231_0000_future"));
}

#[test]
fn a_reader_needs_a_replica_the_writer_created() {
    let dir = TempDir::new().unwrap();
    assert!(matches!(
        ReplicaReader::open(dir.path().join("missing.sqlite3")),
        Err(ReplicaError::NotCreated)
    ));
}

#[test]
fn a_replica_never_bootstrapped_refuses_batches() {
    let dir = TempDir::new().unwrap();
    let mut replica = Replica::open(dir.path().join("r.sqlite3")).unwrap();
    assert!(matches!(
        replica.apply(&batch(0, assessed_project_a())),
        Err(ReplicaError::NotBootstrapped)
    ));
}

#[test]
fn apply_writes_rows_history_views_and_cursor() {
    let mut f = Fixture::new();
    let touched = f.apply(assessed_project_a()).unwrap();
    assert_eq!(touched, vec![CODE_A.to_owned()]);
    assert_eq!(f.cursor(), 3);
    let rows = f.rows();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r.project_code == CODE_A && r.version == 1 && (1..=3).contains(&r.seq))
    );
    assert_eq!(f.history_len(), 3);
    let row = f.row(CODE_A).unwrap();
    assert_eq!(
        (row.status, row.assessed_fen, row.outstanding_fen),
        (FeeStatus::Due, 100_000, 100_000)
    );
    assert_eq!(row.district_name, "建邺区");

    // A batch with nothing new (the long-poll timed out) still answers, changing nothing.
    assert_eq!(f.apply(vec![]).unwrap(), Vec::<String>::new());
    assert_eq!(f.cursor(), 3);
}

#[test]
fn a_change_that_fails_mid_batch_leaves_cursor_rows_and_views_as_they_were() {
    let mut f = Fixture::new();
    f.apply(assessed_project_a()).unwrap();
    let before = (f.cursor(), f.rows(), f.history_len(), f.row(CODE_A));

    let broken = spec(
        EntityKind::Project,
        CODE_B,
        CODE_B,
        serde_json::json!({ "project_code": CODE_B }),
    );
    let result = f.apply(vec![payment(CODE_A, "P1", 40_000, AT), broken, clearance(CODE_A, "T1")]);
    assert!(
        matches!(result, Err(ReplicaError::Payload { entity: "project", .. })),
        "{result:?}"
    );
    assert_eq!((f.cursor(), f.rows(), f.history_len(), f.row(CODE_A)), before);

    let without_payload = payment(CODE_A, "P2", 1, AT).deleted();
    let mut upsert_without_payload = batch(f.cursor(), vec![payment(CODE_A, "P1", 40_000, AT), without_payload]);
    upsert_without_payload.changes[1].op = Op::Upsert;
    let upsert_without_payload = sealed_for(&f.replica, upsert_without_payload);
    assert!(matches!(
        f.replica.apply(&upsert_without_payload),
        Err(ReplicaError::BadBatch(_))
    ));
    assert_eq!((f.cursor(), f.rows(), f.history_len(), f.row(CODE_A)), before);
}

#[test]
fn batches_out_of_order_are_refused_without_a_trace() {
    let mut f = Fixture::new();
    f.apply(assessed_project_a()).unwrap();
    let before = (f.cursor(), f.rows(), f.history_len());

    let ahead = batch(5, vec![payment(CODE_A, "P1", 1, AT)]);
    assert!(matches!(
        f.replica.apply(&ahead),
        Err(ReplicaError::OutOfOrder { cursor: 3, after: 5 })
    ));
    let repeated = batch(0, assessed_project_a());
    assert!(matches!(
        f.replica.apply(&repeated),
        Err(ReplicaError::OutOfOrder { cursor: 3, after: 0 })
    ));

    let mut shuffled = batch(3, vec![payment(CODE_A, "P1", 1, AT), payment(CODE_A, "P2", 1, AT)]);
    shuffled.changes.swap(0, 1);
    assert!(matches!(f.replica.apply(&shuffled), Err(ReplicaError::BadBatch(_))));
    let mut beyond = batch(3, vec![payment(CODE_A, "P1", 1, AT)]);
    beyond.upto = 3;
    assert!(matches!(f.replica.apply(&beyond), Err(ReplicaError::BadBatch(_))));

    assert_eq!((f.cursor(), f.rows(), f.history_len()), before);
}

#[test]
fn an_older_version_never_overwrites_a_newer_one() {
    let mut f = Fixture::new();
    f.apply(vec![project(CODE_A, "新名称", "建设单位", USCC_A, "320105").v(2)])
        .unwrap();
    f.apply(vec![project(CODE_A, "旧名称", "建设单位", USCC_A, "320105").v(1)])
        .unwrap();
    assert_eq!(f.row(CODE_A).unwrap().name, "新名称");
    assert_eq!(f.cursor(), 2, "a stale change is still consumed");
    assert_eq!(f.history_len(), 2);

    // A delete older than the row is stale too; one at the row's version removes it.
    f.apply(vec![project(CODE_A, "", "", USCC_A, "").v(1).deleted()]).unwrap();
    assert_eq!(f.rows().len(), 1);
    f.apply(vec![project(CODE_A, "", "", USCC_A, "").v(2).deleted()]).unwrap();
    assert!(f.rows().is_empty());
    assert!(f.row(CODE_A).is_none(), "a project with no rows left leaves the list");
}

#[test]
fn each_batch_recomputes_the_views_of_the_projects_it_touched() {
    let mut f = Fixture::new();
    f.apply(assessed_project_a()).unwrap();
    f.apply(vec![project(CODE_B, "仙林学校", "栖霞教育投资公司", USCC_B, "320113")])
        .unwrap();
    assert_eq!(f.row(CODE_B).unwrap().status, FeeStatus::AwaitingAssessment);

    let touched = f.apply(vec![payment(CODE_A, "P1", 40_000, AT)]).unwrap();
    assert_eq!(touched, vec![CODE_A.to_owned()]);
    let row = f.row(CODE_A).unwrap();
    assert_eq!(
        (row.status, row.paid_fen, row.outstanding_fen),
        (FeeStatus::PartlyPaid, 40_000, 60_000)
    );

    f.apply(vec![payment(CODE_A, "P2", 60_000, AT)]).unwrap();
    assert_eq!(f.row(CODE_A).unwrap().status, FeeStatus::AwaitingTaxClearance);
    f.apply(vec![clearance(CODE_A, "T1")]).unwrap();
    assert_eq!(f.row(CODE_A).unwrap().status, FeeStatus::Cleared);

    // A payment reversed at the hub arrives as a delete and reopens the fee.
    f.apply(vec![payment(CODE_A, "P2", 0, AT).deleted()]).unwrap();
    let row = f.row(CODE_A).unwrap();
    assert_eq!((row.status, row.outstanding_fen), (FeeStatus::PartlyPaid, 60_000));
    assert_eq!(f.row(CODE_B).unwrap().status, FeeStatus::AwaitingAssessment);
}

#[test]
fn a_row_moved_to_another_project_refreshes_both() {
    let mut f = Fixture::new();
    f.apply(assessed_project_a()).unwrap();
    f.apply(vec![project(CODE_B, "仙林学校", "栖霞教育投资公司", USCC_B, "320113")])
        .unwrap();
    f.apply(vec![payment(CODE_A, "P1", 40_000, AT)]).unwrap();
    let touched = f.apply(vec![payment(CODE_B, "P1", 40_000, AT).v(2)]).unwrap();
    assert_eq!(touched, vec![CODE_A.to_owned(), CODE_B.to_owned()]);
    assert_eq!(f.row(CODE_A).unwrap().paid_fen, 0);
    assert_eq!(f.row(CODE_B).unwrap().paid_fen, 40_000);
}

/// A: due, not paid (overdue once past `DUE`); B: partly paid; C: cleared.
fn three_projects() -> Fixture {
    let mut f = Fixture::new();
    let mut changes = assessed_project_a();
    changes.extend([
        project(CODE_B, "仙林学校二期", "栖霞教育投资公司", USCC_B, "320113"),
        approval(CODE_B, "建字第320113202600002号", date!(2026 - 01 - 06)),
        assessment(CODE_B, 500_000, Some(100_000)),
        payment(CODE_B, "PB1", 100_000, AT),
        project(
            CODE_C,
            "玄武湖_改造 100%",
            "南京河西建设有限公司",
            "91320102MA1XXXXX1X",
            "320102",
        ),
        approval(CODE_C, "建字第320102202600003号", date!(2026 - 01 - 07)),
        assessment(CODE_C, 10_000, None),
        payment(CODE_C, "PC1", 10_000, AT),
        clearance(CODE_C, "TC1"),
    ]);
    f.apply(changes).unwrap();
    f
}

fn codes(page: &ProjectPage) -> Vec<&str> {
    page.rows.iter().map(|r| r.project_code.as_str()).collect()
}

#[test]
fn the_list_searches_filters_counts_and_pages() {
    let f = three_projects();
    let reader = f.reader();
    let list = |query: ProjectQuery| reader.list_projects(&ProjectQuery { limit: 50, ..query }).unwrap();
    let search = |text: &str| {
        codes(&list(ProjectQuery {
            search: Some(text.into()),
            ..Default::default()
        }))
        .join(",")
    };

    let all = list(ProjectQuery::default());
    assert_eq!(codes(&all), vec![CODE_A, CODE_B, CODE_C]);
    assert_eq!(all.total, 3);
    assert_eq!(
        all.counts,
        StatusCounts {
            awaiting_assessment: 0,
            due: 1,
            partly_paid: 1,
            awaiting_tax_clearance: 0,
            cleared: 1,
            overdue: 0,
            tracked: 0,
            all: 3
        }
    );

    assert_eq!(search(CODE_B), CODE_B, "a scanned code");
    assert_eq!(
        search(" 2021-320102 "),
        CODE_C,
        "part of a code, with the spaces a paste brings"
    );
    assert_eq!(search("仙林"), CODE_B, "part of the name");
    assert_eq!(search("河西建设"), format!("{CODE_A},{CODE_C}"), "part of the builder");
    assert_eq!(search(USCC_B), CODE_B, "a USCC");
    assert_eq!(search(&USCC_A.to_lowercase()), CODE_A, "a USCC typed in lower case");
    assert_eq!(search("_改造 100%"), CODE_C, "LIKE wildcards are literal");
    assert_eq!(search("100%%"), "", "LIKE wildcards are literal");
    assert_eq!(search("不存在"), "");

    let page = list(ProjectQuery {
        search: Some("河西".into()),
        status: Some(FeeStatus::Cleared),
        ..Default::default()
    });
    assert_eq!((codes(&page), page.total), (vec![CODE_C], 1));
    assert_eq!(
        (page.counts.all, page.counts.due, page.counts.cleared),
        (2, 1, 1),
        "counts ignore the status filter"
    );

    let page = list(ProjectQuery {
        district: Some("320113".into()),
        ..Default::default()
    });
    assert_eq!(
        (codes(&page), page.counts.all, page.rows[0].district_name.as_str()),
        (vec![CODE_B], 1, "栖霞区")
    );

    let second = reader
        .list_projects(&ProjectQuery {
            offset: 1,
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((codes(&second), second.total), (vec![CODE_B], 3));
}

#[test]
fn the_list_puts_overdue_first_and_filters_on_it() {
    let mut f = three_projects();
    f.replica.roll_day(DUE.next_day().unwrap()).unwrap();
    let reader = f.reader();
    let list = |overdue| {
        reader
            .list_projects(&ProjectQuery {
                overdue,
                limit: 50,
                ..Default::default()
            })
            .unwrap()
    };

    let all = list(None);
    assert_eq!(codes(&all), vec![CODE_A, CODE_B, CODE_C]);
    assert_eq!(all.counts.overdue, 2);
    let not_overdue = list(Some(false));
    assert_eq!((codes(&not_overdue), not_overdue.total), (vec![CODE_C], 1));

    // Paying A in full takes it off the overdue list and out of first place.
    f.apply(vec![payment(CODE_A, "PA1", 100_000, AT)]).unwrap();
    assert_eq!(codes(&list(None)), vec![CODE_B, CODE_A, CODE_C]);
    assert_eq!(codes(&list(Some(true))), vec![CODE_B]);
    f.apply(vec![payment(CODE_B, "PB2", 300_000, AT)]).unwrap();
    assert_eq!(codes(&list(None)), vec![CODE_A, CODE_B, CODE_C]);
    assert_eq!(list(Some(true)).total, 0);
}

#[test]
fn the_day_changing_flips_overdue() {
    let mut f = three_projects();
    assert!(!f.replica.roll_day(TODAY).unwrap(), "same day: nothing to recompute");
    assert!(!f.row(CODE_A).unwrap().overdue);

    assert!(f.replica.roll_day(DUE).unwrap());
    assert!(!f.row(CODE_A).unwrap().overdue, "due today is not overdue yet");
    assert!(f.replica.roll_day(DUE.next_day().unwrap()).unwrap());
    let row = f.row(CODE_A).unwrap();
    assert!(row.overdue);
    assert_eq!(f.replica.meta().unwrap().view_date, Some(DUE.next_day().unwrap()));
    assert!(!f.row(CODE_C).unwrap().overdue, "a cleared project is never overdue");
}

#[test]
fn the_detail_has_everything_masked_and_newest_first() {
    let mut f = three_projects();
    f.apply(vec![
        payment(CODE_B, "PB0", 50_000, AT - time::Duration::days(3)),
        payment(CODE_B, "PB2", 50_000, AT + time::Duration::days(3)),
        approval(CODE_B, "建字第320113202600009号", date!(2026 - 02 - 01)),
    ])
    .unwrap();
    f.replica.roll_day(DUE.next_day().unwrap()).unwrap();
    let detail = f.reader().get_project(&CODE_B.parse().unwrap()).unwrap().expect("project B");

    assert_eq!(detail.project.name, "仙林学校二期");
    assert_eq!(detail.project.district_name, "栖霞区");
    assert_eq!(detail.project.contact_phone_masked.as_deref(), Some("138****1234"));
    assert_eq!((detail.status, detail.overdue), (FeeStatus::PartlyPaid, true));
    let permits: Vec<_> = detail.approvals.iter().map(|a| a.planning_permit_no.as_str()).collect();
    assert_eq!(permits, ["建字第320113202600009号", "建字第320113202600002号"]);

    assert_eq!(detail.fees.len(), 1);
    let fee = &detail.fees[0];
    assert_eq!(
        (
            fee.fee_kind,
            fee.assessed_fen,
            fee.exemption_fen,
            fee.net_fen,
            fee.paid_fen,
            fee.outstanding_fen
        ),
        (FeeKind::Infra, 500_000, 100_000, 400_000, 200_000, 200_000)
    );
    assert_eq!(fee.exemption_basis.as_deref(), Some("2019年第76号公告"));
    assert_eq!(
        (fee.assessed_on, fee.due_on, fee.overdue),
        (Some(date!(2026 - 03 - 01)), Some(DUE), true)
    );
    assert_eq!(fee.basis, "演示〔2024〕1号");

    let payments: Vec<_> = detail.payments.iter().map(|p| p.payment_id.as_str()).collect();
    assert_eq!(payments, ["PB2", "PB1", "PB0"]);
    assert!(detail.tax_clearance.is_none());
    let seqs: Vec<u64> = detail.timeline.iter().map(|t| t.seq).collect();
    assert_eq!(seqs, [15, 14, 13, 7, 6, 5, 4]);

    let json = serde_json::to_value(&detail).unwrap();
    assert_eq!(json["fees"][0]["due_on"], "2026-03-31");
    assert_eq!(json["approvals"][0]["approved_on"], "2026-02-01");
    assert_eq!(json["timeline"][0]["entity"], "planning_approval");
    assert_eq!(json["timeline"][0]["op"], "upsert");
    assert_eq!(json["payments"][0]["received_at"], "2026-03-04T09:00:00Z");
    assert_eq!(json["status"], "partly_paid");

    let cleared = f.reader().get_project(&CODE_C.parse().unwrap()).unwrap().unwrap();
    assert_eq!(cleared.tax_clearance.unwrap().clearance_no, "TC1");
    assert!(f.reader().get_project(&"2000-000000-00-00-000000".parse().unwrap()).unwrap().is_none());
}

fn snapshot_rows() -> Vec<SnapshotRow> {
    let mut changes = assessed_project_a();
    changes.push(payment(CODE_A, "P1", 30_000, AT));
    changes.push(project(CODE_B, "仙林学校", "栖霞教育投资公司", USCC_B, "320113"));
    batch(100, changes).changes.into_iter().map(snapshot_row).collect()
}

fn snapshot_row(c: Change) -> SnapshotRow {
    SnapshotRow {
        entity: c.entity,
        key: c.key,
        project_code: c.project_code,
        version: c.version,
        seq: c.seq,
        committed_at: c.committed_at,
        payload: serde_json::from_str(c.payload.unwrap().get()).unwrap(),
    }
}

#[test]
fn bootstrap_loads_a_snapshot_with_progress() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("r.sqlite3");
    let mut replica = Replica::open(&path).unwrap();
    let rows = snapshot_rows();
    let mut heard = Vec::new();
    let report = replica
        .bootstrap("http://hub", None, Cursor::new(snapshot(105, &rows)), |p| heard.push(p))
        .unwrap();

    assert_eq!(
        report,
        BootstrapReport {
            as_of: 105,
            rows: 5,
            projects: 2
        }
    );
    assert_eq!(heard.first(), Some(&BootstrapProgress { received: 0, total: 5 }));
    assert_eq!(heard.last(), Some(&BootstrapProgress { received: 5, total: 5 }));
    let meta = replica.meta().unwrap();
    assert_eq!(
        (meta.cursor, meta.snapshot_as_of, meta.hub_url.as_deref()),
        (Some(105), Some(105), Some("http://hub"))
    );

    let reader = ReplicaReader::open(&path).unwrap();
    let mut loaded = Vec::new();
    reader.for_each_row(|row| loaded.push(row)).unwrap();
    let mut expected = rows.clone();
    expected.sort_by(|a, b| (a.entity.as_str(), &a.key).cmp(&(b.entity.as_str(), &b.key)));
    assert_eq!(loaded, expected);

    let a = reader.get_project(&CODE_A.parse().unwrap()).unwrap().unwrap();
    assert_eq!((a.status, a.fees[0].paid_fen), (FeeStatus::PartlyPaid, 30_000));
    assert_eq!(a.timeline.len(), 4, "the snapshot's rows start the timeline");
    let page = reader
        .list_projects(&ProjectQuery {
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.total, 2);

    // The next batches continue from the snapshot; the snapshot's entry of a row that
    // changes stays on the timeline.
    replica
        .apply(&batch(105, vec![payment(CODE_A, "P1", 40_000, AT).v(2)]))
        .unwrap();
    let next = batch(106, vec![approval(CODE_A, "建字第320105202600001号", TODAY).deleted()]);
    replica.apply(&sealed_for(&replica, next)).unwrap();
    assert_eq!(replica.meta().unwrap().cursor, Some(107));
    let timeline: Vec<(u64, Op)> = reader
        .get_project(&CODE_A.parse().unwrap())
        .unwrap()
        .unwrap()
        .timeline
        .iter()
        .map(|t| (t.seq, t.op))
        .collect();
    assert_eq!(
        timeline,
        [
            (107, Op::Delete),
            (106, Op::Upsert),
            (104, Op::Upsert),
            (103, Op::Upsert),
            (102, Op::Upsert),
            (101, Op::Upsert)
        ]
    );
}

#[test]
fn a_cut_or_broken_snapshot_leaves_the_replica_as_it_was() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("r.sqlite3");
    let mut replica = Replica::open(&path).unwrap();
    let rows = snapshot_rows();
    let full = snapshot(105, &rows);
    // The header and four of the five rows: the stream ended early.
    let cut_at = full.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(4).unwrap().0 + 1;
    let cut = full[..cut_at].to_vec();

    let result = replica.bootstrap("http://hub", None, Cursor::new(cut.clone()), |_| {});
    assert!(
        matches!(
            result,
            Err(ReplicaError::SnapshotIncomplete {
                expected: 5,
                received: 4
            })
        ),
        "{result:?}"
    );
    assert_eq!(replica.meta().unwrap().cursor, None);
    let count = |replica: &Replica, table: &str| -> u64 {
        replica
            .conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(
        (
            count(&replica, "rows"),
            count(&replica, "history"),
            count(&replica, "project_view")
        ),
        (0, 0, 0)
    );

    let mut garbled = full.clone();
    garbled.splice(cut_at..cut_at, b"{not json}\n".iter().copied());
    let result = replica.bootstrap("http://hub", None, Cursor::new(garbled), |_| {});
    assert!(
        matches!(result, Err(ReplicaError::Snapshot { line: 6, .. })),
        "{result:?}"
    );

    let mut sorted = rows.clone();
    sorted.sort_by(|a, b| (a.entity.as_str(), &a.key).cmp(&(b.entity.as_str(), &b.key)));
    let repeated = snapshot_part(105, &[sorted.clone(), sorted[4..].to_vec()].concat(), None);
    let result = replica.bootstrap("http://hub", None, Cursor::new(repeated), |_| {});
    assert!(
        matches!(result, Err(ReplicaError::SnapshotMismatch(_))),
        "a key twice in a snapshot: {result:?}"
    );
    assert_eq!(replica.meta().unwrap().cursor, None);
    assert_eq!(replica.snapshot_resume_point("http://hub").unwrap(), None, "nothing to go on from");

    // A good snapshot loads; a later cut one leaves it standing, indexes included.
    replica.bootstrap("http://hub", None, Cursor::new(full), |_| {}).unwrap();
    assert!(replica.bootstrap("http://hub", None, Cursor::new(cut), |_| {}).is_err());
    assert_eq!(replica.meta().unwrap().cursor, Some(105));
    assert_eq!(count(&replica, "rows"), 5);
    let indexes: u64 = replica
        .conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN ('rows_key', 'rows_project')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 2);
}

#[test]
fn a_snapshot_cut_off_goes_on_from_the_last_row_kept() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("r.sqlite3");
    let mut replica = Replica::open(&path).unwrap();
    let mut rows = snapshot_rows();
    rows.sort_by(|a, b| (a.entity.as_str(), &a.key).cmp(&(b.entity.as_str(), &b.key)));
    assert_eq!(rows[1].key, "P1", "in key order the payment comes second");
    let full = snapshot(105, &rows);
    // The header, the first row and half of the second: the connection dropped.
    let second_line = full.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(1).unwrap().0 + 1;
    let cut = full[..second_line + 20].to_vec();
    let result = replica.bootstrap("http://hub", None, Cursor::new(cut), |_| {});
    assert!(matches!(result, Err(ReplicaError::Snapshot { line: 3, .. })), "{result:?}");
    assert_eq!(replica.meta().unwrap().cursor, None, "nothing shows before the whole snapshot is in");
    let kept = RowPosition { entity: rows[0].entity, key: rows[0].key.clone() };
    assert_eq!(replica.snapshot_resume_point("http://hub").unwrap(), Some(kept.clone()));
    assert_eq!(replica.snapshot_resume_point("http://other-hub").unwrap(), None);

    // The app is closed and opened again: the place is kept in the file.
    drop(replica);
    let mut replica = Replica::open(&path).unwrap();
    assert_eq!(replica.snapshot_resume_point("http://hub").unwrap(), Some(kept.clone()));

    // A part that does not go on from that row is refused, and the load starts over.
    let stray = RowPosition { entity: rows[1].entity, key: rows[1].key.clone() };
    let result = replica.bootstrap("http://hub", None, Cursor::new(snapshot_part(107, &rows[2..], Some(stray))), |_| {});
    assert!(matches!(result, Err(ReplicaError::SnapshotMismatch(_))), "{result:?}");
    assert_eq!(replica.snapshot_resume_point("http://hub").unwrap(), None);
    let cut = full[..second_line + 20].to_vec();
    assert!(replica.bootstrap("http://hub", None, Cursor::new(cut), |_| {}).is_err());

    // The rest, as of the hub's newer head: the payment has since grown to 500 yuan.
    let mut newer = snapshot_row(batch(106, vec![payment(CODE_A, "P1", 50_000, AT).v(3)]).changes.remove(0));
    newer.seq = 107;
    let rest = [vec![newer.clone()], rows[2..].to_vec()].concat();
    let mut heard = Vec::new();
    let report = replica
        .bootstrap("http://hub", None, Cursor::new(snapshot_part(107, &rest, Some(kept))), |p| heard.push(p))
        .unwrap();
    assert_eq!(report, BootstrapReport { as_of: 105, rows: 5, projects: 2 });
    assert_eq!(heard.first(), Some(&BootstrapProgress { received: 1, total: 5 }));
    assert_eq!(heard.last(), Some(&BootstrapProgress { received: 5, total: 5 }));
    assert_eq!(replica.snapshot_resume_point("http://hub").unwrap(), None);
    let meta = replica.meta().unwrap();
    assert_eq!((meta.cursor, meta.snapshot_as_of), (Some(105), Some(105)), "the log is replayed from the first part");
    let reader = ReplicaReader::open(&path).unwrap();
    let mut loaded = Vec::new();
    reader.for_each_row(|row| loaded.push(row)).unwrap();
    assert_eq!(loaded, [vec![rows[0].clone()], rest].concat());

    // Replaying (105, 107]: the first part's rows move on; the payment, already newer, stays.
    replica
        .apply(&batch(105, vec![assessment(CODE_A, 120_000, None).v(2), payment(CODE_A, "P1", 40_000, AT).v(2)]))
        .unwrap();
    let a = reader.get_project(&CODE_A.parse().unwrap()).unwrap().unwrap();
    assert_eq!((a.fees[0].assessed_fen, a.fees[0].paid_fen), (120_000, 50_000));
    let indexes: u64 = replica
        .conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'rows' AND name IN ('rows_key', 'rows_project', 'rows_digest_stale')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 3, "the indexes and the trigger of rows are back");
}

#[test]
fn a_new_snapshot_replaces_everything() {
    let mut f = three_projects();
    let rows = snapshot_rows();
    f.replica
        .bootstrap("http://other-hub", None, Cursor::new(snapshot(500, &rows[4..])), |_| {})
        .unwrap();
    assert_eq!(f.rows().len(), 1);
    assert_eq!(f.history_len(), 0, "the old replica's history goes with it");
    assert_eq!(f.reader().get_project(&CODE_B.parse().unwrap()).unwrap().unwrap().timeline.len(), 1);
    let page = f
        .reader()
        .list_projects(&ProjectQuery {
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(codes(&page), vec![CODE_B]);
    assert_eq!(f.replica.meta().unwrap().hub_url.as_deref(), Some("http://other-hub"));
}

mod outbox {
    use yizhan_core::command::ClerkAction;
    use yizhan_core::entity::FollowUpNote;

    use super::*;
    use crate::protocol::{CommandEnvelope, CommandOutcome, CommandResult};
    use yizhan_core::id::CommandId;

    const CLERK: &str = "王芳（clerk01）";

    static KEY: std::sync::LazyLock<yizhan_voucher::signature::CounterKey> =
        std::sync::LazyLock::new(yizhan_voucher::signature::CounterKey::generate);

    fn clerk() -> Issuer {
        Issuer::new("clerk01".parse().unwrap(), CLERK, KEY.clone())
    }

    fn note(text: &str) -> ClerkAction {
        ClerkAction::FollowUpNote {
            project_code: CODE_A.parse().unwrap(),
            text: text.into(),
        }
    }

    fn tracking(tracked: bool) -> ClerkAction {
        ClerkAction::Tracking {
            project_code: CODE_A.parse().unwrap(),
            tracked,
        }
    }

    fn final_check() -> ClerkAction {
        ClerkAction::FinalCheck {
            project_code: CODE_A.parse().unwrap(),
            remark: "资料齐全".into(),
        }
    }

    fn accepted(id: &CommandId, seq: u64) -> CommandResult {
        CommandResult {
            command_id: id.clone(),
            outcome: CommandOutcome::Accepted { seq: Some(seq) },
            repeated: false,
        }
    }

    fn rejected(id: &CommandId, reason: &str) -> CommandResult {
        CommandResult {
            command_id: id.clone(),
            outcome: CommandOutcome::Rejected {
                code: "not_cleared".into(),
                reason: reason.into(),
            },
            repeated: false,
        }
    }

    fn counts(f: &Fixture) -> (u64, u64) {
        let c = f.reader().outbox_counts().unwrap();
        (c.pending, c.conflicts)
    }

    fn project_a() -> Fixture {
        let mut f = Fixture::new();
        f.apply(assessed_project_a()).unwrap();
        f
    }

    #[test]
    fn a_command_the_rules_refuse_is_not_queued_and_the_clerk_hears_why() {
        let mut f = project_a();
        let refused = f.replica.issue(final_check(), &clerk(), AT).unwrap_err();
        assert!(matches!(&refused, ReplicaError::Refused(r) if r.code == "not_cleared"), "{refused:?}");
        assert!(refused.to_string().contains("「待缴」"), "{refused}");
        let unknown = ClerkAction::FollowUpNote {
            project_code: CODE_C.parse().unwrap(),
            text: "x".into(),
        };
        assert!(matches!(f.replica.issue(unknown, &clerk(), AT), Err(ReplicaError::Refused(r)) if r.code == "unknown_project"));
        assert_eq!(counts(&f), (0, 0));
        assert!(f.replica.outgoing(10).unwrap().is_empty());
    }

    #[test]
    fn queued_commands_show_at_once_as_pending_and_go_out_in_order() {
        let mut f = project_a();
        let first = f.replica.issue(note(" 已电话催缴 "), &clerk(), AT).unwrap();
        let second = f.replica.issue(tracking(true), &clerk(), AT).unwrap();
        assert_eq!(first.state, OutboxState::Pending);
        assert_eq!(counts(&f), (2, 0));

        let detail = f.reader().get_project(&CODE_A.parse().unwrap()).unwrap().unwrap();
        assert_eq!(detail.notes.len(), 1);
        assert_eq!((detail.notes[0].text.as_str(), detail.notes[0].pending), ("已电话催缴", true));
        assert_eq!(detail.notes[0].written_by, CLERK);
        assert!(detail.tracked && detail.tracking_pending);

        let outgoing = f.replica.outgoing(10).unwrap();
        let ids: Vec<&str> = outgoing.iter().map(|o| o.command_id.as_str()).collect();
        assert_eq!(ids, [first.command_id.as_str(), second.command_id.as_str()]);
        let envelope: CommandEnvelope = serde_json::from_str(&outgoing[0].envelope).unwrap();
        assert_eq!(envelope.base_seq, f.cursor());
        assert_eq!((envelope.clerk.as_str(), envelope.account.as_ref().map(|a| a.as_str())), (CLERK, Some("clerk01")));
        assert!(envelope.device_id.as_str().starts_with("counter-"));
        // Signed by the counter's key over who, where, when and the action as sent.
        #[derive(serde::Deserialize)]
        struct Sent<'a> {
            #[serde(borrow)]
            action: &'a serde_json::value::RawValue,
        }
        let action = serde_json::from_str::<Sent<'_>>(&outgoing[0].envelope).unwrap().action.get().to_owned();
        let signature: [u8; 64] = hex::decode(envelope.signature.as_deref().unwrap()).unwrap().try_into().unwrap();
        assert!(KEY.public_key().verifies(envelope.signed_text(&action).as_bytes(), &signature));
        let mut forged = envelope.clone();
        forged.account = Some("chief01".parse().unwrap());
        assert!(!KEY.public_key().verifies(forged.signed_text(&action).as_bytes(), &signature), "another account breaks the signature");
        let again: CommandEnvelope = serde_json::from_str(&f.replica.outgoing(1).unwrap()[0].envelope).unwrap();
        assert_eq!(again.device_id, envelope.device_id, "one device id per counter");
        assert_eq!(f.replica.outgoing(1).unwrap().len(), 1);
    }

    #[test]
    fn the_hubs_row_replaces_the_pending_one_without_showing_it_twice() {
        let mut f = project_a();
        let issued = f.replica.issue(note("已电话催缴"), &clerk(), AT).unwrap();
        let seq = f.cursor() + 1;
        assert_eq!(f.replica.record_answers(&[accepted(&issued.command_id, seq)], AT).unwrap(), [CODE_A]);
        assert_eq!(counts(&f), (0, 0));
        // Accepted, but the feed has not brought the row yet: still shown, still marked.
        let detail = f.reader().get_project(&CODE_A.parse().unwrap()).unwrap().unwrap();
        assert_eq!(detail.notes.iter().map(|n| n.pending).collect::<Vec<_>>(), [true]);

        let row = FollowUpNote {
            note_id: issued.command_id.to_string(),
            project_code: CODE_A.parse().unwrap(),
            text: "已电话催缴".into(),
            written_by: CLERK.into(),
            device_id: "counter-x".parse().unwrap(),
            written_at: AT,
        };
        f.apply(vec![spec(EntityKind::FollowUpNote, issued.command_id.as_str(), CODE_A, row)]).unwrap();
        let detail = f.reader().get_project(&CODE_A.parse().unwrap()).unwrap().unwrap();
        assert_eq!(detail.notes.iter().map(|n| n.pending).collect::<Vec<_>>(), [false]);
    }

    #[test]
    fn rejections_become_conflicts_the_clerk_can_discard_or_redo() {
        let mut f = project_a();
        let a = f.replica.issue(tracking(true), &clerk(), AT).unwrap();
        let b = f.replica.issue(note("补交材料"), &clerk(), AT).unwrap();
        let settled = f
            .replica
            .record_answers(&[rejected(&a.command_id, "项目已注销"), rejected(&b.command_id, "备注重复")], AT)
            .unwrap();
        assert_eq!(settled, [CODE_A]);
        assert_eq!(counts(&f), (0, 2));
        // A repeated answer settles nothing more.
        assert!(f.replica.record_answers(&[accepted(&a.command_id, 99)], AT).unwrap().is_empty());

        let conflicts = f.reader().conflicts().unwrap();
        assert_eq!(conflicts.iter().map(|c| c.command_id.as_str()).collect::<Vec<_>>(), [b.command_id.as_str(), a.command_id.as_str()]);
        assert_eq!(conflicts[1].reject_reason.as_deref(), Some("项目已注销"));
        let detail = f.reader().get_project(&CODE_A.parse().unwrap()).unwrap().unwrap();
        assert!(!detail.tracked && detail.notes.is_empty(), "a rejected command shows no effect");

        assert_eq!(f.replica.discard(&b.command_id).unwrap(), CODE_A);
        let redone = f.replica.redo(&a.command_id, &Issuer::new("clerk02".parse().unwrap(), "陈静（clerk02）", KEY.clone()), AT).unwrap();
        assert_ne!(redone.command_id, a.command_id, "the hub answers an old id with its old answer");
        assert_eq!((redone.state, redone.clerk.as_str()), (OutboxState::Pending, "陈静（clerk02）"));
        assert_eq!(counts(&f), (1, 0));
        assert!(matches!(f.replica.discard(&a.command_id), Err(ReplicaError::NoSuchConflict(_))));
        assert!(matches!(f.replica.redo(&b.command_id, &clerk(), AT), Err(ReplicaError::NoSuchConflict(_))));
    }

    #[test]
    fn a_command_the_hub_keeps_failing_on_is_set_aside_after_the_limit() {
        let mut f = project_a();
        let stuck = f.replica.issue(note("一"), &clerk(), AT).unwrap();
        let next = f.replica.issue(note("二"), &clerk(), AT).unwrap();
        for _ in 0..2 {
            assert_eq!(f.replica.record_failure(&stuck.command_id, "HTTP 500", 3, AT).unwrap(), None);
        }
        assert_eq!(f.replica.record_failure(&stuck.command_id, "HTTP 500", 3, AT).unwrap().as_deref(), Some(CODE_A));
        let conflict = &f.reader().conflicts().unwrap()[0];
        assert_eq!((conflict.reject_code.as_deref(), conflict.attempts), (Some(HUB_ERROR), 3));
        assert!(conflict.reject_reason.as_deref().unwrap().contains("HTTP 500"));
        assert_eq!(f.replica.outgoing(10).unwrap()[0].command_id, next.command_id, "the rest go on");
    }

    #[test]
    fn the_outbox_outlives_a_new_snapshot() {
        let mut f = project_a();
        let issued = f.replica.issue(note("离线时记录"), &clerk(), AT).unwrap();
        let rows = f.rows();
        f.replica.bootstrap("http://hub", None, Cursor::new(snapshot(900, &rows)), |_| {}).unwrap();
        assert_eq!(f.replica.outgoing(10).unwrap()[0].command_id, issued.command_id);
        assert_eq!(f.reader().get_project(&CODE_A.parse().unwrap()).unwrap().unwrap().notes.len(), 1);
    }
}

mod integrity {
    use super::*;

    /// Project A applied as one sealed batch, and the replica's state right after.
    fn applied() -> (Fixture, u64) {
        let mut f = Fixture::new();
        f.apply(assessed_project_a()).unwrap();
        let cursor = f.cursor();
        (f, cursor)
    }

    fn refused(f: &mut Fixture, batch: &ChangeBatch, what: &str) {
        let before = (f.cursor(), f.rows(), f.history_len(), f.replica.meta().unwrap().chain);
        let error = f.replica.apply(batch).expect_err(what);
        assert!(error.is_integrity(), "{what}: {error:?}");
        assert_eq!((f.cursor(), f.rows(), f.history_len(), f.replica.meta().unwrap().chain), before, "{what}: nothing applied");
    }

    #[test]
    fn an_altered_dropped_or_forged_change_is_refused_before_anything_is_applied() {
        let (mut f, cursor) = applied();
        let good = sealed_for(&f.replica, batch(cursor, vec![payment(CODE_A, "P1", 40_000, AT), clearance(CODE_A, "T1")]));

        let mut altered = good.clone();
        altered.changes[0].payload = Some(serde_json::value::to_raw_value(&serde_json::json!({"amount_fen": 1})).unwrap());
        refused(&mut f, &altered, "an altered payload");

        let mut dropped = good.clone();
        dropped.changes.remove(1);
        dropped.seal.count = 1;
        refused(&mut f, &dropped, "a dropped change, count adjusted");

        let mut moved = good.clone();
        moved.changes[0].key = "P9".into();
        refused(&mut f, &moved, "a change moved to another key");

        let mut forged = good.clone();
        forged.seal = HubSigner::generate().seal_batch(good.after, good.upto, 2, good.seal.prev_chain, good.seal.chain);
        refused(&mut f, &forged, "a batch sealed with another key");

        f.replica.apply(&good).expect("the untouched batch applies");
        assert_eq!(f.cursor(), cursor + 2);
    }

    #[test]
    fn a_missing_repeated_or_reordered_batch_does_not_continue_the_chain() {
        let (mut f, cursor) = applied();
        let first = sealed_for(&f.replica, batch(cursor, vec![payment(CODE_A, "P1", 40_000, AT)]));
        let first_end = first.seal.chain;
        let second = seal(batch(cursor + 1, vec![payment(CODE_A, "P2", 10_000, AT)]), first_end);
        let third = seal(batch(cursor + 2, vec![clearance(CODE_A, "T1")]), second.seal.chain);

        refused(&mut f, &second, "the second batch before the first (the first missing)");
        f.replica.apply(&first).unwrap();
        refused(&mut f, &first, "the first batch again");
        refused(&mut f, &third, "the third batch before the second");

        // A batch that starts at the cursor but was cut for another chain position.
        let spliced = seal(batch(cursor + 1, vec![payment(CODE_A, "P2", 10_000, AT)]), ChainHash::ZERO);
        refused(&mut f, &spliced, "a batch from another place in the chain");

        f.replica.apply(&second).unwrap();
        f.replica.apply(&third).unwrap();
        assert_eq!(f.replica.meta().unwrap().chain, Some(third.seal.chain));
    }

    #[test]
    fn a_snapshot_must_be_sealed_by_the_key_it_names_and_the_installed_one() {
        let dir = TempDir::new().unwrap();
        let mut replica = Replica::open(dir.path().join("replica.sqlite3")).unwrap();
        let rows = snapshot_rows();
        let mut tampered = snapshot(105, &rows);
        let forged_rows = serde_json::to_vec(&SnapshotHeader {
            as_of: 105,
            rows: rows.len() as u64 + 1,
            seal: SIGNER.seal_snapshot(105, rows.len() as u64, None, ChainHash::ZERO),
            after: None,
        })
        .unwrap();
        let header_end = tampered.iter().position(|b| *b == b'\n').unwrap();
        tampered.splice(..header_end, forged_rows);
        let error = replica.bootstrap("http://hub", None, Cursor::new(tampered), |_| {}).unwrap_err();
        assert!(matches!(error, ReplicaError::Integrity(_)), "{error:?}");

        let stranger = HubSigner::generate().public_key();
        let error = replica
            .bootstrap("http://hub", Some(&stranger), Cursor::new(snapshot(105, &rows)), |_| {})
            .unwrap_err();
        assert!(error.to_string().contains("不是本机配置的数据中心公钥"), "{error}");
        assert_eq!(replica.meta().unwrap().cursor, None, "nothing loaded");

        replica
            .bootstrap("http://hub", Some(&SIGNER.public_key()), Cursor::new(snapshot(105, &rows)), |_| {})
            .unwrap();
        assert_eq!(replica.meta().unwrap().hub_key, Some(SIGNER.public_key()));
    }
}

#[cfg(unix)]
#[test]
fn the_replica_file_and_its_wal_are_readable_by_the_counters_account_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("replica.sqlite3");
    // Opening migrates it, which writes through the WAL.
    let _replica = Replica::open(&path).unwrap();
    for file in ["replica.sqlite3", "replica.sqlite3-wal", "replica.sqlite3-shm"] {
        let mode = std::fs::metadata(dir.path().join(file)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
}
