// The chart setup the chart widgets will use: tree-shaken ECharts drawing SVG, which
// happy-dom can hold (it has no canvas).
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { VChart } from '../src/echarts'

describe('VChart', () => {
  it('draws a registered bar chart as SVG', () => {
    const option = {
      aria: { enabled: true },
      xAxis: { type: 'category', data: ['黄', '橙', '红'] },
      yAxis: { type: 'value' },
      series: [{ type: 'bar', data: [3, 2, 1] }],
    }
    const chart = mount(VChart, { props: { option }, attrs: { style: 'width: 400px; height: 200px' } })
    expect(chart.find('svg').exists()).toBe(true)
    chart.unmount()
  })
})
