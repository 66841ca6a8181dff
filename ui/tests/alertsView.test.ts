// 预警, the supervisor's view: the counts per level, the filters as list_alerts receives
// them, the queue a page at a time, a project alert leading to its project, answers from
// the queue, the two charts, and the refresh on replica changes and every 30 s.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import AlertsView from '../src/components/AlertsView.vue'
import { createAppI18n } from '../src/i18n'
import { createAlertQueueStore } from '../src/stores/alertQueue'
import type { AlertPage, AlertQuery, AlertView } from '../src/api'
import type { Locale } from '../src/format'
import { CODE, alertView, outboxEntry, systemAlert, trendDay } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => ({ invoke: (await import('./fakeTauri')).invoke }))
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const OTHER = '2020-320102-70-02-000777'

let wrapper: VueWrapper | null = null
let queue: AlertView[] = []

function page(query: AlertQuery): AlertPage {
  const alerts = queue.slice(query.offset, query.offset + query.limit)
  return {
    total: queue.length,
    counts: { red: 2, orange: 15, yellow: 1_234 },
    departments: ['人防办', '收费窗口', '数据中心'],
    alerts,
  }
}

function queries(): AlertQuery[] {
  return tauri.callsOf('list_alerts').map((args) => args?.query as AlertQuery)
}

async function flush(): Promise<void> {
  await tauri.settle()
  await nextTick()
}

async function mountView(locale: Locale = 'zh-CN'): Promise<VueWrapper> {
  wrapper = mount(AlertsView, {
    props: { store: createAlertQueueStore() },
    global: { plugins: [createAppI18n(locale)] },
    attachTo: document.body,
  })
  await flush()
  return wrapper
}

async function choose(view: VueWrapper, testid: string, value: string): Promise<void> {
  await view.get(`[data-testid=${testid}]`).setValue(value)
  await flush()
}

function keys(view: VueWrapper): (string | undefined)[] {
  return view.findAll('[data-testid=alert-queue] [data-testid=alert-item]').map((item) => item.attributes('data-key'))
}

