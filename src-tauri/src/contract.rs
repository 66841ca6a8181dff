//! The contract between this shell and the screens: every command with its arguments and
//! result, every event with its payload and the limits the screens check before sending.
//! `ui/src/bindings.ts` is generated from it (`tests/contract.rs` fails when the file is
//! stale), so a Rust type that changes shape breaks the UI's type check, not a counter.

use serde::Serialize;
use specta::Type;
use specta_typescript::Typescript;
use tauri::{AppHandle, Emitter, Runtime};
use tauri_specta::{Builder, ErrorHandlingMode, Event, collect_commands, collect_events};
use yizhan_core::alert::handling::MAX_ALERT_NOTES;
use yizhan_core::alert::queue::MAX_ALERT_PAGE;
use yizhan_core::alert::rules::OWNER_ROLES;
use yizhan_core::command::{MAX_NOTE_CHARS, MAX_PERMIT_CHARS, MAX_REMARK_CHARS, MAX_VOID_REASON_CHARS};
use yizhan_core::audit::AuditEvent;
use yizhan_core::document::DocumentKind;
use yizhan_core::id::MAX_ID_CHARS;
use yizhan_sync::protocol::{AUDIT_PAGE, ImportReport, MAX_DISMISS_REASON_CHARS, QUARANTINE_PAGE};
use yizhan_sync::replica::{MAX_PAGE, MAX_TREND_DAYS};
use yizhan_sync::status::{ReplicaChanged, SyncStatus};
use yizhan_voucher::qr::MAX_QR_CHARS;

use crate::admin::ImportProgress;
use crate::{accounts, admin, alerts, audit, devices, documents, first_run, projects, session};
use yizhan_core::access::Permission;
use yizhan_core::account::POLICY_BOUNDS;

/// Where the generated TypeScript is kept, from this crate's directory.
pub const BINDINGS: &str = "../ui/src/bindings.ts";

/// The sync client's state, whenever it changes.
#[derive(Debug, Clone, Serialize, Type, Event)]
#[tauri_specta(event_name = "sync-status")]
pub struct SyncStatusChanged(pub SyncStatus);

/// Rows of the replica changed; no project codes means "refresh everything".
#[derive(Debug, Clone, Serialize, Type, Event)]
#[tauri_specta(event_name = "replica-changed")]
pub struct ReplicaChangedEvent(pub ReplicaChanged);

/// Sends `event` under the name the generated bindings listen on.
pub fn emit<R: Runtime, E: Event + Serialize + Clone>(app: &AppHandle<R>, event: E) {
    if let Err(error) = app.emit(E::NAME, event) {
        tracing::warn!(%error, event = E::NAME, "event not delivered to the screens");
    }
}

/// The commands, events, types and limits the screens are built against.
pub fn specta<R: Runtime>() -> Builder<R> {
    Builder::<R>::new()
        .commands(collect_commands![
            first_run::counter_stage,
            first_run::inspect_hub_ca,
            first_run::enrol_counter,
            devices::list_devices,
            devices::new_device,
            devices::revoke_device,
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
            audit::search_audit,
            audit::export_audit,
            admin::list_quarantine,
            admin::reprocess_quarantined,
            admin::dismiss_quarantined,
            alerts::list_alerts,
            alerts::alert_trend,
            alerts::handle_alert,
            alerts::alert_assignees,
            documents::issue_document,
            documents::void_document,
            documents::reprint_document,
            documents::link_permit,
            documents::document_preview,
            documents::list_printers,
            documents::print_documents,
            documents::verify_document,
            documents::signing_status,
            session::sign_in,
            session::sign_out,
            session::current_person,
            session::lock_screen,
            session::unlock,
            session::change_password,
            session::begin_second_factor,
            session::confirm_second_factor,
            accounts::list_users,
            accounts::create_user,
            accounts::set_user_status,
            accounts::reset_password,
            accounts::unlock_user,
            accounts::grant_role,
            accounts::revoke_role,
            accounts::list_roles,
            accounts::put_role,
            accounts::security_policy,
            accounts::set_security_policy,
            accounts::list_sessions,
            accounts::end_session,
        ])
        .events(collect_events![SyncStatusChanged, ReplicaChangedEvent, ImportProgress])
        // `import_planning_file` takes the file as a raw body, which the generator cannot
        // describe: its answer is exported here and its call is written in ui/src/api.ts.
        .typ::<ImportReport>()
        .constant("MAX_NOTE_CHARS", MAX_NOTE_CHARS)
        .constant("MAX_REMARK_CHARS", MAX_REMARK_CHARS)
        .constant("MAX_VOID_REASON_CHARS", MAX_VOID_REASON_CHARS)
        .constant("MAX_PERMIT_CHARS", MAX_PERMIT_CHARS)
        .constant("MAX_RESOLVE_REASON_CHARS", MAX_REMARK_CHARS)
        .constant("MAX_ASSIGNEE_CHARS", MAX_ID_CHARS)
        .constant("MAX_ALERT_NOTES", MAX_ALERT_NOTES)
        .constant("MAX_ALERT_PAGE", MAX_ALERT_PAGE)
        .constant("MAX_PROJECT_PAGE", MAX_PAGE)
        .constant("MAX_TREND_DAYS", MAX_TREND_DAYS)
        .constant("MAX_QR_CHARS", MAX_QR_CHARS)
        .constant("QUARANTINE_PAGE", QUARANTINE_PAGE)
        .constant("AUDIT_PAGE", AUDIT_PAGE)
        .constant("MAX_DISMISS_REASON_CHARS", MAX_DISMISS_REASON_CHARS)
        .constant("OWNER_ROLES", OWNER_ROLES)
        .constant("DOCUMENT_KINDS", DocumentKind::ALL)
        .constant("AUDIT_EVENTS", AuditEvent::ALL)
        // The role form groups the permissions by duty, and the policy form checks the
        // hub's bounds before sending.
        .constant("PERMISSION_DUTIES", Permission::ALL.map(|p| (p, p.duty())))
        .constant("POLICY_BOUNDS", POLICY_BOUNDS)
        // A failed command rejects its promise with the `CommandError`, as `invoke` does.
        .error_handling(ErrorHandlingMode::Throw)
        // Counts, sequence numbers and fen stay far below 2^53, where a JS number is exact.
        .dangerously_cast_bigints_to_number()
}

/// Writes the bindings to `path`.
pub fn export(path: &std::path::Path) -> Result<(), String> {
    specta::<tauri::Wry>()
        .export(Typescript::default().header("// Generated from the Rust types by src-tauri/src/contract.rs. Do not edit.\n// Regenerate: UPDATE_BINDINGS=1 cargo test -p yizhan --test contract"), path)
        .map_err(|e| e.to_string())
}
