// The projects area on the kit: the list's filters, the payments table, the change
// timeline and the status tags, through the selectors the WebDriver suite and the clerk use.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import type { Component } from 'vue'
import ListFilters from '../src/components/projects/ListFilters.vue'
import PaymentTable from '../src/components/projects/PaymentTable.vue'
import ChangeTimeline from '../src/components/projects/ChangeTimeline.vue'
import StatusBadge from '../src/components/projects/StatusBadge.vue'
import { createAppI18n } from '../src/i18n'
import type { ProjectQuery } from '../src/api'
import type { Locale } from '../src/format'
import { useProjectListStore } from '../src/stores/projectList'
import { CODE, projectDetail } from './fixtures'
import { flush } from './dom'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

let wrapper: VueWrapper | null = null

function mountIt(component: Component, props: Record<string, unknown> = {}, locale: Locale = 'zh-CN'): VueWrapper {
  wrapper = mount(component, { props, global: { plugins: [createAppI18n(locale)] }, attachTo: document.body })
  return wrapper
}

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  document.body.innerHTML = ''
})

describe('ListFilters', () => {
  beforeEach(() => {
    tauri.reset()
    tauri.handle('list_projects', () => ({
      total: 0,
      counts: { awaiting_assessment: 1, due: 2, partly_paid: 3, awaiting_tax_clearance: 4, cleared: 5, overdue: 6, tracked: 7, all: 15 },
      rows: [],
    }))
  })

  function lastQuery(): ProjectQuery {
    return tauri.callsOf('list_projects').at(-1)?.query as ProjectQuery
  }

  async function mountFilters(): Promise<{ filters: VueWrapper; store: ReturnType<typeof useProjectListStore> }> {
    const store = useProjectListStore()
    store.districtList = [{ code: '320105', name: '建邺区' }]
    store.setVisibleRange(0, 10)
    const filters = mountIt(ListFilters)
    await flush()
    return { filters, store }
  }

  function chosen(filters: VueWrapper): string[] {
    return filters
      .findAll('[data-testid=filter-status]')
      .filter((b) => (b.get('input').element as HTMLInputElement).checked)
      .map((b) => b.attributes('data-status') ?? '')
  }

  it('shows each status with its count, and 全部 chosen while nothing narrows the list', async () => {
    const { filters } = await mountFilters()
    const buttons = filters.findAll('[data-testid=filter-status]')
    expect(buttons.map((b) => b.attributes('data-status'))).toEqual([
      'all',
      'awaiting_assessment',
      'due',
      'partly_paid',
      'awaiting_tax_clearance',
      'cleared',
    ])
    expect(buttons[0]?.text()).toBe('全部 15')
    expect(buttons[3]?.text()).toContain('部分到账')
    expect(buttons[3]?.text()).toContain('3')
    expect(chosen(filters)).toEqual(['all'])
    expect(filters.get('[data-testid=filter-overdue]').text()).toContain('6')
    expect(filters.get('[data-testid=filter-tracked]').text()).toContain('7')
  })

  it('filters by one status; 全部 drops the status, 逾期 and 项目跟踪 together', async () => {
    const { filters, store } = await mountFilters()
    await filters.get('[data-testid=filter-status][data-status=due] input').setValue(true)
    await flush()
    expect(lastQuery()).toEqual({ status: 'due', offset: 0, limit: 100 })
    expect(chosen(filters)).toEqual(['due'])

    await filters.get('[data-testid=filter-overdue]').trigger('click')
    await flush()
    expect(store.filters.overdue).toBe(true)
    expect(lastQuery()).toEqual({ status: 'due', overdue: true, offset: 0, limit: 100 })

    await filters.get('[data-testid=filter-status][data-status=all] input').setValue(true)
    await flush()
    expect(lastQuery()).toEqual({ offset: 0, limit: 100 })
    expect(chosen(filters)).toEqual(['all'])
    expect(filters.get('[data-testid=filter-overdue]').classes()).not.toContain('is-checked')
  })

  it('toggles 项目跟踪 on click, and 全部 is no longer chosen while it is on', async () => {
    const { filters } = await mountFilters()
    const chip = filters.get('[data-testid=filter-tracked]')
    expect(chip.classes()).not.toContain('is-checked')
    await chip.trigger('click')
    await flush()
    expect(lastQuery()).toEqual({ tracked: true, offset: 0, limit: 100 })
    expect(chip.classes()).toContain('is-checked')
    expect(chosen(filters)).toEqual([])

    await chip.trigger('click')
    await flush()
    expect(lastQuery()).toEqual({ offset: 0, limit: 100 })
    expect(chip.classes()).not.toContain('is-checked')
    expect(chosen(filters)).toEqual(['all'])
  })

  it('filters by district from the select, and back to all districts', async () => {
    const { filters } = await mountFilters()
    const option = (name: string) =>
      [...document.querySelectorAll<HTMLElement>('.el-select-dropdown__item')].find((item) => item.textContent?.trim() === name)
    await filters.get('[data-testid=filter-district] .el-select__wrapper').trigger('click')
    await flush()
    option('建邺区')?.click()
    await flush()
    expect(lastQuery()).toEqual({ district: '320105', offset: 0, limit: 100 })
    expect(filters.get('[data-testid=filter-district]').text()).toContain('建邺区')

    await filters.get('[data-testid=filter-district] .el-select__wrapper').trigger('click')
    await flush()
    option('全部行政区')?.click()
    await flush()
    expect(lastQuery()).toEqual({ offset: 0, limit: 100 })
  })
})

