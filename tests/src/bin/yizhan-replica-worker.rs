//! `yizhan-replica` under another name: the same code (`yizhan_sync::cli`), built by this
//! package so its tests can start it and kill it. With `YIZHAN_FIXED_NOW` (RFC 3339) it
//! runs on that instant instead of the system clock, as the benchmarks need.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yizhan_core::clock::Clock;

fn main() -> std::process::ExitCode {
    match std::env::var("YIZHAN_FIXED_NOW") {
        Ok(text) => {
            let now = OffsetDateTime::parse(&text, &Rfc3339).expect("YIZHAN_FIXED_NOW is an RFC 3339 instant");
            yizhan_sync::cli::main_on(Clock::from_fn(move || now))
        }
        Err(_) => yizhan_sync::cli::main(),
    }
}
