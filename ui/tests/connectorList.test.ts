// 接入通道: one card per connector with its health in colour, glyph and word, its counts,
// lag in words, position and last error; refreshed by hand and every 15 s while shown.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import ConnectorList from '../src/components/admin/ConnectorList.vue'
import { createAppI18n } from '../src/i18n'
import type { ConnectorStatus } from '../src/api'
import type { Locale } from '../src/format'
import { connectorStatus } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const NOW = '2026-11-24T02:00:00Z'

let statuses: ConnectorStatus[] = []
let wrapper: VueWrapper | null = null

function fixtures(): ConnectorStatus[] {
  return [
    connectorStatus(),
    connectorStatus({
      name: 'civil-defence-push',
      kind: 'push',
      position: null,
      heartbeat_at: '2026-11-24T01:40:00Z',
      lag_seconds: null,
      source_lag_bytes: null,
      newest_source_at: null,
      quarantined: 0,
    }),
    connectorStatus({
      name: 'tax-debezium',
      kind: 'debezium',
      heartbeat_at: '2026-11-24T01:58:00Z',
      last_error: '数据中心拒绝了 3 条记录：税务机关代码不存在',
      last_error_at: '2026-11-24T01:59:00Z',
    }),
    connectorStatus({
      name: 'planning-file',
      kind: 'legacy_file',
      position: '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0',
      heartbeat_at: '2026-11-23T08:00:00Z',
      lag_seconds: null,
      source_lag_bytes: null,
    }),
    connectorStatus({ name: 'payments-cdc', lag_seconds: 5_400, source_lag_bytes: 96 * 1024 * 1024 }),
  ]
}

async function flush(): Promise<void> {
  await tauri.settle()
  await nextTick()
}

async function mountList(locale: Locale = 'zh-CN'): Promise<VueWrapper> {
  wrapper = mount(ConnectorList, {
    global: { plugins: [createAppI18n(locale)] },
  })
  await flush()
  return wrapper
}

function card(list: VueWrapper, name: string) {
  return list.get(`[data-testid=connector][data-name="${name}"]`)
}

