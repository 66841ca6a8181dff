//! The legacy export import benchmark: 100,000-row planning exports as a UTF-8 CSV, a GBK
//! CSV and an XLSX, imported into a fresh hub (read, clean, check, write with the change
//! log) and read alone. Results and commands in docs/perf.md.
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
use yizhan_tests::bench::{BenchArgs, Report, announce, bench_runtime, env_or, finish_report, scratch_dir, thousands};

const ROWS_PER_SECOND: f64 = 50_000.0;
const HEADER: [&str; 13] = [
    "规划许可证号", "项目编号", "项目名称", "建设单位", "统一社会信用代码", "行政区划代码", "联系电话", "批准日期",
    "住宅面积(㎡)", "非住宅面积(㎡)", "人防面积(㎡)", "配套费减免金额(元)", "减免依据",
];

/// Row `n` of an export as its cells; one row in a hundred carries an exemption.
fn cells(n: usize) -> [String; 13] {
    let exempt = n.is_multiple_of(100);
    [
        format!("建字第320115202{:07}号", n),
        format!("2026-320115-70-01-{n:06}"),
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

fn csv(rows: usize) -> String {
    let mut text = HEADER.join(",");
    for n in 1..=rows {
        text.push_str("\r\n");
        text.push_str(&cells(n).join(","));
    }
    text
}

fn xlsx(rows: usize) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, header) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *header).expect("header cell");
    }
    for n in 1..=rows {
        for (c, cell) in cells(n).iter().enumerate() {
            sheet.write_string(n as u32, c as u16, cell).expect("cell");
        }
    }
    workbook.save_to_buffer().expect("the workbook")
}

fn main() {
    let args = BenchArgs::parse();
    let rows = args.size(env_or("YIZHAN_BENCH_ROWS", 100_000), 500);
    let load = announce("import", &format!("{} rows per file", thousands(rows as f64)));
    let text = csv(rows);
    let files = [
        ("csv-utf8", text.clone().into_bytes()),
        ("csv-gbk", encoding_rs::GBK.encode(&text).0.into_owned()),
        ("xlsx", xlsx(rows)),
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
        let hub = Hub::open(HubConfig::new(dir.path().join("hub.sqlite3"))).expect("a fresh hub");
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
