//! Helpers for the benchmarks (tests/benches/sync.rs, tests/benches/app.rs): their command
//! line and settings, a seeded hub cached on disk between runs, a hub served in process, a
//! replica bootstrapped from it, the replica as a measured child process, and the few
//! statistics the report needs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use yizhan_hub::{Hub, HubConfig};
use yizhan_sync::client::{CancellationToken, ClientOptions, SyncClient};
use yizhan_sync::replica::{Replica, ReplicaReader};
use yizhan_sync::status::SyncStatus;

use time::OffsetDateTime;
use yizhan_core::clock::Clock;
use yizhan_hub::alerts::AlertDesk;

use crate::counter::COUNTER_KEY;
use crate::hub::DEMO_TODAY;
use yizhan_core::access::DataScope;
use yizhan_sync::protocol::device::{EnrolmentRequest, NewDevice};

/// 10:00 in Shanghai on [`DEMO_TODAY`]: the instant every replica and alert desk of the
/// benchmarks stands at, so the workload is the same whatever the calendar says.
pub const DEMO_NOW: OffsetDateTime = time::macros::datetime!(2026-11-24 02:00 UTC);

/// A clock stopped at [`DEMO_NOW`].
pub fn demo_clock() -> Clock {
    Clock::from_fn(|| DEMO_NOW)
}

/// [`DEMO_NOW`] as the replica worker takes it (`YIZHAN_FIXED_NOW`).
pub fn demo_now_text() -> String {
    DEMO_NOW.format(&time::format_description::well_known::Rfc3339).expect("an RFC 3339 instant")
}

/// A benchmark's command line. `cargo bench` passes `--bench`; without it (`cargo test
/// --benches`, or the binary run by hand) a benchmark runs in smoke mode: small sizes,
/// once, to check that it works, not to measure.
#[derive(Debug, Default)]
pub struct BenchArgs {
    pub measuring: bool,
    /// `--markdown PATH` (or `YIZHAN_BENCH_MARKDOWN`): append the results there as a table.
    pub markdown: Option<PathBuf>,
    /// The other words: which scenarios to run (substring match).
    pub filters: Vec<String>,
}

impl BenchArgs {
    pub fn parse() -> BenchArgs {
        let mut parsed = BenchArgs {
            markdown: std::env::var_os("YIZHAN_BENCH_MARKDOWN").map(PathBuf::from),
            ..BenchArgs::default()
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            if arg == "--bench" {
                parsed.measuring = true;
            } else if arg == "--markdown" {
                parsed.markdown =
                    Some(PathBuf::from(args.next().expect("--markdown needs a file")));
            } else if let Some(path) = arg.strip_prefix("--markdown=") {
                parsed.markdown = Some(PathBuf::from(path));
            } else if !arg.starts_with('-') {
                parsed.filters.push(arg);
            }
            // Anything else is ignored.
        }
        if !parsed.measuring {
            println!(
                "smoke mode: small sizes, one run (pass --bench, as `cargo bench` does, to measure)"
            );
        }
        parsed
    }

    /// `measured` when measuring, else `smoke`.
    pub fn size<T>(&self, measured: T, smoke: T) -> T {
        if self.measuring { measured } else { smoke }
    }
}

/// A numeric setting from the environment (`_` and `,` allowed as digit separators).
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .replace(['_', ','], "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a number")),
        Err(_) => default,
    }
}

/// How many CPUs this process may use.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

/// The benchmarks' tokio runtime: two workers, as the machine has two cores.
pub fn bench_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Prints what a benchmark is about to run (`what`), on how many CPUs and at what load;
/// returns that load average for [`finish_report`].
pub fn announce(bench: &str, what: &str) -> String {
    let load = load_average();
    println!(
        "yizhan {bench} benchmark: {what}; {} CPUs, load average {load}",
        cpus()
    );
    load
}

/// Prints the load average at the end of a benchmark and, when `markdown` names a file,
/// appends the report there under a heading: `what` ran, on how many CPUs, at what load.
pub fn finish_report(report: &Report, markdown: Option<&Path>, what: &str, load_before: &str) {
    let load_after = load_average();
    println!("\nload average at the end: {load_after}");
    if let Some(path) = markdown {
        let heading = format!(
            "{what}; {} CPUs; load average {load_before} at the start, {load_after} at the end.",
            cpus()
        );
        report.append_markdown(path, &heading);
    }
}

