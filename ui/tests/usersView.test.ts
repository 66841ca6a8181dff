// 用户: the system administrator's accounts. A one-time password is shown once and gone when
// its dialog closes; 停用 and 重置密码 wait for a confirmation; the hub's refusal of a new
// account is said on the field it concerns.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import UsersView from '../src/components/admin/UsersView.vue'
import { createAppI18n } from '../src/i18n'
import type { UserView } from '../src/api'
import { useSessionStore } from '../src/stores/session'
import { checked, flush } from './dom'
import { signedInPerson } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

function user(account: string, overrides: Partial<UserView> = {}): UserView {
  return {
    account,
    real_name: '王芳',
    department: '一站式收费综合窗口',
    status: 'active',
    locked_until: null,
    second_factor: false,
    must_change_password: false,
    password_changed_at: '2026-11-20T02:00:00Z',
    grants: [{ account, role: 'clerk', scope: { kind: 'all' }, granted_by: 'secadmin', granted_at: '2026-11-20T02:00:00Z' }],
    ...overrides,
  }
}

let wrapper: VueWrapper | null = null

async function mountView(): Promise<VueWrapper> {
  wrapper = mount(UsersView, { global: { plugins: [createAppI18n('zh-CN')] }, attachTo: document.body })
  await flush()
  return wrapper
}

