// 预警队列 for supervisors: the filters, the queue a page of 200 at a time, the active
// counts per level and the trend behind the two charts. The view reads them again on
// replica-changed and every 30 s while it is shown; the store lives in the app, so the
// filters are still set when the supervisor comes back from a project.
import { reactive, ref } from 'vue'
import type { UnlistenFn } from '@tauri-apps/api/event'
import {
  ALERT_LEVELS,
  alertTrend,
  errorMessage,
  listAlerts,
  onReplicaChanged,
  type AlertLevel,
  type AlertQuery,
  type AlertStateFilter,
  type AlertTrendDay,
  type AlertView,
  type OwnerRole,
  type Sla,
} from '../api'

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

export function createAlertQueueStore() {
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
  const loaded = ref(false)
  const loading = ref(false)
  const error = ref<string | null>(null)
  const trend = ref<AlertTrendDay[]>([])
  const trendError = ref<string | null>(null)
  // "More" adds a page; a refresh reads every page shown again, so what the supervisor
  // scrolled down to stays on screen.
  let pages = 1
  // Only the newest answer may be shown: a filter change can overtake the timed refresh.
  let latestRequest = 0
  let latestTrend = 0

  function query(page: number): AlertQuery {
    const q: AlertQuery = { state: filters.state, offset: page * ALERT_QUEUE_PAGE, limit: ALERT_QUEUE_PAGE }
    if (filters.levels.length > 0) q.levels = ALERT_LEVELS.filter((level) => filters.levels.includes(level))
    if (filters.department !== null) q.department = filters.department
    if (filters.owner_role !== null) q.owner_role = filters.owner_role
    if (filters.sla !== null) q.sla = filters.sla
    if (filters.min_age_minutes !== null) q.min_age_minutes = filters.min_age_minutes
    return q
  }

  async function load(): Promise<void> {
    const request = ++latestRequest
    loading.value = true
    try {
      const results = await Promise.all(Array.from({ length: pages }, (_, page) => listAlerts(query(page))))
      if (request !== latestRequest) return
      // Pages read side by side can overlap when the queue moved in between.
      const seen = new Set<string>()
      alerts.value = results
        .flatMap((page) => page.alerts)
        .filter((a) => {
          if (seen.has(a.key)) return false
          seen.add(a.key)
          return true
        })
      const first = results[0]
      if (first) {
        total.value = first.total
        counts.value = first.counts
        departments.value = first.departments
      }
      loaded.value = true
      error.value = null
    } catch (e) {
      if (request !== latestRequest) return
      // The last good queue stays, next to the message: it is still the best picture.
      error.value = errorMessage(e)
    } finally {
      if (request === latestRequest) loading.value = false
    }
  }

  async function loadTrend(): Promise<void> {
    const request = ++latestTrend
    try {
      const result = await alertTrend(TREND_DAYS)
      if (request !== latestTrend) return
      trend.value = result.days
      trendError.value = null
    } catch (e) {
      if (request === latestTrend) trendError.value = errorMessage(e)
    }
  }

  function setFilter<K extends keyof AlertFilters>(key: K, value: AlertFilters[K]): Promise<void> {
    filters[key] = value
    pages = 1
    // Alerts of the previous filters must not stand under the new filters' names.
    alerts.value = []
    loaded.value = false
    return load()
  }

  function toggleLevel(level: AlertLevel): Promise<void> {
    const levels = filters.levels.includes(level) ? filters.levels.filter((l) => l !== level) : [...filters.levels, level]
    return setFilter('levels', levels)
  }

  function showMore(): Promise<void> {
    if (alerts.value.length >= total.value) return Promise.resolve()
    pages += 1
    return load()
  }

  async function refresh(): Promise<void> {
    await Promise.all([load(), loadTrend()])
  }

  /** Reads everything again on every replica change, until the returned function is called. */
  function attach(): Promise<UnlistenFn> {
    return onReplicaChanged(() => void refresh())
  }

  return reactive({
    filters,
    alerts,
    total,
    counts,
    departments,
    loaded,
    loading,
    error,
    trend,
    trendError,
    load,
    setFilter,
    toggleLevel,
    showMore,
    refresh,
    attach,
  })
}

export type AlertQueueStore = ReturnType<typeof createAlertQueueStore>
