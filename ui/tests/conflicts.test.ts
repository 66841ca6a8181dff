// 待处理冲突: the list of refused commands and what 放弃 and 重做 do with it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import ConflictsPanel from '../src/components/shared/ConflictsPanel.vue'
import { createAppI18n } from '../src/i18n'
import { useSyncStatusStore } from '../src/stores/syncStatus'
import type { OutboxEntry } from '../src/api'
import type { Locale } from '../src/format'
import { CODE, issuedEntry, outboxEntry, syncStatus } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const OTHER = '2020-320102-70-02-000777'
const LONG_NOTE = '建设单位来电称资金已到位，将于下周一前缴清城市基础设施配套费余款，并补交完税反馈单原件，请窗口届时核对后办结。'

let conflicts: OutboxEntry[] = []
let wrapper: VueWrapper | null = null

function fixtures(): OutboxEntry[] {
  return [
    outboxEntry('cmd-3', { kind: 'final_check', project_code: CODE, remark: '' }),
    outboxEntry(
      'cmd-2',
      { kind: 'follow_up_note', project_code: OTHER, text: LONG_NOTE },
      { reject_code: 'unknown_project', reject_reason: `数据中心没有项目 ${OTHER}，请核对项目编号。`, clerk: '窗口01-李强' },
    ),
    outboxEntry(
      'cmd-1',
      { kind: 'tracking', project_code: CODE, tracked: true },
      { reject_code: 'hub_error', reject_reason: null, last_error: '数据中心多次返回错误，已停止重试。' },
    ),
  ]
}

async function flush(): Promise<void> {
  await tauri.settle()
  await nextTick()
}

/** el-table draws the rows and gives them no attributes: each is a tr.conflict-row, and its command id is on its 办理事项. */
function rows(panel: VueWrapper) {
  return panel.findAll('tr.conflict-row')
}

function commandIds(panel: VueWrapper): (string | undefined)[] {
  return rows(panel).map((r) => r.get('[data-testid=conflict-action]').attributes('data-command-id'))
}

function row(panel: VueWrapper, commandId: string) {
  const found = rows(panel).find((r) => r.find(`[data-command-id=${commandId}]`).exists())
  if (!found) throw new Error(`no row for ${commandId}`)
  return found
}

/** 待处理冲突 as the sync status counts them, which the panel follows. */
function countConflicts(count: number): void {
  useSyncStatusStore().status = syncStatus({ outbox: { pending: 0, conflicts: count } })
}

async function mountPanel(count = 3, locale: Locale = 'zh-CN'): Promise<VueWrapper> {
  countConflicts(count)
  wrapper = mount(ConflictsPanel, {
    global: { plugins: [createAppI18n(locale)] },
    attachTo: document.body,
  })
  await flush()
  return wrapper
}