describe('ConnectorList', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    vi.setSystemTime(new Date(NOW))
    tauri.reset()
    statuses = fixtures()
    tauri.handle('list_connectors', () => statuses)
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    vi.useRealTimers()
  })

  it('shows each connector with its kind in words and its health as glyph and word', async () => {
    const list = await mountList()
    expect(list.findAll('[data-testid=connector]').map((c) => c.attributes('data-name'))).toEqual([
      'planning-cdc',
      'civil-defence-push',
      'tax-debezium',
      'planning-file',
      'payments-cdc',
    ])
    const health = (name: string) => card(list, name).get('[data-testid=connector-health]')
    expect(health('planning-cdc').attributes('data-health')).toBe('ok')
    expect(health('planning-cdc').text()).toBe('✓正常')
    expect(health('civil-defence-push').text()).toBe('–空闲')
    expect(health('tax-debezium').text()).toBe('✕故障')
    expect(health('planning-file').text()).toBe('–空闲')
    expect(health('payments-cdc').text()).toBe('⚠滞后')

    expect(card(list, 'planning-cdc').get('[data-testid=connector-kind]').text()).toBe('数据库日志订阅')
    expect(card(list, 'civil-defence-push').get('[data-testid=connector-kind]').text()).toBe('部门推送')
    expect(card(list, 'tax-debezium').get('[data-testid=connector-kind]').text()).toBe('Debezium 推送')
    expect(card(list, 'planning-file').get('[data-testid=connector-kind]').text()).toBe('历史文件导入')
  })

  it('shows the counts as grouped figures, the lag in words and the position in full on hover', async () => {
    const list = await mountList()
    const cdc = card(list, 'planning-cdc')
    expect(cdc.get('[data-testid=connector-received]').text()).toBe('1,234,567')
    expect(cdc.get('[data-testid=connector-applied]').text()).toBe('1,234,000')
    expect(cdc.get('[data-testid=connector-quarantined]').text()).toBe('567')
    expect(cdc.get('[data-testid=connector-heartbeat]').text()).toBe('刚刚')
    expect(cdc.get('[data-testid=connector-lag]').text()).toBe('12 秒')
    expect(cdc.get('[data-testid=connector-source-lag]').text()).toBe('4.0 KB')

    expect(card(list, 'civil-defence-push').get('[data-testid=connector-heartbeat]').text()).toBe('20 分钟前')
    expect(card(list, 'payments-cdc').get('[data-testid=connector-lag]').text()).toBe('1 小时 30 分钟')
    expect(card(list, 'payments-cdc').get('[data-testid=connector-source-lag]').text()).toBe('96.0 MB')

    const position = card(list, 'planning-file').get('[data-testid=connector-position]')
    expect(position.attributes('title')).toBe(statuses[3]?.position)
    expect(position.classes()).toContain('figures')
  })

  it('shows the last error, marked as past once the connector has run since', async () => {
    statuses[0] = connectorStatus({ last_error: '连接超时', last_error_at: '2026-11-24T01:30:00Z' })
    const list = await mountList()
    const fault = card(list, 'tax-debezium').get('[data-testid=connector-error]')
    expect(fault.text()).toContain('最近错误（2026年11月24日 09:59:00）')
    expect(fault.text()).toContain('数据中心拒绝了 3 条记录：税务机关代码不存在')
    const past = card(list, 'planning-cdc').get('[data-testid=connector-error]')
    expect(past.text()).toContain('此后已恢复')
    expect(past.text()).toContain('连接超时')
    expect(card(list, 'planning-file').find('[data-testid=connector-error]').exists()).toBe(false)
  })

  it('reads again on Refresh, and every 15 s while shown', async () => {
    const list = await mountList()
    expect(tauri.callsOf('list_connectors')).toHaveLength(1)

    statuses = [connectorStatus({ received: 2_000_000 })]
    await list.get('[data-testid=connectors-refresh]').trigger('click')
    await flush()
    expect(tauri.callsOf('list_connectors')).toHaveLength(2)
    expect(list.get('[data-testid=connector-received]').text()).toBe('2,000,000')

    vi.advanceTimersByTime(14_999)
    expect(tauri.callsOf('list_connectors')).toHaveLength(2)
    vi.advanceTimersByTime(1)
    await flush()
    expect(tauri.callsOf('list_connectors')).toHaveLength(3)

    // Not while the window is minimised.
    const visibility = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden')
    vi.advanceTimersByTime(15_000)
    expect(tauri.callsOf('list_connectors')).toHaveLength(3)
    // Back on screen: at once.
    visibility.mockReturnValue('visible')
    document.dispatchEvent(new Event('visibilitychange'))
    await flush()
    expect(tauri.callsOf('list_connectors')).toHaveLength(4)

    list.unmount()
    wrapper = null
    vi.advanceTimersByTime(60_000)
    expect(tauri.callsOf('list_connectors')).toHaveLength(4)
  })

  it('keeps the last list next to the hub’s message when a refresh fails', async () => {
    const list = await mountList()
    tauri.handle('list_connectors', () => Promise.reject('无法连接数据中心 https://hub.example.invalid：连接超时'))
    await list.get('[data-testid=connectors-refresh]').trigger('click')
    await flush()
    expect(list.get('[data-testid=connectors-error]').text()).toBe('⚠ 无法连接数据中心 https://hub.example.invalid：连接超时')
    expect(list.get('[data-testid=connectors-error]').attributes('role')).toBe('alert')
    expect(list.findAll('[data-testid=connector]')).toHaveLength(5)
  })

  it('says it in English', async () => {
    const list = await mountList('en')
    expect(card(list, 'planning-cdc').get('[data-testid=connector-health]').text()).toBe('✓OK')
    expect(card(list, 'civil-defence-push').get('[data-testid=connector-health]').text()).toBe('–Idle')
    expect(card(list, 'planning-file').get('[data-testid=connector-kind]').text()).toBe('Legacy file import')
    expect(card(list, 'civil-defence-push').get('[data-testid=connector-heartbeat]').text()).toBe('20 min ago')
    expect(list.text()).not.toMatch(/[正常故障滞后]/)
  })
})