describe('PaymentTable', () => {
  it('lists each payment with its id on its row, the amount large in yuan, and the time in Beijing time', async () => {
    const table = mountIt(PaymentTable, { payments: projectDetail(CODE).payments })
    await flush()
    const row = table.get('[data-testid=payment-row]')
    expect(row.attributes('data-payment-id')).toBe('PAY-0001')
    expect(row.text()).toBe('2026年3月15日 10:03:04')
    const amount = table.get('.amount')
    expect(amount.attributes('data-fen')).toBe('4000000')
    expect(amount.text()).toBe('¥40,000.00')
    const text = table.text()
    for (const shown of ['到账时间', '城市基础设施配套费', '非税支付平台', 'FS20260315000123']) expect(text).toContain(shown)
  })

  it('says so when nothing has arrived', async () => {
    const table = mountIt(PaymentTable, { payments: [] })
    await flush()
    expect(table.find('[data-testid=payment-row]').exists()).toBe(false)
    expect(table.text()).toContain('尚无到账')
  })
})

describe('ChangeTimeline', () => {
  it('shows the newest change first, a deletion in red, each with its time', async () => {
    const timeline = mountIt(ChangeTimeline, {
      entries: [
        { seq: 10, committed_at: '2026-03-10T01:00:00Z', entity: 'fee_assessment', key: `${CODE}/infra`, op: 'upsert' },
        { seq: 12, committed_at: '2026-03-15T02:03:05Z', entity: 'payment', key: 'PAY-0001', op: 'delete' },
      ],
    })
    await flush()
    const entries = timeline.findAll('[data-testid=timeline-entry]')
    expect(entries.map((e) => e.attributes('data-seq'))).toEqual(['12', '10'])
    expect(entries[0]?.text()).toContain('2026年3月15日 10:03:05')
    expect(entries[0]?.text()).toContain('PAY-0001')
    expect(entries[0]?.get('.el-timeline-item__node').classes()).toContain('el-timeline-item__node--danger')
    expect(entries[1]?.get('.el-timeline-item__node').classes()).toContain('el-timeline-item__node--primary')
  })
})

describe('StatusBadge', () => {
  it('keeps icon and word on a tag, with the status on the tag itself', () => {
    const badge = mountIt(StatusBadge, { status: 'partly_paid', large: true })
    expect(badge.classes()).toEqual(expect.arrayContaining(['el-tag', 'el-tag--warning', 'el-tag--large']))
    expect(badge.attributes('data-status')).toBe('partly_paid')
    expect(badge.text()).toBe('◑ 部分到账')
  })
})
