// 安全策略: each number is held to the range the hub holds it to before anything is sent,
// and what the hub still refuses is said on the field it names.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import PolicyView from '../src/components/admin/PolicyView.vue'
import { createAppI18n } from '../src/i18n'
import type { SecurityPolicy } from '../src/api'
import { checked, flush } from './dom'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const POLICY: SecurityPolicy = {
  min_length: 8,
  min_classes: 3,
  expiry_days: 90,
  history: 5,
  lockout_failures: 5,
  lockout_window_minutes: 10,
  lockout_minutes: 10,
  idle_minutes: 15,
  session_hours: 12,
  offline_days: 7,
  clerk_second_factor: false,
}

let wrapper: VueWrapper | null = null

async function mountView(): Promise<VueWrapper> {
  wrapper = mount(PolicyView, { global: { plugins: [createAppI18n('zh-CN')] }, attachTo: document.body })
  await flush()
  return wrapper
}

async function type(view: VueWrapper, field: string, value: string): Promise<void> {
  const input = view.get(`[data-testid=policy-${field}] input`)
  await input.setValue(value)
  await input.trigger('change')
  await flush()
}

function problemOn(view: VueWrapper, field: string): string | null {
  const problem = view.find(`[data-testid=policy-${field}-problem]`)
  return problem.exists() ? problem.text() : null
}

describe('PolicyView', () => {
  beforeEach(() => {
    tauri.reset()
    tauri.handle('security_policy', () => ({ ...POLICY }))
    tauri.handle('set_security_policy', () => null)
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  it('refuses an idle timeout over 30 minutes on its field, and sends nothing', async () => {
    const view = await mountView()
    await type(view, 'idle_minutes', '45')
    await view.get('[data-testid=policy-save]').trigger('click')
    await checked()
    expect(tauri.callsOf('set_security_policy')).toHaveLength(0)
    expect(problemOn(view, 'idle_minutes')).toBe('⚠ 应在 1–30 之间')
  })

  it('saves a stricter policy as typed', async () => {
    const view = await mountView()
    await type(view, 'idle_minutes', '10')
    await type(view, 'min_length', '12')
    await view.get('[data-testid=policy-save]').trigger('click')
    await flush()
    expect(tauri.callsOf('set_security_policy')).toEqual([{ policy: { ...POLICY, idle_minutes: 10, min_length: 12 } }])
    expect(view.get('[data-testid=policy-saved]').text()).toBe('安全策略已保存')
  })

  it('says the hub’s refusal on the field it names', async () => {
    tauri.handle('set_security_policy', () => {
      throw { code: 'invalid_policy', message: 'lockout_minutes：应在 10–1440 之间，收到 5', field: 'lockout_minutes' }
    })
    const view = await mountView()
    await view.get('[data-testid=policy-save]').trigger('click')
    await flush()
    await checked()
    expect(tauri.callsOf('set_security_policy')).toHaveLength(1)
    expect(problemOn(view, 'lockout_minutes')).toContain('收到 5')
    expect(problemOn(view, 'idle_minutes')).toBeNull()
  })
})
