// 预警, the supervisor's view: the counts per level, the filters as list_alerts receives
// them, the queue a page at a time, a project alert leading to its project, answers from
// the queue, the two charts, and the refresh on replica changes and every 30 s.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import AlertsView from '../src/components/alerts/AlertsView.vue'
import { useAlertQueueStore } from '../src/stores/alertQueue'
import { createAppI18n } from '../src/i18n'
import type { AlertPage, AlertQuery, AlertView } from '../src/api'
import type { Locale } from '../src/format'
import { CODE, alertView, outboxEntry, systemAlert, trendDay } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const OTHER = '2020-320102-70-02-000777'
// Slow under happy-dom, more so on a busy machine: each Element Plus dropdown opened
// re-serialises the page (its popper asks every ancestor's toString()), and a page of the
// queue is 200 cards of Element Plus tags and buttons.
const SLOW = 30_000

let wrapper: VueWrapper | null = null
let queue: AlertView[] = []

function page(query: AlertQuery): AlertPage {
  const alerts = queue.slice(query.offset ?? 0, (query.offset ?? 0) + (query.limit ?? queue.length))
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
    global: { plugins: [createAppI18n(locale)] },
    attachTo: document.body,
  })
  await flush()
  return wrapper
}

/** Opens a filter; its options are in a dropdown in the page's body. */
async function options(view: VueWrapper, testid: string): Promise<HTMLElement[]> {
  await view.get(`[data-testid=${testid}] .el-select__wrapper`).trigger('click')
  await flush()
  return [...document.body.querySelectorAll<HTMLElement>(`[data-testid=${testid}-option]`)]
}

/** Picks an option by its words, as a supervisor does. */
async function choose(view: VueWrapper, testid: string, label: string): Promise<void> {
  const option = (await options(view, testid)).find((o) => o.textContent?.trim() === label)
  if (!option) throw new Error(`${testid} has no option ${label}`)
  option.click()
  await flush()
}

