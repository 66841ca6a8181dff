// 开具: the 可开具 queue, whether this counter can issue, the final check screen and
// issuing with its preview, against a fake backend.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DOMWrapper, mount, type VueWrapper } from '@vue/test-utils'
import IssueView from '../src/components/documents/IssueView.vue'
import { createAppI18n } from '../src/i18n'
import type { OutboxEntry, ProjectDetail, ProjectQuery, SigningStatus } from '../src/api'
import type { Locale } from '../src/format'
import { CODE, clearedProject, issuedEntry, outboxEntry, projectDetail, projectRow, signingStatus } from './fixtures'
import { flush, press } from './dom'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const ROWS = [projectRow(1, { project_code: CODE, name: '河西南部安置房项目' }), projectRow(2), projectRow(3)]
const CHECK = { checked_by: '窗口01-李强', checked_at: '2026-11-24T02:00:00Z', remark: '', pending: false }

let wrapper: VueWrapper | null = null
let signing: SigningStatus
let project: ProjectDetail


async function mountView(locale: Locale = 'zh-CN'): Promise<VueWrapper> {
  wrapper = mount(IssueView, {
    global: { plugins: [createAppI18n(locale)] },
    attachTo: document.body,
  })
  await flush()
  return wrapper
}

async function pick(view: VueWrapper, code = CODE): Promise<VueWrapper> {
  await view.get(`[data-testid=issue-row][data-code="${code}"]`).trigger('click')
  await flush()
  return view
}


function button(view: VueWrapper, kind: 'voucher' | 'invoice') {
  return view.get(`[data-testid=issue-${kind}]`)
}

