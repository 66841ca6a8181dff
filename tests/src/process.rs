//! Real processes for the suites: the built binaries of the workspace, started on free
//! loopback ports and killed when the test is done (or fails).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process that is killed when dropped, so a failing test leaves nothing behind.
/// It leads its own process group, and the whole group is killed: tauri-driver starts
/// WebKitWebDriver, which starts the app and WebKit's helpers, and none may outlive it.
pub struct ChildGuard {
    child: Option<Child>,
}

impl ChildGuard {
    pub fn spawn(mut cmd: Command, what: &str) -> ChildGuard {
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        ChildGuard { child: Some(child) }
    }

    pub fn id(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// SIGKILL: the process gets no chance to tidy up, as in a power cut.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            #[cfg(unix)]
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free TCP port on 127.0.0.1 (the OS picks it; free again once the probe is dropped).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The directory cargo builds binaries into: the test executable lives in its `deps/`.
pub fn target_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target profile directory");
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// `artifacts/<kind>/` at the workspace root, for screenshots and reports a person reads.
pub fn artifacts_dir(kind: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../artifacts").join(kind);
    std::fs::create_dir_all(&dir).expect("create artifacts directory");
    dir
}

/// Polls `ready` until it holds, failing the test with `what` after `within`.
pub fn wait_until(within: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < within, "timed out after {within:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `yizhan-hub` binary serving a store at `db`, seeded with `demo` projects when new.
pub struct HubProcess {
    pub url: String,
    db: PathBuf,
    process: ChildGuard,
}

impl HubProcess {
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// The one-time code of a new PC `device_id`, made as the system administrator makes
    /// it on the hub server (`yizhan-hub device add`).
    pub fn enrolment_code(&self, device_id: &str) -> String {
        enrolment_code(&self.db, device_id)
    }
}

/// [`HubProcess::enrolment_code`] for the store at `db`.
pub fn enrolment_code(db: &Path, device_id: &str) -> String {
    let made = Command::new(target_bin("yizhan-hub"))
        .args(["device", "add", "--id", device_id, "--name", "测试窗口", "--by", "test", "--db"])
        .arg(db)
        .output()
        .expect("run yizhan-hub device add");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    String::from_utf8(made.stdout).expect("UTF-8").lines().last().expect("the code is printed last").trim().to_owned()
}

/// `extra` are further `serve` flags (a department feed, alert rules).
pub fn hub_process(db: &Path, demo: usize, extra: &[String]) -> HubProcess {
    let port = free_port();
    let bin = target_bin("yizhan-hub");
    assert!(bin.exists(), "the hub binary {} is missing: build it with `cargo build -p yizhan-hub`", bin.display());
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .arg("--db")
        .arg(db)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--demo", &demo.to_string()])
        .args(extra);
    let process = ChildGuard::spawn(cmd, "yizhan-hub");
    let url = format!("http://127.0.0.1:{port}");
    wait_until(Duration::from_secs(120), "the hub to answer /v1/health", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    HubProcess { url, db: db.to_owned(), process }
}
