//! The counter app's shell: opens the replica, runs the sync client, and exposes the
//! replica's queries to the UI as Tauri commands and the client's news as events. No SQL
//! and no business rules live here (those are in `yizhan-sync` and `yizhan-core`).

mod accounts;
mod admin;
mod alerts;
mod audit;
pub mod contract;
mod projects;
mod counter;
mod devices;
mod documents;
mod error;
mod first_run;
mod keys;
mod session;
mod settings;

use std::sync::Arc;

use tauri::Manager;
use tauri::ipc::Invoke;

pub use counter::Counter;
pub use first_run::FirstRun;
pub use settings::Settings;

/// Registers the commands on `base`; kept apart from `run` so the IPC wiring is testable
/// with the mock runtime.
pub fn builder<R: tauri::Runtime>(base: tauri::Builder<R>) -> tauri::Builder<R> {
    let typed = contract::specta::<R>().invoke_handler();
    // The one command the contract cannot describe (a raw body) is routed beside it.
    let raw: Box<dyn Fn(Invoke<R>) -> bool + Send + Sync> = Box::new(tauri::generate_handler![admin::import_planning_file]);
    base.invoke_handler(move |invoke: Invoke<R>| match invoke.message.command() {
        "import_planning_file" => raw(invoke),
        _ => typed(invoke),
    })
}

/// Puts the counter, the session of whoever signs in at it and the admin area's hub
/// client into the app's state, where the commands find them.
pub fn manage<R: tauri::Runtime>(app: &tauri::AppHandle<R>, counter: Counter) {
    let sign_ins = counter.sign_ins();
    app.manage(admin::Admin::new(Arc::clone(sign_ins.hub())));
    app.manage(session::Session::new(sign_ins));
    app.manage(counter);
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,yizhan=debug".into()),
        )
        .init();
    builder(tauri::Builder::default())
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            let settings = Settings::from_env(app.path().app_data_dir()?);
            let started = Counter::start(&settings, app.handle().clone())?;
            let enrolled = started.is_some();
            if let Some(counter) = started {
                manage(app.handle(), counter);
            }
            app.manage(first_run::FirstRun::new(settings, enrolled, app.handle().clone()));
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the counter app failed to start");
}
