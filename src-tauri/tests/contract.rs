//! The checked-in TypeScript contract (`ui/src/bindings.ts`) is what the Rust types
//! generate now. A change to a command, an event or a type the screens read fails here
//! until the bindings are regenerated and the UI type-checks against them:
//! `UPDATE_BINDINGS=1 cargo test -p yizhan --test contract`.

use std::path::Path;

/// What the Rust types generate now.
fn generated() -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.ts");
    yizhan_app::contract::export(&path).expect("the contract exports");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_checked_in_bindings_are_what_the_rust_types_generate() {
    let checked_in = Path::new(env!("CARGO_MANIFEST_DIR")).join(yizhan_app::contract::BINDINGS);
    let generated = generated();

    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&checked_in, &generated).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&checked_in).unwrap_or_default();
    if current != generated {
        let line = current.lines().zip(generated.lines()).position(|(a, b)| a != b).map_or(
            current.lines().count().min(generated.lines().count()) + 1,
            |i| i + 1,
        );
        panic!(
            "ui/src/bindings.ts is stale from line {line}: the Rust types changed. Regenerate it with \
             `UPDATE_BINDINGS=1 cargo test -p yizhan --test contract` and make the UI type-check against it.\n\
             checked in: {:?}\ngenerated:  {:?}",
            current.lines().nth(line - 1).unwrap_or("<end of file>"),
            generated.lines().nth(line - 1).unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn every_command_the_shell_registers_is_in_the_contract() {
    let generated = generated();
    // Each command is invoked by its Rust name; the raw-body upload is the one written by hand.
    for command in ["list_projects", "get_project", "record_final_check", "handle_alert", "issue_document", "print_documents", "verify_document"] {
        assert!(generated.contains(&format!("\"{command}\"")), "{command} missing from the generated contract");
    }
    for event in ["sync-status", "replica-changed", "import-progress"] {
        assert!(generated.contains(&format!("\"{event}\"")), "event {event} missing from the generated contract");
    }
    assert!(generated.contains("export const MAX_NOTE_CHARS = 500"), "the shared limits are generated");
}
