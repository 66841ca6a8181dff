// 导入规划审批文件: the file goes up as raw bytes with its name in a header, the progress bar
// follows the import-progress events, and the report is summed up with its problem rows.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import ImportPanel from '../src/components/admin/ImportPanel.vue'
import { createAppI18n } from '../src/i18n'
import type { ImportReport } from '../src/api'
import type { Locale } from '../src/format'
import { importReport } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const CSV = '规划许可证号,项目编号\n建字第3201152026900001号,2026-320115-70-01-900001\n'
const NAME = '规划审批 20261124.csv'

let wrapper: VueWrapper | null = null
let answer: ReturnType<typeof tauri.deferred<ImportReport>>

async function flush(): Promise<void> {
  await tauri.settle()
  await nextTick()
}

function mountPanel(locale: Locale = 'zh-CN'): VueWrapper {
  wrapper = mount(ImportPanel, {
    global: { plugins: [createAppI18n(locale)] },
  })
  return wrapper
}

async function choose(panel: VueWrapper, ...files: File[]): Promise<void> {
  // el-upload's own file input, inside the drop zone.
  const input = panel.get('[data-testid=import-drop] input[type=file]')
  Object.defineProperty(input.element, 'files', { value: files, configurable: true })
  await input.trigger('change')
  await flush()
}

function csv(name = NAME, text = CSV): File {
  return new File([text], name, { type: 'text/csv' })
}

