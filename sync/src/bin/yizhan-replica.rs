//! `yizhan-replica --db PATH --hub URL [--once]`: the counter's sync client without the
//! app, for operators' diagnostics and the crash tests.

fn main() -> std::process::ExitCode {
    yizhan_sync::cli::main()
}
