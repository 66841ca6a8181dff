//! The legacy export import benchmark: 100,000-row planning exports as a UTF-8 CSV, a GBK
//! CSV and an XLSX, imported into a fresh hub (read, clean, check, write with the change
//! log) and read alone; and a UTF-8 CSV of scrambled project codes imported into a hub
//! already holding the demo projects (`YIZHAN_BENCH_PROJECTS`, 100,000). Results and
//! commands in docs/perf.md.
//!
//! ```text
//! cargo bench -p yizhan-tests --bench import
//! YIZHAN_BENCH_ROWS=20000 cargo bench -p yizhan-tests --bench import -- xlsx
//! ```
//!
//! Without `--bench` (as under `cargo test --benches`) each scenario runs once on 500 rows:
//! a check that the benchmark works, not a measurement.

use std::time::Instant;

use yizhan_hub::connectors::legacy_file;
use yizhan_hub::{Hub, HubConfig};
use yizhan_tests::bench::{
    BenchArgs, Report, announce, bench_runtime, cached_hub, copy_db, env_or, finish_report, scratch_dir, thousands,
};

const ROWS_PER_SECOND: f64 = 50_000.0;
const HEADER: [&str; 13] = [
    "规划许可证号", "项目编号", "项目名称", "建设单位", "统一社会信用代码", "行政区划代码", "联系电话", "批准日期",
    "住宅面积(㎡)", "非住宅面积(㎡)", "人防面积(㎡)", "配套费减免金额(元)", "减免依据",
];

/// Row `n`'s planning permit and project code.
type Ids = fn(usize) -> (String, String);

/// Row `n` of an export as its cells; one row in a hundred carries an exemption.
fn cells(n: usize, ids: Ids) -> [String; 13] {
    let exempt = n.is_multiple_of(100);
    let (permit, code) = ids(n);
    [
        permit,
        code,
        format!("江宁区秣陵街道保障性住房{n}期"),
        "南京钟山置业有限公司".into(),
        "91350100M000100Y43".into(),
        "320115".into(),
        format!("138{:08}", n),
        format!("2026-{:02}-{:02}", n % 12 + 1, n % 28 + 1),
        format!("{}.{:02}", 1_000 + n % 9_000, n % 100),
        "200".into(),
        if n.is_multiple_of(3) { "150.5".into() } else { "0".into() },
        if exempt { "1000".into() } else { String::new() },
        if exempt { "2019年第76号公告".into() } else { String::new() },
    ]
}

fn csv(rows: usize, ids: Ids) -> String {
    let mut text = HEADER.join(",");
    for n in 1..=rows {
        text.push_str("\r\n");
        text.push_str(&cells(n, ids).join(","));
    }
    text
}

fn in_order(n: usize) -> (String, String) {
    (format!("建字第320115202{n:07}号"), format!("2026-320115-70-01-{n:06}"))
}

/// Codes spread over the whole serial range in no order (a multiplicative permutation), so
/// the hub's indexes are written all over rather than appended to; of a year the demo
/// projects never have, so none is already there.
fn scrambled(n: usize) -> (String, String) {
    let id = n * 738_163 % 1_000_003 % 1_000_000;
    (format!("建字第320115201{id:07}号"), format!("2016-320115-70-01-{id:06}"))
}

fn xlsx(rows: usize) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, header) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *header).expect("header cell");
    }
    for n in 1..=rows {
        for (c, cell) in cells(n, in_order).iter().enumerate() {
            sheet.write_string(n as u32, c as u16, cell).expect("cell");
        }
    }
    workbook.save_to_buffer().expect("the workbook")
}

fn main() {
    let args = BenchArgs::parse();
    let rows = args.size(env_or("YIZHAN_BENCH_ROWS", 100_000), 500);
    let load = announce("import", &format!("{} rows per file", thousands(rows as f64)));
    let populated = args.size(env_or("YIZHAN_BENCH_PROJECTS", 100_000), 2_000);
    let text = csv(rows, in_order);
    let into_populated = format!("csv-utf8-scrambled, into {} projects", thousands(populated as f64));
    let files = [
        ("csv-utf8".to_owned(), text.clone().into_bytes()),
        ("csv-gbk".to_owned(), encoding_rs::GBK.encode(&text).0.into_owned()),
        ("xlsx".to_owned(), xlsx(rows)),
        (into_populated, csv(rows, scrambled).into_bytes()),
    ];
    let runtime = bench_runtime();
    let mut report = Report::default();
    for (scenario, bytes) in files.iter().filter(|(s, _)| args.filters.is_empty() || args.filters.iter().any(|f| s.contains(f.as_str()))) {
        println!("\n{scenario}: {} bytes", thousands(bytes.len() as f64));
        let started = Instant::now();
        let file = legacy_file::read(bytes).expect("the export reads");
        let read = started.elapsed().as_secs_f64();
        assert_eq!(file.rows.len(), rows);

        let dir = scratch_dir();
        let db = if scenario.contains("into") {
            // A hub already holding the demo projects (codes of another district), copied
            // so the cached one stays as seeded.
            let cached = runtime.block_on(cached_hub(populated, 42));
            copy_db(&cached, dir.path(), "hub.sqlite3")
        } else {
            dir.path().join("hub.sqlite3")
        };
        let hub = Hub::open(HubConfig::new(db)).expect("the hub");
        let started = Instant::now();
        let imported = runtime
            .block_on(hub.import_planning_file(scenario, bytes, |_, _| {}))
            .expect("the import");
        let whole = started.elapsed().as_secs_f64();
        assert_eq!((imported.delivery.changed, imported.delivery.quarantined), (rows, 0), "{:?}", imported.delivery);
        let rate = rows as f64 / whole;
        report.add(
            scenario,
            "import: read + check + write, rows/s",
            thousands(rate),
            Some(("≥ 50,000", rate >= ROWS_PER_SECOND)),
            format!("{whole:.2} s for {} rows, 3 state rows each", thousands(rows as f64)),
        );
        report.add(scenario, "file read alone, rows/s", thousands(rows as f64 / read), None, format!("{read:.2} s"));
    }
    finish_report(&report, args.markdown.as_deref(), "import benchmark", &load);
}
