// 角色与权限: a role keeps to one duty (checked before sending), the hub's refusal of a role or
// a grant is shown in its words, and a grant carries where it holds.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import RolesView from '../src/components/admin/RolesView.vue'
import { createAppI18n } from '../src/i18n'
import type { RoleRecord, UserView } from '../src/api'
import { useSessionStore } from '../src/stores/session'
import { checked, flush } from './dom'
import { signedInPerson } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const ROLES: RoleRecord[] = [
  { id: 'clerk', name: '窗口人员', permissions: ['project:read', 'final_check:record', 'document:issue', 'document:print', 'alert:handle'], builtin: true },
  { id: 'audit_admin', name: '审计管理员', permissions: ['audit:read', 'audit:export'], builtin: true },
]

function person(account: string, real_name: string, extra: Partial<UserView> = {}): UserView {
  return {
    account,
    real_name,
    department: '收费窗口',
    status: 'active',
    locked_until: null,
    second_factor: false,
    must_change_password: false,
    password_changed_at: '2026-12-01T00:00:00Z',
    grants: [],
    ...extra,
  }
}

const USERS: UserView[] = [
  person('clerk01', '王芳', {
    grants: [{ account: 'clerk01', role: 'clerk', scope: { kind: 'all' }, granted_by: 'secadmin', granted_at: '2026-12-01T00:00:00Z' }],
  }),
  person('clerk02', '李强', { locked_until: '2999-01-01T00:00:00Z' }),
  person('secadmin', '赵敏'),
]

let wrapper: VueWrapper | null = null

/** The kit's selects open a popper to pick from: what one emits on a pick is sent instead. */
async function pick(view: VueWrapper, testid: string, value: unknown): Promise<void> {
  const select = view.findAllComponents({ name: 'ElSelect' }).find((s) => s.attributes('data-testid') === testid)
  if (!select) throw new Error(`no select ${testid}`)
  select.vm.$emit('update:modelValue', value)
  await flush()
}

async function mountView(): Promise<VueWrapper> {
  wrapper = mount(RolesView, { global: { plugins: [createAppI18n('zh-CN')] }, attachTo: document.body })
  await flush()
  return wrapper
}

describe('RolesView', () => {
  beforeEach(() => {
    tauri.reset()
    tauri.handle('list_roles', () => ROLES)
    tauri.handle('list_users', () => USERS)
    tauri.handle('districts', () => [
      { code: '320105', name: '建邺区' },
      { code: '320115', name: '江宁区' },
    ])
    useSessionStore().person = signedInPerson({ account: 'secadmin', permissions: ['role:grant', 'policy:change', 'user:unlock'] })
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  it('lists each role with its permissions in words', async () => {
    const view = await mountView()
    expect(view.get('[data-testid=role-permissions-clerk]').text()).toContain('开具凭证和票据')
    expect(view.get('[data-testid=role-permissions-audit_admin]').text()).toContain('导出审计记录')
  })

  it('refuses a role mixing business and administration before sending', async () => {
    tauri.handle('put_role', () => null)
    const view = await mountView()
    await view.get('[data-testid=role-edit-clerk]').trigger('click')
    await flush()
    await view.get('[data-testid=role-permission-audit\\:read] input').setValue(true)
    await view.get('[data-testid=role-save]').trigger('click')
    await flush()
    await checked()
    expect(tauri.callsOf('put_role')).toHaveLength(0)
    expect(view.get('[data-testid=role-permissions-problem]').text()).toContain('须属于同一职责')
  })

  it('shows the hub’s refusal of a role in the dialog, which stays open', async () => {
    tauri.handle('put_role', () => {
      throw { code: 'invalid_role', message: '角色 窗口人员 的职责是业务，不能加入 user:manage' }
    })
    const view = await mountView()
    await view.get('[data-testid=role-new]').trigger('click')
    await flush()
    await view.get('[data-testid=role-id]').setValue('night_clerk')
    await view.get('[data-testid=role-name]').setValue('夜班窗口')
    await view.get('[data-testid=role-permission-project\\:read] input').setValue(true)
    await view.get('[data-testid=role-save]').trigger('click')
    await flush()
    expect(tauri.callsOf('put_role')).toEqual([{ id: 'night_clerk', role: { name: '夜班窗口', permissions: ['project:read'] } }])
    expect(view.get('[data-testid=role-refusal]').text()).toContain('不能加入 user:manage')
  })

  it('grants a role over some districts, and shows the hub’s refusal of a grant to oneself', async () => {
    tauri.handle('grant_role', (args) => {
      if ((args as { account: string }).account === 'secadmin') {
        throw { code: 'grant_refused', message: '不能给自己授予或收回角色：请由另一位安全管理员操作' }
      }
      return null
    })
    const view = await mountView()
    await pick(view, 'grant-account', 'clerk01')
    await pick(view, 'grant-role', 'clerk')
    await view.get('[data-testid=grant-scope] input[value=districts]').setValue(true)
    await flush()
    await pick(view, 'grant-districts', ['320115'])
    await view.get('[data-testid=grant-submit]').trigger('click')
    await flush()
    expect(tauri.callsOf('grant_role')).toEqual([{ account: 'clerk01', role: 'clerk', scope: { kind: 'districts', districts: ['320115'] } }])
    expect(view.get('[data-testid=roles-outcome]').text()).toContain('已将 窗口人员 授予 clerk01')

    await pick(view, 'grant-account', 'secadmin')
    await view.get('[data-testid=grant-submit]').trigger('click')
    await flush()
    expect(view.get('[data-testid=roles-action-error]').text()).toContain('不能给自己授予或收回角色')
  })

  it('offers the hub’s accounts, shows the roles of the one picked, and offers the locked ones to unlock', async () => {
    tauri.handle('unlock_user', () => null)
    const view = await mountView()
    const accounts = view.findAllComponents({ name: 'ElSelect' }).find((s) => s.attributes('data-testid') === 'grant-account')
    expect(accounts?.findAllComponents({ name: 'ElOption' }).map((o) => o.props('value'))).toEqual(['clerk01', 'clerk02', 'secadmin'])
    await pick(view, 'grant-account', 'clerk01')
    expect(view.get('[data-testid=grant-held]').text()).toContain('王芳 现有角色：')
    expect(view.get('[data-testid=grant-held]').text()).toContain('窗口人员 · 全市')
    await pick(view, 'grant-account', 'clerk02')
    expect(view.get('[data-testid=grant-held]').text()).toContain('无角色')

    const unlock = view.findAllComponents({ name: 'ElSelect' }).find((s) => s.attributes('data-testid') === 'unlock-account')
    expect(unlock?.findAllComponents({ name: 'ElOption' }).map((o) => o.props('value'))).toEqual(['clerk02'])
    await pick(view, 'unlock-account', 'clerk02')
    await view.get('[data-testid=unlock-submit]').trigger('click')
    await flush()
    expect(tauri.callsOf('unlock_user')).toEqual([{ account: 'clerk02' }])
    expect(tauri.callsOf('list_users').length).toBeGreaterThan(1)
  })
})
