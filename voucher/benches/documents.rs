//! Vouchers on the counter PC (docs/perf.md, section 11): one PDF laid out, signed and
//! rendered; a batch of 1,000 with the process's peak memory; a scanned QR verified; the
//! preview the clerk looks at. `cargo bench -p yizhan-voucher --bench documents`.

use std::time::{Duration, Instant};

use time::OffsetDateTime;
use yizhan_core::document::{Document, DocumentKind, DocumentNumber, IssuingUnit, LineItem};
use yizhan_voucher::pdf::{Marks, render};
use yizhan_voucher::preview::preview_png;
use yizhan_voucher::qr::QrPayload;
use yizhan_voucher::signature::CounterKey;
use yizhan_voucher::verify::{Recorded, judge};

const VERIFY: &str = "https://yizhan.example.gov.cn/verify";

fn document(serial: u64) -> Document {
    let lines = vec![
        LineItem {
            item_code: "103040".into(),
            item_name: "城市基础设施配套费".into(),
            basis: format!("住宅 {}.00 m² × ¥210.00/m²", 10_000 + serial % 5_000),
            amount_fen: 210 * 100 * (10_000 + (serial % 5_000) as i64),
        },
        LineItem {
            item_code: "103041".into(),
            item_name: "防空地下室易地建设费".into(),
            basis: "应建面积 300.00 m² × ¥1,800.00/m²".into(),
            amount_fen: 54_000_000,
        },
    ];
    Document {
        number: DocumentNumber { kind: DocumentKind::Voucher, serial },
        unit: IssuingUnit::example(),
        project_code: format!("2026-320105-47-01-{:06}", serial % 1_000_000).parse().unwrap(),
        project_name: format!("演示花园{}期", serial % 9 + 1),
        payer: "南京演示置业有限公司".into(),
        payer_uscc: "91320105MA1W8XQ258".parse().unwrap(),
        total_fen: lines.iter().map(|l| l.amount_fen).sum(),
        lines,
        issued_at: OffsetDateTime::now_utc(),
        issuer: "王芳".into(),
        checker: "李强".into(),
        planning_permit_nos: vec!["建字第320105202600001号".into()],
        construction_permit_no: String::new(),
        device_id: "counter-03".parse().unwrap(),
    }
}

/// Seal, QR address and PDF: what issuing one document costs beyond the database.
fn issue(doc: &Document, key: &CounterKey) -> Vec<u8> {
    let payload = QrPayload::seal(doc, key).expect("a consistent document");
    render(doc, &payload.to_url(VERIFY), &Marks::default()).expect("the document renders")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// VmHWM / VmRSS of this process, KiB.
fn memory_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let key = CounterKey::generate();
    let started = Instant::now();
    let first = issue(&document(1), &key);
    println!("first document (font parsed once): {:.1} ms, {:.1} KB", ms(started.elapsed()), first.len() as f64 / 1e3);

    let singles = if smoke { 20 } else { 300 };
    let mut times = Vec::with_capacity(singles);
    let mut sizes = Vec::with_capacity(singles);
    for serial in 0..singles as u64 {
        let doc = document(1_000 + serial);
        let start = Instant::now();
        let pdf = issue(&doc, &key);
        times.push(start.elapsed());
        sizes.push(pdf.len());
    }
    times.sort();
    sizes.sort();
    println!(
        "one voucher (seal + QR + PDF/A), {singles} runs: median {:.2} ms, p95 {:.2} ms, max {:.2} ms; size median {:.1} KB, max {:.1} KB",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95)),
        ms(*times.last().unwrap()),
        sizes[sizes.len() / 2] as f64 / 1e3,
        *sizes.last().unwrap() as f64 / 1e3,
    );

    let mut seals = Vec::with_capacity(singles);
    for serial in 0..singles as u64 {
        let doc = document(5_000 + serial);
        let start = Instant::now();
        let payload = QrPayload::seal(&doc, &key).expect("a consistent document");
        seals.push(start.elapsed());
        assert!(!payload.to_url(VERIFY).is_empty());
    }
    seals.sort();
    println!("of which the SM3 digest + SM2 signature alone: median {:.2} ms", ms(percentile(&seals, 0.5)));

    let batch = if smoke { 50 } else { 1_000 };
    let rss_before = memory_kib("VmRSS:");
    let start = Instant::now();
    let mut total_bytes = 0;
    for serial in 0..batch as u64 {
        total_bytes += issue(&document(10_000 + serial), &key).len();
    }
    let elapsed = start.elapsed();
    println!(
        "batch of {batch}: {:.2} s ({:.1} documents/s), {:.1} MB of PDF; RSS before {:.1} MiB, peak (VmHWM) {:.1} MiB",
        elapsed.as_secs_f64(),
        batch as f64 / elapsed.as_secs_f64(),
        total_bytes as f64 / 1e6,
        rss_before as f64 / 1024.0,
        memory_kib("VmHWM:") as f64 / 1024.0,
    );

    let doc = document(42);
    let payload = QrPayload::seal(&doc, &key).unwrap();
    let url = payload.to_url(VERIFY);
    let public = key.public_key();
    let recorded = Recorded { digest: doc.digest(), voided: None, conflict: None };
    let checks = if smoke { 50 } else { 2_000 };
    let mut times = Vec::with_capacity(checks);
    for _ in 0..checks {
        let start = Instant::now();
        let scanned = QrPayload::from_url(&url).unwrap();
        let verdict = judge(&scanned, Some(&public), Some(&recorded));
        times.push(start.elapsed());
        assert!(verdict.is_genuine());
    }
    times.sort();
    println!(
        "verification of a scanned QR (parse + SM2 verify + verdict), {checks} runs: median {:.3} ms, p99 {:.3} ms",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
    );

    let previews = if smoke { 3 } else { 20 };
    let mut times = Vec::with_capacity(previews);
    for _ in 0..previews {
        let start = Instant::now();
        let png = preview_png(&first, 1_200).expect("a preview");
        times.push(start.elapsed());
        assert!(png.len() > 1_000);
    }
    times.sort();
    println!("preview, page 1 at 1,200 px, {previews} runs: median {:.1} ms", ms(percentile(&times, 0.5)));
}
