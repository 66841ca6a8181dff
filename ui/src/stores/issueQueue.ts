// 开具 · the 可开具 queue: cleared projects with no valid voucher or invoice yet, and
// whether this counter can issue at all (its signing key, the serials left in its ranges).
// App-wide: 开具 keeps its search while the clerk looks elsewhere.
import { computed, ref } from 'vue'
import { defineStore } from 'pinia'
import type { UnlistenFn } from '@tauri-apps/api/event'
import {
  errorMessage,
  listProjects,
  signingStatus,
  type DocumentKind,
  type ProjectQuery,
  type ProjectRow,
  type SigningStatus,
} from '../api'
import { createLoader, followReplica } from './loader'
import { SEARCH_DEBOUNCE_MS } from './projectList'

/** The queue is worked from the top and searched, never scrolled through: one page is plenty. */
export const ISSUE_QUEUE_LIMIT = 200
/** Fewer serials left than this and the window should ask the data centre for a new range today. */
export const LOW_SERIALS = 20

/** Serials left of `kind`; null while unknown, which blocks nothing: the backend has the last word. */
export function serialsLeft(signing: SigningStatus | null, kind: DocumentKind): number | null {
  return signing?.serials_left.find((s) => s.kind === kind)?.left ?? null
}

export const useIssueQueueStore = defineStore('issueQueue', () => {
  const searchInput = ref('')
  const rows = ref<ProjectRow[]>([])
  const total = ref(0)
  const signing = ref<SigningStatus | null>(null)
  const signingError = ref<string | null>(null)
  // Typing overtakes the refresh after an issue: the loader shows the newest answer only.
  const { loaded, loading, error, run } = createLoader()
  let debounceTimer: ReturnType<typeof setTimeout> | null = null

  function load(): Promise<void> {
    const query: ProjectQuery = { issuable: true, offset: 0, limit: ISSUE_QUEUE_LIMIT }
    const search = searchInput.value.trim()
    if (search) query.search = search
    return run(
      () => listProjects(query),
      (page) => {
        rows.value = page.rows
        total.value = page.total
      },
    )
  }

  async function loadSigning(): Promise<void> {
    try {
      signing.value = await signingStatus()
      signingError.value = null
    } catch (e) {
      signingError.value = errorMessage(e)
    }
  }

  function refresh(): Promise<void> {
    return Promise.all([load(), loadSigning()]).then(() => undefined)
  }

  function setSearch(text: string): void {
    searchInput.value = text
    if (debounceTimer !== null) clearTimeout(debounceTimer)
    debounceTimer = setTimeout(() => void flushSearch(), SEARCH_DEBOUNCE_MS)
  }

  /** Runs the typed search now (Enter after a scan) rather than after the debounce. */
  function flushSearch(): Promise<void> {
    if (debounceTimer !== null) clearTimeout(debounceTimer)
    debounceTimer = null
    return load()
  }

  /** The kinds running low, 0 included, for the warning chips. */
  const lowSerials = computed(() => signing.value?.serials_left.filter((s) => s.left < LOW_SERIALS) ?? [])

  /** Follows replica changes (a project cleared or issued elsewhere, a new serial range); resolves to the function that stops. */
  function attach(): Promise<UnlistenFn> {
    return followReplica(() => void refresh())
  }

  return {
    searchInput,
    rows,
    total,
    loaded,
    loading,
    error,
    signing,
    signingError,
    lowSerials,
    load,
    refresh,
    setSearch,
    flushSearch,
    attach,
  }
})

export type IssueQueueStore = ReturnType<typeof useIssueQueueStore>