describe('ImportPanel', () => {
  beforeEach(() => {
    tauri.reset()
    answer = tauri.deferred<ImportReport>()
    tauri.handle('import_planning_file', () => answer.promise)
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  it('sends the file’s bytes as the raw body with its name percent-encoded in x-file-name', async () => {
    const panel = mountPanel()
    await choose(panel, csv())
    const [request] = tauri.rawCallsOf('import_planning_file')
    expect(tauri.callsOf('import_planning_file')).toEqual([undefined])
    expect(request?.body).toBeInstanceOf(Uint8Array)
    expect(new TextDecoder().decode(request?.body as Uint8Array)).toBe(CSV)
    expect(request?.headers).toEqual({ 'x-file-name': encodeURIComponent(NAME) })
    expect(decodeURIComponent(request?.headers?.['x-file-name'] ?? '')).toBe(NAME)
  })

  it('shows the progress from the events and disables the button while it runs', async () => {
    const panel = mountPanel()
    await choose(panel, csv())
    expect(panel.get('[data-testid=import-choose]').attributes('disabled')).toBeDefined()
    // Before the first event the rows are not counted yet: an indeterminate bar.
    const waiting = panel.get('[data-testid=import-progress]')
    expect(waiting.attributes('role')).toBe('progressbar')
    expect(waiting.attributes('aria-valuenow')).toBeUndefined()
    expect(panel.get('[data-testid=import-progress-text]').text()).toBe('正在上传文件…')

    tauri.emit('import-progress', { done: 0, total: 12_000 })
    await nextTick()
    let bar = panel.get('[data-testid=import-progress]')
    expect(bar.attributes('aria-valuenow')).toBe('0')
    expect(bar.attributes('aria-valuemax')).toBe('12000')
    expect(panel.get('[data-testid=import-progress-text]').text()).toBe('0 / 12,000 行（0%）')

    tauri.emit('import-progress', { done: 4_000, total: 12_000 })
    await nextTick()
    bar = panel.get('[data-testid=import-progress]')
    expect(bar.attributes('aria-valuenow')).toBe('4000')
    expect(bar.attributes('aria-valuetext')).toBe('4,000 / 12,000 行（33%）')
    expect(bar.get('.el-progress-bar__inner').attributes('style')).toContain('width: 33%')
    expect(panel.text()).toContain(`正在导入 ${NAME}`)

    // Another file while this one runs: not sent.
    await choose(panel, csv('另一个.csv'))
    expect(tauri.callsOf('import_planning_file')).toHaveLength(1)

    answer.resolve(importReport())
    await flush()
    expect(panel.find('[data-testid=import-progress]').exists()).toBe(false)
    expect(panel.get('[data-testid=import-choose]').attributes('disabled')).toBeUndefined()
    // An event that lands after the report changes nothing, and nobody listens any more.
    tauri.emit('import-progress', { done: 12_000, total: 12_000 })
    await nextTick()
    expect(panel.find('[data-testid=import-progress]').exists()).toBe(false)
    expect(tauri.listenerCount('import-progress')).toBe(0)
  })

  it('sums up the report: kind, rows, changed, unchanged with repeats, quarantined and the problem rows', async () => {
    const panel = mountPanel()
    await choose(panel, csv())
    answer.resolve(importReport())
    await flush()
    const result = panel.get('[data-testid=import-result]')
    expect(result.text()).toContain('导入结果：规划审批20261124.csv')
    expect(result.get('[data-testid=import-kind]').text()).toBe('CSV（GBK 编码）')
    expect(result.get('[data-testid=import-rows]').text()).toBe('1,204')
    expect(result.get('[data-testid=import-changed]').text()).toBe('1,150')
    // The hub's unchanged already holds the 3 repeats: 52, not 55.
    expect(result.get('[data-testid=import-unchanged]').text()).toBe('52')
    expect(result.get('[data-testid=import-repeats]').text()).toBe('其中 3 行与前面的行完全相同')
    expect(result.get('[data-testid=import-quarantined]').text()).toBe('2')
    expect(result.find('[data-testid=import-already]').exists()).toBe(false)
    expect(result.find('[data-testid=import-ignored]').exists()).toBe(false)

    const table = result.get('[data-testid=import-problems]')
    expect(table.findAll('th').map((th) => th.text())).toEqual(['行号', '列', '问题'])
    // el-table's rows, whose first cell carries the problem's test id.
    const rows = table.findAll('[data-testid=import-problem]').map((cell) => cell.element.closest('tr') as HTMLElement)
    expect(rows.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim()))).toEqual([
      ['4', '批准日期', '日期 2026-02-30 不存在'],
      ['17', '统一社会信用代码', '校验位不符'],
    ])
  })

  it('says when the file was imported before, and which columns it ignored', async () => {
    const panel = mountPanel()
    await choose(panel, csv())
    answer.resolve(importReport({ already_imported: true, ignored_columns: ['备注', '联系人电活'] }))
    await flush()
    const already = panel.get('[data-testid=import-already]')
    expect(already.text()).toContain('此文件已导入过，本次未做任何改动')
    expect(already.attributes('role')).toBe('status')
    expect(panel.get('[data-testid=import-ignored]').text()).toContain('以下列未能识别，已忽略（请检查列名是否写错）：备注、联系人电活')
  })

  it('lists at most 500 problem rows and says how many there are', async () => {
    const problems = Array.from({ length: 1_203 }, (_, i) => ({ record: i + 2, field: '批准日期', problem: '日期格式有误' }))
    const panel = mountPanel()
    await choose(panel, csv())
    answer.resolve(importReport({ delivery: { ...importReport().delivery, quarantined: 1_203, problems } }))
    await flush()
    expect(panel.findAll('[data-testid=import-problem]')).toHaveLength(500)
    expect(panel.get('[data-testid=import-problems-capped]').text()).toBe('共 1,203 条问题，此处列出前 500 条，全部见隔离区。')
  })

  it('shows the hub’s refusal as it came, in an alert', async () => {
    const panel = mountPanel()
    await choose(panel, csv('图片.csv'))
    answer.reject('文件无法导入：不是 CSV 或 XLSX 文件。')
    await flush()
    const error = panel.get('[data-testid=import-error]')
    expect(error.attributes('role')).toBe('alert')
    expect(error.text()).toBe('⚠ 文件无法导入：不是 CSV 或 XLSX 文件。')
    expect(panel.find('[data-testid=import-result]').exists()).toBe(false)
    expect(panel.get('[data-testid=import-choose]').attributes('disabled')).toBeUndefined()
  })

  it('takes a dropped .xlsx file, and refuses other types and several files without sending', async () => {
    const panel = mountPanel()
    const drop = panel.get('[data-testid=import-drop] .el-upload-dragger')
    await drop.trigger('drop', { dataTransfer: { files: [new File(['x'], '审批.pdf')] } })
    await flush()
    expect(panel.get('[data-testid=import-error]').text()).toBe('⚠ 只能导入 .csv 或 .xlsx 文件，「审批.pdf」不是。')
    await drop.trigger('drop', { dataTransfer: { files: [csv(), csv('b.csv')] } })
    await flush()
    expect(panel.get('[data-testid=import-error]').text()).toBe('⚠ 一次只能导入一个文件。')
    expect(tauri.callsOf('import_planning_file')).toHaveLength(0)

    await drop.trigger('drop', { dataTransfer: { files: [new File(['PK'], '规划审批.XLSX')] } })
    await flush()
    expect(tauri.callsOf('import_planning_file')).toHaveLength(1)
    expect(tauri.rawCallsOf('import_planning_file')[0]?.headers?.['x-file-name']).toBe(encodeURIComponent('规划审批.XLSX'))
    expect(panel.find('[data-testid=import-error]').exists()).toBe(false)
  })

  it('says it in English', async () => {
    const panel = mountPanel('en')
    expect(panel.get('[data-testid=import-choose]').text()).toContain('Choose file…')
    await choose(panel, csv())
    tauri.emit('import-progress', { done: 600, total: 1_204 })
    await nextTick()
    expect(panel.get('[data-testid=import-progress-text]').text()).toBe('600 / 1,204 rows (49%)')
    answer.resolve(importReport({ already_imported: true }))
    await flush()
    expect(panel.get('[data-testid=import-already]').text()).toContain('This file was imported before; nothing was changed this time')
    expect(panel.get('[data-testid=import-problems]').findAll('th').map((th) => th.text())).toEqual(['Row', 'Column', 'Problem'])
  })
})
