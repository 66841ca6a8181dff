//! The built desktop app under WebDriver (feature `app-e2e`): tauri-driver started with the
//! app's settings in its environment, a W3C session that launches the app, and the few
//! waits and reads the end-to-end suite and the app benchmark share. Needs a display
//! (xvfb-run) and a session bus (dbus-run-session) around the test or bench.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::{ChildGuard, artifacts_dir, free_port, target_bin, wait_until};

/// The first row of the project list: the list is populated once it is there.
pub const PROJECT_ROW: &str = "[data-testid=project-row]";

/// tauri-driver (and, below it, WebKitWebDriver, the app and WebKit's helper processes),
/// killed as a process group when dropped.
pub struct Driver {
    process: ChildGuard,
    port: u16,
}

impl Driver {
    /// Starts tauri-driver on a free port. The app it launches inherits `YIZHAN_HUB_URL`,
    /// `YIZHAN_DATA_DIR` and, for a PC not enrolled yet, `YIZHAN_ENROLMENT_CODE` from it.
    /// Its output (and so the app's log) goes to `log` when given, else to this process's
    /// own.
    pub fn start(hub_url: &str, data_dir: &Path, enrolment_code: Option<&str>, log: Option<&Path>) -> Driver {
        let port = free_port();
        let native_port = free_port();
        let webview_data = data_dir.join("webview");
        std::fs::create_dir_all(&webview_data).unwrap_or_else(|e| panic!("create {}: {e}", webview_data.display()));
        let mut cmd = Command::new("tauri-driver");
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .env("YIZHAN_HUB_URL", hub_url)
        .env("YIZHAN_DATA_DIR", data_dir)
        .env("YIZHAN_ENROLMENT_CODE", enrolment_code.unwrap_or_default())
        // The webview's own storage (the language chosen, remembered per PC) is the run's,
        // as on a newly installed counter: a run that ended in English does not start the
        // next one in English.
        .env("XDG_DATA_HOME", &webview_data)
        .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
        if let Some(log) = log {
            let file = std::fs::File::create(log)
                .unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
            let copy = file.try_clone().expect("duplicate the log file handle");
            cmd.stdout(Stdio::from(file)).stderr(Stdio::from(copy));
        }
        let process = ChildGuard::spawn(
            cmd,
            "tauri-driver (cargo install tauri-driver; scripts/deps.sh --test)",
        );
        wait_until(Duration::from_secs(20), "tauri-driver to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Driver { process, port }
    }

    /// tauri-driver's process id: the app runs below it (tauri-driver → WebKitWebDriver → app).
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// A new WebDriver session, which launches `app`. Returns once WebKitWebDriver has
    /// connected to it.
    pub async fn open_app(&self, app: &Path) -> Client {
        let caps = json!({
            "browserName": "wry",
            "tauri:options": { "application": app },
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        // The first session on a fresh machine can fail before the app is up (seen once
        // in a clean CI run: the driver closed the connection); a second try finds it warm.
        let mut attempts = 0;
        loop {
            attempts += 1;
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await
            {
                Ok(client) => return client,
                Err(error) if attempts < 3 => {
                    eprintln!("WebDriver session with the app failed ({error}); trying again");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                Err(error) => panic!("WebDriver session with the app: {error}"),
            }
        }
    }
}

/// The built app (`yizhan`) beside the running test or bench, in the same profile
/// directory, failing with the command that builds it when it is missing.
pub fn app_binary() -> PathBuf {
    let app = target_bin("yizhan");
    if !app.exists() {
        let release = app
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|d| d == "release");
        panic!(
            "the app binary {} is missing: build it with `cargo build{} -p yizhan --features yizhan/custom-protocol` \
             (after `npm run build` in ui/, which it embeds)",
            app.display(),
            if release { " --release" } else { "" }
        );
    }
    app
}

/// A PNG of the window in `artifacts/<kind>/<name>`.
pub async fn screenshot(client: &Client, kind: &str, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    let path = artifacts_dir(kind).join(name);
    std::fs::write(&path, png).expect("write screenshot");
    eprintln!("screenshot: {}", path.display());
}

/// The element at `css`, polled for every `every` until `within`, failing the caller with
/// the selector otherwise.
pub async fn wait_for_every(
    client: &Client,
    css: &str,
    within: Duration,
    every: Duration,
) -> Element {
    client
        .wait()
        .at_most(within)
        .every(every)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear within {within:?}: {e}"))
}

/// [`wait_for_every`] at fantoccini's default polling period (250 ms).
pub async fn wait_for(client: &Client, css: &str, within: Duration) -> Element {
    wait_for_every(client, css, within, Duration::from_millis(250)).await
}

/// Waits for the element at `css`, scrolls it to the middle of its scrolling box (a long
/// panel can hold it below the fold, where WebKit will not click it) and clicks it. A click
/// the driver refuses (the element still covered by a closing dropdown or dialog, or
/// re-rendered between finding and clicking) is tried again until `within` has passed.
pub async fn click(client: &Client, css: &str, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let element = wait_for(client, css, within).await;
        let scrolled = client
            .execute("arguments[0].scrollIntoView({block: 'center'})", vec![serde_json::to_value(&element).expect("an element reference")])
            .await;
        let clicked = match scrolled {
            Ok(_) => element.click().await.map(|_| ()),
            Err(e) => Err(e),
        };
        match clicked {
            Ok(()) => return,
            Err(e) if tokio::time::Instant::now() >= deadline => panic!("cannot click {css}: {e:?}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Signs `account` in on the sign-in screen as a clerk does: the account (a badge scanner
/// types it and Enter, which moves on to the password), then the password and Enter; returns
/// once the toolbar shows who is signed in.
pub async fn sign_in(client: &Client, account: &str, password: &str) {
    let field = wait_for(client, "[data-testid=sign-in-account]", Duration::from_secs(60)).await;
    field.send_keys(&format!("{account}\u{E007}")).await.expect("type the account");
    let field = wait_for(client, "[data-testid=sign-in-password]", Duration::from_secs(5)).await;
    field.send_keys(&format!("{password}\u{E007}")).await.expect("type the password");
    wait_for(client, "[data-testid=person-chip]", Duration::from_secs(30)).await;
}

/// The attribute `name` of the first element at `css`, if both are there.
pub async fn attr(client: &Client, css: &str, name: &str) -> Option<String> {
    let el = client.find(Locator::Css(css)).await.ok()?;
    el.attr(name).await.ok().flatten()
}

/// The number the list shows as its total (`[data-testid=list-total]`).
pub async fn list_total(client: &Client) -> usize {
    let text = client
        .find(Locator::Css("[data-testid=list-total]"))
        .await
        .expect("the list total")
        .text()
        .await
        .expect("the list total's text");
    text.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("list total {text:?} is not a number"))
}
