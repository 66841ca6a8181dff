import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { SyncStatus } from '../src/api'
import { useSyncStatusStore } from '../src/stores/syncStatus'
import { syncStatus } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

describe('sync status store', () => {
  beforeEach(() => tauri.reset())

  it('starts from sync_status and follows sync-status events', async () => {
    tauri.handle('sync_status', () => syncStatus())
    const store = useSyncStatusStore()
    await store.attach()
    expect(store.status?.state).toBe('online')

    tauri.emit('sync-status', syncStatus({ state: 'offline', last_error: '无法连接数据中心' }))
    expect(store.status?.state).toBe('offline')
    expect(store.status?.last_error).toBe('无法连接数据中心')
  })

  it('lets an event that overtakes the initial answer win', async () => {
    const initial = tauri.deferred<SyncStatus>()
    tauri.handle('sync_status', () => initial.promise)
    const store = useSyncStatusStore()
    const attaching = store.attach()
    await tauri.settle()
    tauri.emit('sync-status', syncStatus({ state: 'syncing', cursor: 1300 }))
    initial.resolve(syncStatus({ state: 'online', cursor: 1200 }))
    await attaching
    expect(store.status?.state).toBe('syncing')
    expect(store.status?.cursor).toBe(1300)
  })

  it('reports a failing sync_status', async () => {
    tauri.handle('sync_status', () => Promise.reject('同步服务未启动，请重启一站'))
    const store = useSyncStatusStore()
    await store.attach()
    expect(store.error).toBe('同步服务未启动，请重启一站')
  })
})
