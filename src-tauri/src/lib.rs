//! The counter app's shell: opens the replica, runs the sync client, and exposes the
//! replica's queries to the UI as Tauri commands and the client's news as events. No SQL
//! and no business rules live here (those are in `yizhan-sync` and `yizhan-core`).

mod admin;
mod alerts;
mod projects;
mod counter;
mod documents;
mod error;
mod keys;
mod settings;

use tauri::Manager;

pub use counter::Counter;
pub use settings::Settings;

/// Registers the commands on `base`; kept apart from `run` so the IPC wiring is testable
/// with the mock runtime.
pub fn builder<R: tauri::Runtime>(base: tauri::Builder<R>) -> tauri::Builder<R> {
    base.invoke_handler(tauri::generate_handler![
        projects::list_projects,
        projects::get_project,
        projects::sync_status,
        projects::districts,
        projects::record_final_check,
        projects::add_follow_up_note,
        projects::set_tracking,
        projects::list_conflicts,
        projects::discard_conflict,
        projects::redo_conflict,
        admin::list_connectors,
        admin::list_quarantine,
        admin::reprocess_quarantined,
        admin::dismiss_quarantined,
        admin::import_planning_file,
        alerts::list_alerts,
        alerts::alert_trend,
        alerts::handle_alert,
        documents::issue_document,
        documents::void_document,
        documents::reprint_document,
        documents::link_permit,
        documents::document_preview,
        documents::list_printers,
        documents::print_documents,
        documents::verify_document,
        documents::signing_status,
    ])
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
            let counter = Counter::start(&settings, app.handle().clone())?;
            app.manage(counter);
            app.manage(admin::Admin::new(&settings.hub_url, &settings.clerk)?);
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the counter app failed to start");
}
