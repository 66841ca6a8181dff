// 打印: the default printer preselected, the progress bar following the print-progress
// events, what did not print listed, and the dialog closing itself when all printed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import PrintDialog from '../src/components/documents/PrintDialog.vue'
import { createAppI18n } from '../src/i18n'
import type { Printer, PrintProgress } from '../src/api'
import type { Locale } from '../src/format'
import { flush, press } from './dom'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const NUMBERS = ['PZ0000001234', 'PJ0000000042', 'PZ0000001235']
const PRINTERS: Printer[] = [
  { name: 'Canon LBP2900', is_default: false },
  { name: 'HP LaserJet M1005', is_default: true },
  { name: 'PDF', is_default: false },
]

let wrapper: VueWrapper | null = null
let answer: ReturnType<typeof tauri.deferred<PrintProgress[]>>


async function mountDialog(numbers = NUMBERS, locale: Locale = 'zh-CN'): Promise<VueWrapper> {
  wrapper = mount(PrintDialog, {
    props: { numbers },
    global: { plugins: [createAppI18n(locale)] },
    attachTo: document.body,
  })
  await flush()
  return wrapper
}

/** el-select's options live in its dropdown, teleported to the end of the body. */
function options(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>('[data-testid=print-printer-option]')]
}

/** The printer the select holds, by the option it marks as selected. */
function chosen(): string | undefined {
  return options().find((o) => o.getAttribute('aria-selected') === 'true')?.dataset.value
}

/** What the shell sends on the run's progress channel after each document. */
function sendProgress(report: PrintProgress): void {
  const [args] = tauri.callsOf('print_documents') as [{ progress: tauri.Channel<PrintProgress> }]
  args.progress.send(report)
}

function progress(done: number, number: string, error: string | null = null): PrintProgress {
  return { done, total: NUMBERS.length, number, error }
}

