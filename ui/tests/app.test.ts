// The whole screen against a fake backend, through the selectors the WebDriver
// end-to-end suite relies on.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import { createMemoryHistory, type Router } from 'vue-router'
import App from '../src/App.vue'
import { createAppI18n } from '../src/i18n'
import { createAppRouter } from '../src/router'
import type { AlertQuery, ProjectQuery, ProjectRow } from '../src/api'
import {
  CODE,
  alertView,
  clearedProject,
  connectorStatus,
  documentLine,
  outboxEntry,
  projectDetail,
  projectRow,
  quarantineEntry,
  signingStatus,
  syncStatus,
  systemAlert,
} from './fixtures'
import { flush } from './dom'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

function row(n: number): ProjectRow {
  return projectRow(n, {
    status: n % 2 ? 'due' : 'cleared',
    overdue: n % 3 === 0,
    assessed_fen: 123_456_789,
    paid_fen: 0,
    outstanding_fen: 123_456_789,
  })
}

const ROWS = Array.from({ length: 100_000 }, (_, i) => row(i))

let wrapper: VueWrapper | null = null
let router: Router

/** The app opened at `address`, as the shell opens it at `#/` (which leads to the list). */
async function mountApp(address = '/'): Promise<VueWrapper> {
  router = createAppRouter(createMemoryHistory())
  // The tabs' views load on first opening (router.ts); loaded here up front, a click's
  // navigation settles within one flush, as it does in the app once a chunk is cached.
  await Promise.all(
    router
      .getRoutes()
      .flatMap((route) => Object.values(route.components ?? {}))
      .map((view) => (typeof view === 'function' ? (view as () => Promise<unknown>)() : null)),
  )
  await router.push(address)
  wrapper = mount(App, { global: { plugins: [createAppI18n('zh-CN'), router] }, attachTo: document.body })
  await tauri.settle()
  await nextTick()
  return wrapper
}

// Past the navigation too: changing the address is asynchronous.
async function press(target: Element, key: string): Promise<void> {
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }))
  await flush()
}

async function type(app: VueWrapper, text: string): Promise<void> {
  await app.get('[data-testid=search]').setValue(text)
}

/** The whole shell mounted in jsdom, the list drawn and a view opened: a few seconds alone, more beside other suites. */
const MOUNTS_THE_APP = 20_000

