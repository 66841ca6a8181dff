// How a connector is doing, from the status the hub reports: the chip on each connector
// in the 数据接入 area. A pure function of the status and the time, so the rules are
// testable on their own.
import type { ConnectorStatus } from './api'

/** ok 正常 · lagging 滞后 · fault 故障 · silent 无心跳 · idle 空闲 (a connector that waits to be fed, at rest). */
export type ConnectorHealth = 'ok' | 'lagging' | 'fault' | 'silent' | 'idle'

/** A running connector beats well within this; longer means it has stopped or hangs. */
const HEARTBEAT_STALE_MS = 5 * 60 * 1000
/** Unconfirmed WAL above this fills the source database's disk if left alone. */
export const LAG_BYTES_LIMIT = 64 * 1024 * 1024
const LAG_SECONDS_LIMIT = 3600

function instant(rfc3339: string | null): number | null {
  if (rfc3339 === null) return null
  const ms = Date.parse(rfc3339)
  return Number.isNaN(ms) ? null : ms
}

/** `now`: ms since the epoch, the moment the status was read. */
export function connectorHealth(status: ConnectorStatus, now: number): ConnectorHealth {
  const beat = instant(status.heartbeat_at)
  const failed = instant(status.last_error_at)
  // An error after the last beat has not been followed by a good run: it still stands.
  if (failed !== null && (beat === null || failed > beat)) return 'fault'
  if (beat === null || now - beat > HEARTBEAT_STALE_MS) {
    // Only a database subscription runs on its own and must keep beating. A file
    // connector beats while a watched folder runs or a file is imported, and a pushed
    // feed when a department sends: between times silence is their normal state.
    return status.kind === 'postgres_cdc' ? 'silent' : 'idle'
  }
  if (
    status.kind === 'postgres_cdc' &&
    ((status.source_lag_bytes ?? 0) > LAG_BYTES_LIMIT || (status.lag_seconds ?? 0) > LAG_SECONDS_LIMIT)
  ) {
    return 'lagging'
  }
  return 'ok'
}
