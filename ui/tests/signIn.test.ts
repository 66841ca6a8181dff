// 登录 as the clerk meets it: a badge scanned into the account, the password, the 动态口令 when
// the account has one, what went wrong said in the toggle's language, and then the work,
// with only the tabs their roles open.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import { createMemoryHistory, type Router } from 'vue-router'
import App from '../src/App.vue'
import SignInView from '../src/components/session/SignInView.vue'
import { createAppI18n } from '../src/i18n'
import { createAppRouter } from '../src/router'
import { useSessionStore } from '../src/stores/session'
import type { CommandError } from '../src/api'
import type { Locale } from '../src/format'
import type { SignedInPerson } from '../src/session'
import { clerk, signedInPerson, syncStatus } from './fixtures'
import { flush, press } from './dom'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const LOGIN_FAILED: CommandError = { code: 'login_failed', message: 'invalid credentials' }
const CODE_NEEDED: CommandError = { code: 'second_factor_needed', message: 'second factor required' }

let wrapper: VueWrapper | null = null
/** What sign_in answers next: a person, or a refusal. */
let answers: (SignedInPerson | CommandError)[] = []

async function mountView(locale: Locale = 'zh-CN'): Promise<VueWrapper> {
  wrapper = mount(SignInView, { global: { plugins: [createAppI18n(locale)] }, attachTo: document.body })
  await flush()
  return wrapper
}

function field(view: VueWrapper, name: string) {
  return view.get(`[data-testid=sign-in-${name}]`)
}

/** The form item around a field carries the kit's error mark. */
function isMarked(view: VueWrapper, name: string): boolean {
  return field(view, name).element.closest('.el-form-item')?.classList.contains('is-error') ?? false
}

/** What a badge scanner does: types the account, then Enter. */
async function scanBadge(view: VueWrapper, account: string): Promise<void> {
  const input = field(view, 'account')
  await input.setValue(account)
  press(input.element, 'Enter')
  await flush()
}

async function typePasswordAndEnter(view: VueWrapper, password: string): Promise<void> {
  const input = field(view, 'password')
  await input.setValue(password)
  press(input.element, 'Enter')
  await flush()
}