describe('App', () => {
  beforeEach(() => {
    tauri.reset()
    localStorage.clear()
    vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(560)
    tauri.handle('districts', () => [{ code: '320105', name: '建邺区' }])
    tauri.handle('sync_status', () => syncStatus())
    tauri.handle('get_project', (args) => projectDetail(args?.projectCode as string))
    tauri.handle('list_projects', (args) => {
      const q = args?.query as ProjectQuery
      const all = ROWS.length
      return {
        total: all,
        counts: { awaiting_assessment: 0, due: all / 2, partly_paid: 0, awaiting_tax_clearance: 0, cleared: all / 2, overdue: 0, tracked: 0, all },
        rows: ROWS.slice(q.offset, q.offset + q.limit),
      }
    })
  })

  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('lists a window of rows with the total and the sync state', async () => {
    const app = await mountApp()
    const rows = app.findAll('[data-testid=project-row]')
    expect(rows.length).toBeGreaterThan(5)
    expect(rows.length).toBeLessThan(40)
    expect(rows[0]?.attributes('data-code')).toBe('2019-320105-47-01-000000')
    expect(rows[0]?.text()).toContain('¥1,234,567.89')
    expect(app.get('[data-testid=list-total]').text()).toBe('100000')
    expect(app.get('[data-testid=sync-state]').attributes('data-state')).toBe('online')
    expect(app.find('[data-testid=offline-banner]').exists()).toBe(false)
    expect(app.find('[data-testid=integrity-banner]').exists()).toBe(false)
  }, MOUNTS_THE_APP)

  it('opens a scanned project code on Enter and returns to the list on Esc', async () => {
    const app = await mountApp()
    const search = app.get('[data-testid=search]').element
    await type(app, CODE)
    await press(search, 'Enter')

    expect(tauri.callsOf('get_project')).toEqual([{ projectCode: CODE }])
    const detail = app.get('[data-testid=detail]')
    expect(detail.attributes('data-code')).toBe(CODE)
    const infra = detail.get('[data-testid=fee-row][data-kind=infra]')
    expect(infra.get('[data-testid=fee-paid]').attributes('data-fen')).toBe('4000000')
    expect(infra.get('[data-testid=fee-outstanding]').attributes('data-fen')).toBe('6000000')
    expect(detail.find('[data-testid=fee-row][data-kind=civil_defence]').exists()).toBe(true)
    expect(detail.get('[data-testid=payment-row]').attributes('data-payment-id')).toBe('PAY-0001')
    expect(detail.text()).toContain('12,345.67 m²')
    expect(detail.text()).toContain('2026年3月15日 10:03:04')

    await press(search, 'Escape')
    expect(app.find('[data-testid=detail]').exists()).toBe(false)
  })

  it('moves the selection with the arrow keys and opens it with Enter', async () => {
    const app = await mountApp()
    await press(document.body, 'ArrowDown')
    await press(document.body, 'ArrowDown')
    expect(app.get('[aria-selected=true]').attributes('data-code')).toBe('2019-320105-47-01-000002')
    await press(document.body, 'Enter')
    expect(tauri.callsOf('get_project')).toEqual([{ projectCode: '2019-320105-47-01-000002' }])
  })

  it('updates the open project when the replica changes under it', async () => {
    const app = await mountApp()
    await type(app, CODE)
    await press(app.get('[data-testid=search]').element, 'Enter')

    tauri.handle('get_project', () => projectDetail(CODE, 100_000_00))
    tauri.emit('replica-changed', { cursor: 99, project_codes: [CODE] })
    await tauri.settle()
    await nextTick()

    const infra = app.get('[data-testid=fee-row][data-kind=infra]')
    expect(infra.get('[data-testid=fee-paid]').attributes('data-fen')).toBe('10000000')
    expect(infra.get('[data-testid=fee-outstanding]').attributes('data-fen')).toBe('0')
  })

  it('refetches the list when the first snapshot load finishes, event or no event', async () => {
    let loaded = false
    tauri.handle('sync_status', () => syncStatus({ state: 'bootstrapping', bootstrap: { received: 0, total: 9_724 } }))
    tauri.handle('list_projects', (args) => {
      const q = args?.query as ProjectQuery
      const rows = loaded ? ROWS.slice(0, 50) : []
      const counts = { awaiting_assessment: 0, due: rows.length, partly_paid: 0, awaiting_tax_clearance: 0, cleared: 0, overdue: 0, tracked: 0, all: rows.length }
      return { total: rows.length, counts, rows: rows.slice(q.offset, q.offset + q.limit) }
    })
    const app = await mountApp()
    expect(app.findAll('[data-testid=project-row]')).toHaveLength(0)

    // Only the state change arrives (its replica-changed went missing).
    loaded = true
    tauri.emit('sync-status', syncStatus({ state: 'online' }))
    await tauri.settle()
    await nextTick()

    expect(app.get('[data-testid=list-total]').text()).toBe('50')
    expect(app.findAll('[data-testid=project-row]').length).toBeGreaterThan(5)
  })

  it('shows the offline banner only while offline', async () => {
    const app = await mountApp()
    tauri.emit('sync-status', syncStatus({ state: 'offline' }))
    await nextTick()
    expect(app.get('[data-testid=sync-state]').attributes('data-state')).toBe('offline')
    expect(app.get('[data-testid=offline-banner]').text()).toBe('✕ 离线：显示本机副本数据（最后同步 2026年11月24日 09:30:05）')

    tauri.emit('sync-status', syncStatus({ state: 'syncing' }))
    await nextTick()
    expect(app.find('[data-testid=offline-banner]').exists()).toBe(false)
  })

  it('shows the red integrity alert above the offline banner, and the data stays usable', async () => {
    const reason =
      '数据完整性校验失败：批次 (106, 107] 的变更内容与数据中心签发的哈希链不符：有变更被改动或缺失。本批未应用，将从数据中心重新核对。'
    const app = await mountApp()
    tauri.emit('sync-status', syncStatus({ integrity: { alert: false, reason: null, detected_at: null, repaired_at: null } }))
    await nextTick()
    expect(app.find('[data-testid=integrity-banner]').exists()).toBe(false)

    const alert = { alert: true, reason, detected_at: '2026-11-25T01:02:03Z', repaired_at: null }
    tauri.emit('sync-status', syncStatus({ state: 'offline', integrity: alert }))
    await nextTick()
    const banner = app.get('[data-testid=integrity-banner]')
    expect(banner.attributes('role')).toBe('alert')
    expect(banner.get('[data-testid=integrity-headline]').text()).toBe(
      '数据完整性告警：已停止应用数据中心的更新，正在从数据中心重新核对',
    )
    expect(banner.get('[data-testid=integrity-reason]').text()).toBe(reason)
    expect(banner.get('[data-testid=integrity-detected]').text()).toBe('发现时间 2026年11月25日 09:02:03')
    expect(banner.text()).toContain('屏幕上的数据为最后一次核验通过的数据')
    expect(app.get('[data-testid=integrity-state]').attributes('data-alert')).toBe('true')

    // Both banners: the integrity one first, and it does not look like the offline one.
    const offline = app.get('[data-testid=offline-banner]')
    expect(banner.element.compareDocumentPosition(offline.element) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy()
    expect(banner.classes()).not.toContain('offline-banner')

    // The replica stays readable: the list and a project still open.
    expect(app.findAll('[data-testid=project-row]').length).toBeGreaterThan(5)
    await type(app, CODE)
    await press(app.get('[data-testid=search]').element, 'Enter')
    expect(app.get('[data-testid=detail]').attributes('data-code')).toBe(CODE)

    const repairedAt = new Date(Date.now() - 60_000).toISOString()
    tauri.emit('sync-status', syncStatus({ integrity: { ...alert, alert: false, repaired_at: repairedAt } }))
    await nextTick()
    expect(app.find('[data-testid=integrity-banner]').exists()).toBe(false)
    expect(app.get('[data-testid=integrity-state]').attributes('data-alert')).toBe('false')
    expect(app.get('[data-testid=integrity-repaired]').text()).toContain('修复')
  })

  it('shows the integrity alert in English after the toggle', async () => {
    const reason = '数据完整性校验失败：数据中心签名无效。'
    tauri.handle('sync_status', () =>
      syncStatus({ integrity: { alert: true, reason, detected_at: '2026-11-25T01:02:03Z', repaired_at: null } }),
    )
    const app = await mountApp()
    expect(app.get('[data-testid=integrity-headline]').text()).toContain('数据完整性告警')
    await app.get('[data-testid=lang-toggle]').trigger('click')
    const banner = app.get('[data-testid=integrity-banner]')
    expect(banner.get('[data-testid=integrity-headline]').text()).toBe(
      'Data integrity alert: updates from the data centre are stopped while the data is re-checked against the data centre',
    )
    expect(banner.get('[data-testid=integrity-reason]').text()).toBe(reason)
    expect(banner.get('[data-testid=integrity-detected]').text()).toBe('Detected 2026-11-25 09:02:03')
    expect(banner.text()).not.toContain('数据完整性告警')
    expect(app.get('[data-testid=integrity-state]').text()).toContain('Integrity alert')
  })

  it('switches to English and remembers it', async () => {
    const app = await mountApp()
    await app.get('[data-testid=lang-toggle]').trigger('click')
    expect(app.get('[data-testid=sync-state]').text()).toContain('Online')
    expect(localStorage.getItem('yizhan.locale')).toBe('en')
    expect(document.documentElement.lang).toBe('en')
  })

  it('shows a clerk command at once: the detail is read again right after it', async () => {
    let tracked = false
    tauri.handle('get_project', () => ({
      ...projectDetail(CODE),
      tracked,
      tracking_pending: tracked,
      timeline: tracked
        ? [{ seq: 13, committed_at: '2026-11-24T02:30:00Z', entity: 'tracking', key: CODE, op: 'upsert' }]
        : [],
    }))
    tauri.handle('set_tracking', (args) => {
      tracked = args?.tracked as boolean
      return outboxEntry('cmd-1', { kind: 'tracking', project_code: CODE, tracked }, { state: 'pending', reject_reason: null })
    })
    const app = await mountApp()
    await type(app, CODE)
    await press(app.get('[data-testid=search]').element, 'Enter')
    expect(app.get('[data-testid=counter-actions]').text()).toContain('窗口办理')

    await app.get('[data-testid=tracking-toggle]').trigger('click')
    await flush()
    expect(tauri.callsOf('set_tracking')).toEqual([{ projectCode: CODE, tracked: true }])
    expect(tauri.callsOf('get_project')).toHaveLength(2)
    const toggle = app.get('[data-testid=tracking-toggle]')
    expect(toggle.attributes('data-tracked')).toBe('true')
    expect(toggle.attributes('data-pending')).toBe('true')
    expect(app.get('[data-testid=detail]').text()).toContain('项目跟踪 更新')
  })

  it('opens the conflicts from the status bar, closes them with Esc and opens a project from them', async () => {
    tauri.handle('sync_status', () => syncStatus({ outbox: { pending: 2, conflicts: 1 } }))
    tauri.handle('list_conflicts', () => [outboxEntry('cmd-9', { kind: 'final_check', project_code: CODE, remark: '' })])
    const app = await mountApp()
    expect(app.get('[data-testid=outbox-pending]').text()).toContain('待上传 2')
    expect(app.find('[data-testid=conflicts-panel]').exists()).toBe(false)

    await app.get('[data-testid=conflicts-open]').trigger('click')
    await tauri.settle()
    await nextTick()
    const panel = app.get('[data-testid=conflicts-panel]')
    expect(panel.get('tr.conflict-row [data-testid=conflict-action]').attributes('data-command-id')).toBe('cmd-9')
    expect(panel.text()).toContain('尚未完费，不能复核')

    // The arrow keys belong to the dialog, not to the list behind it.
    await press(document.body, 'ArrowDown')
    expect(app.get('[aria-selected=true]').attributes('data-code')).toBe('2019-320105-47-01-000000')

    await press(document.body, 'Escape')
    expect(app.find('[data-testid=conflicts-panel]').exists()).toBe(false)

    // A new conflict count while it is open reloads the list.
    await app.get('[data-testid=conflicts-open]').trigger('click')
    await tauri.settle()
    expect(tauri.callsOf('list_conflicts')).toHaveLength(2)
    tauri.emit('sync-status', syncStatus({ outbox: { pending: 2, conflicts: 2 } }))
    await tauri.settle()
    await nextTick()
    expect(tauri.callsOf('list_conflicts')).toHaveLength(3)

    await app.get('[data-testid=conflict-project]').trigger('click')
    await flush()
    expect(app.find('[data-testid=conflicts-panel]').exists()).toBe(false)
    expect(tauri.callsOf('get_project')).toEqual([{ projectCode: CODE }])
    expect(app.get('[data-testid=detail]').attributes('data-code')).toBe(CODE)

    // Esc with the panel open closes the panel only; the next one leaves the project.
    await app.get('[data-testid=conflicts-open]').trigger('click')
    await tauri.settle()
    await press(document.body, 'Escape')
    expect(app.find('[data-testid=conflicts-panel]').exists()).toBe(false)
    expect(app.find('[data-testid=detail]').exists()).toBe(true)
    await press(document.body, 'Escape')
    expect(app.find('[data-testid=detail]').exists()).toBe(false)
  })

  it('reaches 数据接入 from the navigation and comes back to the projects by F2', async () => {
    tauri.handle('list_connectors', () => [connectorStatus()])
    tauri.handle('list_quarantine', () => [quarantineEntry(3)])
    const app = await mountApp()
    const admin = app.get('[data-testid=nav-admin]')
    expect(admin.element.tagName).toBe('BUTTON')
    expect(admin.text()).toContain('数据接入')
    expect(app.get('[data-testid=nav-projects]').attributes('aria-current')).toBe('page')
    expect(app.find('[data-testid=admin-view]').exists()).toBe(false)

    await admin.trigger('click')
    await flush()
    expect(admin.attributes('aria-current')).toBe('page')
    expect(app.get('[data-testid=admin-view]').find('[data-testid=connector]').exists()).toBe(true)
    expect(tauri.callsOf('list_connectors')).toHaveLength(1)
    expect(tauri.callsOf('list_quarantine')).toEqual([{ state: 'open' }])
    expect(app.get('[data-testid=list-total]').isVisible()).toBe(false)

    // The list's keys do nothing behind the admin view.
    await press(document.body, 'ArrowDown')
    await press(document.body, 'Enter')
    expect(tauri.callsOf('get_project')).toHaveLength(0)

    // Esc in one of its dialogs closes the dialog and stays in the admin view.
    await app.get('[data-testid=quarantine-dismiss]').trigger('click')
    await nextTick()
    await press(app.get('[data-testid=dismiss-reason]').element, 'Escape')
    expect(app.find('[data-testid=dismiss-dialog]').exists()).toBe(false)
    expect(app.find('[data-testid=admin-view]').exists()).toBe(true)

    await press(document.body, 'F2')
    expect(app.find('[data-testid=admin-view]').exists()).toBe(false)
    expect(app.get('[data-testid=nav-projects]').attributes('aria-current')).toBe('page')
    expect(document.activeElement).toBe(app.get('[data-testid=search]').element)
    expect(app.get('[aria-selected=true]').attributes('data-code')).toBe('2019-320105-47-01-000000')
  })

  it('opens a code scanned into the search box while the admin view is shown', async () => {
    tauri.handle('list_connectors', () => [])
    tauri.handle('list_quarantine', () => [])
    const app = await mountApp()
    await app.get('[data-testid=nav-admin]').trigger('click')
    await flush()
    await type(app, CODE)
    await flush()
    expect(app.find('[data-testid=admin-view]').exists()).toBe(false)
    await app.get('[data-testid=nav-admin]').trigger('click')
    await flush()
    await press(app.get('[data-testid=search]').element, 'Enter')
    expect(tauri.callsOf('get_project')).toEqual([{ projectCode: CODE }])
    expect(app.find('[data-testid=admin-view]').exists()).toBe(false)
    expect(app.get('[data-testid=detail]').attributes('data-code')).toBe(CODE)
  })

  it('marks tracked projects with why, and the most serious alert, in the list', async () => {
    tauri.handle('list_projects', (args) => {
      const q = args?.query as ProjectQuery
      const rows = [
        { ...row(0), tracked: true, tracked_reason: 'overdue' as const, alert_level: 'orange' as const },
        { ...row(1), tracked: true, tracked_reason: 'clerk' as const },
        row(2),
      ]
      const shown = q.tracked ? rows.filter((r) => r.tracked) : rows
      const counts = { awaiting_assessment: 0, due: 2, partly_paid: 0, awaiting_tax_clearance: 0, cleared: 1, overdue: 1, tracked: 2, all: 3 }
      return { total: shown.length, counts, rows: shown.slice(q.offset, q.offset + q.limit) }
    })
    const app = await mountApp()
    const rows = app.findAll('[data-testid=project-row]')
    expect(rows.map((r) => r.attributes('data-tracked'))).toEqual(['true', 'true', 'false'])
    expect(rows[0]?.get('[data-testid=tracking-mark]').text()).toContain('逾期自动跟踪')
    expect(rows[1]?.get('[data-testid=tracking-mark]').text()).toContain('人工跟踪')
    expect(rows[2]?.find('[data-testid=tracking-mark]').exists()).toBe(false)
    const badge = rows[0]?.get('[data-testid=project-alert-badge]')
    expect(badge?.attributes('data-level')).toBe('orange')
    expect(badge?.text()).toContain('橙色预警')
    expect(rows[1]?.find('[data-testid=project-alert-badge]').exists()).toBe(false)

    const chip = app.get('[data-testid=filter-tracked]')
    expect(chip.text()).toContain('2')
    expect(chip.classes()).not.toContain('is-checked')
    await chip.trigger('click')
    await tauri.settle()
    await nextTick()
    expect(tauri.callsOf('list_projects').at(-1)).toEqual({ query: { tracked: true, offset: 0, limit: 100 } })
    expect(chip.classes()).toContain('is-checked')
    expect(app.get('[data-testid=list-total]').text()).toBe('2')
  })

  it('shows a project’s alerts and why it is tracked in its detail', async () => {
    tauri.handle('get_project', () => ({
      ...projectDetail(CODE),
      tracked: true,
      tracked_reason: 'overdue',
      alerts: [alertView(), alertView({ rule_id: 'payment-due-soon', level: 'yellow', state: 'resolved' })],
    }))
    const app = await mountApp()
    await type(app, CODE)
    await press(app.get('[data-testid=search]').element, 'Enter')
    const detail = app.get('[data-testid=detail]')
    expect(detail.get('.head [data-testid=tracking-mark]').text()).toContain('逾期自动跟踪')
    const alerts = detail.get('[data-testid=project-alerts]')
    expect(alerts.findAll('[data-testid=alert-item]').map((a) => a.attributes('data-state'))).toEqual(['open', 'resolved'])
    // Already in the project: its alerts do not lead anywhere else.
    expect(alerts.find('[data-testid=alert-project]').exists()).toBe(false)
  })

  it('reaches 预警 from the navigation, opens a project from the queue, and F2 leads back to the search', async () => {
    tauri.handle('list_alerts', (args) => {
      const q = args?.query as AlertQuery
      const alerts = q.system_only ? [] : [alertView()]
      return { total: alerts.length, counts: { red: 0, orange: 1, yellow: 0 }, departments: ['收费窗口'], alerts }
    })
    tauri.handle('alert_trend', () => ({ days: [] }))
    const app = await mountApp()
    const nav = app.get('[data-testid=nav-alerts]')
    expect(nav.element.tagName).toBe('BUTTON')
    expect(nav.text()).toContain('预警')
    await nav.trigger('click')
    await flush()
    expect(nav.attributes('aria-current')).toBe('page')
    expect(app.get('[data-testid=alert-count-orange]').text()).toContain('1')

    // The list's keys do nothing behind the queue.
    await press(document.body, 'ArrowDown')
    await press(document.body, 'Enter')
    expect(tauri.callsOf('get_project')).toHaveLength(0)

    await app.get('[data-testid=alert-queue] [data-testid=alert-project]').trigger('click')
    await flush()
    expect(app.find('[data-testid=alerts-view]').exists()).toBe(false)
    expect(app.get('[data-testid=detail]').attributes('data-code')).toBe(CODE)

    await nav.trigger('click')
    await flush()
    await press(document.body, 'F2')
    expect(app.find('[data-testid=alerts-view]').exists()).toBe(false)
    expect(document.activeElement).toBe(app.get('[data-testid=search]').element)
  })

  it('shows the emergency banner under the integrity alert, and opens the queue from it', async () => {
    tauri.handle('sync_status', () =>
      syncStatus({ integrity: { alert: true, reason: '签名无效', detected_at: '2026-11-25T01:02:03Z', repaired_at: null } }),
    )
    tauri.handle('list_alerts', (args) => {
      const alerts = (args?.query as AlertQuery).system_only ? [systemAlert()] : []
      return { total: alerts.length, counts: { red: 1, orange: 0, yellow: 0 }, departments: [], alerts }
    })
    tauri.handle('alert_trend', () => ({ days: [] }))
    const app = await mountApp()
    const integrity = app.get('[data-testid=integrity-banner]')
    const emergency = app.get('[data-testid=emergency-banner]')
    expect(emergency.attributes('data-level')).toBe('red')
    expect(integrity.element.compareDocumentPosition(emergency.element) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy()
    expect(emergency.element.compareDocumentPosition(app.get('header').element) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy()

    await emergency.get('[data-testid=emergency-open-queue]').trigger('click')
    await flush()
    expect(app.get('[data-testid=nav-alerts]').attributes('aria-current')).toBe('page')
    expect(app.find('[data-testid=alerts-view]').exists()).toBe(true)
  })

  it('reaches 开具 from the navigation, checks a project there and opens it in 项目', async () => {
    tauri.handle('signing_status', () => signingStatus())
    tauri.handle('get_project', (args) => ({ ...clearedProject(args?.projectCode as string), documents: [documentLine()] }))
    const app = await mountApp()
    const nav = app.get('[data-testid=nav-issue]')
    expect(nav.text()).toContain('开具')
    await nav.trigger('click')
    await flush()
    expect(nav.attributes('aria-current')).toBe('page')
    expect(tauri.callsOf('list_projects').at(-1)).toEqual({ query: { issuable: true, offset: 0, limit: 200 } })
    expect(document.activeElement).toBe(app.get('[data-testid=issue-search]').element)

    // The list's keys do nothing behind the queue.
    await press(document.body, 'Enter')
    expect(tauri.callsOf('get_project')).toHaveLength(0)

    await app.get('[data-testid=issue-row]').trigger('click')
    await tauri.settle()
    await nextTick()
    expect(app.get('[data-testid=final-check-panel]').attributes('data-code')).toBe(ROWS[0]?.project_code)
    await app.get('[data-testid=final-check-open-project]').trigger('click')
    await flush()
    expect(app.find('[data-testid=issue-view]').exists()).toBe(false)
    const detail = app.get('[data-testid=detail]')
    expect(detail.attributes('data-code')).toBe(ROWS[0]?.project_code)
    expect(detail.get('.head [data-testid=stage-pill]').text()).toContain('已开具')
    expect(detail.get('[data-testid=document-row]').attributes('data-number')).toBe('PZ0000001234')

    // Back in 开具, the project being checked is still there.
    await nav.trigger('click')
    await flush()
    expect(app.get('[data-testid=final-check-panel]').attributes('data-code')).toBe(ROWS[0]?.project_code)
    await press(document.body, 'F2')
    expect(app.find('[data-testid=issue-view]').exists()).toBe(false)
    expect(document.activeElement).toBe(app.get('[data-testid=search]').element)
  }, MOUNTS_THE_APP)

  it('reaches 验真 from the navigation with the focus in its field', async () => {
    tauri.handle('verify_document', () => Promise.reject('二维码缺少字段 n，不是本系统的票据二维码或已损坏'))
    const app = await mountApp()
    const nav = app.get('[data-testid=nav-verify]')
    expect(nav.text()).toContain('验真')
    await nav.trigger('click')
    await flush()
    expect(nav.attributes('aria-current')).toBe('page')
    const input = app.get('[data-testid=verify-input]')
    expect(document.activeElement).toBe(input.element)
    // The scanner's text and Enter are the field's, not the project list's.
    await input.setValue('http://example.invalid/?k=voucher')
    await press(input.element, 'Enter')
    expect(tauri.callsOf('verify_document')).toEqual([{ text: 'http://example.invalid/?k=voucher' }])
    expect(tauri.callsOf('get_project')).toHaveLength(0)
    expect(app.get('[data-testid=verify-error]').text()).toContain('二维码缺少字段 n')
    // Esc clears the field and stays.
    await press(input.element, 'Escape')
    expect(app.find('[data-testid=verify-view]').exists()).toBe(true)
    expect((input.element as HTMLInputElement).value).toBe('')
  })

  it('shows the counter actions in English after the toggle', async () => {
    const app = await mountApp()
    await type(app, CODE)
    await press(app.get('[data-testid=search]').element, 'Enter')
    await app.get('[data-testid=lang-toggle]').trigger('click')
    const actions = app.get('[data-testid=counter-actions]')
    expect(actions.text()).toContain('Counter actions')
    expect(actions.get('[data-testid=final-check-button]').text()).toContain('Final check')
    expect(actions.get('[data-testid=tracking-state]').text()).toBe('Tracking: off')
    expect(actions.get('[data-testid=note-submit]').text()).toBe('Add note')
    expect(actions.text()).not.toContain('窗口办理')
  })

  it('opens a project at its address, and the address follows the project opened and closed', async () => {
    const app = await mountApp(`/projects/${CODE}`)
    expect(tauri.callsOf('get_project')).toEqual([{ projectCode: CODE }])
    expect(app.get('[data-testid=detail]').attributes('data-code')).toBe(CODE)
    expect(app.get('[data-testid=nav-projects]').attributes('aria-current')).toBe('page')

    await press(document.body, 'Escape')
    expect(router.currentRoute.value.fullPath).toBe('/projects')
    expect(app.find('[data-testid=detail]').exists()).toBe(false)

    await press(document.body, 'Enter')
    expect(router.currentRoute.value.fullPath).toBe('/projects/2019-320105-47-01-000000')
    expect(app.get('[data-testid=detail]').attributes('data-code')).toBe('2019-320105-47-01-000000')
  })

  it('opens each view at its address, with the list kept behind it', async () => {
    tauri.handle('list_connectors', () => [])
    tauri.handle('list_quarantine', () => [])
    const app = await mountApp('/admin')
    expect(app.get('[data-testid=nav-admin]').attributes('aria-current')).toBe('page')
    expect(app.find('[data-testid=admin-view]').exists()).toBe(true)
    expect(app.get('[data-testid=list-total]').isVisible()).toBe(false)

    await router.push('/verify')
    await flush()
    expect(app.find('[data-testid=admin-view]').exists()).toBe(false)
    expect(app.find('[data-testid=verify-view]').exists()).toBe(true)

    await router.push('/no-such-view')
    await flush()
    expect(router.currentRoute.value.name).toBe('projects')
    expect(app.get('[data-testid=list-total]').isVisible()).toBe(true)
  })
})
