// The audit administrator's search of the hub's audit trail: the filters, the page found
// (newest first, the next page older than its last record) and the last export's file.
import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import { AUDIT_PAGE, errorMessage, exportAudit, searchAudit, type AuditEntry, type AuditSearch } from '../api'
import { createLoader } from './loader'

export interface AuditFilters {
  user: string
  event: string
  object: string
  result: '' | 'success' | 'failure'
  /** [from, to] as the date-range picker gives them (ISO strings), or null. */
  range: [string, string] | null
}

export const useAuditTrailStore = defineStore('auditTrail', () => {
  const filters = reactive<AuditFilters>({ user: '', event: '', object: '', result: '', range: null })
  const entries = ref<AuditEntry[]>([])
  const loader = createLoader()
  const exporting = ref(false)
  const exported = ref<string | null>(null)
  const exportError = ref<string | null>(null)

  /** Whether the hub may hold older records than those listed: the last page came back full. */
  const more = ref(false)

  function search(beforeId: number | null = null): AuditSearch {
    // A cleared select leaves undefined behind.
    const text = (value: string | undefined) => (value === undefined || value.trim() === '' ? null : value.trim())
    return {
      user: text(filters.user),
      event: text(filters.event),
      object: text(filters.object),
      result: filters.result === '' ? null : filters.result,
      from: filters.range ? new Date(filters.range[0]).toISOString() : null,
      to: filters.range ? new Date(filters.range[1]).toISOString() : null,
      before_id: beforeId,
    }
  }

  function load(): Promise<void> {
    return loader.run(
      () => searchAudit(search()),
      (found) => {
        entries.value = found
        more.value = found.length === AUDIT_PAGE
      },
    )
  }

  /** The next page: records older than the last one listed, with the same filters. */
  function loadOlder(): Promise<void> {
    const last = entries.value.at(-1)
    if (!last) return Promise.resolve()
    return loader.run(
      () => searchAudit(search(last.id)),
      (found) => {
        entries.value = [...entries.value, ...found]
        more.value = found.length === AUDIT_PAGE
      },
    )
  }

  async function exportAs(format: 'csv' | 'xlsx'): Promise<void> {
    if (exporting.value) return
    exporting.value = true
    exportError.value = null
    try {
      exported.value = await exportAudit(search(), format)
    } catch (e) {
      exportError.value = errorMessage(e)
    } finally {
      exporting.value = false
    }
  }

  return {
    filters,
    entries,
    more,
    loading: loader.loading,
    loaded: loader.loaded,
    error: loader.error,
    load,
    loadOlder,
    exporting,
    exported,
    exportError,
    exportAs,
  }
})