describe('UsersView', () => {
  beforeEach(async () => {
    tauri.reset()
    tauri.handle('districts', () => [{ code: '320105', name: '建邺区' }])
    tauri.handle('list_users', () => [user('clerk01'), user('clerk02', { status: 'disabled' })])
    const session = useSessionStore()
    session.person = signedInPerson({ permissions: ['user:manage', 'device:manage', 'connector:operate', 'config:change'] })
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  it('lists the accounts with their status and roles in words', async () => {
    const view = await mountView()
    expect(view.get('[data-testid=user-status-clerk01]').text()).toContain('启用')
    expect(view.get('[data-testid=user-status-clerk02]').text()).toContain('停用')
    expect(view.get('[data-testid=users-table]').text()).toContain('窗口人员 · 全市')
    expect(view.find('[data-testid=user-enable-clerk02]').exists()).toBe(true)
  })

  it('shows a new account’s one-time password once, with a warning, and forgets it when closed', async () => {
    tauri.handle('create_user', (args) => ({ account: (args as { user: { account: string } }).user.account, password: 'ABCdefg-234-xyz' }))
    const view = await mountView()
    await view.get('[data-testid=user-create]').trigger('click')
    await flush()
    await view.get('[data-testid=user-account]').setValue('liuyang')
    await view.get('[data-testid=user-real-name]').setValue('刘洋')
    await view.get('[data-testid=user-department]').setValue('一站式收费综合窗口')
    await view.get('[data-testid=user-create-submit]').trigger('click')
    await flush()

    expect(tauri.callsOf('create_user')).toEqual([{ user: { account: 'liuyang', real_name: '刘洋', department: '一站式收费综合窗口' } }])
    expect(view.find('[data-testid=user-create-dialog]').exists()).toBe(false)
    expect(view.get('[data-testid=one-time-password]').text()).toBe('ABCdefg-234-xyz')
    expect(view.get('[data-testid=one-time-warning]').text()).toContain('只显示这一次')
    expect(tauri.callsOf('list_users')).toHaveLength(2)

    await view.get('[data-testid=one-time-done]').trigger('click')
    await flush()
    expect(view.find('[data-testid=one-time-dialog]').exists()).toBe(false)
    expect(document.body.textContent).not.toContain('ABCdefg-234-xyz')
  })

  it('copies the one-time password to the clipboard', async () => {
    const writeText = vi.fn(() => Promise.resolve())
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    tauri.handle('create_user', () => ({ account: 'liuyang', password: 'ABCdefg-234-xyz' }))
    const view = await mountView()
    await view.get('[data-testid=user-create]').trigger('click')
    await flush()
    await view.get('[data-testid=user-account]').setValue('liuyang')
    await view.get('[data-testid=user-real-name]').setValue('刘洋')
    await view.get('[data-testid=user-department]').setValue('窗口')
    await view.get('[data-testid=user-create-submit]').trigger('click')
    await flush()
    await view.get('[data-testid=one-time-copy]').trigger('click')
    await flush()
    expect(writeText).toHaveBeenCalledWith('ABCdefg-234-xyz')
    expect(view.get('[data-testid=one-time-copied]').text()).toBe('已复制')
  })

  it('checks a new account before sending, and says the hub’s refusal on the account field', async () => {
    tauri.handle('create_user', () => {
      throw { code: 'account_taken', message: '账号 clerk01 已存在' }
    })
    const view = await mountView()
    await view.get('[data-testid=user-create]').trigger('click')
    await flush()
    await view.get('[data-testid=user-create-submit]').trigger('click')
    await checked()
    expect(tauri.callsOf('create_user')).toHaveLength(0)
    expect(view.get('[data-testid=user-account-problem]').text()).toBe('⚠ 请填写账号')

    await view.get('[data-testid=user-account]').setValue('clerk01')
    await view.get('[data-testid=user-real-name]').setValue('王芳')
    await view.get('[data-testid=user-department]').setValue('窗口')
    await view.get('[data-testid=user-create-submit]').trigger('click')
    await flush()
    await checked()
    expect(tauri.callsOf('create_user')).toHaveLength(1)
    expect(view.get('[data-testid=user-account-problem]').text()).toBe('⚠ 该账号已存在，请另取一个账号。')
    expect(view.find('[data-testid=one-time-dialog]').exists()).toBe(false)
  })

  it('disables an account only once the administrator confirms', async () => {
    tauri.handle('set_user_status', () => null)
    const view = await mountView()
    await view.get('[data-testid=user-disable-clerk01]').trigger('click')
    await flush()
    expect(view.get('[data-testid=user-disable-dialog]').text()).toContain('王芳（clerk01）立即下线')
    expect(tauri.callsOf('set_user_status')).toHaveLength(0)

    await view.get('[data-testid=user-disable-cancel]').trigger('click')
    await flush()
    expect(view.find('[data-testid=user-disable-dialog]').exists()).toBe(false)
    expect(tauri.callsOf('set_user_status')).toHaveLength(0)

    await view.get('[data-testid=user-disable-clerk01]').trigger('click')
    await flush()
    await view.get('[data-testid=user-disable-confirm]').trigger('click')
    await flush()
    expect(tauri.callsOf('set_user_status')).toEqual([{ account: 'clerk01', status: 'disabled' }])
    expect(view.get('[data-testid=users-outcome]').text()).toContain('clerk01 已停用')
  })

  it('resets a password after confirmation and shows the new one-time password', async () => {
    tauri.handle('reset_password', () => ({ account: 'clerk01', password: 'XYZabcd-567-pqr' }))
    const view = await mountView()
    await view.get('[data-testid=user-reset-clerk01]').trigger('click')
    await flush()
    expect(tauri.callsOf('reset_password')).toHaveLength(0)
    await view.get('[data-testid=user-reset-confirm]').trigger('click')
    await flush()
    expect(tauri.callsOf('reset_password')).toEqual([{ account: 'clerk01' }])
    expect(view.get('[data-testid=one-time-password]').text()).toBe('XYZabcd-567-pqr')
  })

  it('offers 解锁 of a locked account only to whoever may unlock', async () => {
    tauri.handle('list_users', () => [user('clerk01', { locked_until: '2099-01-01T00:00:00Z' })])
    let view = await mountView()
    expect(view.find('[data-testid=user-unlock-clerk01]').exists()).toBe(false)
    view.unmount()
    useSessionStore().person = signedInPerson({ permissions: ['user:manage', 'user:unlock'] })
    view = await mountView()
    expect(view.find('[data-testid=user-unlock-clerk01]').exists()).toBe(true)
  })
})