describe('PrintDialog', () => {
  beforeEach(() => {
    tauri.reset()
    answer = tauri.deferred<PrintProgress[]>()
    tauri.handle('list_printers', () => PRINTERS)
    tauri.handle('print_documents', () => answer.promise)
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('preselects the default printer, says it is the default, and puts Enter on 打印', async () => {
    const dialog = await mountDialog()
    expect(dialog.get('[data-testid=print-numbers]').text()).toBe(`共 3 份：${NUMBERS.join('、')}`)
    expect(chosen()).toBe('HP LaserJet M1005')
    expect(dialog.get('[data-testid=print-printer]').text()).toBe('HP LaserJet M1005（默认）')
    expect(options().map((o) => o.textContent?.trim())).toEqual(['Canon LBP2900', 'HP LaserJet M1005（默认）', 'PDF'])
    expect(options().map((o) => o.dataset.value)).toEqual(['Canon LBP2900', 'HP LaserJet M1005', 'PDF'])
    expect(document.activeElement).toBe(dialog.get('[data-testid=print-start]').element)
  })

  it('chooses the first printer when none is the default', async () => {
    tauri.handle('list_printers', () => PRINTERS.map((p) => ({ ...p, is_default: false })))
    const dialog = await mountDialog()
    expect(chosen()).toBe('Canon LBP2900')
    expect(dialog.get('[data-testid=print-printer]').text()).toBe('Canon LBP2900')
  })

  it('says so when there is no printer, and cannot print', async () => {
    tauri.handle('list_printers', () => [])
    const dialog = await mountDialog()
    expect(dialog.get('[data-testid=print-no-printers]').text()).toContain('未找到打印机')
    expect(dialog.find('[data-testid=print-printer]').exists()).toBe(false)
    expect(dialog.get('[data-testid=print-start]').attributes('disabled')).toBeDefined()
  })

  it('prints to the chosen printer and follows the progress the run reports', async () => {
    const dialog = await mountDialog()
    // As the end-to-end suite does: open the select, then click the option.
    await dialog.get('[data-testid=print-printer] .el-select__wrapper').trigger('click')
    await flush()
    options().find((o) => o.dataset.value === 'Canon LBP2900')?.click()
    await flush()
    expect(chosen()).toBe('Canon LBP2900')
    await dialog.get('[data-testid=print-start]').trigger('click')
    await flush()
    expect(tauri.callsOf('print_documents')).toEqual([{ numbers: NUMBERS, printer: 'Canon LBP2900', progress: expect.any(tauri.Channel) }])
    let bar = dialog.get('[data-testid=print-progress]')
    expect(bar.attributes('aria-valuenow')).toBe('0')
    expect(bar.attributes('aria-valuemax')).toBe('3')
    expect(dialog.get('[data-testid=print-progress-text]').text()).toBe('0 / 3 份')
    // Printing cannot be called back: no closing half way.
    expect(dialog.get('[data-testid=print-close]').attributes('disabled')).toBeDefined()
    expect(dialog.get('[data-testid=print-start]').attributes('disabled')).toBeDefined()

    sendProgress(progress(1, NUMBERS[0] as string))
    sendProgress(progress(2, NUMBERS[1] as string))
    await nextTick()
    bar = dialog.get('[data-testid=print-progress]')
    expect(bar.attributes('aria-valuenow')).toBe('2')
    expect(bar.get('.el-progress-bar__inner').attributes('style')).toContain('width: 66%')
    expect(bar.attributes('aria-valuetext')).toBe('2 / 3 份')
    expect(dialog.get('[data-testid=print-progress-text]').text()).toBe('2 / 3 份')

    press(dialog.get('[data-testid=print-dialog]').element, 'Escape')
    await flush()
    expect(dialog.emitted('close')).toBeUndefined()

    answer.resolve([progress(1, NUMBERS[0] as string), progress(2, NUMBERS[1] as string), progress(3, NUMBERS[2] as string)])
    await flush()
    expect(dialog.emitted('close')).toHaveLength(1)
  })

  it('lists the documents that did not print and stays open until closed', async () => {
    const dialog = await mountDialog()
    await dialog.get('[data-testid=print-start]').trigger('click')
    await flush()
    sendProgress(progress(1, NUMBERS[0] as string))
    sendProgress(progress(2, NUMBERS[1] as string, '打印机 HP LaserJet M1005 缺纸'))
    await nextTick()
    expect(dialog.get('[data-testid=print-failure]').text()).toBe('PJ0000000042：打印机 HP LaserJet M1005 缺纸')

    answer.resolve([
      progress(1, NUMBERS[0] as string),
      progress(2, NUMBERS[1] as string, '打印机 HP LaserJet M1005 缺纸'),
      progress(3, NUMBERS[2] as string, '本机没有票据 PZ0000001235 的 PDF'),
    ])
    await flush()
    const failures = dialog.get('[data-testid=print-failures]')
    expect(failures.findAll('[data-testid=print-failure]').map((f) => f.attributes('data-number'))).toEqual([
      'PJ0000000042',
      'PZ0000001235',
    ])
    expect(failures.text()).toContain('打印完成：1 份成功，2 份失败')
    expect(dialog.emitted('close')).toBeUndefined()
    const close = dialog.get('[data-testid=print-close]')
    expect(close.attributes('disabled')).toBeUndefined()
    expect(document.activeElement).toBe(close.element)
    await close.trigger('click')
    expect(dialog.emitted('close')).toHaveLength(1)
  })

  it('shows why the printers could not be listed', async () => {
    tauri.handle('list_printers', () => Promise.reject('无法读取打印机列表：CUPS 服务未运行'))
    const dialog = await mountDialog()
    expect(dialog.get('[data-testid=print-error]').text()).toBe('⚠ 无法读取打印机列表：CUPS 服务未运行')
    expect(dialog.find('[data-testid=print-no-printers]').exists()).toBe(false)
  })

  it('speaks English after the toggle', async () => {
    const dialog = await mountDialog(['PZ0000001234'], 'en')
    expect(dialog.text()).toContain('Print documents')
    expect(dialog.get('[data-testid=print-printer]').text()).toContain('HP LaserJet M1005 (default)')
    expect(dialog.get('[data-testid=print-start]').text()).toContain('Print')
  })
})

