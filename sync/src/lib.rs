//! yizhan-sync: the protocol the hub and the counters share, and (feature `replica`) the
//! counter's local SQLite replica and the client that keeps it in step with the hub.

pub mod integrity;
#[cfg(feature = "sqlite")]
pub mod migrate;
pub mod protocol;
pub mod sql;

#[cfg(feature = "replica")]
pub mod cli;
#[cfg(feature = "replica")]
pub mod client;
#[cfg(feature = "replica")]
pub mod replica;
#[cfg(feature = "replica")]
pub mod status;
