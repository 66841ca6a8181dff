// The status bar's outbox counts: 待上传 and the 待处理冲突 button, only when there are any.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import StatusBar from '../src/components/StatusBar.vue'
import { createAppI18n } from '../src/i18n'
import { createSyncStatusStore } from '../src/stores/syncStatus'
import type { Locale } from '../src/format'
import { syncStatus } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => ({ invoke: (await import('./fakeTauri')).invoke }))
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

async function mountBar(outbox: { pending: number; conflicts: number }, locale: Locale = 'zh-CN'): Promise<VueWrapper> {
  tauri.handle('sync_status', () => syncStatus({ outbox }))
  const store = createSyncStatusStore()
  await store.attach()
  return mount(StatusBar, { props: { store }, global: { plugins: [createAppI18n(locale)] } })
}

describe('StatusBar, outbox', () => {
  beforeEach(() => tauri.reset())

  it('shows neither count when both are zero', async () => {
    const bar = await mountBar({ pending: 0, conflicts: 0 })
    expect(bar.find('[data-testid=sync-state]').exists()).toBe(true)
    expect(bar.find('[data-testid=outbox-pending]').exists()).toBe(false)
    expect(bar.find('[data-testid=conflicts-open]').exists()).toBe(false)
  })

  it('shows each count when above zero, following sync-status events', async () => {
    const bar = await mountBar({ pending: 3, conflicts: 0 })
    expect(bar.get('[data-testid=outbox-pending]').text()).toContain('待上传 3')
    expect(bar.find('[data-testid=conflicts-open]').exists()).toBe(false)

    tauri.emit('sync-status', syncStatus({ outbox: { pending: 0, conflicts: 2 } }))
    await nextTick()
    expect(bar.find('[data-testid=outbox-pending]').exists()).toBe(false)
    const conflicts = bar.get('[data-testid=conflicts-open]')
    expect(conflicts.element.tagName).toBe('BUTTON')
    expect(conflicts.text()).toContain('待处理冲突 2')
  })

  it('asks for the conflicts panel when the button is pressed', async () => {
    const bar = await mountBar({ pending: 1, conflicts: 1 })
    await bar.get('[data-testid=conflicts-open]').trigger('click')
    expect(bar.emitted('openConflicts')).toHaveLength(1)
  })

  it('says it in English', async () => {
    const bar = await mountBar({ pending: 1_234, conflicts: 5 }, 'en')
    expect(bar.get('[data-testid=outbox-pending]').text()).toContain('To upload 1,234')
    expect(bar.get('[data-testid=conflicts-open]').text()).toContain('Conflicts 5')
  })
})
