//! Connectors: how department data reaches the hub when it does not arrive through the ingest endpoints.

pub mod legacy_file;
