// The project list as a window onto the backend's result set: rows are fetched in pages
// (offset/limit) only for the part the clerk can see, so 100,000 projects cost a few
// hundred rows of memory. Replica changes re-fetch what is visible in place.
import { markRaw, reactive, ref, shallowReactive } from 'vue'
import { defineStore } from 'pinia'
import type { UnlistenFn } from '@tauri-apps/api/event'
import {
  districts as fetchDistricts,
  errorMessage,
  listProjects,
  type District,
  type ProjectPage,
  type ProjectQuery,
  type ProjectRow,
  type Status,
  type StatusCounts,
} from '../api'
import { followReplica } from './loader'

export const PAGE_SIZE = 100
export const SEARCH_DEBOUNCE_MS = 150
// Enough for several screens either side of the view; older pages are refetched on return.
const MAX_CACHED_PAGES = 40
// Fast scrolling through 100,000 rows would otherwise queue a request per frame;
// pages no longer wanted by the time a slot frees up are never requested.
const MAX_IN_FLIGHT = 2

export interface ListFilters {
  search: string
  status: Status | null
  overdue: boolean
  /** 项目跟踪 only. */
  tracked: boolean
  district: string | null
}

export const useProjectListStore = defineStore('projectList', () => {
  /** What the clerk is typing; becomes `filters.search` after the debounce. */
  const searchInput = ref('')
  const filters = reactive<ListFilters>({ search: '', status: null, overdue: false, tracked: false, district: null })
  const total = ref(0)
  const counts = ref<StatusCounts | null>(null)
  /** False until the first page for the current filters has arrived. */
  const loaded = ref(false)
  const error = ref<string | null>(null)
  const selectedIndex = ref(-1)
  /** Bumps when the filters change, so views can scroll back to the top. */
  const filterVersion = ref(0)
  const districtList = ref<District[]>([])

  const pages = shallowReactive(new Map<number, readonly ProjectRow[]>())
  // A response is only written over data fetched at an older replica epoch, so a slow
  // request issued before a change can never overwrite rows fetched after it.
  const pageEpoch = new Map<number, number>()
  const inFlight = new Map<number, number>()
  let epoch = 0
  let countsEpoch = -1
  let generation = 0
  let selectedCode: string | null = null
  let visibleStart = 0
  let visibleEnd = 0
  let debounceTimer: ReturnType<typeof setTimeout> | null = null

  function query(page: number): ProjectQuery {
    const q: ProjectQuery = { offset: page * PAGE_SIZE, limit: PAGE_SIZE }
    const search = filters.search.trim()
    if (search) q.search = search
    if (filters.status) q.status = filters.status
    if (filters.overdue) q.overdue = true
    if (filters.tracked) q.tracked = true
    if (filters.district) q.district = filters.district
    return q
  }

  function wantedPages(): number[] {
    const end = Math.min(visibleEnd, total.value)
    if (end <= visibleStart) return [0]
    const wanted: number[] = []
    for (let p = Math.floor(visibleStart / PAGE_SIZE); p <= Math.floor((end - 1) / PAGE_SIZE); p++) {
      wanted.push(p)
    }
    return wanted
  }

  function needsFetch(page: number): boolean {
    return (pageEpoch.get(page) ?? -1) < epoch && (inFlight.get(page) ?? -1) < epoch
  }

  function pump(): void {
    for (const page of wantedPages()) {
      if (inFlight.size >= MAX_IN_FLIGHT) return
      if (needsFetch(page)) void fetchPage(page)
    }
  }

  async function fetchPage(page: number): Promise<void> {
    const gen = generation
    const fetchedAt = epoch
    inFlight.set(page, fetchedAt)
    let result: ProjectPage
    try {
      result = await listProjects(query(page))
    } catch (e) {
      if (gen !== generation) return
      if (inFlight.get(page) === fetchedAt) inFlight.delete(page)
      error.value = errorMessage(e)
      // No pump here: retrying a failing backend in a tight loop helps nobody; the next
      // scroll, filter change or replica change asks again.
      return
    }
    if (gen !== generation) return
    if (inFlight.get(page) === fetchedAt) inFlight.delete(page)
    error.value = null
    accept(page, result, fetchedAt)
    pump()
  }

  function accept(page: number, result: ProjectPage, fetchedAt: number): void {
    if (fetchedAt >= countsEpoch) {
      countsEpoch = fetchedAt
      total.value = result.total
      counts.value = result.counts
      loaded.value = true
      if (selectedIndex.value >= result.total) select(result.total - 1)
      else if (selectedIndex.value < 0 && result.total > 0) select(0)
    }
    if ((pageEpoch.get(page) ?? -1) > fetchedAt) return
    pageEpoch.set(page, fetchedAt)
    pages.set(page, markRaw(result.rows))
    followSelection(page, result.rows)
    evictFarPages()
  }

  /** Keeps the same project selected when a refresh moves it within the loaded page. */
  function followSelection(page: number, rows: readonly ProjectRow[]): void {
    const first = page * PAGE_SIZE
    const index = selectedIndex.value
    if (index < first || index >= first + rows.length) return
    if (selectedCode === null) {
      selectedCode = rows[index - first]?.project_code ?? null
      return
    }
    if (rows[index - first]?.project_code === selectedCode) return
    const moved = rows.findIndex((row) => row.project_code === selectedCode)
    if (moved >= 0) selectedIndex.value = first + moved
    else selectedCode = rows[index - first]?.project_code ?? null
  }

  function evictFarPages(): void {
    if (pages.size <= MAX_CACHED_PAGES) return
    const centre = Math.floor(visibleStart / PAGE_SIZE)
    const byDistance = [...pages.keys()].sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre))
    for (const page of byDistance.slice(0, pages.size - MAX_CACHED_PAGES)) {
      pages.delete(page)
      pageEpoch.delete(page)
    }
  }

  function rowAt(index: number): ProjectRow | undefined {
    return pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE]
  }

  /** Called by the view with the rows it renders, [start, end). */
  function setVisibleRange(start: number, end: number): void {
    visibleStart = Math.max(0, start)
    visibleEnd = Math.max(visibleStart, end)
    pump()
  }

  function select(index: number): void {
    if (total.value <= 0) {
      selectedIndex.value = -1
      selectedCode = null
      return
    }
    selectedIndex.value = Math.min(Math.max(index, 0), total.value - 1)
    selectedCode = rowAt(selectedIndex.value)?.project_code ?? null
  }

  function selectedRow(): ProjectRow | undefined {
    return selectedIndex.value >= 0 ? rowAt(selectedIndex.value) : undefined
  }

  function applyFilters(): void {
    generation++
    filterVersion.value++
    pages.clear()
    pageEpoch.clear()
    inFlight.clear()
    countsEpoch = -1
    loaded.value = false
    selectedIndex.value = -1
    selectedCode = null
    // The view scrolls back to the top on a new filter: same window height, from row 0.
    visibleEnd -= visibleStart
    visibleStart = 0
    pump()
  }

  function setSearch(text: string): void {
    searchInput.value = text
    if (debounceTimer !== null) clearTimeout(debounceTimer)
    debounceTimer = setTimeout(flushSearch, SEARCH_DEBOUNCE_MS)
  }

  /** Applies typed text now. Returns false when it was already applied. */
  function flushSearch(): boolean {
    if (debounceTimer !== null) {
      clearTimeout(debounceTimer)
      debounceTimer = null
    }
    if (filters.search === searchInput.value) return false
    filters.search = searchInput.value
    applyFilters()
    return true
  }

  function setStatus(status: Status | null): void {
    filters.status = status
    applyFilters()
  }

  function setOverdue(overdue: boolean): void {
    filters.overdue = overdue
    applyFilters()
  }

  function setTracked(tracked: boolean): void {
    filters.tracked = tracked
    applyFilters()
  }

  function setDistrict(district: string | null): void {
    filters.district = district
    applyFilters()
  }

  /** The "all" chip: drop the status, overdue and tracking filters, keep search and district. */
  function clearStatusFilters(): void {
    filters.status = null
    filters.overdue = false
    filters.tracked = false
    applyFilters()
  }

  /** The replica changed: everything cached is stale; what is on screen is fetched again. */
  function refresh(): void {
    epoch++
    pump()
  }

  async function loadDistricts(): Promise<void> {
    try {
      districtList.value = await fetchDistricts()
    } catch (e) {
      error.value = errorMessage(e)
    }
  }

  /** Starts live updates and the first fetch; resolves to the function that stops them. */
  function attach(): Promise<UnlistenFn> {
    // The view asks for its first rows as soon as it is set up, so whatever it fetched
    // before the listener existed is stale by then. Even without live updates the clerk
    // can still read the list.
    return followReplica(refresh, refresh)
  }

  return {
    searchInput,
    filters,
    total,
    counts,
    loaded,
    error,
    selectedIndex,
    filterVersion,
    districtList,
    rowAt,
    setVisibleRange,
    select,
    selectedRow,
    setSearch,
    flushSearch,
    setStatus,
    setOverdue,
    setTracked,
    setDistrict,
    clearStatusFilters,
    loadDistricts,
    refresh,
    attach,
  }
})

export type ProjectListStore = ReturnType<typeof useProjectListStore>
