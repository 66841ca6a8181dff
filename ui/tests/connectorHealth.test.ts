// The health chip's rules: 故障 / 无心跳 / 空闲 / 滞后 / 正常.
import { describe, expect, it } from 'vitest'
import { connectorHealth, LAG_BYTES_LIMIT } from '../src/connectorHealth'
import { connectorStatus } from './fixtures'

const NOW = Date.parse('2026-11-24T02:00:00Z')

describe('connectorHealth', () => {
  it('is ok when it beat recently and nothing is wrong', () => {
    expect(connectorHealth(connectorStatus(), NOW)).toBe('ok')
  })

  it('is a fault when the last error came after the last heartbeat', () => {
    const status = connectorStatus({
      heartbeat_at: '2026-11-24T01:59:00Z',
      last_error: '复制槽 yizhan_planning 不存在',
      last_error_at: '2026-11-24T01:59:30Z',
    })
    expect(connectorHealth(status, NOW)).toBe('fault')
  })

  it('is not a fault once it has beaten again since the error', () => {
    const status = connectorStatus({
      heartbeat_at: '2026-11-24T01:59:30Z',
      last_error: '连接超时',
      last_error_at: '2026-11-24T01:50:00Z',
    })
    expect(connectorHealth(status, NOW)).toBe('ok')
  })

  it('is a fault when it failed and never beat at all', () => {
    const status = connectorStatus({ heartbeat_at: null, last_error: '认证失败', last_error_at: '2026-11-24T01:00:00Z' })
    expect(connectorHealth(status, NOW)).toBe('fault')
  })

  it('has no heartbeat when the last one is older than 5 minutes, or there was none', () => {
    expect(connectorHealth(connectorStatus({ heartbeat_at: '2026-11-24T01:54:59Z' }), NOW)).toBe('silent')
    expect(connectorHealth(connectorStatus({ heartbeat_at: '2026-11-24T01:55:00Z' }), NOW)).toBe('ok')
    expect(connectorHealth(connectorStatus({ heartbeat_at: null }), NOW)).toBe('silent')
  })

  it('calls a quiet pushed feed idle, not silent: departments send when they have something', () => {
    expect(connectorHealth(connectorStatus({ kind: 'push', heartbeat_at: null }), NOW)).toBe('idle')
    expect(connectorHealth(connectorStatus({ kind: 'debezium', heartbeat_at: '2026-11-23T09:00:00Z' }), NOW)).toBe('idle')
  })

  it('calls a file connector without a recent heartbeat idle, not silent', () => {
    const file = connectorStatus({ name: 'planning-file', kind: 'legacy_file', heartbeat_at: '2026-11-23T09:00:00Z' })
    expect(connectorHealth(file, NOW)).toBe('idle')
    expect(connectorHealth({ ...file, heartbeat_at: null }, NOW)).toBe('idle')
    // A failed import is still a fault.
    expect(connectorHealth({ ...file, last_error: '文件无法导入', last_error_at: '2026-11-23T09:01:00Z' }, NOW)).toBe('fault')
  })

  it('is lagging when the replication slot holds more than 64 MiB or is over an hour behind', () => {
    expect(connectorHealth(connectorStatus({ source_lag_bytes: LAG_BYTES_LIMIT + 1 }), NOW)).toBe('lagging')
    expect(connectorHealth(connectorStatus({ source_lag_bytes: LAG_BYTES_LIMIT }), NOW)).toBe('ok')
    expect(connectorHealth(connectorStatus({ lag_seconds: 3601 }), NOW)).toBe('lagging')
    expect(connectorHealth(connectorStatus({ lag_seconds: 3600 }), NOW)).toBe('ok')
    expect(connectorHealth(connectorStatus({ lag_seconds: null, source_lag_bytes: null }), NOW)).toBe('ok')
  })

  it('applies the lag limits to database log subscriptions only', () => {
    expect(connectorHealth(connectorStatus({ kind: 'push', lag_seconds: 7200, source_lag_bytes: null }), NOW)).toBe('ok')
  })

  it('reports a fault before a stale heartbeat, and a stale heartbeat before lag', () => {
    const stale = { heartbeat_at: '2026-11-24T01:00:00Z', lag_seconds: 7200 }
    expect(connectorHealth(connectorStatus(stale), NOW)).toBe('silent')
    expect(connectorHealth(connectorStatus({ ...stale, last_error: 'x', last_error_at: '2026-11-24T01:10:00Z' }), NOW)).toBe('fault')
  })
})