/// Where the benchmarks keep their seeded hubs and scratch files: `target/bench-sync/`
/// (beside the profile directory the bench runs from), or `YIZHAN_BENCH_DIR`.
pub fn bench_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("YIZHAN_BENCH_DIR") {
        return PathBuf::from(dir);
    }
    // target/<profile>/deps/<bench executable>
    let exe = std::env::current_exe().expect("bench executable path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the bench runs from target/<profile>/deps");
    target.join("bench-sync")
}

/// A scratch directory under [`bench_dir`] (on disk, as a counter's replica is), removed
/// when dropped.
pub fn scratch_dir() -> tempfile::TempDir {
    let dir = bench_dir().join("scratch");
    std::fs::create_dir_all(&dir).expect("create the bench scratch directory");
    tempfile::TempDir::new_in(dir).expect("a scratch directory")
}

/// The file of a hub seeded with `projects` demo projects from `seed`, as of
/// [`DEMO_TODAY`]. Seeds it on first use (about 7 minutes for a million projects on the
/// 2-core machine) and reuses it afterwards. Delete `target/bench-sync/hubs/` after
/// changing the demo generator or the hub's schema.
pub async fn cached_hub(projects: usize, seed: u64) -> PathBuf {
    let dir = bench_dir().join("hubs");
    std::fs::create_dir_all(&dir).expect("create the hub cache directory");
    let name = format!("hub-{projects}p-seed{seed}-{DEMO_TODAY}.sqlite3");
    let path = dir.join(&name);
    if path.exists() {
        return path;
    }
    // Seeded under another name and renamed when complete: an interrupted seed is never
    // mistaken for a cached hub.
    let partial = dir.join(format!("{name}.partial"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(&partial, suffix));
    }
    eprintln!(
        "seeding a hub with {projects} projects (seed {seed}) into {} — once; about 7 min per million here",
        path.display()
    );
    let start = Instant::now();
    let hub = tokio::task::block_in_place(|| Hub::open(HubConfig::new(&partial)))
        .expect("open the hub to seed");
    let summary = yizhan_hub::demo::seed_on(&hub, projects, seed, DEMO_TODAY)
        .await
        .expect("seed demo projects");
    // Closing the last connection checkpoints the WAL into the file.
    drop(hub);
    eprintln!(
        "seeded {} projects, head {}, in {:.0} s",
        summary.projects,
        summary.head,
        start.elapsed().as_secs_f64()
    );
    for suffix in ["-wal", "-shm"] {
        let from = with_suffix(&partial, suffix);
        if from.exists() {
            std::fs::rename(&from, with_suffix(&path, suffix)).expect("keep the seeded hub's WAL");
        }
    }
    std::fs::rename(&partial, &path).expect("keep the seeded hub");
    path
}

/// A replica at `path` bootstrapped from `hub` and caught up with it, as a counter's is
/// after its first start (enrolled first). Returns how long that took.
pub async fn bootstrap_replica(path: &Path, hub: &ServedHub) -> Duration {
    let client = hub.client(path, demo_clock(), ClientOptions::default()).await;
    let start = Instant::now();
    client
        .catch_up(&CancellationToken::new())
        .await
        .expect("bootstrap the replica");
    start.elapsed()
}

/// A copy of an SQLite file (and its WAL, if any) in `dir`, for a scenario that writes.
/// Synced to disk: otherwise SQLite's first checkpoint, which syncs the file, would pay
/// for writing out the whole copy in the middle of a measurement.
pub fn copy_db(from: &Path, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    let copy = |from: &Path, to: &Path| {
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
        std::fs::File::open(to)
            .and_then(|f| f.sync_all())
            .unwrap_or_else(|e| panic!("sync {}: {e}", to.display()));
    };
    copy(from, &to);
    let wal = with_suffix(from, "-wal");
    if wal.exists() {
        copy(&wal, &with_suffix(&to, "-wal"));
    }
    to
}

pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

pub fn file_size(path: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .map(|s| std::fs::metadata(with_suffix(path, s)).map_or(0, |m| m.len()))
        .sum()
}

