// The project open in the detail view, kept current while the replica changes under it.
import { ref } from 'vue'
import { defineStore } from 'pinia'
import type { UnlistenFn } from '@tauri-apps/api/event'
import { getProject, type ProjectDetail, type ReplicaChanged } from '../api'
import { createLoader, followReplica } from './loader'

/** One store per screen that keeps a project open of its own; `id` names it. */
export function defineProjectDetailStore(id: string) {
  return defineStore(id, () => {
    const code = ref<string | null>(null)
    const detail = ref<ProjectDetail | null>(null)
    // A clerk scanning two codes quickly must not end up looking at the first project
    // because its answer came back last: the loader writes the newest answer only.
    const { loading, error, run, cancel } = createLoader()

    function load(projectCode: string, quiet: boolean): Promise<void> {
      return run(
        () => getProject(projectCode),
        (result) => (detail.value = result),
        // A failed live refresh keeps what was shown; a failed open has nothing to keep.
        { quiet, onError: quiet ? undefined : () => (detail.value = null) },
      )
    }

    function open(projectCode: string): Promise<void> {
      code.value = projectCode
      error.value = null
      if (detail.value?.project.project_code !== projectCode) detail.value = null
      return load(projectCode, false)
    }

    function close(): void {
      cancel()
      code.value = null
      detail.value = null
      error.value = null
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
      return followReplica(replicaChanged)
    }

    return { code, detail, loading, error, open, close, refresh, attach }
  })
}

/** The project the 项目 view shows. */
export const useProjectDetailStore = defineProjectDetailStore('projectDetail')
/** 开具 checks a project of its own, so the 项目 view keeps showing the one it showed. */
export const useIssueDetailStore = defineProjectDetailStore('issueDetail')

export type ProjectDetailStore = ReturnType<typeof useProjectDetailStore>
