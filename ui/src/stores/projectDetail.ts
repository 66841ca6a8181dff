// The project open in the detail view, kept current while the replica changes under it.
import { reactive, ref } from 'vue'
import type { UnlistenFn } from '@tauri-apps/api/event'
import { errorMessage, getProject, onReplicaChanged, type ProjectDetail, type ReplicaChanged } from '../api'

export function createProjectDetailStore() {
  const code = ref<string | null>(null)
  const detail = ref<ProjectDetail | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)
  // Only the newest request may write: a clerk scanning two codes quickly must not end up
  // looking at the first project because its answer came back last.
  let latestRequest = 0

  async function load(projectCode: string, quiet: boolean): Promise<void> {
    const request = ++latestRequest
    if (!quiet) loading.value = true
    try {
      const result = await getProject(projectCode)
      if (request !== latestRequest) return
      detail.value = result
      error.value = null
    } catch (e) {
      if (request !== latestRequest) return
      error.value = errorMessage(e)
      // A failed live refresh keeps what was shown; a failed open has nothing to keep.
      if (!quiet) detail.value = null
    } finally {
      if (request === latestRequest) loading.value = false
    }
  }

  function open(projectCode: string): Promise<void> {
    code.value = projectCode
    error.value = null
    if (detail.value?.project.project_code !== projectCode) detail.value = null
    return load(projectCode, false)
  }

  function close(): void {
    latestRequest++
    code.value = null
    detail.value = null
    error.value = null
    loading.value = false
  }

  /**
   * Reads the open project again without the loading state, e.g. right after a clerk
   * command: its `replica-changed` event follows, but the clerk should see the effect now.
   */
  function refresh(): Promise<void> {
    const open = code.value
    return open === null ? Promise.resolve() : load(open, true)
  }

  function replicaChanged(change: ReplicaChanged): void {
    const open = code.value
    if (open === null) return
    if (change.project_codes.length === 0 || change.project_codes.includes(open)) {
      void load(open, true)
    }
  }

  function attach(): Promise<UnlistenFn> {
    return onReplicaChanged(replicaChanged)
  }

  return reactive({ code, detail, loading, error, open, close, refresh, attach })
}

export type ProjectDetailStore = ReturnType<typeof createProjectDetailStore>