/// A hub over an existing database file, serving on a free loopback port in this process.
pub struct ServedHub {
    pub url: String,
    pub hub: Hub,
    stop: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

impl ServedHub {
    /// A sync client for the PC whose replica is at `path`, living by `clock`: enrolled here
    /// with the suites' key at first use, as its first-run screen does.
    pub async fn client(&self, path: &Path, clock: Clock, options: ClientOptions) -> SyncClient {
        self.enrol_replica(path).await;
        let options = ClientOptions { counter_key: Some(COUNTER_KEY.clone()), ..options };
        SyncClient::new(Replica::open_with_clock(path, clock).expect("open the replica"), &self.url.parse().expect("a hub on loopback"), options).expect("sync client")
    }

    /// Enrols the PC whose replica is at `path` here, unless it is enrolled already (a
    /// copy of an enrolled replica is the same PC).
    pub async fn enrol_replica(&self, path: &Path) {
        let mut replica = Replica::open(path).expect("open the replica");
        if replica.enrolment().expect("read the enrolment").is_some() {
            return;
        }
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_nanos();
        let new = NewDevice { device_id: format!("bench-{nanos:x}").parse().expect("a device id"), name: "基准测试窗口".into(), scope: DataScope::All };
        let by = yizhan_hub::audit::Actor { user: "bench".into(), ..Default::default() };
        let code = self.hub.new_device(&by, new).await.expect("an enrolment code").code;
        let request = EnrolmentRequest { code, public_key: COUNTER_KEY.public_key().to_hex() };
        let enrolment = self.hub.enrol(request, "127.0.0.1").await.expect("the PC enrols");
        replica.enrol(&enrolment).expect("record the enrolment");
    }

    pub async fn start(db: &Path) -> ServedHub {
        let hub = tokio::task::block_in_place(|| Hub::open(HubConfig::new(db)))
            .expect("open the hub's store");
        ServedHub::serve(hub).await
    }

    /// A hub that also evaluates alerts on [`demo_clock`], as `yizhan-hub serve` does: its
    /// first tick is a pass over every project.
    pub async fn start_with_alerts(db: &Path) -> ServedHub {
        let hub = tokio::task::block_in_place(|| Hub::open(HubConfig::new(db)))
            .expect("open the hub's store")
            .with_alert_desk(AlertDesk::new(None, demo_clock(), Duration::from_secs(30)));
        ServedHub::serve(hub).await
    }

    async fn serve(hub: Hub) -> ServedHub {
        // The benchmarks post department records through the demo ingest routes.
        let hub = hub.with_demo_ingest();
        crate::hub::seed_accounts(&hub).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("bound address"));
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(yizhan_hub::serve_until(listener, None, hub.clone(), async {
            let _ = stopped.await;
        }));
        ServedHub {
            url,
            hub,
            stop,
            server,
        }
    }

    pub async fn head(&self) -> u64 {
        self.hub.store().head().await.expect("hub head")
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.expect("hub task").expect("hub served");
    }
}

