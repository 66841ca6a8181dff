// 预警队列 for supervisors: the filters, the queue a page of 200 at a time, the active
// counts per level and the trend behind the two charts. The view reads them again on
// replica-changed and every 30 s while it is shown; the store lives in the app, so the
// filters are still set when the supervisor comes back from a project.
import { reactive, ref } from 'vue'
import { defineStore } from 'pinia'
import type { UnlistenFn } from '@tauri-apps/api/event'
import {
  ALERT_LEVELS,
  alertTrend,
  listAlerts,
  type AlertLevel,
  type AlertQuery,
  type AlertStateFilter,
  type AlertTrendDay,
  type AlertView,
  type OwnerRole,
  type Sla,
} from '../api'
import { createLoader, followReplica } from './loader'

export const ALERT_QUEUE_PAGE = 200
export const TREND_DAYS = 14

/** The 已持续 choices. */
export const MIN_AGES = [
  { key: 'h1', minutes: 60 },
  { key: 'h4', minutes: 4 * 60 },
  { key: 'd1', minutes: 24 * 60 },
  { key: 'd3', minutes: 3 * 24 * 60 },
] as const

export interface AlertFilters {
  /** Any of these; none: every level. */
  levels: AlertLevel[]
  department: string | null
  owner_role: OwnerRole | null
  state: AlertStateFilter
  sla: Sla | null
  min_age_minutes: number | null
}

export const useAlertQueueStore = defineStore('alertQueue', () => {
  const filters = reactive<AlertFilters>({
    levels: [],
    department: null,
    owner_role: null,
    state: 'active',
    sla: null,
    min_age_minutes: null,
  })
  /** Most serious first, then oldest first, as list_alerts gives them. */
  const alerts = ref<AlertView[]>([])
  /** Alerts matching the filters, shown or not. */
  const total = ref(0)
  /** Active alerts per level over the whole queue, whatever the filters. */
  const counts = ref<Record<AlertLevel, number> | null>(null)
  const departments = ref<string[]>([])
  // A filter change can overtake the timed refresh: each loader shows its newest answer only.
  const { loaded, loading, error, run } = createLoader()
  const trendLoader = createLoader()
  const trend = ref<AlertTrendDay[]>([])
  /** From 1. A refresh reads the same page again, so the supervisor stays where they were. */
  const page = ref(1)

  function query(): AlertQuery {
    const q: AlertQuery = { state: filters.state, offset: (page.value - 1) * ALERT_QUEUE_PAGE, limit: ALERT_QUEUE_PAGE }
    if (filters.levels.length > 0) q.levels = ALERT_LEVELS.filter((level) => filters.levels.includes(level))
    if (filters.department !== null) q.department = filters.department
    if (filters.owner_role !== null) q.owner_role = filters.owner_role
    if (filters.sla !== null) q.sla = filters.sla
    if (filters.min_age_minutes !== null) q.min_age_minutes = filters.min_age_minutes
    return q
  }

  function load(): Promise<void> {
    return run(
      () => listAlerts(query()),
      (result) => {
        alerts.value = result.alerts
        total.value = result.total
        counts.value = result.counts
        departments.value = result.departments
        // Alerts resolved meanwhile can leave the page shown past the end: show the last one.
        const last = Math.max(1, Math.ceil(result.total / ALERT_QUEUE_PAGE))
        if (page.value > last) void setPage(last)
      },
    )
  }

  function loadTrend(): Promise<void> {
    return trendLoader.run(
      () => alertTrend(TREND_DAYS),
      (result) => (trend.value = result.days),
      { quiet: true },
    )
  }

  function setFilter<K extends keyof AlertFilters>(key: K, value: AlertFilters[K]): Promise<void> {
    filters[key] = value
    page.value = 1
    // Alerts of the previous filters must not stand under the new filters' names.
    alerts.value = []
    loaded.value = false
    return load()
  }

  function setPage(n: number): Promise<void> {
    page.value = n
    return load()
  }

  async function refresh(): Promise<void> {
    await Promise.all([load(), loadTrend()])
  }

  /** Reads everything again on every replica change, until the returned function is called. */
  function attach(): Promise<UnlistenFn> {
    return followReplica(() => void refresh())
  }

  return {
    filters,
    alerts,
    total,
    counts,
    departments,
    loaded,
    loading,
    error,
    page,
    trend,
    trendError: trendLoader.error,
    load,
    setFilter,
    setPage,
    refresh,
    attach,
  }
})

export type AlertQueueStore = ReturnType<typeof useAlertQueueStore>
