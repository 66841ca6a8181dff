//! What the sync client tells the app: its state (for the status bar) and which projects a
//! write changed (so open screens refresh). Serialised as the UI's `SyncStatus` and
//! `ReplicaChanged` (ui/src/api.ts).

use serde::{Deserialize, Serialize};

pub use crate::protocol::{OutboxCounts, ReconcileReport};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum SyncState {
    /// In step with the hub, waiting for news.
    Online,
    /// The hub cannot be reached or refused; retrying with backoff.
    Offline,
    /// Applying batches, behind the hub.
    Syncing,
    /// Loading the full snapshot.
    Bootstrapping,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BootstrapProgress {
    pub received: u64,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncStatus {
    pub state: SyncState,
    pub hub_url: String,
    /// The last applied seq; 0 before the first snapshot.
    pub cursor: u64,
    /// The hub's newest seq when it last answered.
    pub hub_head: Option<u64>,
    /// `hub_head - cursor`: an upper bound when the feed is scoped and seqs have holes.
    pub lag_changes: Option<u64>,
    /// Seconds since the oldest change not yet applied was committed at the hub; 0 when
    /// caught up, `None` when not known (never reached the hub).
    pub lag_seconds: Option<u64>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub last_success: Option<OffsetDateTime>,
    /// Why the last attempt failed, in Chinese, ready to show.
    pub last_error: Option<String>,
    pub bootstrap: Option<BootstrapProgress>,
    /// Clerk commands not yet delivered, and those the hub refused.
    pub outbox: OutboxCounts,
    pub integrity: IntegrityStatus,
    /// The last reconciliation with the hub; `None` before the first.
    pub reconcile: Option<ReconcileReport>,
    /// How the hub last said this PC stands.
    pub device: DeviceStanding,
}

/// This PC as the hub sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeviceStanding {
    /// In service; its clock off the hub's by this many seconds (positive: ahead) when
    /// beyond the hub's margin, since offline commands and documents carry its time.
    Enrolled { clock_skew_seconds: Option<i64> },
    /// Retired: it uploads what it holds, then wipes itself.
    Retired,
    /// Reported lost, or retired with nothing left to upload: the app wipes the replica,
    /// its documents and keys, and returns to first-run.
    Wipe,
}


/// The red data-integrity alert: what the hub sent did not check out, so applying stopped
/// and the replica is being repaired. Kept on record after the repair.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct IntegrityStatus {
    /// Applying is stopped until the repair is done.
    pub alert: bool,
    /// What failed, in Chinese.
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub detected_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub repaired_at: Option<OffsetDateTime>,
}


impl SyncStatus {
    pub fn new(hub_url: &str, cursor: Option<u64>) -> SyncStatus {
        SyncStatus {
            state: SyncState::Offline,
            hub_url: hub_url.to_owned(),
            cursor: cursor.unwrap_or(0),
            hub_head: None,
            lag_changes: None,
            lag_seconds: None,
            last_success: None,
            last_error: None,
            bootstrap: None,
            outbox: OutboxCounts::default(),
            integrity: IntegrityStatus::default(),
            reconcile: None,
            device: DeviceStanding::Enrolled { clock_skew_seconds: None },
        }
    }
}

/// A write to the replica, for the app's `replica-changed` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReplicaChanged {
    pub cursor: u64,
    /// The projects whose rows or views changed; empty means every project (a snapshot
    /// was loaded or the day rolled over).
    pub project_codes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_status_reads_as_the_ui_expects() {
        let status = SyncStatus {
            state: SyncState::Bootstrapping,
            last_success: Some(datetime!(2026-11-24 01:02:03 UTC)),
            bootstrap: Some(BootstrapProgress {
                received: 10,
                total: 20,
            }),
            ..SyncStatus::new("http://hub", Some(7))
        };
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            serde_json::json!({
                "state": "bootstrapping",
                "hub_url": "http://hub",
                "cursor": 7,
                "hub_head": null,
                "lag_changes": null,
                "lag_seconds": null,
                "last_success": "2026-11-24T01:02:03Z",
                "last_error": null,
                "bootstrap": { "received": 10, "total": 20 },
                "outbox": { "pending": 0, "conflicts": 0 },
                "integrity": { "alert": false, "reason": null, "detected_at": null, "repaired_at": null },
                "reconcile": null,
                "device": { "kind": "enrolled", "clock_skew_seconds": null },
            })
        );
        let states =
            [SyncState::Online, SyncState::Offline, SyncState::Syncing].map(|s| serde_json::to_value(s).unwrap());
        assert_eq!(states, ["online", "offline", "syncing"]);
    }
}
