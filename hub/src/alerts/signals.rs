//! What the system rules read at the hub: its feeds and its quarantine.

use yizhan_core::alert::engine::SystemSignal;
use crate::connectors::ConnectorKind;
use crate::store::{ConnectorRecord, QuarantineRecord};

/// Most quarantined records one tick turns into alerts; the rest wait for the next.
pub(crate) const QUARANTINE_SCAN: usize = 10_000;

pub(crate) fn connector(status: &ConnectorRecord) -> SystemSignal {
    // Failing when the last error is newer than the last sign of life; down since that
    // sign of life (or, for one that never worked, since its last error).
    let failing_since = match (status.last_error_at, status.heartbeat_at) {
        (Some(error), Some(alive)) if error > alive => Some(alive),
        (Some(error), None) => Some(error),
        _ => None,
    };
    SystemSignal::Connector {
        name: status.name.clone(),
        streaming: status.kind == ConnectorKind::PostgresCdc,
        failing_since,
        last_error: status.last_error.clone(),
        slot_lag_bytes: status.source_lag_bytes,
        mismatch: status.verification.as_ref().filter(|v| !v.agrees()).map(|v| {
            format!(
                "{}：来源 {} 条，一致 {} 条，数据中心缺 {} 条，内容不同 {} 条（{} 核对）",
                v.source,
                v.source_rows,
                v.matching,
                v.missing.len(),
                v.differing.len(),
                yizhan_core::clock::shanghai_minute(v.checked_at)
            )
        }),
    }
}

pub(crate) fn quarantined(entry: &QuarantineRecord) -> SystemSignal {
    let project_code = serde_json::from_str::<serde_json::Value>(&entry.record)
        .ok()
        .and_then(|record| record.get("project_code")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    SystemSignal::Quarantined {
        id: entry.id,
        connector: entry.connector.clone(),
        source: entry.source.clone(),
        location: entry.location.clone(),
        project_code,
        problems: entry.problems.iter().map(|p| (p.field.clone(), p.problem.clone())).collect(),
    }
}
