// SCRATCH: temporary benchmark harness, to be deleted.
use std::io::BufReader;
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if std::env::var("PARSE").is_ok() { parse_only(&args[1]); return; }
    let db = std::path::Path::new(&args[2]);
    for s in ["", "-wal", "-shm"] { let _ = std::fs::remove_file(format!("{}{s}", db.display())); }
    let mut replica = yizhan_sync::replica::Replica::open(db).unwrap();
    let start = Instant::now();
    let reader = BufReader::with_capacity(1 << 16, std::fs::File::open(&args[1]).unwrap());
    let report = replica.bootstrap("http://x", reader, |_| {}).unwrap();
    let s = start.elapsed().as_secs_f64();
    eprintln!("{report:?} in {s:.2}s = {:.0} rows/s", report.rows as f64 / s);
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    eprintln!("{}", status.lines().find(|l| l.starts_with("VmHWM")).unwrap());
}
#[allow(dead_code)]
fn parse_only(path: &str) {
    use std::io::BufRead;
    let start = Instant::now();
    let mut r = BufReader::with_capacity(1 << 16, std::fs::File::open(path).unwrap());
    let mut line = Vec::new();
    let mut n = 0;
    loop { line.clear(); if r.read_until(b'\n', &mut line).unwrap() == 0 { break; }
      let v: &serde_json::value::RawValue = serde_json::from_slice(&line).unwrap(); std::hint::black_box(v); n += 1; }
    eprintln!("parse raw {n} lines {:?}", start.elapsed());
    let start = Instant::now();
    let mut r = BufReader::with_capacity(1 << 16, std::fs::File::open(path).unwrap());
    loop { line.clear(); if r.read_until(b'\n', &mut line).unwrap() == 0 { break; }
      let v: serde_json::Value = serde_json::from_slice(&line).unwrap(); std::hint::black_box(v); }
    eprintln!("parse Value {:?}", start.elapsed());
}
