// The two charts of the alert view on ECharts: one stacked bar per day in the theme's alert
// colours, the tooltip with the day's figures, legend toggles, zoom on the days, the picture
// saved with its title, aria; and the same figures in a hidden table for screen readers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import AlertTrendChart from '../src/components/alerts/AlertTrendChart.vue'
import ComplianceChart from '../src/components/alerts/ComplianceChart.vue'
import type { StackedBarOption } from '../src/components/alerts/StackedBarChart.vue'
import { VChart } from '../src/echarts'
import { createAppI18n } from '../src/i18n'
import type { AlertTrendDay } from '../src/api'
import type { Locale } from '../src/format'
import { trendDay } from './fixtures'

const DAYS: AlertTrendDay[] = [
  trendDay('2026-11-22', { red: 0, orange: 1, yellow: 3 }, 4, 0),
  trendDay('2026-11-23', { red: 1, orange: 2, yellow: 1 }, 3, 1),
  trendDay('2026-11-24', { red: 2, orange: 3, yellow: 5 }, 0, 0),
]

// The theme's colours as styles.css sets them; the tests do not load the stylesheet.
const THEME = {
  '--alert-yellow-fill': '#facc15',
  '--alert-orange-fill': '#f97316',
  '--alert-red-fill': '#dc2626',
  '--tone-green': '#166534',
}

let chart: VueWrapper | null = null

function mountChart(component: typeof AlertTrendChart | typeof ComplianceChart, locale: Locale = 'zh-CN', days = DAYS): VueWrapper {
  chart = mount(component, { props: { days }, global: { plugins: [createAppI18n(locale)] }, attachTo: document.body })
  return chart
}

function option(wrapper: VueWrapper): StackedBarOption {
  return wrapper.getComponent(VChart).props('option') as StackedBarOption
}

type Series = { name: string; stack: string; data: number[]; itemStyle: { color?: string } }

function series(wrapper: VueWrapper): Series[] {
  return option(wrapper).series as Series[]
}

/** The tooltip of day `index`, as ECharts would ask for it: one item per series. */
function tooltip(wrapper: VueWrapper, index: number): string {
  const formatter = (option(wrapper).tooltip as { formatter: (params: unknown) => string }).formatter
  const params = series(wrapper).map((s) => ({ dataIndex: index, seriesName: s.name, value: s.data[index], marker: '' }))
  return formatter(params).replace(/<[^>]+>/g, '\n')
}

function table(wrapper: VueWrapper): string[][] {
  return wrapper
    .get('[data-testid=chart-table]')
    .findAll('tbody tr')
    .map((tr) => tr.findAll('th, td').map((c) => c.text()))
}

beforeEach(() => {
  for (const [name, value] of Object.entries(THEME)) document.documentElement.style.setProperty(name, value)
})
afterEach(() => {
  chart?.unmount()
  chart = null
  document.documentElement.removeAttribute('style')
})

