import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ProjectPage, ProjectQuery, ProjectRow, StatusCounts } from '../src/api'
import { useProjectListStore, PAGE_SIZE, SEARCH_DEBOUNCE_MS } from '../src/stores/projectList'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

function code(n: number): string {
  return `2019-320105-47-01-${String(n).padStart(6, '0')}`
}

function row(n: number, overrides: Partial<ProjectRow> = {}): ProjectRow {
  return {
    project_code: code(n),
    name: `项目${n}`,
    builder: '南京某建设有限公司',
    uscc: '91350100M000100Y43',
    district_code: '320105',
    district_name: '建邺区',
    status: 'due',
    overdue: false,
    assessed_fen: 100_000,
    paid_fen: 0,
    outstanding_fen: 100_000,
    tracked: false,
    tracked_reason: null,
    alert_level: null,
    stage: null,
    ...overrides,
  }
}

function counts(all: number): StatusCounts {
  return { awaiting_assessment: 0, due: all, partly_paid: 0, awaiting_tax_clearance: 0, cleared: 0, overdue: 0, tracked: 0, all }
}

/** A backend holding `rows`, answering list_projects by offset/limit like the real one. */
function serve(rows: ProjectRow[]): void {
  tauri.handle('list_projects', (args) => {
    const query = args?.query as ProjectQuery
    const page: ProjectPage = {
      total: rows.length,
      counts: counts(rows.length),
      rows: rows.slice(query.offset, query.offset + query.limit),
    }
    return page
  })
}

function listQueries(): ProjectQuery[] {
  return tauri.callsOf('list_projects').map((args) => args?.query as ProjectQuery)
}