function pager(view: VueWrapper, n: number) {
  const item = view.findAll('[data-testid=alert-queue-pages] .el-pager li').find((li) => li.text() === String(n))
  if (!item) throw new Error(`no page ${n}`)
  return item
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
    expect(view.get('[data-testid=alert-trend-chart] [data-testid=chart-table]').findAll('tbody tr')).toHaveLength(2)
    expect(view.get('[data-testid=compliance-chart] [data-testid=chart-table]').findAll('tbody tr')).toHaveLength(2)
    expect(view.find('[data-testid=alert-queue-pages]').exists()).toBe(false)
  })

  it('sends each filter as list_alerts expects it, levels in order of seriousness', async () => {
    const view = await mountView()
    const level = (l: string) => document.body.querySelector<HTMLElement>(`[data-testid=alert-filter-level][data-level=${l}]`)
    await view.get('[data-testid=alert-filter-levels] .el-select__wrapper').trigger('click')
    level('yellow')?.click()
    await flush()
    level('red')?.click()
    await flush()
    expect(level('red')?.getAttribute('aria-selected')).toBe('true')
    expect(level('orange')?.getAttribute('aria-selected')).toBe('false')
    // Each level in the list and among the chosen: its icon and word.
    expect(level('orange')?.textContent).toContain('⊘橙色预警')
    expect(view.findAll('[data-testid=alert-filter-levels] .alert-badge').map((b) => b.attributes('data-level'))).toEqual(['yellow', 'red'])
    expect(queries().at(-1)).toEqual({ state: 'active', levels: ['red', 'yellow'], offset: 0, limit: 200 })

    expect((await options(view, 'alert-filter-department')).map((o) => o.textContent?.trim())).toEqual([
      '全部部门',
      '人防办',
      '收费窗口',
      '数据中心',
    ])
    await choose(view, 'alert-filter-department', '人防办')
    await choose(view, 'alert-filter-role', '科长')
    // The choice shows in words.
    expect(view.get('[data-testid=alert-filter-role]').text()).toContain('科长')
    await choose(view, 'alert-filter-state', '全部')
    await choose(view, 'alert-filter-sla', '已超时')
    await choose(view, 'alert-filter-age', '4 小时以上')
    expect(queries().at(-1)).toEqual({
      state: 'all',
      levels: ['red', 'yellow'],
      department: '人防办',
      owner_role: 'supervisor',
      sla: 'missed',
      min_age_minutes: 240,
      offset: 0,
      limit: 200,
    })

    await choose(view, 'alert-filter-age', '3 天以上')
    expect(queries().at(-1)?.min_age_minutes).toBe(3 * 24 * 60)
    level('red')?.click()
    await flush()
    await choose(view, 'alert-filter-department', '全部部门')
    await choose(view, 'alert-filter-age', '不限')
    expect(queries().at(-1)).toEqual({ state: 'all', levels: ['yellow'], owner_role: 'supervisor', sla: 'missed', offset: 0, limit: 200 })
  }, SLOW)

  it('shows 200 a page, stays on the page on a refresh, and starts from the top on a new filter', async () => {
    queue = Array.from({ length: 450 }, (_, i) => alertView({ subject: `project/2019-320105-47-01-${String(i).padStart(6, '0')}` }))
    const view = await mountView()
    expect(keys(view)).toEqual(queue.slice(0, 200).map((a) => a.key))
    expect(view.get('[data-testid=alert-queue-range]').text()).toBe('本页第 1–200 条')
    expect(view.findAll('[data-testid=alert-queue-pages] .el-pager li').map((li) => li.text())).toEqual(['1', '2', '3'])

    await pager(view, 2).trigger('click')
    await flush()
    expect(queries().at(-1)?.offset).toBe(200)
    expect(keys(view)).toEqual(queue.slice(200, 400).map((a) => a.key))
    expect(view.get('[data-testid=alert-queue-range]').text()).toBe('本页第 201–400 条')

    tauri.emit('replica-changed', { cursor: 9, project_codes: [] })
    await flush()
    expect(queries().at(-1)?.offset).toBe(200)
    expect(keys(view)).toEqual(queue.slice(200, 400).map((a) => a.key))

    await view.get('[data-testid=alert-queue-pages] .btn-next').trigger('click')
    await flush()
    expect(keys(view)).toEqual(queue.slice(400).map((a) => a.key))
    expect(view.get('[data-testid=alert-queue-range]').text()).toBe('本页第 401–450 条')
    expect(view.get('[data-testid=alert-queue-pages] .btn-next').attributes('disabled')).toBeDefined()

    // Resolved meanwhile, the last page is gone: the new last page is shown.
    queue = queue.slice(0, 300)
    await view.get('[data-testid=alert-queue-refresh]').trigger('click')
    await flush()
    expect(keys(view)).toEqual(queue.slice(200).map((a) => a.key))
    expect(view.findAll('[data-testid=alert-queue-pages] .el-pager li').map((li) => li.text())).toEqual(['1', '2'])

    // A new filter starts from the top again (picked through the store: a dropdown over 200
    // cards is slow under happy-dom, and the test above picks every filter from its dropdown).
    await useAlertQueueStore().setFilter('sla', 'pending')
    await flush()
    expect(queries().at(-1)).toEqual({ state: 'active', sla: 'pending', offset: 0, limit: 200 })
    expect(keys(view)).toHaveLength(200)
  }, SLOW)

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
    expect((await options(view, 'alert-filter-state')).map((o) => o.textContent?.trim())).toEqual(['Active', 'Resolved', 'All'])
    expect((await options(view, 'alert-filter-age')).map((o) => o.textContent?.trim())).toEqual([
      'Any time',
      '1 hour or more',
      '4 hours or more',
      '1 day or more',
      '3 days or more',
    ])
  })
})