describe('IssueView', () => {
  beforeEach(() => {
    tauri.reset()
    signing = signingStatus()
    project = { ...clearedProject(), final_check: CHECK }
    tauri.handle('list_projects', (args) => {
      const q = args?.query as ProjectQuery
      const rows = q.search ? ROWS.filter((r) => r.name.includes(q.search as string)) : ROWS
      return { total: rows.length, counts: {}, rows }
    })
    tauri.handle('signing_status', () => signing)
    tauri.handle('get_project', () => project)
    tauri.handle('document_preview', () => 'data:image/png;base64,iVBORw0KGgo=')
    tauri.handle('list_printers', () => [{ name: 'HP LaserJet', is_default: true }])
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('lists the issuable projects with their count and searches them', async () => {
    const view = await mountView()
    expect(tauri.callsOf('list_projects')).toEqual([{ query: { issuable: true, offset: 0, limit: 200 } }])
    expect(view.get('[data-testid=issue-count]').text()).toBe('共 3 个')
    const rows = view.findAll('[data-testid=issue-row]')
    expect(rows.map((r) => r.attributes('data-code'))).toEqual(ROWS.map((r) => r.project_code))
    expect(rows[0]?.text()).toContain('河西南部安置房项目')
    // The row's button heads the table row that also holds what was paid.
    expect(rows[0]?.element.closest('tr')?.querySelector('[data-testid=issue-paid]')?.textContent).toBe('¥100,000.00')
    expect(document.activeElement).toBe(view.get('[data-testid=issue-search]').element)
    expect(view.get('[data-testid=issue-pick]').text()).toContain('从左侧选择一个项目')

    // A scan and Enter: searched at once, and the only match is opened.
    const search = view.get('[data-testid=issue-search]')
    await search.setValue('河西')
    press(search.element, 'Enter')
    await flush()
    expect(tauri.callsOf('list_projects').at(-1)).toEqual({ query: { issuable: true, search: '河西', offset: 0, limit: 200 } })
    expect(view.findAll('[data-testid=issue-row]')).toHaveLength(1)
    expect(tauri.callsOf('get_project')).toEqual([{ projectCode: CODE }])
    expect(view.get('[data-testid=final-check-panel]').attributes('data-code')).toBe(CODE)
  })

  it('moves through the rows with the arrow keys and opens one with Enter', async () => {
    const view = await mountView()
    press(view.get('[data-testid=issue-search]').element, 'ArrowDown')
    const rows = view.findAll('[data-testid=issue-row]')
    expect(document.activeElement).toBe(rows[0]?.element)
    press(rows[0]?.element as Element, 'ArrowDown')
    expect(document.activeElement).toBe(rows[1]?.element)
    await rows[1]?.trigger('click')
    await flush()
    expect(tauri.callsOf('get_project')).toEqual([{ projectCode: ROWS[1]?.project_code }])
    expect(rows[1]?.attributes('aria-current')).toBe('true')
    expect(rows[1]?.element.closest('tr')?.classList).toContain('current-row')
    expect(rows[0]?.element.closest('tr')?.classList).not.toContain('current-row')
    // ↑ from the first row goes back to the search.
    press(rows[0]?.element as Element, 'ArrowUp')
    expect(document.activeElement).toBe(view.get('[data-testid=issue-search]').element)
  })

  it('says the queue is empty', async () => {
    tauri.handle('list_projects', () => ({ total: 0, counts: {}, rows: [] }))
    const view = await mountView()
    expect(view.get('[data-testid=issue-empty]').text()).toContain('没有待开具票据的项目')
  })

  it('warns when serials run low, and says a kind with none left cannot be issued', async () => {
    signing = signingStatus({ serials_left: [{ kind: 'voucher', left: 12 }, { kind: 'invoice', left: 0 }] })
    const view = await pick(await mountView())
    const chips = view.findAll('[data-testid=serials-warning]')
    expect(chips.map((c) => c.attributes('data-kind'))).toEqual(['voucher', 'invoice'])
    expect(chips[0]?.classes()).toContain('el-tag--warning')
    expect(chips[0]?.text()).toBe('⚠ 号段余量不足：缴费凭证剩 12 号')
    expect(chips[1]?.classes()).toContain('el-tag--danger')
    expect(chips[1]?.text()).toContain('✖ 非税收入票据号段已用完，不能开具')

    expect(button(view, 'voucher').attributes('disabled')).toBeUndefined()
    expect(button(view, 'invoice').attributes('disabled')).toBeDefined()
    expect(view.get('[data-testid=issue-why-invoice]').text()).toContain('非税收入票据号段已用完，不能开具')
    expect(view.find('[data-testid=issue-why-voucher]').exists()).toBe(false)
  })

  it('shows no warning with serials to spare', async () => {
    const view = await mountView()
    expect(view.find('[data-testid=serials-warning]').exists()).toBe(false)
    expect(view.find('[data-testid=signing-banner]').exists()).toBe(false)
  })

  it('says why this counter cannot issue, and disables both documents', async () => {
    signing = signingStatus({ ready: false, problem: '签名密钥不可用：系统密钥环未解锁。' })
    const view = await pick(await mountView())
    expect(view.get('[data-testid=signing-banner]').text()).toBe('⚠ 本机暂不能开具票据：签名密钥不可用：系统密钥环未解锁。')
    for (const kind of ['voucher', 'invoice'] as const) {
      expect(button(view, kind).attributes('disabled')).toBeDefined()
      expect(view.get(`[data-testid=issue-why-${kind}]`).text()).toContain('签名密钥不可用：系统密钥环未解锁。')
    }
    press(window, 'F9')
    await flush()
    expect(tauri.callsOf('issue_document')).toHaveLength(0)
  })

  it('disables issuing until the final check is recorded, then enables it', async () => {
    project = clearedProject()
    tauri.handle('record_final_check', (args) => {
      project = { ...project, final_check: { ...CHECK, pending: true } }
      return outboxEntry('cmd-check', { kind: 'final_check', project_code: args?.projectCode as string, remark: args?.remark as string }, { state: 'pending' })
    })
    const view = await pick(await mountView())
    for (const kind of ['voucher', 'invoice'] as const) {
      expect(button(view, kind).attributes('disabled')).toBeDefined()
      expect(view.get(`[data-testid=issue-why-${kind}]`).text()).toContain('请先完成复核')
    }
    press(window, 'F9')
    await flush()
    expect(tauri.callsOf('issue_document')).toHaveLength(0)

    await view.get('[data-testid=final-check-remark]').setValue('资料齐全')
    await view.get('[data-testid=final-check-button]').trigger('click')
    await flush()
    expect(tauri.callsOf('record_final_check')).toEqual([{ projectCode: CODE, remark: '资料齐全' }])
    expect(view.get('[data-testid=final-check-done]').attributes('data-pending')).toBe('true')
    expect(button(view, 'voucher').attributes('disabled')).toBeUndefined()
    expect(view.find('[data-testid=issue-why-voucher]').exists()).toBe(false)
  })

  it('lays out every fee against its payments and the tax clearance, marking what is still owed', async () => {
    project = projectDetail()
    const view = await pick(await mountView())
    const infra = view.get('[data-testid=check-fee][data-kind=infra]')
    expect(infra.attributes('data-mark')).toBe('owed')
    expect(infra.get('[data-testid=check-fee-mark]').text()).toBe('✖ 未缴清')
    expect(infra.get('[data-testid=check-fee-outstanding]').text()).toBe('¥60,000.00')
    expect(infra.get('[data-testid=check-fee-outstanding]').classes()).toContain('owed')
    expect(infra.get('[data-testid=check-fee-paid]').text()).toBe('¥40,000.00')
    // el-table's row, whose first cell carries the payment's test id.
    const payment = new DOMWrapper(infra.get('[data-testid=payment-row]').element.closest('tr') as HTMLElement)
    expect(payment.text()).toContain('非税支付平台')
    expect(payment.text()).toContain('FS20260315000123')
    expect(payment.text()).toContain('2026年3月15日 10:03:04')

    const civil = view.get('[data-testid=check-fee][data-kind=civil_defence]')
    expect(civil.get('[data-testid=check-fee-mark]').text()).toBe('✔ 已缴清')
    expect(civil.find('[data-testid=payment-row]').exists()).toBe(false)

    expect(view.get('[data-testid=tax-clearance-missing]').text()).toContain('未收到')
    expect(view.get('[data-testid=issue-why-voucher]').text()).toContain('项目未完费，不能开具')
    expect(button(view, 'voucher').attributes('disabled')).toBeDefined()
  })

  it('shows the tax clearance of a cleared project', async () => {
    const view = await pick(await mountView())
    const clearance = view.get('[data-testid=tax-clearance]')
    expect(clearance.text()).toContain('WS-2026-000123')
    expect(clearance.text()).toContain('国家税务总局南京市建邺区税务局')
    expect(clearance.text()).toContain('2026年4月1日')
    expect(view.get('[data-testid=check-fee][data-kind=infra] [data-testid=check-fee-mark]').text()).toBe('✔ 已缴清')
  })

  it('issues the voucher, then shows its preview and offers printing at once', async () => {
    tauri.handle('issue_document', (args) => issuedEntry(args?.projectCode as string, 'voucher', 1234))
    const view = await pick(await mountView())
    expect(button(view, 'voucher').text()).toContain('F9')
    const listed = tauri.callsOf('list_projects').length
    await button(view, 'voucher').trigger('click')
    await flush()

    expect(tauri.callsOf('issue_document')).toEqual([{ projectCode: CODE, kind: 'voucher' }])
    const issued = view.get('[data-testid=issued]')
    expect(issued.attributes('data-number')).toBe('PZ0000001234')
    expect(issued.text()).toContain('已开具缴费凭证 PZ0000001234')
    expect(tauri.callsOf('document_preview')).toEqual([{ number: 'PZ0000001234', width: 1200 }])
    expect(issued.get('[data-testid=preview-image]').attributes('src')).toBe('data:image/png;base64,iVBORw0KGgo=')
    // The project leaves the queue and the serials went down: both read again.
    expect(tauri.callsOf('list_projects').length).toBe(listed + 1)
    expect(tauri.callsOf('signing_status')).toHaveLength(2)

    const print = issued.get('[data-testid=issued-print]')
    expect(document.activeElement).toBe(print.element)
    await print.trigger('click')
    await flush()
    expect(view.get('[data-testid=print-numbers]').text()).toBe('共 1 份：PZ0000001234')
  })

  it('issues the voucher with F9 and shows a loading preview until it is rendered', async () => {
    const preview = tauri.deferred<string>()
    tauri.handle('document_preview', () => preview.promise)
    tauri.handle('issue_document', (args) => issuedEntry(args?.projectCode as string, args?.kind as 'voucher', 77))
    const view = await pick(await mountView())
    press(window, 'F9')
    await flush()
    expect(tauri.callsOf('issue_document')).toEqual([{ projectCode: CODE, kind: 'voucher' }])
    const figure = view.get('[data-testid=document-preview]')
    expect(figure.attributes('aria-busy')).toBe('true')
    expect(figure.text()).toContain('正在生成预览…')
    preview.resolve('data:image/png;base64,AAAA')
    await flush()
    expect(view.get('[data-testid=preview-image]').attributes('alt')).toBe('票据 PZ0000000077 第 1 页')
  })

  it('issues the invoice with its own button', async () => {
    tauri.handle('issue_document', (args) => issuedEntry(args?.projectCode as string, 'invoice', 42))
    const view = await pick(await mountView())
    await button(view, 'invoice').trigger('click')
    await flush()
    expect(tauri.callsOf('issue_document')).toEqual([{ projectCode: CODE, kind: 'invoice' }])
    expect(view.get('[data-testid=issued]').text()).toContain('已开具非税收入票据 PJ0000000042')
  })

  it('shows a refusal next to the buttons and no preview', async () => {
    const answer = tauri.deferred<OutboxEntry>()
    tauri.handle('issue_document', () => answer.promise)
    const view = await pick(await mountView())
    await button(view, 'voucher').trigger('click')
    await flush()
    expect(button(view, 'voucher').text()).toContain('开具中…')
    expect(button(view, 'invoice').attributes('disabled')).toBeDefined()
    answer.reject('缴费凭证号段已用完，请联系数据中心分配新号段。')
    await flush()
    expect(view.get('[data-testid=command-error][data-for=issue]').text()).toBe('⚠ 缴费凭证号段已用完，请联系数据中心分配新号段。')
    expect(view.find('[data-testid=issued]').exists()).toBe(false)
  })

  it('leaves for the project’s detail on request', async () => {
    const view = await pick(await mountView())
    await view.get('[data-testid=final-check-open-project]').trigger('click')
    expect(view.emitted('open')).toEqual([[CODE]])
  })

  it('speaks English after the toggle', async () => {
    signing = signingStatus({ serials_left: [{ kind: 'voucher', left: 3 }, { kind: 'invoice', left: 900 }] })
    const view = await pick(await mountView('en'))
    expect(view.get('[data-testid=serials-warning]').text()).toBe('⚠ Few serials left: Payment voucher, 3 left')
    expect(button(view, 'voucher').text()).toContain('Issue payment voucher')
    expect(view.text()).not.toContain('开具')
  })
})
