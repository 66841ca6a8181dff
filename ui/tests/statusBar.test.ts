// The status bar's outbox counts: 待上传 and the 待处理冲突 button, only when there are any;
// the red integrity indicator and, for a day after a repair, 已于 … 修复; the last
// reconciliation with the data centre (核对 …).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import StatusBar from '../src/components/shared/StatusBar.vue'
import { createAppI18n } from '../src/i18n'
import { useSyncStatusStore } from '../src/stores/syncStatus'
import type { Locale } from '../src/format'
import type { SyncStatus } from '../src/api'
import { syncStatus } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

async function mountBar(outbox: { pending: number; conflicts: number }, locale: Locale = 'zh-CN'): Promise<VueWrapper> {
  return mountWith(syncStatus({ outbox }), locale)
}

async function mountWith(status: SyncStatus, locale: Locale = 'zh-CN'): Promise<VueWrapper> {
  tauri.handle('sync_status', () => status)
  const store = useSyncStatusStore()
  await store.attach()
  return mount(StatusBar, { global: { plugins: [createAppI18n(locale)] } })
}

describe('StatusBar, outbox', () => {
  beforeEach(() => tauri.reset())

  it('shows neither count when both are zero', async () => {
    const bar = await mountBar({ pending: 0, conflicts: 0 })
    expect(bar.find('[data-testid=sync-state]').exists()).toBe(true)
    expect(bar.find('[data-testid=outbox-pending]').exists()).toBe(false)
    expect(bar.find('[data-testid=conflicts-open]').exists()).toBe(false)
  })

  it('shows each count when above zero, following sync-status events', async () => {
    const bar = await mountBar({ pending: 3, conflicts: 0 })
    expect(bar.get('[data-testid=outbox-pending]').text()).toContain('待上传 3')
    expect(bar.find('[data-testid=conflicts-open]').exists()).toBe(false)

    tauri.emit('sync-status', syncStatus({ outbox: { pending: 0, conflicts: 2 } }))
    await nextTick()
    expect(bar.find('[data-testid=outbox-pending]').exists()).toBe(false)
    const conflicts = bar.get('[data-testid=conflicts-open]')
    expect(conflicts.element.tagName).toBe('BUTTON')
    expect(conflicts.text()).toContain('待处理冲突 2')
  })

  it('asks for the conflicts panel when the button is pressed', async () => {
    const bar = await mountBar({ pending: 1, conflicts: 1 })
    await bar.get('[data-testid=conflicts-open]').trigger('click')
    expect(bar.emitted('openConflicts')).toHaveLength(1)
  })

  it('says it in English', async () => {
    const bar = await mountBar({ pending: 1_234, conflicts: 5 }, 'en')
    expect(bar.get('[data-testid=outbox-pending]').text()).toContain('To upload 1,234')
    expect(bar.get('[data-testid=conflicts-open]').text()).toContain('Conflicts 5')
  })
})

const HOUR_MS = 60 * 60 * 1000
const REASON =
  '数据完整性校验失败：批次 (106, 107] 的变更内容与数据中心签发的哈希链不符：有变更被改动或缺失。本批未应用，将从数据中心重新核对。'

function integrity(overrides: Partial<SyncStatus['integrity']>): Pick<SyncStatus, 'integrity'> {
  return { integrity: { alert: false, reason: null, detected_at: null, repaired_at: null, ...overrides } }
}

describe('StatusBar, integrity', () => {
  beforeEach(() => {
    tauri.reset()
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2026-11-25T03:00:00Z'))
  })
  afterEach(() => vi.useRealTimers())

  it('keeps the indicator hidden and says nothing while all is well', async () => {
    const bar = await mountWith(syncStatus())
    const state = bar.get('[data-testid=integrity-state]')
    expect(state.attributes('data-alert')).toBe('false')
    expect(state.attributes('style')).toContain('display: none')
    expect(bar.find('[data-testid=integrity-repaired]').exists()).toBe(false)
  })

  it('shows the red indicator while the alert is on, not the note of an earlier repair', async () => {
    const bar = await mountWith(syncStatus())
    tauri.emit(
      'sync-status',
      syncStatus(integrity({ alert: true, reason: REASON, detected_at: '2026-11-25T02:59:00Z', repaired_at: '2026-11-25T01:00:00Z' })),
    )
    await nextTick()
    const state = bar.get('[data-testid=integrity-state]')
    expect(state.attributes('data-alert')).toBe('true')
    expect(state.attributes('style') ?? '').not.toContain('display: none')
    expect(state.text()).toContain('完整性告警')
    expect(bar.find('[data-testid=integrity-repaired]').exists()).toBe(false)
  })

  it('says when it was repaired, for 24 hours after the repair', async () => {
    const bar = await mountWith(syncStatus(integrity({ alert: true, reason: REASON, detected_at: '2026-11-25T00:40:00Z' })))
    expect(bar.get('[data-testid=integrity-state]').attributes('data-alert')).toBe('true')

    tauri.emit('sync-status', syncStatus(integrity({ reason: REASON, detected_at: '2026-11-25T00:40:00Z', repaired_at: '2026-11-25T01:00:00Z' })))
    await nextTick()
    const state = bar.get('[data-testid=integrity-state]')
    expect(state.attributes('data-alert')).toBe('false')
    expect(state.attributes('style')).toContain('display: none')
    expect(bar.get('[data-testid=integrity-repaired]').text()).toBe('✓ 已于 2026年11月25日 09:00:00 修复')

    // Repaired at 01:00 UTC, now 03:00: the note goes at 01:00 the next day.
    await vi.advanceTimersByTimeAsync(22 * HOUR_MS - 1)
    expect(bar.find('[data-testid=integrity-repaired]').exists()).toBe(true)
    await vi.advanceTimersByTimeAsync(1)
    expect(bar.find('[data-testid=integrity-repaired]').exists()).toBe(false)
  })

  it('says nothing of a repair two days old', async () => {
    const bar = await mountWith(syncStatus())
    tauri.emit('sync-status', syncStatus(integrity({ reason: REASON, repaired_at: '2026-11-23T03:00:00Z' })))
    await nextTick()
    expect(bar.get('[data-testid=integrity-state]').attributes('data-alert')).toBe('false')
    expect(bar.find('[data-testid=integrity-repaired]').exists()).toBe(false)
  })

  it('says it in English', async () => {
    const bar = await mountWith(syncStatus(integrity({ alert: true, reason: REASON })), 'en')
    expect(bar.get('[data-testid=integrity-state]').text()).toContain('Integrity alert')
    tauri.emit('sync-status', syncStatus(integrity({ repaired_at: '2026-11-25T01:00:00Z' })))
    await nextTick()
    expect(bar.get('[data-testid=integrity-repaired]').text()).toBe('✓ Repaired 2026-11-25 09:00:00')
  })
})

