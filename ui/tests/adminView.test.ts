// 数据接入 as a whole: a finished import is reflected at once in the connectors and the
// quarantine beside it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import AdminView from '../src/components/admin/AdminView.vue'
import { createAppI18n } from '../src/i18n'
import type { ImportReport } from '../src/api'
import { connectorStatus, importReport, quarantineEntry } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

let wrapper: VueWrapper | null = null
let report: ImportReport

async function flush(): Promise<void> {
  await tauri.settle()
  await nextTick()
}

async function importFile(view: VueWrapper): Promise<void> {
  const input = view.get('[data-testid=import-drop] input[type=file]')
  Object.defineProperty(input.element, 'files', { value: [new File(['a,b\n'], '规划审批.csv')], configurable: true })
  await input.trigger('change')
  await flush()
}

describe('AdminView', () => {
  beforeEach(async () => {
    tauri.reset()
    report = importReport()
    tauri.handle('list_connectors', () => [connectorStatus({ name: 'planning-file', kind: 'legacy_file' })])
    tauri.handle('list_quarantine', () => [quarantineEntry(3)])
    tauri.handle('import_planning_file', () => report)
    wrapper = mount(AdminView, {
      global: { plugins: [createAppI18n('zh-CN')] },
    })
    await flush()
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  it('reads the connectors and the quarantine again after an import that wrote something', async () => {
    const view = wrapper as VueWrapper
    expect(tauri.callsOf('list_connectors')).toHaveLength(1)
    expect(tauri.callsOf('list_quarantine')).toHaveLength(1)
    await importFile(view)
    expect(tauri.callsOf('list_connectors')).toHaveLength(2)
    expect(tauri.callsOf('list_quarantine')).toHaveLength(2)
  })

  it('does not after a file that was imported before: nothing moved', async () => {
    report = importReport({ already_imported: true })
    await importFile(wrapper as VueWrapper)
    expect(tauri.callsOf('list_connectors')).toHaveLength(1)
    expect(tauri.callsOf('list_quarantine')).toHaveLength(1)
  })
})