describe('ConflictsPanel', () => {
  beforeEach(() => {
    tauri.reset()
    conflicts = fixtures()
    tauri.handle('list_conflicts', () => conflicts)
    tauri.handle('discard_conflict', (args) => {
      conflicts = conflicts.filter((c) => c.command_id !== args?.commandId)
      return null
    })
    tauri.handle('redo_conflict', (args) => {
      const old = conflicts.find((c) => c.command_id === args?.commandId)
      if (!old) return Promise.reject('没有这条待处理冲突。')
      conflicts = conflicts.filter((c) => c !== old)
      return { ...old, command_id: 'cmd-redo', state: 'pending', reject_code: null, reject_reason: null }
    })
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  it('lists each refused command with what it was, who and when, and the reason', async () => {
    const panel = await mountPanel()
    expect(tauri.callsOf('list_conflicts')).toHaveLength(1)
    expect(commandIds(panel)).toEqual(['cmd-3', 'cmd-2', 'cmd-1'])
    const [first, second, third] = rows(panel)

    expect(first?.get('[data-testid=conflict-project]').text()).toBe(CODE)
    expect(first?.get('[data-testid=conflict-action]').text()).toBe('复核')
    expect(first?.text()).toContain('窗口03-王芳')
    expect(first?.text()).toContain('2026年11月24日 10:30:00')
    expect(first?.get('[data-testid=conflict-reason]').text()).toContain(
      '项目当前为「部分到账」，尚未完费，不能复核。请待费用全部到账并收到完税反馈单后再复核。',
    )

    expect(second?.get('[data-testid=conflict-action]').text()).toBe(`跟进备注：${[...LONG_NOTE].slice(0, 40).join('')}…`)
    expect(second?.text()).toContain('窗口01-李强')
    expect(second?.get('[data-testid=conflict-reason]').text()).toContain(`数据中心没有项目 ${OTHER}，请核对项目编号。`)

    expect(third?.get('[data-testid=conflict-action]').text()).toBe('项目跟踪：开')
    // No reason from the hub: the counter's own last error says why it gave up.
    expect(third?.get('[data-testid=conflict-reason]').text()).toContain('数据中心多次返回错误，已停止重试。')
  })

  it('discards one and reloads the list', async () => {
    const panel = await mountPanel()
    await row(panel, 'cmd-2').get('[data-testid=conflict-discard]').trigger('click')
    await flush()
    expect(tauri.callsOf('discard_conflict')).toEqual([{ commandId: 'cmd-2' }])
    expect(tauri.callsOf('redo_conflict')).toHaveLength(0)
    expect(tauri.callsOf('list_conflicts')).toHaveLength(2)
    expect(commandIds(panel)).toEqual(['cmd-3', 'cmd-1'])
  })

  it('redoes one and reloads the list', async () => {
    const panel = await mountPanel()
    await row(panel, 'cmd-1').get('[data-testid=conflict-redo]').trigger('click')
    await flush()
    expect(tauri.callsOf('redo_conflict')).toEqual([{ commandId: 'cmd-1' }])
    expect(tauri.callsOf('discard_conflict')).toHaveLength(0)
    expect(tauri.callsOf('list_conflicts')).toHaveLength(2)
    expect(commandIds(panel)).toEqual(['cmd-3', 'cmd-2'])
  })

  it('shows a refused redo in its row and keeps the row', async () => {
    const refusal = '项目当前为「待完税」，尚未完费，不能复核。请待费用全部到账并收到完税反馈单后再复核。'
    tauri.handle('redo_conflict', () => Promise.reject(refusal))
    const panel = await mountPanel()
    await row(panel, 'cmd-3').get('[data-testid=conflict-redo]').trigger('click')
    await flush()
    const refused = row(panel, 'cmd-3')
    expect(refused.get('[data-testid=command-error]').text()).toBe(`⚠ ${refusal}`)
    expect(panel.findAll('[data-testid=command-error]')).toHaveLength(1)
    expect(tauri.callsOf('list_conflicts')).toHaveLength(2)

    // Once the row is gone (discarded here), its message goes with it.
    await refused.get('[data-testid=conflict-discard]').trigger('click')
    await flush()
    expect(panel.find('[data-testid=command-error]').exists()).toBe(false)
  })

  it('reloads when the conflict count changes', async () => {
    const panel = await mountPanel(3)
    conflicts = conflicts.slice(0, 1)
    countConflicts(1)
    await flush()
    expect(tauri.callsOf('list_conflicts')).toHaveLength(2)
    expect(rows(panel)).toHaveLength(1)

    conflicts = []
    countConflicts(0)
    await flush()
    expect(rows(panel)).toHaveLength(0)
    expect(panel.get('[data-testid=conflicts-empty]').text()).toContain('没有待处理的冲突')
  })

  it('asks to open the project when its code is clicked, and to close', async () => {
    const panel = await mountPanel()
    await row(panel, 'cmd-2').get('[data-testid=conflict-project]').trigger('click')
    expect(panel.emitted('open')).toEqual([[OTHER]])
    await panel.get('[data-testid=conflicts-close]').trigger('click')
    expect(panel.emitted('close')).toHaveLength(1)
  })

  it('describes a refused answer to an alert, and offers no project for a system alert', async () => {
    const alertKey = `payment-overdue:project/${CODE}`
    conflicts = [
      outboxEntry('cmd-6', { kind: 'handle_alert', alert_key: alertKey, project_code: CODE, handling: { step: 'resolve', reason: LONG_NOTE } }),
      outboxEntry('cmd-5', { kind: 'handle_alert', alert_key: alertKey, project_code: CODE, handling: { step: 'assign', assignee: '窗口03-王芳' } }),
      outboxEntry(
        'cmd-4',
        { kind: 'handle_alert', alert_key: 'connector-down:connector/planning-cdc', project_code: '', handling: { step: 'acknowledge' } },
        { reject_code: 'alert_resolved', reject_reason: '该预警已于 2026-11-24 10:30 解除，无需再处理。' },
      ),
    ]
    const panel = await mountPanel(3)
    const [first, , third] = rows(panel)
    expect(rows(panel).map((r) => r.get('[data-testid=conflict-action]').text())).toEqual([
      `解除预警：${[...LONG_NOTE].slice(0, 40).join('')}…`,
      '指派预警给 窗口03-王芳',
      '确认预警',
    ])
    expect(first?.get('[data-testid=conflict-project]').text()).toBe(CODE)
    expect(third?.find('[data-testid=conflict-project]').exists()).toBe(false)
    expect(third?.get('[data-testid=conflict-system]').text()).toBe('系统预警')
    expect(third?.get('[data-testid=conflict-reason]').text()).toContain('该预警已于 2026-11-24 10:30 解除')
  })

  it('describes refused document commands by their number', async () => {
    const permit = { kind: 'link_permit' as const, project_code: CODE, construction_permit_no: '320105202611240101' }
    conflicts = [
      { ...issuedEntry(CODE, 'invoice', 42), state: 'rejected' },
      outboxEntry('cmd-8', { kind: 'void_document', project_code: CODE, number: 'PZ0000001234', reason: '交款人名称有误' }),
      outboxEntry('cmd-7', { kind: 'reprint_document', project_code: CODE, number: 'PZ0000001234', pdf_sm3: '0'.repeat(64) }),
      outboxEntry('cmd-6', permit),
    ]
    const panel = await mountPanel(4)
    expect(panel.findAll('[data-testid=conflict-action]').map((a) => a.text())).toEqual([
      '开具非税收入票据 PJ0000000042',
      '作废票据 PZ0000001234：交款人名称有误',
      '补打票据 PZ0000001234',
      '关联施工许可 320105202611240101',
    ])
  })

  it('says it in English', async () => {
    const panel = await mountPanel(3, 'en')
    expect(panel.text()).toContain('Conflicts to resolve')
    const [first, , third] = rows(panel)
    expect(first?.get('[data-testid=conflict-action]').text()).toBe('Final check')
    expect(third?.get('[data-testid=conflict-action]').text()).toBe('Tracking: on')
    expect(first?.get('[data-testid=conflict-discard]').text()).toBe('Discard')
    expect(first?.get('[data-testid=conflict-redo]').text()).toBe('Redo')
  })
})
