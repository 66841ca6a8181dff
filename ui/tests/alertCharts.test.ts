// The two charts of the alert view: inline SVG with one stacked bar per day on a round
// scale, a caption above each bar, and the same figures in a hidden table.
import { describe, expect, it } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import AlertTrendChart from '../src/components/AlertTrendChart.vue'
import ComplianceChart from '../src/components/ComplianceChart.vue'
import { createAppI18n } from '../src/i18n'
import { axisTop } from '../src/chart'
import type { AlertTrendDay } from '../src/api'
import type { Locale } from '../src/format'
import { trendDay } from './fixtures'

// The plot is 160 units high with its baseline at 184: a bar of the axis's top value is 160.
const BASELINE = 184

const DAYS: AlertTrendDay[] = [
  trendDay('2026-11-22', { red: 0, orange: 1, yellow: 3 }, 4, 0),
  trendDay('2026-11-23', { red: 1, orange: 2, yellow: 1 }, 3, 1),
  trendDay('2026-11-24', { red: 2, orange: 3, yellow: 5 }, 0, 0),
]

function mountChart(component: typeof AlertTrendChart | typeof ComplianceChart, locale: Locale = 'zh-CN'): VueWrapper {
  return mount(component, { props: { days: DAYS }, global: { plugins: [createAppI18n(locale)] } })
}

function day(chart: VueWrapper, date: string) {
  return chart.get(`[data-testid=chart-day][data-date="${date}"]`)
}

function bar(chart: VueWrapper, date: string, series: string): { y: number; height: number } {
  const rect = day(chart, date).get(`[data-testid=chart-bar][data-series=${series}]`)
  return { y: Number(rect.attributes('y')), height: Number(rect.attributes('height')) }
}

describe('axisTop', () => {
  it('rounds the largest bar up to 1, 2 or 5 × 10ⁿ, and is never 0', () => {
    expect([0, 1, 3, 4, 7, 10, 11, 26, 99, 120, 501].map(axisTop)).toEqual([1, 1, 5, 5, 10, 10, 20, 50, 100, 200, 1000])
  })
})

describe('AlertTrendChart', () => {
  it('draws one bar group per day, stacked by level on a round scale, with the total on top', () => {
    const chart = mountChart(AlertTrendChart)
    expect(chart.findAll('[data-testid=chart-day]').map((g) => g.attributes('data-date'))).toEqual([
      '2026-11-22',
      '2026-11-23',
      '2026-11-24',
    ])
    // The largest day has 10 open: the axis tops at 10, so one alert is 16 units.
    expect(chart.get('[data-testid=chart-axis-top]').text()).toBe('10')
    expect(bar(chart, '2026-11-24', 'red')).toEqual({ y: BASELINE - 32, height: 32 })
    expect(bar(chart, '2026-11-24', 'orange')).toEqual({ y: BASELINE - 32 - 48, height: 48 })
    expect(bar(chart, '2026-11-24', 'yellow')).toEqual({ y: BASELINE - 160, height: 80 })
    expect(bar(chart, '2026-11-22', 'red').height).toBe(0)
    expect(bar(chart, '2026-11-22', 'yellow').height).toBe(48)
    expect(chart.findAll('[data-testid=chart-caption]').map((c) => c.text())).toEqual(['4', '4', '10'])
  })

  it('names itself and each bar, and gives the figures as a table', () => {
    const chart = mountChart(AlertTrendChart)
    const svg = chart.get('svg[role=img]')
    const [titleId, descId] = (svg.attributes('aria-labelledby') ?? '').split(' ')
    expect(chart.get(`[id="${titleId}"]`).text()).toBe('近 14 天每日在办预警')
    expect(chart.get(`[id="${descId}"]`).text()).toContain('按级别堆叠')
    expect(day(chart, '2026-11-23').get('[data-series=orange] title').text()).toBe('2026年11月23日 橙色预警：2')

    const table = chart.get('[data-testid=chart-table]')
    expect(table.classes()).toContain('visually-hidden')
    expect(table.findAll('thead th').map((th) => th.text())).toEqual(['日期', '红色预警', '橙色预警', '黄色预警', '合计'])
    expect(table.findAll('tbody tr').map((tr) => tr.findAll('th, td').map((c) => c.text()))).toEqual([
      ['2026年11月22日', '0', '1', '3', '4'],
      ['2026年11月23日', '1', '2', '1', '4'],
      ['2026年11月24日', '2', '3', '5', '10'],
    ])
  })

  it('says there is nothing to draw yet', () => {
    const chart = mount(AlertTrendChart, { props: { days: [] }, global: { plugins: [createAppI18n('zh-CN')] } })
    expect(chart.find('svg').exists()).toBe(false)
    expect(chart.text()).toContain('暂无趋势数据')
  })
})

describe('ComplianceChart', () => {
  it('stacks answered in time under missed per day, with the share in time on top and overall', () => {
    const chart = mountChart(ComplianceChart)
    expect(chart.findAll('[data-testid=chart-day]')).toHaveLength(3)
    // At most 4 due on a day: the axis tops at 5, so one alert is 32 units.
    expect(chart.get('[data-testid=chart-axis-top]').text()).toBe('5')
    expect(bar(chart, '2026-11-23', 'answered_in_time')).toEqual({ y: BASELINE - 96, height: 96 })
    expect(bar(chart, '2026-11-23', 'missed')).toEqual({ y: BASELINE - 128, height: 32 })
    expect(bar(chart, '2026-11-22', 'missed').height).toBe(0)
    // Nothing due on the 24th: neither good nor bad.
    expect(chart.findAll('[data-testid=chart-caption]').map((c) => c.text())).toEqual(['100%', '75%', '—'])
    // 7 of 8 in time is 87.5%, shown rounded down.
    expect(chart.get('[data-testid=compliance-overall]').text()).toBe('合计按时响应率 87%')
  })

  it('says it in English', () => {
    const chart = mountChart(ComplianceChart, 'en')
    expect(chart.get('h3').text()).toBe('Response deadlines, last 14 days')
    expect(chart.get('[data-testid=compliance-overall]').text()).toBe('Answered in time overall: 87%')
    expect(chart.findAll('.legend li').map((li) => li.text())).toEqual(['In time', 'Missed'])
  })
})
