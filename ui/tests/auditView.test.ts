// 审计记录: the audit administrator's search goes to the hub with the filters as typed, the
// records found are listed, and an export says where its file went.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import AuditView from '../src/components/admin/AuditView.vue'
import { createAppI18n } from '../src/i18n'
import type { AuditEntry } from '../src/api'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

function entry(id: number, event: string, result = 'success'): AuditEntry {
  return {
    id,
    at: '2026-12-07T02:00:00Z',
    local_at: null,
    user: 'clerk01',
    role: 'clerk',
    device: 'counter-01',
    address: '10.1.2.3',
    event,
    object: 'final_check 2025-320115-70-01-000001',
    result,
    reason: result === 'success' ? '' : 'not_cleared：尚未完费',
    detail: '',
  }
}

let wrapper: VueWrapper | null = null

async function flush(): Promise<void> {
  await tauri.settle()
  await nextTick()
}

describe('AuditView', () => {
  beforeEach(async () => {
    tauri.reset()
    tauri.handle('search_audit', () => [entry(2, 'clerk_command', 'failure'), entry(1, 'login_success')])
    tauri.handle('export_audit', () => '/home/auditor/Downloads/审计记录-20261207-100000.csv')
    wrapper = mount(AuditView, { global: { plugins: [createAppI18n('zh-CN')] }, attachTo: document.body })
    await flush()
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  it('lists the newest records at once, each with its result in words', async () => {
    const view = wrapper as VueWrapper
    expect(tauri.callsOf('search_audit')).toHaveLength(1)
    const events = view.findAll('[data-testid=audit-row-event]').map((cell) => cell.attributes('data-event'))
    expect(events).toEqual(['clerk_command', 'login_success'])
    expect(view.get('[data-testid=audit-row-event]').text()).toBe('业务办理指令（clerk_command）')
    expect(view.text()).toContain('失败')
    expect(view.text()).toContain('not_cleared：尚未完费')
  })

  it('searches with the filters as typed, empty ones left out', async () => {
    const view = wrapper as VueWrapper
    view.getComponent({ name: 'ElSelect' }).vm.$emit('update:modelValue', 'clerk_command')
    await view.get('[data-testid=audit-user]').setValue('clerk01')
    await view.get('form').trigger('submit')
    await flush()
    const calls = tauri.callsOf('search_audit')
    expect(calls).toHaveLength(2)
    expect(calls[1]).toMatchObject({ search: { event: 'clerk_command', user: 'clerk01', object: null, result: null, from: null } })
  })

  it('exports what the search finds and says where the file is', async () => {
    const view = wrapper as VueWrapper
    await view.get('[data-testid=audit-export-xlsx]').trigger('click')
    await flush()
    expect(tauri.callsOf('export_audit')[0]).toMatchObject({ format: 'xlsx' })
    expect(view.get('[data-testid=audit-exported]').text()).toContain('审计记录-20261207-100000.csv')
  })

  it('reads older records after a full page, with the same filters, below the last one listed', async () => {
    wrapper?.unmount()
    const page = Array.from({ length: 500 }, (_, i) => entry(1000 - i, 'login_success'))
    tauri.handle('search_audit', (args) => ((args as { search: { before_id: number | null } }).search.before_id === null ? page : [entry(3, 'logout')]))
    wrapper = mount(AuditView, { global: { plugins: [createAppI18n('zh-CN')] }, attachTo: document.body })
    await flush()
    const view = wrapper as VueWrapper
    await view.get('[data-testid=audit-older]').trigger('click')
    await flush()
    expect(tauri.callsOf('search_audit').at(-1)).toMatchObject({ search: { before_id: 501 } })
    expect(view.find('[data-testid=audit-older]').exists()).toBe(false)
    // A full page is 500 rows of the kit's table, slow to draw in jsdom.
  }, 30_000)
})
