// 在线会话: 强制下线 ends the session named by its id, once confirmed; the hub's refusal (one's
// own session) is said on the screen.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import SessionsView from '../src/components/admin/SessionsView.vue'
import { createAppI18n } from '../src/i18n'
import type { SessionRecord } from '../src/api'
import { flush } from './dom'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

function session(id: string, account: string, device: string | null): SessionRecord {
  return {
    id,
    account,
    address: '10.1.2.3',
    device,
    created_at: '2026-12-07T01:00:00Z',
    last_seen: '2026-12-07T01:10:00Z',
    ended_at: null,
    end_reason: null,
    awaiting_second_factor: false,
  }
}

let wrapper: VueWrapper | null = null
let online: SessionRecord[] = []

describe('SessionsView', () => {
  beforeEach(async () => {
    tauri.reset()
    online = [session('a1b2c3', 'clerk01', 'counter-01'), session('d4e5f6', 'sysadmin', null)]
    tauri.handle('list_sessions', () => online)
    tauri.handle('end_session', (args) => {
      online = online.filter((s) => s.id !== (args as { id: string }).id)
      return null
    })
    wrapper = mount(SessionsView, { global: { plugins: [createAppI18n('zh-CN')] }, attachTo: document.body })
    await flush()
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  it('lists who is online, from where', () => {
    const table = (wrapper as VueWrapper).get('[data-testid=sessions-table]').text()
    expect(table).toContain('clerk01')
    expect(table).toContain('counter-01')
    expect(table).toContain('非窗口终端')
  })

  it('forces a session out by its id once confirmed, and lists it no more', async () => {
    const view = wrapper as VueWrapper
    await view.get('[data-testid=session-end-clerk01]').trigger('click')
    await flush()
    expect(view.get('[data-testid=session-end-dialog]').text()).toContain('clerk01 在 counter-01 上的会话将立即结束')
    expect(tauri.callsOf('end_session')).toHaveLength(0)
    await view.get('[data-testid=session-end-confirm]').trigger('click')
    await flush()
    expect(tauri.callsOf('end_session')).toEqual([{ id: 'a1b2c3' }])
    expect(view.find('[data-testid=session-end-dialog]').exists()).toBe(false)
    expect(view.get('[data-testid=sessions-outcome]').text()).toContain('clerk01 已被强制下线')
    expect(view.get('[data-testid=sessions-table]').text()).not.toContain('counter-01')
  })

  it('says why the hub refused to end a session', async () => {
    tauri.handle('end_session', () => {
      throw { code: 'own_account', message: '不能停用或强制下线自己的账号' }
    })
    const view = wrapper as VueWrapper
    await view.get('[data-testid=session-end-sysadmin]').trigger('click')
    await flush()
    await view.get('[data-testid=session-end-confirm]').trigger('click')
    await flush()
    expect(view.get('[data-testid=sessions-action-error]').text()).toContain('不能停用、重置或强制下线自己的账号')
  })
})
