// The 100,000-project list two ways, for measuring which one the counter should use:
// today's VirtualList with ProjectListRow, and Element Plus's el-table-v2 wired the way it
// would have to be (one placeholder per row, cells read from the same paged source, the
// same badges in the cells). Shared by the happy-dom bench and the WebKitGTK page.
import { createApp, defineComponent, h, nextTick, ref, type App } from 'vue'
import { ElTableV2, type Column } from 'element-plus'
import 'element-plus/es/components/table-v2/style/css'
import { createPinia } from 'pinia'
import type { ProjectRow } from '../../src/api'
import { formatFen } from '../../src/format'
import { createAppI18n } from '../../src/i18n'
import VirtualList from '../../src/components/shared/VirtualList.vue'
import ProjectListRow from '../../src/components/projects/ProjectListRow.vue'
import StatusBadge from '../../src/components/projects/StatusBadge.vue'
import TrackingMark from '../../src/components/projects/TrackingMark.vue'
import OverdueMarker from '../../src/components/projects/OverdueMarker.vue'
import AlertBadge from '../../src/components/alerts/AlertBadge.vue'

export const TOTAL = 100_000
export const ROW_HEIGHT = 56
export const WIDTH = 1248
export const HEIGHT = 560
const PAGE_SIZE = 100

function row(n: number): ProjectRow {
  return {
    project_code: `2019-320105-47-01-${String(n).padStart(6, '0')}`,
    name: `项目${n}`,
    builder: '南京某建设有限公司',
    uscc: '91350100M000100Y43',
    district_code: '320105',
    district_name: '建邺区',
    status: n % 2 ? 'due' : 'cleared',
    overdue: n % 3 === 0,
    assessed_fen: 123_456_789,
    paid_fen: 0,
    outstanding_fen: 123_456_789,
    tracked: n % 5 === 0,
    tracked_reason: n % 5 === 0 ? 'overdue' : null,
    alert_level: n % 7 === 0 ? 'orange' : null,
    stage: null,
  }
}

// The store keeps pages of rows fetched from the backend; so does this source.
const pages = new Map<number, ProjectRow[]>()
function rowAt(index: number): ProjectRow {
  const page = Math.floor(index / PAGE_SIZE)
  let rows = pages.get(page)
  if (!rows) {
    rows = Array.from({ length: PAGE_SIZE }, (_, i) => row(page * PAGE_SIZE + i))
    pages.set(page, rows)
  }
  return rows[index % PAGE_SIZE] as ProjectRow
}

export interface Mounted {
  /** The element that scrolls. */
  scroller(): HTMLElement
  /** Scrolls by API (happy-dom does no layout, so native scrolling cannot work there). */
  scrollTo(top: number): void
  unmount(): void
}

export type Kind = 'VirtualList' | 'el-table-v2'

const VirtualListView = defineComponent(() => {
  const selected = ref(0)
  return () =>
    h(
      VirtualList,
      { count: TOTAL, rowHeight: ROW_HEIGHT, style: { height: `${HEIGHT}px`, width: `${WIDTH}px` }, role: 'listbox' },
      {
        row: ({ index }: { index: number }) =>
          h(ProjectListRow, { row: rowAt(index), position: index + 1, setSize: TOTAL, selected: index === selected.value }),
      },
    )
})

function tableColumns(): Column<{ index: number }>[] {
  const cell = (render: (r: ProjectRow) => unknown) => ({ rowData }: { rowData: { index: number } }) => render(rowAt(rowData.index))
  return [
    { key: 'project', title: '项目', width: 300, flexGrow: 3, cellRenderer: cell((r) => h('span', [h('span', r.name), h('span', { class: 'figures' }, r.project_code)])) },
    { key: 'builder', title: '建设单位', width: 240, flexGrow: 2, cellRenderer: cell((r) => h('span', [h('span', r.builder), h('span', { class: 'figures' }, r.uscc)])) },
    { key: 'district', title: '行政区', width: 96, cellRenderer: cell((r) => r.district_name) },
    {
      key: 'status',
      title: '状态',
      width: 184,
      cellRenderer: cell((r) => [h(StatusBadge, { status: r.status }), r.tracked ? h(TrackingMark, { reason: r.tracked_reason }) : null]),
    },
    {
      key: 'flags',
      title: '逾期 / 预警',
      width: 120,
      cellRenderer: cell((r) => [r.overdue ? h(OverdueMarker) : null, r.alert_level ? h(AlertBadge, { level: r.alert_level, compact: true }) : null]),
    },
    { key: 'outstanding', title: '欠缴金额', width: 192, align: 'right', cellRenderer: cell((r) => h('span', { class: 'figures' }, formatFen(r.outstanding_fen))) },
  ] as Column<{ index: number }>[]
}

const TableV2View = defineComponent({
  setup(_, { expose }) {
    const table = ref<{ scrollToTop(top: number): void } | null>(null)
    const selected = ref(0)
    // el-table-v2 needs one data item per row; the rows themselves stay in the paged source.
    const data = Array.from({ length: TOTAL }, (_, index) => ({ index }))
    const columns = tableColumns()
    expose({ scrollToTop: (top: number) => table.value?.scrollToTop(top) })
    return () =>
      h(ElTableV2, {
        ref: table,
        columns,
        data,
        rowKey: 'index',
        width: WIDTH,
        height: HEIGHT,
        rowHeight: ROW_HEIGHT,
        rowProps: ({ rowData }: { rowData: { index: number } }) => {
          const r = rowAt(rowData.index)
          return { 'data-testid': 'project-row', 'data-code': r.project_code, 'aria-selected': rowData.index === selected.value }
        },
      })
  },
})

/** Mounts one list into `host` and resolves once its first rows are in the DOM. */
export async function mountList(kind: Kind, host: HTMLElement): Promise<Mounted> {
  const app: App = createApp(kind === 'VirtualList' ? VirtualListView : TableV2View)
  app.use(createPinia()).use(createAppI18n('zh-CN'))
  const vm = app.mount(host) as unknown as { scrollToTop?: (top: number) => void }
  await nextTick()
  const scroller = (): HTMLElement =>
    (kind === 'VirtualList' ? host.querySelector('.viewport') : host.querySelector('.el-table-v2__body > :first-child')) as HTMLElement
  return {
    scroller,
    scrollTo(top) {
      if (kind === 'el-table-v2') vm.scrollToTop?.(top)
      else {
        scroller().scrollTop = top
        scroller().dispatchEvent(new Event('scroll'))
      }
    },
    unmount: () => app.unmount(),
  }
}

/** The code of the first project row rendered at or below the top, to check a scroll landed. */
export function renderedCodes(host: HTMLElement): string[] {
  return [...host.querySelectorAll('[data-testid=project-row]')].map((el) => el.getAttribute('data-code') ?? '')
}
