// 数据接入 · 接入通道: the data centre's connectors, read on demand (the view refreshes them
// while it is shown; there is no event for them).
import { ref } from 'vue'
import { defineStore } from 'pinia'
import { listConnectors, type ConnectorStatus } from '../api'
import { createLoader } from './loader'

export const useConnectorsStore = defineStore('connectors', () => {
  const connectors = ref<ConnectorStatus[]>([])
  /** When the list shown was read (ms since the epoch): health and "ago" are as of then. */
  const readAt = ref<number | null>(null)
  // A manual refresh can overtake the timed one: the loader shows the newest answer only.
  const { loaded, loading, error, run } = createLoader()

  function load(): Promise<void> {
    return run(listConnectors, (result) => {
      connectors.value = result
      readAt.value = Date.now()
    })
  }

  return { connectors, loaded, loading, error, readAt, load }
})

export type ConnectorsStore = ReturnType<typeof useConnectorsStore>