describe('AlertTrendChart', () => {
  it('stacks one bar per day by level, red at the bottom, in the theme’s level colours', () => {
    const view = mountChart(AlertTrendChart)
    expect((option(view).xAxis as { data: string[] }).data).toEqual(['2026-11-22', '2026-11-23', '2026-11-24'])
    expect(series(view).map((s) => [s.name, s.stack, s.data, s.itemStyle.color])).toEqual([
      ['红色预警', 'day', [0, 1, 2], '#dc2626'],
      ['橙色预警', 'day', [1, 2, 3], '#f97316'],
      ['黄色预警', 'day', [3, 1, 5], '#facc15'],
    ])
    // Each level can be hidden from the legend.
    expect(option(view).legend).toMatchObject({ data: ['红色预警', '橙色预警', '黄色预警'] })
  })

  it('gives each day’s figures and total in its tooltip', () => {
    const view = mountChart(AlertTrendChart)
    const text = tooltip(view, 2)
    expect(text).toContain('2026年11月24日')
    expect(text).toContain('红色预警：2')
    expect(text).toContain('黄色预警：5')
    expect(text).toContain('合计：10')
    expect(tooltip(view, 0)).toContain('合计：4')
  })

  it('zooms on the days, saves the picture with its title, and is described and hatched for aria', () => {
    const view = mountChart(AlertTrendChart)
    const o = option(view)
    expect(o.title).toMatchObject({ text: '近 14 天每日在办预警' })
    expect(o.toolbox).toMatchObject({ feature: { saveAsImage: { title: '保存为图片' } } })
    expect(o.dataZoom).toEqual([
      expect.objectContaining({ type: 'inside', xAxisIndex: 0 }),
      expect.objectContaining({ type: 'slider', xAxisIndex: 0 }),
    ])
    expect(o.aria).toMatchObject({ enabled: true, decal: { show: true } })
    expect((o.aria as { label: { description: string } }).label.description).toContain('按级别堆叠')
    expect(view.getComponent(VChart).props('initOptions')).toEqual({ renderer: 'svg', locale: 'ZH' })
  })

  it('draws the chart as SVG, legend and all, with its description for screen readers', async () => {
    // happy-dom lays nothing out: give the chart the size the counter's screen would.
    vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(480)
    vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(280)
    const view = mountChart(AlertTrendChart)
    // ECharts draws on the next animation frame.
    await new Promise((resolve) => requestAnimationFrame(resolve))
    const drawn = view.get('svg')
    const words = drawn.findAll('text').map((t) => t.text())
    expect(words).toEqual(expect.arrayContaining(['近 14 天每日在办预警', '红色预警', '橙色预警', '黄色预警', '11/22', '11/24']))
    expect(view.get('[aria-label]').attributes('aria-label')).toContain('按级别堆叠')
  })

  it('names itself and gives the figures as a hidden table', () => {
    const view = mountChart(AlertTrendChart)
    expect(view.get('h3').text()).toBe('近 14 天每日在办预警')
    const hidden = view.get('[data-testid=chart-table]')
    expect(hidden.classes()).toContain('visually-hidden')
    expect(hidden.findAll('thead th').map((th) => th.text())).toEqual(['日期', '红色预警', '橙色预警', '黄色预警', '合计'])
    expect(table(view)).toEqual([
      ['2026年11月22日', '0', '1', '3', '4'],
      ['2026年11月23日', '1', '2', '1', '4'],
      ['2026年11月24日', '2', '3', '5', '10'],
    ])
  })

  it('says there is nothing to draw yet', () => {
    const view = mountChart(AlertTrendChart, 'zh-CN', [])
    expect(view.findComponent(VChart).exists()).toBe(false)
    expect(view.text()).toContain('暂无趋势数据')
  })
})

describe('ComplianceChart', () => {
  it('stacks answered in time under missed per day, with the share in time in the tooltip and overall', () => {
    const view = mountChart(ComplianceChart)
    expect(series(view).map((s) => [s.name, s.data, s.itemStyle.color])).toEqual([
      ['按时响应', [4, 3, 0], '#166534'],
      ['超时', [0, 1, 0], '#dc2626'],
    ])
    expect(tooltip(view, 1)).toContain('按时响应率：75%')
    // Nothing due on the 24th: neither good nor bad.
    expect(tooltip(view, 2)).toContain('按时响应率：—')
    expect(table(view).map((row) => row.at(-1))).toEqual(['100%', '75%', '—'])
    // 7 of 8 in time is 87.5%, shown rounded down.
    expect(view.get('[data-testid=compliance-overall]').text()).toBe('合计按时响应率 87%')
  })

  it('says it in English', () => {
    const view = mountChart(ComplianceChart, 'en')
    expect(view.get('h3').text()).toBe('Response deadlines, last 14 days')
    expect(view.get('[data-testid=compliance-overall]').text()).toBe('Answered in time overall: 87%')
    expect(option(view).legend).toMatchObject({ data: ['In time', 'Missed'] })
    expect(option(view).toolbox).toMatchObject({ feature: { saveAsImage: { title: 'Save as image' } } })
    expect(view.getComponent(VChart).props('initOptions')).toEqual({ renderer: 'svg', locale: 'EN' })
    expect(tooltip(view, 1)).toContain('In time: 75%')
  })
})