function reconcile(overrides: Partial<NonNullable<SyncStatus['reconcile']>> = {}): Pick<SyncStatus, 'reconcile'> {
  return {
    reconcile: {
      at: '2026-11-25T01:30:00Z',
      rows_compared: 978_123,
      rows_repaired: 0,
      ranges_compared: 1_911,
      bytes_sent: 2_048,
      bytes_received: 5_452_595,
      ...overrides,
    },
  }
}

describe('StatusBar, reconciliation', () => {
  beforeEach(() => {
    tauri.reset()
    vi.useFakeTimers()
    // 11:00 on 25 November in Shanghai.
    vi.setSystemTime(new Date('2026-11-25T03:00:00Z'))
  })
  afterEach(() => vi.useRealTimers())

  it('says nothing before the first reconciliation', async () => {
    const bar = await mountWith(syncStatus())
    expect(bar.find('[data-testid=sync-state]').exists()).toBe(true)
    expect(bar.find('[data-testid=reconcile-state]').exists()).toBe(false)

    tauri.emit('sync-status', syncStatus(reconcile()))
    await nextTick()
    expect(bar.find('[data-testid=reconcile-state]').exists()).toBe(true)
  })

  it("shows today's time and the rows compared when nothing was repaired", async () => {
    const bar = await mountWith(syncStatus(reconcile()))
    const item = bar.get('[data-testid=reconcile-state]')
    expect(item.text()).toBe('核对 09:30：978,123 行一致')
    expect(item.attributes('data-repaired')).toBe('0')
    expect(item.classes()).not.toContain('reconcile-state--repaired')
  })

  it('shows the rows repaired in the warning colour, with the date when not today', async () => {
    const bar = await mountWith(syncStatus(reconcile({ at: '2026-11-24T10:05:00Z', rows_repaired: 1_234 })))
    const item = bar.get('[data-testid=reconcile-state]')
    expect(item.text()).toBe('核对 2026年11月24日 18:05：已修复 1,234 行')
    expect(item.attributes('data-repaired')).toBe('1234')
    expect(item.classes()).toContain('reconcile-state--repaired')
  })

  it('puts the full details in the tooltip, bytes in KB and MB', async () => {
    const bar = await mountWith(syncStatus(reconcile({ rows_repaired: 5 })))
    const title = bar.get('[data-testid=reconcile-state]').attributes('title') ?? ''
    expect(title).toContain('2026年11月25日 09:30:00')
    expect(title).toContain('比对 978,123 行（1,911 个区间）')
    expect(title).toContain('修复 5 行')
    expect(title).toContain('发送 2.0 KB · 接收 5.2 MB')
  })

  it("adds the date to today's reconciliation at midnight in Shanghai", async () => {
    const bar = await mountWith(syncStatus(reconcile()))
    expect(bar.get('[data-testid=reconcile-state]').text()).toBe('核对 09:30：978,123 行一致')

    // Midnight in Shanghai is 16:00 UTC, 13 hours on.
    await vi.advanceTimersByTimeAsync(13 * HOUR_MS - 1)
    expect(bar.get('[data-testid=reconcile-state]').text()).toBe('核对 09:30：978,123 行一致')
    await vi.advanceTimersByTimeAsync(1)
    expect(bar.get('[data-testid=reconcile-state]').text()).toBe('核对 2026年11月25日 09:30：978,123 行一致')
  })

  it('says it in English', async () => {
    const bar = await mountWith(syncStatus(reconcile()), 'en')
    expect(bar.get('[data-testid=reconcile-state]').text()).toBe('Checked 09:30: 978,123 rows match')

    tauri.emit('sync-status', syncStatus(reconcile({ at: '2026-11-24T10:05:00Z', rows_repaired: 1_234 })))
    await nextTick()
    const item = bar.get('[data-testid=reconcile-state]')
    expect(item.text()).toBe('Checked 2026-11-24 18:05: 1,234 row(s) repaired')
    const title = item.attributes('title') ?? ''
    expect(title).toContain('Compared 978,123 rows (1,911 ranges)')
    expect(title).toContain('Sent 2.0 KB · received 5.2 MB')
  })
})
