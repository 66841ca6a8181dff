// The audit administrator's search of the hub's audit trail: the filters, the page found
// (newest first, the next page older than its last record) and the last export's file.
import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import { errorMessage, exportAudit, searchAudit, type AuditEntry, type AuditSearch } from '../api'
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

  function search(): AuditSearch {
    const text = (value: string) => (value.trim() === '' ? null : value.trim())
    return {
      user: text(filters.user),
      event: text(filters.event),
      object: text(filters.object),
      result: filters.result === '' ? null : filters.result,
      from: filters.range ? new Date(filters.range[0]).toISOString() : null,
      to: filters.range ? new Date(filters.range[1]).toISOString() : null,
      before_id: null,
    }
  }

  function load(): Promise<void> {
    return loader.run(() => searchAudit(search()), (found) => (entries.value = found))
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

  return { filters, entries, loading: loader.loading, loaded: loader.loaded, error: loader.error, load, exporting, exported, exportError, exportAs }
})
