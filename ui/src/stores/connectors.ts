// 数据接入 · 接入通道: the data centre's connectors, read on demand (the view refreshes them
// while it is shown; there is no event for them).
import { reactive, ref } from 'vue'
import { errorMessage, listConnectors, type ConnectorStatus } from '../api'

export function createConnectorsStore() {
  const connectors = ref<ConnectorStatus[]>([])
  const loaded = ref(false)
  const loading = ref(false)
  const error = ref<string | null>(null)
  /** When the list shown was read (ms since the epoch): health and "ago" are as of then. */
  const readAt = ref<number | null>(null)
  // Only the newest answer may be shown: a manual refresh can overtake the timed one.
  let latestRequest = 0

  async function load(): Promise<void> {
    const request = ++latestRequest
    loading.value = true
    try {
      const result = await listConnectors()
      if (request !== latestRequest) return
      connectors.value = result
      readAt.value = Date.now()
      loaded.value = true
      error.value = null
    } catch (e) {
      if (request !== latestRequest) return
      // The last good list stays, next to the message: it is still the best picture.
      error.value = errorMessage(e)
    } finally {
      if (request === latestRequest) loading.value = false
    }
  }

  return reactive({ connectors, loaded, loading, error, readAt, load })
}

export type ConnectorsStore = ReturnType<typeof createConnectorsStore>
