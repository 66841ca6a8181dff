// Sync state for the status bar: the backend pushes every change as a `sync-status` event.
import { ref } from 'vue'
import { defineStore } from 'pinia'
import type { UnlistenFn } from '@tauri-apps/api/event'
import { errorMessage, onSyncStatus, syncStatus, type SyncStatus } from '../api'

export const useSyncStatusStore = defineStore('syncStatus', () => {
  const status = ref<SyncStatus | null>(null)
  const error = ref<string | null>(null)

  async function attach(): Promise<UnlistenFn> {
    let pushed = false
    // Listen before asking, and let a pushed status win: the answer to the initial
    // request may have been taken before the event that overtook it.
    const unlisten = await onSyncStatus((next) => {
      pushed = true
      status.value = next
      error.value = null
    })
    try {
      const initial = await syncStatus()
      if (!pushed) status.value = initial
    } catch (e) {
      if (!pushed) error.value = errorMessage(e)
    }
    return unlisten
  }

  return { status, error, attach }
})

export type SyncStatusStore = ReturnType<typeof useSyncStatusStore>
