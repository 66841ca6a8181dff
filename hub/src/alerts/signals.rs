//! What the system rules read at the hub: its feeds, its quarantine, and signing in and
//! the audit trail.

use time::{Duration, OffsetDateTime};
use yizhan_core::alert::engine::SystemSignal;
use crate::audit::AuditEvent;
use crate::connectors::ConnectorKind;
use crate::hub::Hub;
use crate::store::{AuditQuery, ConnectorRecord, QuarantineRecord, StoreError};

/// Most quarantined records one tick turns into alerts; the rest wait for the next.
pub(crate) const QUARANTINE_SCAN: usize = 10_000;

/// How far back, and how many at most, failed sign-ins and lockouts are read for the
/// security rules: more than any rule's window and threshold needs.
const SECURITY_LOOKBACK: Duration = Duration::days(1);
const SECURITY_SCAN: usize = 5_000;

/// Failed sign-ins, lockouts and commands flagged for a disabled account of the last day,
/// from the audit trail (which keeps failures after a successful sign-in clears the
/// lockout count), and any doubt about the trail: one
/// that cannot even be read is in doubt too, and must not keep the other rules from running.
pub(crate) async fn security(hub: &Hub, now: OffsetDateTime) -> SystemSignal {
    let recent = |event: AuditEvent| async move {
        let query = AuditQuery {
            event: Some(event.as_str().to_owned()),
            from: Some(now - SECURITY_LOOKBACK),
            limit: SECURITY_SCAN,
            ..AuditQuery::default()
        };
        hub.store().search_audit(&query).await
    };
    let read = async {
        Ok::<_, StoreError>((
            recent(AuditEvent::LoginFailure).await?,
            recent(AuditEvent::Lockout).await?,
            recent(AuditEvent::ClerkCommandDisabledAccount).await?,
        ))
    };
    let (failed, locked, flagged) = match read.await {
        Ok(read) => read,
        Err(e) => {
            hub.audit_in_doubt(format!("审计记录无法读取（{e}）"));
            (Vec::new(), Vec::new(), Vec::new())
        }
    };
    SystemSignal::Security {
        failed_logins: failed.iter().map(|r| r.at).collect(),
        lockouts: locked.iter().map(|r| r.at).collect(),
        audit_problem: hub.audit_problem(),
        disabled_account_commands: flagged.into_iter().map(|r| r.user).collect(),
    }
}

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