/// What one run of a child process cost.
#[derive(Debug, Clone)]
pub struct ProcessRun {
    pub wall: Duration,
    /// Peak resident set (`ru_maxrss` through `/usr/bin/time`, else `VmHWM` polled).
    pub peak_rss_kib: u64,
    /// User and system CPU seconds, when `/usr/bin/time` is there to tell.
    pub cpu: Option<(f64, f64)>,
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

const GNU_TIME: &str = "/usr/bin/time";

/// Runs `bin args…` to its end with stdout and stderr in files under `dir`, measuring its
/// wall time and peak RSS; a replica worker among them runs on [`DEMO_NOW`]. Blocking.
pub fn measure_process(bin: &Path, args: &[&std::ffi::OsStr], dir: &Path) -> ProcessRun {
    let stdout_path = dir.join("child.out");
    let stderr_path = dir.join("child.err");
    let time_path = dir.join("child.time");
    let gnu_time = Path::new(GNU_TIME).exists();
    let mut cmd = if gnu_time {
        let mut cmd = Command::new(GNU_TIME);
        cmd.args(["-f", "%M %U %S", "-o"]).arg(&time_path).arg(bin);
        cmd
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .env("YIZHAN_FIXED_NOW", demo_now_text())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("child stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("child stderr file"));
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let mut polled_kib = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("child status") {
            break status;
        }
        if !gnu_time {
            polled_kib = polled_kib.max(vm_hwm_kib(child.id()).unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = start.elapsed();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let (peak_rss_kib, cpu) = if gnu_time {
        let text = std::fs::read_to_string(&time_path).unwrap_or_default();
        // The last line: earlier ones say how the command ended when it failed.
        let fields: Vec<&str> = text
            .lines()
            .last()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let rss = fields.first().and_then(|f| f.parse().ok()).unwrap_or(0);
        let user = fields.get(1).and_then(|f| f.parse().ok());
        let sys = fields.get(2).and_then(|f| f.parse().ok());
        (rss, user.zip(sys))
    } else {
        (polled_kib, None)
    };
    ProcessRun {
        wall,
        peak_rss_kib,
        cpu,
        success: status.success(),
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr,
    }
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The `SyncStatus` lines a `yizhan-replica` process printed.
pub fn statuses(stdout: &str) -> Vec<SyncStatus> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// CPU time (user + system) this process has used so far, all threads: what the
/// in-process hub costs while a child replica loads from it.
pub fn own_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th
    // fields, in clock ticks (100 per second on Linux).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

/// The 1-, 5- and 15-minute load averages, as `/proc/loadavg` says them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Every project code a replica holds.
pub fn project_codes(replica: &Path) -> Vec<yizhan_core::code::ProjectCode> {
    let reader = ReplicaReader::open(replica).expect("open the replica for reading");
    let mut codes = Vec::new();
    reader
        .for_each_row(|row| {
            if row.entity == yizhan_core::entity::EntityKind::Project {
                codes.push(row.key.parse().expect("a project row is keyed by its code"));
            }
        })
        .expect("read the replica's rows");
    codes
}

/// A small deterministic generator (SplitMix64): enough to pick projects and amounts.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), bias negligible for the sizes used here.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// Nearest-rank percentile of sorted samples, `p` in 0..=100.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    assert!(!sorted.is_empty(), "no samples");
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of a few numbers (the lower middle one for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[(sorted.len() - 1) / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A number with thousands separators, for rates and counts.
pub fn thousands(n: f64) -> String {
    let whole = n.round() as i64;
    let digits = whole.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if whole < 0 { format!("-{out}") } else { out }
}

/// One line of the report: a measured figure, and its target when it has one.
#[derive(Debug, Clone)]
pub struct Finding {
    pub scenario: String,
    pub metric: String,
    pub value: String,
    pub target: String,
    /// `Some(true)` met, `Some(false)` missed, `None` no target.
    pub met: Option<bool>,
    pub note: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn add(
        &mut self,
        scenario: &str,
        metric: &str,
        value: String,
        target: Option<(&str, bool)>,
        note: impl Into<String>,
    ) {
        let finding = Finding {
            scenario: scenario.to_owned(),
            metric: metric.to_owned(),
            value,
            target: target.map_or_else(|| "—".to_owned(), |(t, _)| t.to_owned()),
            met: target.map(|(_, met)| met),
            note: note.into(),
        };
        println!(
            "  {:<44} {:>16}   target {:<14} {}{}",
            finding.metric,
            finding.value,
            finding.target,
            verdict(finding.met),
            if finding.note.is_empty() {
                String::new()
            } else {
                format!("   ({})", finding.note)
            }
        );
        self.findings.push(finding);
    }

    /// Appends [`Report::markdown`] to the file at `path`.
    pub fn append_markdown(&self, path: &Path, heading: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        std::io::Write::write_all(
            &mut file,
            format!("{}\n", self.markdown(heading)).as_bytes(),
        )
        .expect("write the markdown report");
        println!("markdown table appended to {}", path.display());
    }

    pub fn markdown(&self, heading: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{heading}\n");
        let _ = writeln!(
            out,
            "| scenario | metric | result | target | verdict | notes |"
        );
        let _ = writeln!(out, "|---|---|---:|---|---|---|");
        for f in &self.findings {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                f.scenario,
                f.metric,
                f.value,
                f.target,
                verdict(f.met),
                f.note
            );
        }
        out
    }
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "",
    }
}
