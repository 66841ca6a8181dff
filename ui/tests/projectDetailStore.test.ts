import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { ProjectDetail } from '../src/api'
import { useProjectDetailStore } from '../src/stores/projectDetail'
import { CODE, projectDetail } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const OTHER = '2020-320102-70-02-000777'

describe('project detail store', () => {
  beforeEach(() => tauri.reset())

  it('loads the project by code', async () => {
    tauri.handle('get_project', (args) => projectDetail(args?.projectCode as string))
    const store = useProjectDetailStore()
    await store.open(CODE)
    expect(tauri.callsOf('get_project')).toEqual([{ projectCode: CODE }])
    expect(store.detail?.project.project_code).toBe(CODE)
    expect(store.loading).toBe(false)
  })

  it('reloads when its project changes, and only then', async () => {
    let paid = 0
    tauri.handle('get_project', () => projectDetail(CODE, paid))
    const store = useProjectDetailStore()
    await store.attach()
    await store.open(CODE)

    tauri.emit('replica-changed', { cursor: 5, project_codes: [OTHER] })
    await tauri.settle()
    expect(tauri.callsOf('get_project')).toHaveLength(1)

    paid = 50_000_00
    tauri.emit('replica-changed', { cursor: 6, project_codes: [OTHER, CODE] })
    await tauri.settle()
    expect(tauri.callsOf('get_project')).toHaveLength(2)
    expect(store.detail?.fees[0]?.paid_fen).toBe(50_000_00)

    tauri.emit('replica-changed', { cursor: 7, project_codes: [] })
    await tauri.settle()
    expect(tauri.callsOf('get_project')).toHaveLength(3)
  })

  it('does nothing on changes while closed', async () => {
    tauri.handle('get_project', () => projectDetail())
    const store = useProjectDetailStore()
    await store.attach()
    await store.open(CODE)
    store.close()
    tauri.emit('replica-changed', { cursor: 8, project_codes: [] })
    await tauri.settle()
    expect(tauri.callsOf('get_project')).toHaveLength(1)
    expect(store.detail).toBeNull()
  })

  it('shows the backend message for an unknown project', async () => {
    tauri.handle('get_project', () => Promise.reject('未找到项目 2019-320105-47-01-999999，请核对项目代码'))
    const store = useProjectDetailStore()
    await store.open('2019-320105-47-01-999999')
    expect(store.error).toBe('未找到项目 2019-320105-47-01-999999，请核对项目代码')
    expect(store.detail).toBeNull()
  })

  it('shows the project scanned last even when an earlier answer arrives later', async () => {
    const first = tauri.deferred<ProjectDetail>()
    tauri.handle('get_project', (args) => (args?.projectCode === CODE ? first.promise : projectDetail(OTHER)))
    const store = useProjectDetailStore()
    const opening = store.open(CODE)
    await store.open(OTHER)
    first.resolve(projectDetail(CODE))
    await opening
    expect(store.code).toBe(OTHER)
    expect(store.detail?.project.project_code).toBe(OTHER)
  })

  it('keeps what it shows when a live refresh fails', async () => {
    let fail = false
    tauri.handle('get_project', () => (fail ? Promise.reject('本机副本暂时不可读') : projectDetail()))
    const store = useProjectDetailStore()
    await store.attach()
    await store.open(CODE)
    fail = true
    tauri.emit('replica-changed', { cursor: 9, project_codes: [CODE] })
    await tauri.settle()
    expect(store.error).toBe('本机副本暂时不可读')
    expect(store.detail?.project.project_code).toBe(CODE)
  })

  it('reads the open project again on refresh, quietly, and nothing when closed', async () => {
    let paid = 0
    tauri.handle('get_project', () => projectDetail(CODE, paid))
    const store = useProjectDetailStore()
    await store.refresh()
    expect(tauri.callsOf('get_project')).toHaveLength(0)

    await store.open(CODE)
    paid = 60_000_00
    const refreshing = store.refresh()
    expect(store.loading).toBe(false)
    await refreshing
    expect(tauri.callsOf('get_project')).toEqual([{ projectCode: CODE }, { projectCode: CODE }])
    expect(store.detail?.fees[0]?.paid_fen).toBe(60_000_00)
  })
})
