// The emergency banner: active red alerts about the system itself, with what to do, the
// newest of several, acknowledged from the banner; never a red alert about a project.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import EmergencyBanner from '../src/components/alerts/EmergencyBanner.vue'
import { createAppI18n } from '../src/i18n'
import { useEmergencyStore } from '../src/stores/emergency'
import type { AlertQuery, AlertView } from '../src/api'
import type { Locale } from '../src/format'
import { alertView, outboxEntry, systemAlert } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

let wrapper: VueWrapper | null = null
let alerts: AlertView[] = []

/** list_alerts as the backend answers it: the query's filters applied to `alerts`. */
function answer(query: AlertQuery) {
  const matching = alerts.filter(
    (a) =>
      (query.levels === undefined || query.levels.includes(a.level)) &&
      (query.state !== 'active' || a.state !== 'resolved') &&
      (!query.system_only || a.project_code === ''),
  )
  return {
    total: matching.length,
    counts: { red: 0, orange: 0, yellow: 0 },
    departments: [],
    alerts: matching.slice(query.offset ?? 0, (query.offset ?? 0) + (query.limit ?? matching.length)),
  }
}

async function flush(): Promise<void> {
  await tauri.settle()
  await nextTick()
}

async function mountBanner(locale: Locale = 'zh-CN'): Promise<VueWrapper> {
  const store = useEmergencyStore()
  await store.attach()
  wrapper = mount(EmergencyBanner, {
    // Unstubbed, el-alert's Transition hands the banner's attributes on to the banner itself.
    global: { plugins: [createAppI18n(locale)], stubs: { transition: false } },
    attachTo: document.body,
  })
  await flush()
  return wrapper
}

describe('EmergencyBanner', () => {
  beforeEach(() => {
    tauri.reset()
    alerts = []
    tauri.handle('list_alerts', (args) => answer(args?.query as AlertQuery))
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('shows a red system alert with its message, time, what to do, as an alert', async () => {
    alerts = [systemAlert()]
    const banner = (await mountBanner()).get('[data-testid=emergency-banner]')
    expect(tauri.callsOf('list_alerts')).toEqual([
      { query: { levels: ['red'], state: 'active', system_only: true, offset: 0, limit: 500 } },
    ])
    expect(banner.attributes('role')).toBe('alert')
    expect(banner.attributes('data-level')).toBe('red')
    expect(banner.text()).toContain('红色预警')
    expect(banner.get('[data-testid=emergency-message]').text()).toBe('接入通道 planning-cdc 已中断 35 分钟')
    expect(banner.get('[data-testid=emergency-raised]').text()).toBe('发生时间 2026年11月24日 10:00:00')
    expect(banner.get('[data-testid=emergency-runbook]').text()).toContain(
      '通知信息中心值班技术人员检查规划库复制槽；窗口改用备用导入文件办理。',
    )
    expect(banner.find('[data-testid=emergency-more]').exists()).toBe(false)
  })

  it('is not shown for a red alert about a project, nor for an orange system alert', async () => {
    alerts = [alertView({ level: 'red', raised_level: 'red' }), systemAlert({ level: 'orange', raised_level: 'orange' })]
    const view = await mountBanner()
    expect(view.find('[data-testid=emergency-banner]').exists()).toBe(false)
  })

  it('shows the newest of several, and how many more there are', async () => {
    alerts = [
      systemAlert({ subject: 'connector/planning-cdc', raised_at: '2026-11-24T01:00:00Z', message: '接入通道 planning-cdc 已中断' }),
      systemAlert({ subject: 'counter/hub', raised_at: '2026-11-24T03:30:00Z', message: '数据中心已 40 分钟无法连接' }),
      systemAlert({ subject: 'connector/tax-push', raised_at: '2026-11-24T02:00:00Z', message: '完税推送中断' }),
    ]
    const banner = (await mountBanner()).get('[data-testid=emergency-banner]')
    expect(banner.get('[data-testid=emergency-message]').text()).toBe('数据中心已 40 分钟无法连接')
    expect(banner.get('[data-testid=emergency-more]').text()).toBe('另有 2 条红色系统预警')
  })

  it('comes and goes with the replica', async () => {
    const view = await mountBanner()
    expect(view.find('[data-testid=emergency-banner]').exists()).toBe(false)
    alerts = [systemAlert()]
    tauri.emit('replica-changed', { cursor: 5, project_codes: [] })
    await flush()
    expect(view.find('[data-testid=emergency-banner]').exists()).toBe(true)
    alerts = [systemAlert({ state: 'resolved' })]
    tauri.emit('replica-changed', { cursor: 6, project_codes: [] })
    await flush()
    expect(view.find('[data-testid=emergency-banner]').exists()).toBe(false)
  })

  it('acknowledges the alert it shows, then says who did', async () => {
    alerts = [systemAlert()]
    tauri.handle('handle_alert', () => {
      alerts = [systemAlert({ state: 'acknowledged', pending: true, responded: { by: '科长-赵敏', at: '2026-11-24T02:05:00Z' } })]
      return outboxEntry('cmd-e', { kind: 'tracking', project_code: '', tracked: true }, { state: 'pending', reject_reason: null })
    })
    const view = await mountBanner()
    await view.get('[data-testid=emergency-acknowledge]').trigger('click')
    await flush()
    expect(tauri.callsOf('handle_alert')).toHaveLength(0)
    await view.get('[data-testid=alert-dialog-submit]').trigger('click')
    await flush()
    expect(tauri.callsOf('handle_alert')).toEqual([
      { alertKey: 'connector-down:connector/planning-cdc', projectCode: '', handling: { step: 'acknowledge' } },
    ])
    // Still an emergency until resolved, now with who took it.
    const banner = view.get('[data-testid=emergency-banner]')
    expect(banner.find('[data-testid=emergency-acknowledge]').exists()).toBe(false)
    expect(banner.get('[data-testid=emergency-acknowledged]').text()).toContain('已由 科长-赵敏 于 2026年11月24日 10:05:00 确认')
    expect(banner.find('[data-testid=pending-badge]').exists()).toBe(true)
  })

  it('asks to open the alert queue', async () => {
    alerts = [systemAlert()]
    const view = await mountBanner()
    await view.get('[data-testid=emergency-open-queue]').trigger('click')
    expect(view.emitted('openQueue')).toHaveLength(1)
  })

  it('says it in English; the rule’s text stays as written', async () => {
    alerts = [systemAlert(), systemAlert({ subject: 'counter/hub' })]
    const banner = (await mountBanner('en')).get('[data-testid=emergency-banner]')
    expect(banner.text()).toContain('Red alert')
    expect(banner.get('[data-testid=emergency-raised]').text()).toBe('Raised 2026-11-24 10:00:00')
    expect(banner.get('[data-testid=emergency-more]').text()).toBe('1 more red system alert(s)')
    expect(banner.get('[data-testid=emergency-acknowledge]').text()).toContain('Acknowledge')
    expect(banner.get('[data-testid=emergency-message]').text()).toBe('接入通道 planning-cdc 已中断 35 分钟')
  })
})
