//! Departments pushing their records to the hub: 人防 notices, tax clearances, payments.
//! Who may push what is the operator's keys file ([`keys`]); each request proves its
//! origin ([`auth`]); what passes is delivered like any connector's changes, so a bad
//! record is quarantined rather than refusing its batch, and a resend changes nothing.
//! The HTTP endpoints are in `routes/push.rs`, the Debezium envelope in
//! `connectors/debezium.rs`.

pub mod auth;
pub mod keys;

pub use auth::Gate;
pub use keys::{PushKey, PushKeys};

/// The body schema of `POST /v1/push/{source}`; a later incompatible body gets a new name
/// and the hub says which ones it takes.
pub const SCHEMA_V1: &str = "yizhan.push.v1";