describe('project list store', () => {
  beforeEach(() => tauri.reset())
  afterEach(() => vi.useRealTimers())

  it('fetches the first page on attach with a clean query', async () => {
    serve(Array.from({ length: 250 }, (_, i) => row(i)))
    const store = useProjectListStore()
    await store.attach()
    await tauri.settle()

    expect(listQueries()).toEqual([{ offset: 0, limit: PAGE_SIZE }])
    expect(store.total).toBe(250)
    expect(store.rowAt(0)?.project_code).toBe(code(0))
    expect(store.selectedIndex).toBe(0)
  })

  it('fetches only the pages that cover the visible rows of a 100,000-row result', async () => {
    serve(Array.from({ length: 100_000 }, (_, i) => row(i)))
    const store = useProjectListStore()
    await store.attach()
    await tauri.settle()
    tauri.calls.length = 0

    store.setVisibleRange(50_090, 50_120)
    await tauri.settle()

    expect(listQueries().map((q) => q.offset)).toEqual([50_000, 50_100])
    expect(store.rowAt(50_095)?.project_code).toBe(code(50_095))
    expect(store.rowAt(10_000)).toBeUndefined()
  })

  it('sends filters as the backend expects them', async () => {
    serve([])
    const store = useProjectListStore()
    await store.attach()
    store.setStatus('partly_paid')
    store.setOverdue(true)
    store.setTracked(true)
    store.setDistrict('320102')
    await tauri.settle()

    expect(listQueries().at(-1)).toEqual({
      status: 'partly_paid',
      overdue: true,
      tracked: true,
      district: '320102',
      offset: 0,
      limit: PAGE_SIZE,
    })

    // 全部 drops the status, overdue and tracking filters, not the district.
    store.clearStatusFilters()
    await tauri.settle()
    expect(listQueries().at(-1)).toEqual({ district: '320102', offset: 0, limit: PAGE_SIZE })
  })

  it('refreshes the visible page and counts on replica-changed, keeping the selection', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => row(i))
    serve(rows)
    const store = useProjectListStore()
    await store.attach()
    store.setVisibleRange(100, 120)
    await tauri.settle()
    store.select(105)
    tauri.calls.length = 0

    // A new project sorts in ahead of the selected one, and another one is paid off.
    rows.splice(0, 0, row(9_999))
    rows[106] = row(105, { status: 'cleared', outstanding_fen: 0 })
    tauri.emit('replica-changed', { cursor: 42, project_codes: [code(9_999), code(105)] })
    await tauri.settle()

    expect(listQueries().map((q) => q.offset)).toEqual([100])
    expect(store.total).toBe(301)
    expect(store.counts?.all).toBe(301)
    expect(store.rowAt(106)?.status).toBe('cleared')
    expect(store.selectedIndex).toBe(106)
    expect(store.selectedRow()?.project_code).toBe(code(105))
  })

  it('refreshes on a replica-changed event that names no projects', async () => {
    const rows: ProjectRow[] = []
    serve(rows)
    const store = useProjectListStore()
    await store.attach()
    await tauri.settle()
    expect(store.total).toBe(0)

    rows.push(row(1), row(2))
    tauri.emit('replica-changed', { cursor: 7, project_codes: [] })
    await tauri.settle()

    expect(store.total).toBe(2)
    expect(store.rowAt(1)?.project_code).toBe(code(2))
  })

  it('refetches on attach what the view fetched before the listener was in place', async () => {
    // The view asks for its first rows while it is set up, before the app attaches; the
    // first snapshot load finishes in between, and its replica-changed reaches nobody.
    const rows: ProjectRow[] = []
    serve(rows)
    const store = useProjectListStore()
    store.setVisibleRange(0, 10)
    await tauri.settle()
    expect(store.loaded).toBe(true)
    expect(store.total).toBe(0)

    rows.push(row(1), row(2))
    await store.attach()
    await tauri.settle()

    expect(store.total).toBe(2)
    expect(store.rowAt(0)?.project_code).toBe(code(1))
  })

  it('never lets an answer fetched before a change overwrite one fetched after it', async () => {
    const stale = tauri.deferred<ProjectPage>()
    let answer: (() => unknown) | null = () => stale.promise
    tauri.handle('list_projects', () => answer?.())
    const store = useProjectListStore()
    await store.attach()

    answer = () => ({ total: 1, counts: counts(1), rows: [row(1, { status: 'cleared' })] })
    tauri.emit('replica-changed', { cursor: 2, project_codes: [] })
    await tauri.settle()
    stale.resolve({ total: 2, counts: counts(2), rows: [row(1, { status: 'due' }), row(2)] })
    await tauri.settle()

    expect(store.rowAt(0)?.status).toBe('cleared')
    expect(store.total).toBe(1)
    // Had the stale rows been taken, the page would look outdated and be fetched a third time.
    expect(listQueries()).toHaveLength(2)
  })

  it('debounces typed search and drops answers for the text it replaced', async () => {
    vi.useFakeTimers()
    const slow = tauri.deferred<ProjectPage>()
    tauri.handle('list_projects', (args) => {
      const query = args?.query as ProjectQuery
      if (query.search === '南京') return slow.promise
      return { total: 1, counts: counts(1), rows: [row(query.search === '南京银行' ? 7 : 0)] }
    })
    const store = useProjectListStore()
    await store.attach()
    await vi.advanceTimersByTimeAsync(0)
    tauri.calls.length = 0

    store.setSearch('南')
    store.setSearch('南京')
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS - 1)
    expect(listQueries()).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(listQueries().map((q) => q.search)).toEqual(['南京'])

    store.setSearch('南京银行')
    expect(store.flushSearch()).toBe(true)
    await vi.advanceTimersByTimeAsync(0)
    slow.resolve({ total: 500, counts: counts(500), rows: [row(3)] })
    await vi.advanceTimersByTimeAsync(0)

    expect(store.total).toBe(1)
    expect(store.rowAt(0)?.project_code).toBe(code(7))
  })

  it('shows the backend message when a page cannot be read', async () => {
    tauri.handle('list_projects', () => Promise.reject('本机副本无法读取，请重启一站'))
    const store = useProjectListStore()
    await store.attach()
    await tauri.settle()
    expect(store.error).toBe('本机副本无法读取，请重启一站')
  })

  it('stops listening when detached', async () => {
    serve([])
    const store = useProjectListStore()
    const unlisten = await store.attach()
    expect(tauri.listenerCount('replica-changed')).toBe(1)
    unlisten()
    expect(tauri.listenerCount('replica-changed')).toBe(0)
  })
})
