//! The first start of a PC not enrolled yet: its screen asks for the hub's address, the
//! hub's CA certificate and the system administrator's one-time code; the PC makes its key,
//! enrols, keeps where it enrolled and starts syncing, without a restart.

use serde::Serialize;
use specta::Type;
use tauri::{AppHandle, Runtime, State};
use yizhan_sync::client::{HubLink, SyncError};
use yizhan_sync::protocol::tls::{ca_certificate, fingerprint};
use yizhan_sync::replica::Replica;
use yizhan_voucher::signature::CounterKey;

use crate::error::{CommandError, ErrorCode};
use crate::{Counter, Settings};

type Start = dyn Fn(&Settings, Replica, HubLink, CounterKey) -> Result<(), String> + Send + Sync;

/// Whether this PC is enrolled, and how it starts syncing once it is: kept in the app's
/// state from the start.
pub struct FirstRun {
    settings: Settings,
    /// Also one enrolment at a time: a second click waits, then finds the PC enrolled.
    enrolled: tokio::sync::Mutex<bool>,
    /// Syncs the enrolled replica and puts the counter in the app's state.
    start: Box<Start>,
}

impl FirstRun {
    pub fn new<R: Runtime>(settings: Settings, enrolled: bool, app: AppHandle<R>) -> FirstRun {
        let start = move |settings: &Settings, replica: Replica, hub: HubLink, key: CounterKey| {
            let counter = Counter::run(settings, replica, hub, Ok(key), app.clone()).map_err(|e| e.to_string())?;
            crate::manage(&app, counter);
            Ok(())
        };
        FirstRun { settings, enrolled: tokio::sync::Mutex::new(enrolled), start: Box::new(start) }
    }
}

/// Which screens the window shows.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum CounterStage {
    /// Not enrolled: the first-run screen, the installer's hub address offered.
    FirstRun { hub_url: String },
    /// Enrolled: signing in, then the work.
    Ready,
}

/// The PC as the hub enrolled it.
#[derive(Debug, Clone, Serialize, Type)]
pub struct EnrolledCounter {
    pub device_id: String,
    pub name: String,
}

#[tauri::command]
#[specta::specta]
pub async fn counter_stage(first_run: State<'_, FirstRun>) -> Result<CounterStage, CommandError> {
    Ok(if *first_run.enrolled.lock().await {
        CounterStage::Ready
    } else {
        CounterStage::FirstRun { hub_url: first_run.settings.hub_url.clone() }
    })
}

/// The SHA-256 fingerprint of a CA certificate (PEM), for the person enrolling the PC to
/// compare with the one the hub's administrator printed.
#[tauri::command]
#[specta::specta]
pub fn inspect_hub_ca(pem: String) -> Result<String, CommandError> {
    let certificate = ca_certificate(pem.as_bytes()).map_err(|e| CommandError::invalid("hub_ca", e.to_string()))?;
    Ok(fingerprint(&certificate))
}

/// Enrols this PC at the hub at `hub_url` (trusted through `hub_ca`, the CA certificate as
/// PEM text) with the administrator's one-time `code`, then starts syncing.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(first_run, hub_ca, code))]
pub async fn enrol_counter(
    first_run: State<'_, FirstRun>,
    hub_url: String,
    hub_ca: Option<String>,
    code: String,
) -> Result<EnrolledCounter, CommandError> {
    let mut enrolled = first_run.enrolled.lock().await;
    if *enrolled {
        return Err(CommandError::new(ErrorCode::Refused("already_enrolled".into()), "本终端已登记。"));
    }
    let ca = hub_ca.as_deref().map(str::trim).filter(|pem| !pem.is_empty());
    let hub = HubLink::new(&hub_url, ca.map(str::as_bytes)).map_err(|e| CommandError::invalid(e.field(), e.to_string()))?;
    let code = code.trim();
    if code.is_empty() {
        return Err(CommandError::invalid("code", "请输入系统管理员给出的登记码。"));
    }
    let key = crate::keys::load_or_create().map_err(|problem| CommandError::new(ErrorCode::SigningUnavailable, problem))?;
    let settings = &first_run.settings;
    let mut replica = Replica::open(settings.replica_path())?;
    let enrolment = crate::counter::enrol(&mut replica, &hub, code, &key).await.map_err(refusal)?;
    *enrolled = true;
    (first_run.start)(settings, replica, hub, key)
        .map_err(|e| CommandError::new(ErrorCode::Internal, format!("本终端已登记，但同步未能启动：{e}。请重启程序。")))?;
    Ok(EnrolledCounter { device_id: enrolment.device_id.to_string(), name: enrolment.name })
}

/// The hub's refusal, or the network's failure, on the field the person can put right: a
/// hub that cannot be reached (or presents a certificate its CA did not issue) is about
/// the address and the certificate, anything the hub refused is about the code.
fn refusal(error: SyncError) -> CommandError {
    let field = match &error {
        SyncError::Network { .. } => Some("hub_url"),
        SyncError::Hub { .. } => Some("code"),
        _ => None,
    };
    let mut refused = CommandError::from(error);
    if refused.field.is_none() {
        refused.field = field.map(str::to_owned);
    }
    refused
}
