//! The counter's sync client as a separate process (`yizhan-replica`'s code, built as this
//! package's `yizhan-replica-worker`), to kill without warning and to measure.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use yizhan_sync::status::SyncStatus;

pub struct Worker {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Worker {
    /// Starts `bin --db db --hub hub_url args…`; its status lines go to a file in `log_dir`.
    pub fn spawn(bin: &str, db: &Path, hub_url: &str, args: &[&str], log_dir: &Path) -> Worker {
        let mut all = vec!["--hub", hub_url];
        all.extend_from_slice(args);
        Worker::spawn_bare(bin, db, &all, log_dir)
    }

    /// Starts `bin --db db args…`; what it prints goes to files in `log_dir`.
    pub fn spawn_bare(bin: &str, db: &Path, args: &[&str], log_dir: &Path) -> Worker {
        let stdout = log_dir.join("worker.out");
        let stderr = log_dir.join("worker.err");
        let child = Command::new(bin)
            .arg("--db")
            .arg(db)
            .args(args)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).expect("worker stdout file"))
            .stderr(File::create(&stderr).expect("worker stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        Worker { child, stdout, stderr }
    }

    /// SIGKILL: no chance to tidy up, as in a power cut.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The exit status once the process has ended by itself.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("worker status")
    }

    /// Waits for the process to end by itself; fails the test (and kills it) after `within`.
    pub fn wait(&mut self, within: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            if start.elapsed() > within {
                self.kill();
                panic!(
                    "the worker did not finish within {within:?}; stderr: {}",
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for a successful exit, failing with what the worker said otherwise.
    pub fn finish(&mut self, within: Duration) {
        let status = self.wait(within);
        assert!(status.success(), "the worker failed ({status}): {}", self.stderr_text());
    }

    /// Peak resident memory so far (`VmHWM`), in KiB; `None` once the process has gone.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Every status line the worker printed so far.
    pub fn statuses(&self) -> Vec<SyncStatus> {
        let text = std::fs::read_to_string(&self.stdout).unwrap_or_default();
        // The last line may be half written when the process is still running or was killed.
        text.lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    pub fn stdout_text(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// The WAL file beside an SQLite database.
pub fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Frames in the WAL after its last commit frame: pages of a transaction that was still
/// being written when the process died. Read before anything opens the database again,
/// since recovery discards them.
pub fn uncommitted_wal_frames(db: &Path) -> u64 {
    let Ok(wal) = std::fs::read(wal_path(db)) else { return 0 };
    if wal.len() < 32 {
        return 0;
    }
    let be32 = |at: usize| u32::from_be_bytes(wal[at..at + 4].try_into().expect("4 bytes"));
    let page_size = be32(8) as usize;
    let salts = (be32(16), be32(20));
    let (mut frames, mut committed) = (0, 0);
    let mut at = 32;
    // Frames of this WAL generation carry its salts; anything after them is stale.
    while at + 24 + page_size <= wal.len() && (be32(at + 8), be32(at + 12)) == salts {
        frames += 1;
        if be32(at + 4) != 0 {
            committed = frames;
        }
        at += 24 + page_size;
    }
    frames - committed
}