describe('SignInView', () => {
  beforeEach(() => {
    tauri.reset()
    tauri.handle('current_person', () => null)
    answers = []
    tauri.handle('sign_in', () => {
      const next = answers.shift() ?? clerk()
      return 'code' in next ? Promise.reject(next) : next
    })
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
    localStorage.clear()
  })

  it('takes a scanned badge: the account, then Enter moves on to the password without signing in', async () => {
    const view = await mountView()
    expect(document.activeElement).toBe(field(view, 'account').element)
    expect(view.find('[data-testid=sign-in-code]').exists()).toBe(false)

    await scanBadge(view, 'wf0103')
    expect(document.activeElement).toBe(field(view, 'password').element)
    expect(tauri.callsOf('sign_in')).toHaveLength(0)

    await typePasswordAndEnter(view, 'Counter#2026')
    expect(tauri.callsOf('sign_in')).toEqual([{ account: 'wf0103', password: 'Counter#2026', code: null }])
    expect(useSessionStore().person?.real_name).toBe('王芳')
  })

  it('says a refused sign-in in its own words, keeps the account and asks for the password again', async () => {
    answers = [LOGIN_FAILED]
    const view = await mountView()
    await scanBadge(view, 'wf0103')
    await typePasswordAndEnter(view, 'wrong')

    const error = field(view, 'error')
    expect(error.text()).toBe('⚠ 账号或密码错误，或账号暂时不能登录。')
    expect(error.attributes('role')).toBe('alert')
    // Nothing the backend said about the account shows through.
    expect(view.text()).not.toContain('invalid credentials')
    expect((field(view, 'account').element as HTMLInputElement).value).toBe('wf0103')
    expect((field(view, 'password').element as HTMLInputElement).value).toBe('')
    expect(document.activeElement).toBe(field(view, 'password').element)
    expect(isMarked(view, 'account')).toBe(true)
    expect(isMarked(view, 'password')).toBe(true)
    expect(useSessionStore().person).toBeNull()
  })

  it('asks for the 动态口令 when the account has one, with the focus in it, and sends it with the password', async () => {
    answers = [CODE_NEEDED, clerk()]
    const view = await mountView()
    await scanBadge(view, 'wf0103')
    await typePasswordAndEnter(view, 'Counter#2026')

    const code = field(view, 'code')
    expect(document.activeElement).toBe(code.element)
    expect(field(view, 'error').text()).toContain('请输入动态口令。')
    // The password stays: it goes again with the code.
    expect((field(view, 'password').element as HTMLInputElement).value).toBe('Counter#2026')

    await code.setValue('123456')
    press(code.element, 'Enter')
    await flush()
    expect(tauri.callsOf('sign_in')).toEqual([
      { account: 'wf0103', password: 'Counter#2026', code: null },
      { account: 'wf0103', password: 'Counter#2026', code: '123456' },
    ])
    expect(useSessionStore().person?.account).toBe('wf0103')
  })

  it('clears a wrong 动态口令 and marks its field', async () => {
    answers = [CODE_NEEDED, { code: 'wrong_code', message: 'totp mismatch' }]
    const view = await mountView()
    await scanBadge(view, 'wf0103')
    await typePasswordAndEnter(view, 'Counter#2026')
    await field(view, 'code').setValue('000000')
    await field(view, 'submit').trigger('click')
    await flush()

    expect(field(view, 'error').text()).toBe('⚠ 动态口令不正确，请输入验证器上当前显示的 6 位数字。')
    expect((field(view, 'code').element as HTMLInputElement).value).toBe('')
    expect(document.activeElement).toBe(field(view, 'code').element)
    expect(isMarked(view, 'code')).toBe(true)
    expect(isMarked(view, 'account')).toBe(false)
  })

  it('asks for what is missing without calling the backend', async () => {
    const view = await mountView()
    await field(view, 'submit').trigger('click')
    await flush()
    expect(field(view, 'error').text()).toBe('⚠ 请输入账号。')
    expect(isMarked(view, 'account')).toBe(true)

    await field(view, 'account').setValue('wf0103')
    await field(view, 'submit').trigger('click')
    await flush()
    expect(field(view, 'error').text()).toBe('⚠ 请输入密码。')
    expect(document.activeElement).toBe(field(view, 'password').element)
    expect(tauri.callsOf('sign_in')).toHaveLength(0)
  })

  it('says, when the data centre is down, that only people recently signed in here may sign in offline', async () => {
    answers = [{ code: 'offline_login_failed', message: 'no cached verifier' }]
    const view = await mountView()
    await scanBadge(view, 'wf0103')
    await typePasswordAndEnter(view, 'Counter#2026')
    expect(field(view, 'error').text()).toBe(
      '⚠ 账号或密码错误，或账号暂时不能登录。数据中心暂时无法连接：只有近期在本机联网登录过的人员可以离线登录。',
    )
  })

  it('tells the clerk they signed in offline before going on', async () => {
    answers = [clerk({ offline: true })]
    const view = await mountView()
    await scanBadge(view, 'wf0103')
    await typePasswordAndEnter(view, 'Counter#2026')

    const notice = view.get('[data-testid=sign-in-offline]')
    expect(notice.text()).toContain('离线登录')
    expect(notice.text()).toContain('数据中心暂时无法连接')
    const go = view.get('[data-testid=sign-in-continue]')
    expect(document.activeElement).toBe(go.element)
    expect(useSessionStore().offlineNotice).toBe(true)

    await go.trigger('click')
    expect(useSessionStore().offlineNotice).toBe(false)
  })

  it('speaks English after the toggle, the refusal included', async () => {
    answers = [LOGIN_FAILED]
    const view = await mountView()
    await scanBadge(view, 'wf0103')
    await typePasswordAndEnter(view, 'wrong')
    expect(field(view, 'error').text()).toContain('账号或密码错误')

    await view.get('[data-testid=lang-toggle]').trigger('click')
    expect(field(view, 'error').text()).toBe('⚠ Wrong account or password, or the account cannot sign in at the moment.')
    expect(field(view, 'submit').text()).toBe('Sign in')
    expect(view.text()).not.toContain('账号或密码错误')
  })

  it('opens in English for a counter set to English', async () => {
    answers = [LOGIN_FAILED]
    const view = await mountView('en')
    await scanBadge(view, 'wf0103')
    await typePasswordAndEnter(view, 'wrong')
    expect(field(view, 'error').text()).toBe('⚠ Wrong account or password, or the account cannot sign in at the moment.')
  })

  it('says why the last session ended, until the next attempt', async () => {
    const session = useSessionStore()
    session.ended = { code: 'session_ended', message: 'expired' }
    const view = await mountView()
    expect(view.get('[data-testid=sign-in-ended]').text()).toBe('⚠ 登录已失效，请重新登录。')
    await scanBadge(view, 'wf0103')
    await typePasswordAndEnter(view, 'Counter#2026')
    expect(view.find('[data-testid=sign-in-ended]').exists()).toBe(false)
  })
})

