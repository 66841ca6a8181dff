//! yizhan-sync: the protocol the hub and the counters share, and (feature `replica`) the
//! counter's local SQLite replica and the client that keeps it in step with the hub.

pub mod protocol;