describe('AlertsView', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    tauri.reset()
    queue = [
      systemAlert(),
      alertView(),
      alertView({ subject: `project/${OTHER}`, project_code: OTHER, level: 'yellow', raised_level: 'yellow' }),
    ]
    tauri.handle('list_alerts', (args) => page(args?.query as AlertQuery))
    tauri.handle('alert_trend', () => ({
      days: [trendDay('2026-11-23', { red: 1, orange: 2, yellow: 1 }, 3, 1), trendDay('2026-11-24', { red: 2, orange: 3, yellow: 5 })],
    }))
    tauri.handle('handle_alert', () =>
      outboxEntry('cmd-a', { kind: 'tracking', project_code: CODE, tracked: true }, { state: 'pending', reject_reason: null }),
    )
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
    vi.useRealTimers()
  })

  it('asks for the active queue and the fortnight, and shows the counts per level in large figures', async () => {
    const view = await mountView()
    expect(queries()).toEqual([{ state: 'active', offset: 0, limit: 200 }])
    expect(tauri.callsOf('alert_trend')).toEqual([{ days: 14 }])
    for (const [level, word, n] of [
      ['red', '红色预警', '2'],
      ['orange', '橙色预警', '15'],
      ['yellow', '黄色预警', '1,234'],
    ]) {
      const count = view.get(`[data-testid=alert-count-${level}]`)
      expect(count.get('dt').text()).toContain(word)
      expect(count.get('dd').text()).toBe(n)
    }
    expect(view.get('[data-testid=alert-queue-total]').text()).toBe('共 3 条')
    expect(keys(view)).toEqual(queue.map((a) => a.key))
    expect(view.get('[data-testid=alert-queue] [data-testid=alert-item]').attributes('data-level')).toBe('red')
    expect(view.get('[data-testid=alert-trend-chart]').findAll('[data-testid=chart-day]')).toHaveLength(2)
    expect(view.get('[data-testid=compliance-chart]').findAll('[data-testid=chart-day]')).toHaveLength(2)
  })

  it('sends each filter as list_alerts expects it, levels in order of seriousness', async () => {
    const view = await mountView()
    const level = (l: string) => view.get(`[data-testid=alert-filter-level][data-level=${l}]`)
    await level('yellow').trigger('click')
    await level('red').trigger('click')
    await flush()
    expect(level('red').attributes('aria-pressed')).toBe('true')
    expect(level('orange').attributes('aria-pressed')).toBe('false')
    expect(queries().at(-1)).toEqual({ state: 'active', levels: ['red', 'yellow'], offset: 0, limit: 200 })

    expect(view.findAll('[data-testid=alert-filter-department] option').map((o) => o.text())).toEqual([
      '全部部门',
      '人防办',
      '收费窗口',
      '数据中心',
    ])
    await choose(view, 'alert-filter-department', '人防办')
    await choose(view, 'alert-filter-role', 'technician')
    await choose(view, 'alert-filter-state', 'all')
    await choose(view, 'alert-filter-sla', 'missed')
    await choose(view, 'alert-filter-age', 'h4')
    expect(queries().at(-1)).toEqual({
      state: 'all',
      levels: ['red', 'yellow'],
      department: '人防办',
      owner_role: 'technician',
      sla: 'missed',
      min_age_minutes: 240,
      offset: 0,
      limit: 200,
    })

    await choose(view, 'alert-filter-age', 'd3')
    expect(queries().at(-1)?.min_age_minutes).toBe(3 * 24 * 60)
    await level('red').trigger('click')
    await choose(view, 'alert-filter-department', '')
    await choose(view, 'alert-filter-age', '')
    expect(queries().at(-1)).toEqual({ state: 'all', levels: ['yellow'], owner_role: 'technician', sla: 'missed', offset: 0, limit: 200 })
  })

  it('shows 200 at a time, and more on request, keeping them all on a refresh', async () => {
    queue = Array.from({ length: 450 }, (_, i) => alertView({ subject: `project/2019-320105-47-01-${String(i).padStart(6, '0')}` }))
    const view = await mountView()
    expect(keys(view)).toHaveLength(200)
    expect(view.text()).toContain('已显示 200 条')
    await view.get('[data-testid=alert-queue-more]').trigger('click')
    await flush()
    expect(keys(view)).toHaveLength(400)
    expect(queries().slice(-2).map((q) => q.offset)).toEqual([0, 200])

    tauri.emit('replica-changed', { cursor: 9, project_codes: [] })
    await flush()
    expect(keys(view)).toHaveLength(400)

    await view.get('[data-testid=alert-queue-more]').trigger('click')
    await flush()
    expect(keys(view)).toHaveLength(450)
    expect(view.find('[data-testid=alert-queue-more]').exists()).toBe(false)

    // A new filter starts from the top again.
    await choose(view, 'alert-filter-sla', 'pending')
    expect(keys(view)).toHaveLength(200)
  })

  it('asks to open the project of a project alert', async () => {
    const view = await mountView()
    await view.get(`[data-testid=alert-item][data-key="${queue[2]?.key}"] [data-testid=alert-project]`).trigger('click')
    expect(view.emitted('open')).toEqual([[OTHER]])
  })

  it('answers from the queue and reads the queue again', async () => {
    const view = await mountView()
    const calls = queries().length
    await view.get(`[data-testid=alert-item][data-key="${queue[1]?.key}"] [data-testid=alert-acknowledge]`).trigger('click')
    await flush()
    await view.get('[data-testid=alert-dialog-submit]').trigger('click')
    await flush()
    expect(tauri.callsOf('handle_alert')).toEqual([{ alertKey: queue[1]?.key, projectCode: CODE, handling: { step: 'acknowledge' } }])
    expect(queries()).toHaveLength(calls + 1)
  })

  it('reads everything again on replica-changed and every 30 s while shown, and stops when left', async () => {
    const view = await mountView()
    expect(queries()).toHaveLength(1)
    tauri.emit('replica-changed', { cursor: 10, project_codes: [CODE] })
    await flush()
    expect(queries()).toHaveLength(2)
    expect(tauri.callsOf('alert_trend')).toHaveLength(2)

    vi.advanceTimersByTime(29_999)
    expect(queries()).toHaveLength(2)
    vi.advanceTimersByTime(1)
    await flush()
    expect(queries()).toHaveLength(3)

    view.unmount()
    wrapper = null
    vi.advanceTimersByTime(60_000)
    tauri.emit('replica-changed', { cursor: 11, project_codes: [] })
    await flush()
    expect(queries()).toHaveLength(3)
    expect(tauri.listenerCount('replica-changed')).toBe(0)
  })

  it('keeps the queue next to the message when it cannot be read again', async () => {
    const view = await mountView()
    tauri.handle('list_alerts', () => Promise.reject('本机副本暂时不可读'))
    await view.get('[data-testid=alert-queue-refresh]').trigger('click')
    await flush()
    expect(view.get('[data-testid=alert-queue-error]').text()).toBe('⚠ 本机副本暂时不可读')
    expect(keys(view)).toHaveLength(3)
  })

  it('says so when nothing matches', async () => {
    queue = []
    const view = await mountView()
    expect(view.get('[data-testid=alert-queue-empty]').text()).toContain('没有符合条件的预警')
  })

  it('says it in English', async () => {
    const view = await mountView('en')
    expect(view.get('h2').text()).toBe('Alert queue')
    expect(view.get('[data-testid=alert-count-red] dt').text()).toContain('Red alert')
    expect(view.get('[data-testid=alert-queue-total]').text()).toBe('3 alerts')
    expect(view.findAll('[data-testid=alert-filter-state] option').map((o) => o.text())).toEqual(['Active', 'Resolved', 'All'])
    expect(view.findAll('[data-testid=alert-filter-age] option').map((o) => o.text())).toEqual([
      'Any time',
      '1 hour or more',
      '4 hours or more',
      '1 day or more',
      '3 days or more',
    ])
  })
})
