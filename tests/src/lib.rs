//! Shared helpers for the cross-process suites in tests/tests.

pub mod bench;
pub mod counter;
pub mod front;
pub mod hub;
mod process;
pub mod proxy;
pub mod proc_tree;
pub mod replica;
pub mod worker;
#[cfg(feature = "app-e2e")]
pub mod webdriver;

pub use process::{ChildGuard, HubProcess, artifacts_dir, free_port, hub_process, target_bin, wait_until};
