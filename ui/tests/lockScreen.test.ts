// 锁屏 as the counter meets it: the screen locks by itself after the policy's idle minutes
// (or by Ctrl+L) over the work, which stays; the same person unlocks with the password;
// anyone else at the window signs them out; too many wrong passwords sign them out too.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createMemoryHistory } from 'vue-router'
import App from '../src/App.vue'
import { createAppI18n } from '../src/i18n'
import { createAppRouter } from '../src/router'
import type { SignedInPerson } from '../src/session'
import { clerk, syncStatus } from './fixtures'
import { flush, press } from './dom'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const PASSWORD = 'Counter#2026'

let wrapper: VueWrapper | null = null
let person: SignedInPerson | null = null

async function mountApp(): Promise<VueWrapper> {
  const router = createAppRouter(createMemoryHistory())
  await router.push('/')
  wrapper = mount(App, { global: { plugins: [createAppI18n('zh-CN'), router] }, attachTo: document.body })
  await flush()
  return wrapper
}

function lockScreen(): Element | null {
  return document.querySelector('[data-testid=lock-screen]')
}

async function typeUnlock(password: string): Promise<void> {
  const input = document.querySelector<HTMLInputElement>('[data-testid=unlock-password]')!
  input.value = password
  input.dispatchEvent(new Event('input'))
  await flush()
  press(input, 'Enter')
  await flush()
}

describe('the lock screen', () => {
  let wrongLeft = 2

  beforeEach(() => {
    tauri.reset()
    person = clerk({ idle_minutes: 15 })
    wrongLeft = 2
    tauri.handle('current_person', () => person)
    tauri.handle('lock_screen', () => (person = person && { ...person, locked: true } as SignedInPerson))
    tauri.handle('unlock', (args) => {
      if (args?.password === PASSWORD) return (person = { ...person!, locked: false } as SignedInPerson)
      wrongLeft -= 1
      if (wrongLeft > 0) throw { code: 'wrong_password', message: '密码不正确。' }
      person = null
      throw { code: 'too_many_attempts', message: '密码错误次数过多，已退出登录，请重新登录。' }
    })
    tauri.handle('sign_out', () => {
      person = null
      return null
    })
    tauri.handle('districts', () => [])
    tauri.handle('sync_status', () => syncStatus())
    tauri.handle('list_projects', () => ({
      total: 0,
      counts: { awaiting_assessment: 0, due: 0, partly_paid: 0, awaiting_tax_clearance: 0, cleared: 0, overdue: 0, tracked: 0, all: 0 },
      rows: [],
    }))
  })
  afterEach(() => {
    vi.useRealTimers()
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('locks after the idle minutes over the work, not before, and input keeps it open', async () => {
    // The clock also runs on by itself, so the renders the test waits for still come.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], shouldAdvanceTime: true })
    const app = await mountApp()
    expect(app.find('[data-testid=search]').exists()).toBe(true)

    await vi.advanceTimersByTimeAsync(14 * 60_000)
    expect(lockScreen()).toBeNull()
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'a' }))
    await vi.advanceTimersByTimeAsync(14 * 60_000)
    expect(lockScreen(), 'a key pressed 14 minutes ago keeps the screen open').toBeNull()

    await vi.advanceTimersByTimeAsync(2 * 60_000)
    await flush()
    expect(lockScreen()).not.toBeNull()
    expect(tauri.callsOf('lock_screen')).toHaveLength(1)
    expect(document.querySelector('[data-testid=lock-person]')?.textContent).toContain('王芳')
    expect(app.find('[data-testid=search]').exists(), 'the work stays mounted under the lock').toBe(true)
  })

  it('unlocks for the right password only, saying so for a wrong one', async () => {
    const app = await mountApp()
    press(window, 'l', { ctrlKey: true })
    await flush()
    expect(lockScreen()).not.toBeNull()

    await typeUnlock('Counter#2025')
    expect(document.querySelector('[data-testid=unlock-error]')?.textContent).toContain('密码不正确')
    expect(lockScreen()).not.toBeNull()

    await typeUnlock(PASSWORD)
    expect(lockScreen()).toBeNull()
    expect(app.find('[data-testid=search]').exists()).toBe(true)
    expect(tauri.callsOf('unlock').map((a) => a?.password)).toEqual(['Counter#2025', PASSWORD])
  })

  it('signs the person out when another clerk takes the window', async () => {
    await mountApp()
    press(window, 'l', { ctrlKey: true })
    await flush()
    document.querySelector<HTMLButtonElement>('[data-testid=switch-user]')!.click()
    await flush()
    expect(tauri.callsOf('sign_out')).toHaveLength(1)
    expect(lockScreen()).toBeNull()
    expect(document.querySelector('[data-testid=sign-in]')).not.toBeNull()
  })

  it('goes back to the sign-in screen after too many wrong passwords, saying why', async () => {
    await mountApp()
    press(window, 'l', { ctrlKey: true })
    await flush()
    await typeUnlock('guess-1')
    await typeUnlock('guess-2')
    expect(lockScreen()).toBeNull()
    expect(document.querySelector('[data-testid=sign-in]')).not.toBeNull()
    expect(document.querySelector('[data-testid=sign-in-ended]')?.textContent).toContain('尝试次数过多')
  })
})
