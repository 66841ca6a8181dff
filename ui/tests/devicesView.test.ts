// 终端: the system administrator's counter PCs. A new PC's enrolment code is shown once and
// gone when its dialog closes; 挂失 says what the PC had not uploaded and asks for the reason;
// the hub's refusal is said where it applies.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import DevicesView from '../src/components/admin/DevicesView.vue'
import { createAppI18n } from '../src/i18n'
import type { DeviceListing } from '../src/api'
import { useSessionStore } from '../src/stores/session'
import { checked, flush } from './dom'
import { signedInPerson } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

function device(device_id: string, overrides: Partial<DeviceListing> = {}): DeviceListing {
  return {
    device_id,
    name: '江宁区 3 号窗口',
    scope: { kind: 'districts', districts: ['320115'] },
    state: 'active',
    enrolled_at: '2026-12-01T02:00:00Z',
    last_seen_at: '2026-12-08T02:00:00Z',
    clock_skew_seconds: 0,
    revoked_at: null,
    revoked_by: null,
    commands_not_uploaded: 0,
    documents_not_uploaded: 0,
    ...overrides,
  }
}

let wrapper: VueWrapper | null = null
let listed: DeviceListing[] = []

async function mountView(): Promise<VueWrapper> {
  wrapper = mount(DevicesView, { global: { plugins: [createAppI18n('zh-CN')] }, attachTo: document.body })
  await flush()
  return wrapper
}

describe('DevicesView', () => {
  beforeEach(() => {
    tauri.reset()
    listed = [device('jn-window-03', { clock_skew_seconds: -300, commands_not_uploaded: 4, documents_not_uploaded: 2 }), device('pk-window-01', { state: 'pending', last_seen_at: null })]
    tauri.handle('districts', () => [{ code: '320115', name: '江宁区' }])
    tauri.handle('list_devices', () => listed)
    const session = useSessionStore()
    session.person = signedInPerson({ permissions: ['device:manage', 'user:manage'] })
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('lists the PCs with their state, a clock that is off and what they had not uploaded', async () => {
    const view = await mountView()
    expect(view.get('[data-testid=device-state-jn-window-03]').text()).toBe('在用')
    expect(view.get('[data-testid=device-state-pk-window-01]').text()).toBe('待登记')
    const clock = view.get('[data-testid=device-clock-jn-window-03]')
    expect(clock.text()).toBe('慢 300 秒')
    expect(clock.classes()).toContain('off')
    expect(view.get('[data-testid=device-pending-jn-window-03]').text()).toBe('指令 4 条，票据 2 张')
    expect(view.get('[data-testid=devices-table]').text()).toContain('江宁区')
  })

  it('makes a new PC’s code, shows it once and forgets it when closed', async () => {
    tauri.handle('new_device', (args) => ({
      device_id: (args as { device: { device_id: string } }).device.device_id,
      code: 'ABCD-EFGH-JKMN',
      expires_at: '2026-12-09T02:00:00Z',
    }))
    const view = await mountView()
    await view.get('[data-testid=device-create]').trigger('click')
    await flush()
    await view.get('[data-testid=device-create-submit]').trigger('click')
    await checked()
    expect(view.get('[data-testid=device-id-problem]').text()).toContain('请填写终端编号')
    expect(tauri.callsOf('new_device')).toHaveLength(0)

    await view.get('[data-testid=device-id]').setValue(' gl-window-02 ')
    await view.get('[data-testid=device-name]').setValue('鼓楼区 2 号窗口')
    await view.get('[data-testid=device-create-submit]').trigger('click')
    await flush()
    expect(tauri.callsOf('new_device')).toEqual([{ device: { device_id: 'gl-window-02', name: '鼓楼区 2 号窗口', scope: { kind: 'all' } } }])
    expect(view.get('[data-testid=device-code]').text()).toBe('ABCD-EFGH-JKMN')
    expect(view.get('[data-testid=device-code-expires]').text()).toContain('2026年12月9日 10:00')
    await view.get('[data-testid=device-code-done]').trigger('click')
    await flush()
    expect(view.find('[data-testid=device-code]').exists()).toBe(false)
  })

  it('says a taken id on the id field', async () => {
    tauri.handle('new_device', () => Promise.reject({ code: 'device_taken', message: '终端编号 jn-window-03 已存在' }))
    const view = await mountView()
    await view.get('[data-testid=device-create]').trigger('click')
    await flush()
    await view.get('[data-testid=device-id]').setValue('jn-window-03')
    await view.get('[data-testid=device-name]').setValue('江宁区 3 号窗口')
    await view.get('[data-testid=device-create-submit]').trigger('click')
    await checked()
    expect(view.get('[data-testid=device-id-problem]').text()).toContain('已存在')
    expect(view.find('[data-testid=device-create-dialog]').exists()).toBe(true)
  })

  it('reports a PC lost only with a reason, saying the work it had not uploaded', async () => {
    tauri.handle('revoke_device', (args) => {
      const { deviceId } = args as { deviceId: string }
      listed = listed.map((d) => (d.device_id === deviceId ? { ...d, state: 'lost' } : d))
      return listed.find((d) => d.device_id === deviceId)
    })
    const view = await mountView()
    await view.get('[data-testid=device-lost-jn-window-03]').trigger('click')
    await flush()
    expect(view.get('[data-testid=device-not-uploaded]').text()).toContain('4 条指令、2 张票据未上传')
    await view.get('[data-testid=device-revoke-confirm]').trigger('click')
    await flush()
    expect(view.get('[data-testid=device-revoke-problem]').text()).toContain('请写明原因')
    expect(tauri.callsOf('revoke_device')).toHaveLength(0)

    await view.get('[data-testid=device-reason]').setValue('窗口电脑被盗')
    await view.get('[data-testid=device-revoke-confirm]').trigger('click')
    await flush()
    expect(tauri.callsOf('revoke_device')).toEqual([{ deviceId: 'jn-window-03', revocation: { state: 'lost', reason: '窗口电脑被盗' } }])
    expect(view.get('[data-testid=device-state-jn-window-03]').text()).toBe('已挂失')
    expect(view.get('[data-testid=devices-outcome]').text()).toContain('已挂失 江宁区 3 号窗口')
    expect(view.find('[data-testid=device-lost-jn-window-03]').exists()).toBe(false)
  })
})