describe('App when signing in', () => {
  let router: Router

  async function mountApp(address = '/'): Promise<VueWrapper> {
    router = createAppRouter(createMemoryHistory())
    await Promise.all(
      router
        .getRoutes()
        .flatMap((route) => Object.values(route.components ?? {}))
        .map((view) => (typeof view === 'function' ? (view as () => Promise<unknown>)() : null)),
    )
    await router.push(address)
    wrapper = mount(App, { global: { plugins: [createAppI18n('zh-CN'), router] }, attachTo: document.body })
    await flush()
    return wrapper
  }

  async function signIn(app: VueWrapper): Promise<void> {
    await scanBadge(app, 'wf0103')
    await typePasswordAndEnter(app, 'Counter#2026')
    await flush()
  }

  beforeEach(() => {
    tauri.reset()
    let person: SignedInPerson | null = null
    tauri.handle('current_person', () => person)
    tauri.handle('sign_in', () => (person = clerk()))
    tauri.handle('sign_out', () => {
      person = null
      return null
    })
    tauri.handle('districts', () => [])
    tauri.handle('sync_status', () => syncStatus())
    tauri.handle('list_alerts', () => ({ total: 0, counts: { red: 0, orange: 0, yellow: 0 }, departments: [], alerts: [] }))
    tauri.handle('list_connectors', () => [])
    tauri.handle('list_quarantine', () => [])
    tauri.handle('list_projects', () => ({
      total: 0,
      counts: { awaiting_assessment: 0, due: 0, partly_paid: 0, awaiting_tax_clearance: 0, cleared: 0, overdue: 0, tracked: 0, all: 0 },
      rows: [],
    }))
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('shows only the sign-in screen to nobody, and reads nothing of the work', async () => {
    const app = await mountApp()
    expect(app.find('[data-testid=sign-in]').exists()).toBe(true)
    expect(app.find('nav').exists()).toBe(false)
    expect(app.find('[data-testid=search]').exists()).toBe(false)
    expect(tauri.callsOf('list_projects')).toHaveLength(0)
    expect(tauri.callsOf('sync_status')).toHaveLength(0)
  })

  it('gives a clerk the work and 预警 without 数据接入, and sends them back from #/admin', async () => {
    const app = await mountApp('/admin')
    await signIn(app)

    expect(app.find('[data-testid=sign-in]').exists()).toBe(false)
    expect(app.get('[data-testid=person-name]').text()).toBe('王芳')
    expect(app.get('[data-testid=person-roles]').text()).toBe('窗口人员')
    expect(app.find('[data-testid=nav-projects]').exists()).toBe(true)
    expect(app.find('[data-testid=nav-issue]').exists()).toBe(true)
    expect(app.find('[data-testid=nav-admin]').exists()).toBe(false)
    expect(app.find('[data-testid=nav-alerts]').exists()).toBe(true)
    expect(router.currentRoute.value.name).toBe('projects')
    expect(app.find('[data-testid=admin-view]').exists()).toBe(false)
    expect(document.activeElement).toBe(app.get('[data-testid=search]').element)

    await router.push('/admin')
    await flush()
    expect(router.currentRoute.value.name).toBe('projects')
    await router.push('/alerts')
    await flush()
    expect(router.currentRoute.value.name).toBe('alerts')
    await router.push('/verify')
    await flush()
    expect(router.currentRoute.value.name).toBe('verify')
  })

  it('opens 数据接入 to whoever may correct quarantined records', async () => {
    tauri.handle('sign_in', () => signedInPerson({ permissions: ['project:read', 'quarantine:correct'] }))
    tauri.handle('current_person', () => null)
    const app = await mountApp('/admin')
    await signIn(app)
    expect(app.find('[data-testid=nav-admin]').exists()).toBe(true)
    expect(app.find('[data-testid=nav-issue]').exists()).toBe(false)
    expect(router.currentRoute.value.name).toBe('admin')
  })

  it('starts the audit administrator at 审计记录, with no 项目, no project search and no alert banner', async () => {
    tauri.handle('sign_in', () => signedInPerson({ permissions: ['audit:read', 'audit:export'] }))
    tauri.handle('current_person', () => null)
    tauri.handle('search_audit', () => [])
    const app = await mountApp('/projects')
    await signIn(app)
    expect(router.currentRoute.value.name).toBe('audit')
    expect(app.find('[data-testid=nav-audit]').exists()).toBe(true)
    expect(app.find('[data-testid=nav-projects]').exists()).toBe(false)
    expect(app.find('[data-testid=search]').exists()).toBe(false)
    expect(tauri.callsOf('list_projects')).toHaveLength(0)
    expect(tauri.callsOf('list_alerts')).toHaveLength(0)
    await router.push('/projects/2019-320105-47-01-123456')
    await flush()
    expect(router.currentRoute.value.name).toBe('audit')
  })

  it('shows a clerk none of the account screens, and sends them back from their addresses', async () => {
    const app = await mountApp('/users')
    await signIn(app)
    for (const view of ['users', 'roles', 'policy', 'sessions']) {
      expect(app.find(`[data-testid=nav-${view}]`).exists()).toBe(false)
      await router.push(`/${view}`)
      await flush()
      expect(router.currentRoute.value.name).toBe('projects')
    }
  })

  it('gives the system administrator 用户 and 在线会话, and the security administrator 角色与权限 and 安全策略', async () => {
    tauri.handle('sign_in', () => signedInPerson({ permissions: ['user:manage', 'device:manage', 'config:change'] }))
    tauri.handle('current_person', () => null)
    tauri.handle('list_users', () => [])
    tauri.handle('list_roles', () => [])
    const app = await mountApp('/roles')
    await signIn(app)
    expect(router.currentRoute.value.name).toBe('users')
    expect(app.find('[data-testid=nav-users]').exists()).toBe(true)
    expect(app.find('[data-testid=nav-sessions]').exists()).toBe(true)
    expect(app.find('[data-testid=nav-roles]').exists()).toBe(false)
    expect(app.find('[data-testid=nav-policy]').exists()).toBe(false)
    app.unmount()

    tauri.handle('sign_in', () => signedInPerson({ permissions: ['role:grant', 'policy:change', 'user:unlock'] }))
    const security = await mountApp('/users')
    await signIn(security)
    expect(router.currentRoute.value.name).toBe('roles')
    expect(security.find('[data-testid=nav-roles]').exists()).toBe(true)
    expect(security.find('[data-testid=nav-policy]').exists()).toBe(true)
    expect(security.find('[data-testid=nav-users]').exists()).toBe(false)
    expect(security.find('[data-testid=nav-sessions]').exists()).toBe(false)
  })

  it('shows only the change-password screen while the password must be changed', async () => {
    tauri.handle('current_person', () => clerk({ must_change_password: true }))
    const app = await mountApp()
    expect(app.find('[data-testid=change-password]').exists()).toBe(true)
    expect(app.find('nav').exists()).toBe(false)
    expect(app.find('[data-testid=second-factor]').exists()).toBe(false)
    expect(tauri.callsOf('list_projects')).toHaveLength(0)
  })

  it('shows only the second-factor screen while it must be set up', async () => {
    tauri.handle('current_person', () => clerk({ must_enrol_second_factor: true }))
    tauri.handle('begin_second_factor', () => ({ secret: 'JBSWY3DPEHPK3PXP', otpauth_url: 'otpauth://totp/x', qr_svg: '<svg/>' }))
    const app = await mountApp()
    expect(app.find('[data-testid=second-factor]').exists()).toBe(true)
    expect(app.find('nav').exists()).toBe(false)
  })

  it('goes on to the work after the offline notice', async () => {
    tauri.handle('sign_in', () => clerk({ offline: true }))
    const app = await mountApp()
    await signIn(app)
    expect(app.find('[data-testid=sign-in-offline]').exists()).toBe(true)
    expect(app.find('nav').exists()).toBe(false)

    await app.get('[data-testid=sign-in-continue]').trigger('click')
    await flush()
    expect(app.find('nav').exists()).toBe(true)
    expect(app.get('[data-testid=person-offline]').text()).toBe('离线')
  })

  it('stops the work on signing out and shows the sign-in screen again', async () => {
    const app = await mountApp()
    await signIn(app)
    expect(tauri.listenerCount('replica-changed')).toBeGreaterThan(0)

    await useSessionStore().signOut()
    await flush()
    await nextTick()
    expect(app.find('[data-testid=sign-in]').exists()).toBe(true)
    expect(app.find('nav').exists()).toBe(false)
    expect(tauri.listenerCount('replica-changed')).toBe(0)
    expect(tauri.listenerCount('sync-status')).toBe(0)
  })
})
