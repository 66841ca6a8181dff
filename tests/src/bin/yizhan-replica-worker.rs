//! `yizhan-replica` under another name: the same code (`yizhan_sync::cli`), built by this
//! package so its tests can start it and kill it.

fn main() -> std::process::ExitCode {
    yizhan_sync::cli::main()
}
