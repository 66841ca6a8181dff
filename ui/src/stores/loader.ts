// The reading pattern the stores share: a loading flag, the error line, and only the newest
// answer written, so a slow read never overwrites what a later one (a filter change, a
// clerk's refresh, a replica change) already showed.
import { ref } from 'vue'
import type { UnlistenFn } from '@tauri-apps/api/event'
import { errorMessage, onReplicaChanged, type ReplicaChanged } from '../api'

export interface LoadOptions {
  /** A live refresh: the loading flag stays down, the screen keeps what it shows meanwhile. */
  quiet?: boolean
  /** Runs after a failed read became the newest word, e.g. to drop what no longer stands. */
  onError?: () => void
}

export function createLoader() {
  const loading = ref(false)
  /** True once a read succeeded; the store resets it when what it shows changes meaning. */
  const loaded = ref(false)
  /** Why the last read failed; what was shown before stays next to it, still the best picture. */
  const error = ref<string | null>(null)
  let latestRequest = 0

  /** Reads with `fetch` and hands the answer to `apply`, unless a newer read was started meanwhile. */
  async function run<T>(fetch: () => Promise<T>, apply: (result: T) => void, options: LoadOptions = {}): Promise<void> {
    const request = ++latestRequest
    if (!options.quiet) loading.value = true
    try {
      const result = await fetch()
      if (request !== latestRequest) return
      apply(result)
      loaded.value = true
      error.value = null
    } catch (e) {
      if (request !== latestRequest) return
      error.value = errorMessage(e)
      options.onError?.()
    } finally {
      if (request === latestRequest) loading.value = false
    }
  }

  /** Whatever is on its way is no longer wanted (the screen it was for was closed). */
  function cancel(): void {
    latestRequest++
    loading.value = false
  }

  return { loading, loaded, error, run, cancel }
}

/**
 * Reads again on every replica change until the returned function is called. `initial`
 * also reads once the listener is set up, or failed to be: a change committed before it
 * existed (the first snapshot load, typically) sent its event to nobody.
 */
export async function followReplica(
  refresh: (change: ReplicaChanged) => void,
  initial?: () => void,
): Promise<UnlistenFn> {
  try {
    return await onReplicaChanged(refresh)
  } finally {
    initial?.()
  }
}
