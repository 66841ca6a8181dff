//! What the connectors hand the store: a delivery (the rows its good records become, the
//! rows its source withdrew, its bad records, and the position reached), written in ONE
//! transaction, so the position never runs ahead of the log nor behind it.

use time::OffsetDateTime;
use yizhan_core::entity::EntityKind;
use yizhan_sync::protocol::{FieldError, QuarantineState, SourceComparison};

use super::{RowWrite, WriteOutcome};

pub struct Delivery {
    pub connector: String,
    pub kind: ConnectorKind,
    /// The change log's origin for these rows, e.g. `cdc:planning`.
    pub origin: String,
    pub rows: Vec<RowWrite>,
    /// Rows the source deleted; a key the hub does not hold is nothing to do.
    pub removals: Vec<(EntityKind, String)>,
    pub quarantine: Vec<QuarantineItem>,
    /// Records received in this delivery, and how many of them were taken.
    pub received: u64,
    pub applied: u64,
    /// Where the connector stands once this is written; `None` leaves it as it was.
    pub position: Option<String>,
    pub newest_source_at: Option<OffsetDateTime>,
}

/// How a connector reaches its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorKind {
    PostgresCdc,
    LegacyFile,
    Push,
    Debezium,
}

impl ConnectorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorKind::PostgresCdc => "postgres_cdc",
            ConnectorKind::LegacyFile => "legacy_file",
            ConnectorKind::Push => "push",
            ConnectorKind::Debezium => "debezium",
        }
    }

    pub fn parse(text: &str) -> Option<ConnectorKind> {
        [ConnectorKind::PostgresCdc, ConnectorKind::LegacyFile, ConnectorKind::Push, ConnectorKind::Debezium]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// A record that failed: kept as received, with where it came from and why.
pub struct QuarantineItem {
    pub source: String,
    pub source_id: Option<String>,
    pub location: String,
    pub record: String,
    pub problems: Vec<FieldError>,
}

/// A connector as the store keeps it: its tallies since it first ran, where it stands in
/// its source, its health and its last comparison with the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorRecord {
    pub name: String,
    pub kind: ConnectorKind,
    pub position: Option<String>,
    pub heartbeat_at: Option<OffsetDateTime>,
    pub received: u64,
    pub applied: u64,
    pub quarantined: u64,
    /// Commit time at the source of the newest record delivered.
    pub newest_source_at: Option<OffsetDateTime>,
    /// What the source reports of its own backlog (a replication slot's unconfirmed WAL).
    pub source_lag_bytes: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<OffsetDateTime>,
    pub verification: Option<SourceComparison>,
}

/// A quarantined record as the store keeps it: the record as received, why it failed and
/// how it was closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineRecord {
    pub id: u64,
    pub connector: String,
    pub source: String,
    pub source_id: Option<String>,
    pub location: String,
    /// The record's bytes as received, so an operator corrects what actually came.
    pub record: String,
    pub problems: Vec<FieldError>,
    pub state: QuarantineState,
    pub received_at: OffsetDateTime,
    pub closed_at: Option<OffsetDateTime>,
    pub closed_by: Option<String>,
    pub close_note: Option<String>,
}

/// How an operator closes a quarantined record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuarantineClosing {
    Reprocessed,
    Dismissed,
}

impl QuarantineClosing {
    pub fn state(self) -> QuarantineState {
        match self {
            QuarantineClosing::Reprocessed => QuarantineState::Reprocessed,
            QuarantineClosing::Dismissed => QuarantineState::Dismissed,
        }
    }
}

/// What one delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// For the upserted rows, as `Store::write` reports them.
    pub written: WriteOutcome,
    /// For each removal, the seq of its delete, or `None` when the row was not there.
    pub removed: Vec<Option<u64>>,
    /// Quarantine entries added (a bad record delivered again is listed once).
    pub quarantined: u64,
}
