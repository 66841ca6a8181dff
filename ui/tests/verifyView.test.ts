// 验真: a scanned QR and Enter, the verdict in colour, icon and word with the document's
// fields, the backend's message for a malformed QR, and Esc to start again.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import VerifyView from '../src/components/documents/VerifyView.vue'
import { createAppI18n } from '../src/i18n'
import type { CommandError, OfflineVerification, Verdict } from '../src/api'
import type { Locale } from '../src/format'
import { flush, press } from './dom'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const QR = 'http://hub.example.invalid/verify?k=voucher&n=PZ0000001234&p=2019-320105-47-01-123456&t=10000000&s=AAAA'

const NAMES_ZH: Record<Verdict['verdict'], string> = {
  valid: '真实有效',
  voided: '已作废',
  conflict: '存在冲突',
  unrecorded: '签名有效，尚未登记',
  unknown: '无法识别',
  forged: '伪造或被篡改',
}

type Fields = Omit<OfflineVerification, keyof Verdict | 'verdict_zh'>

function verification(verdict: Verdict, overrides: Partial<Fields> = {}): OfflineVerification {
  const fields: Fields = {
    number: 'PZ0000001234',
    project_code: '2019-320105-47-01-123456',
    total_fen: 100_000_00,
    issued_at: '2026-11-24T02:30:00Z',
    device_id: 'counter-03',
    payer: '南京河西建设发展有限公司',
    ...overrides,
  }
  return { ...verdict, verdict_zh: NAMES_ZH[verdict.verdict], ...fields }
}

let wrapper: VueWrapper | null = null
let answer: OfflineVerification | string | CommandError


async function mountView(locale: Locale = 'zh-CN'): Promise<VueWrapper> {
  wrapper = mount(VerifyView, { global: { plugins: [createAppI18n(locale)] }, attachTo: document.body })
  await flush()
  return wrapper
}


function expectVerdict(view: VueWrapper, icon: string, word: string): void {
  expect(view.get('[data-testid=verdict-icon]').text()).toBe(icon)
  expect(view.get('[data-testid=verdict-word]').text()).toBe(word)
}

/** What a scanner does: types the QR's text, then Enter. */
async function scan(view: VueWrapper, text = QR): Promise<void> {
  const input = view.get('[data-testid=verify-input]')
  await input.setValue(text)
  press(input.element, 'Enter')
  await flush()
}

describe('VerifyView', () => {
  beforeEach(() => {
    tauri.reset()
    answer = verification({ verdict: 'valid' })
    tauri.handle('verify_document', () => ('verdict' in Object(answer) ? answer : Promise.reject(answer)))
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('takes the focus on open and checks the scanned text on Enter', async () => {
    const view = await mountView()
    const input = view.get('[data-testid=verify-input]')
    expect(document.activeElement).toBe(input.element)
    await scan(view, `  ${QR}\n`)
    expect(tauri.callsOf('verify_document')).toEqual([{ text: QR }])

    const result = view.get('[data-testid=verify-result]')
    expect(result.attributes('data-verdict')).toBe('valid')
    expect(result.classes()).toContain('result--good')
    expectVerdict(view, '✔', '真实有效')
    expect(view.get('[data-testid=verify-number]').text()).toBe('PZ0000001234')
    expect(result.text()).toContain('2019-320105-47-01-123456')
    expect(view.get('[data-testid=verify-amount]').text()).toBe('¥100,000.00')
    expect(view.get('[data-testid=verify-issued-at]').text()).toBe('2026年11月24日 10:30:00')
    expect(result.text()).toContain('counter-03')
    expect(view.get('[data-testid=verify-payer]').text()).toBe('南京河西建设发展有限公司')
    expect(view.find('[data-testid=verdict-reason]').exists()).toBe(false)
    // Selected, so the next scan replaces it.
    const field = input.element as HTMLInputElement
    expect(document.activeElement).toBe(field)
    expect([field.selectionStart, field.selectionEnd]).toEqual([0, field.value.length])
  })

  const CASES: { verdict: Verdict; tone: string; icon: string; word: string; reason?: string }[] = [
    { verdict: { verdict: 'voided', reason: '交款人名称有误' }, tone: 'doubt', icon: '⚠', word: '已作废', reason: '原因：交款人名称有误' },
    { verdict: { verdict: 'conflict', reason: '开具时项目尚未完费' }, tone: 'doubt', icon: '⚠', word: '存在冲突', reason: '原因：开具时项目尚未完费' },
    { verdict: { verdict: 'unrecorded' }, tone: 'doubt', icon: '⚠', word: '签名有效，尚未登记' },
    { verdict: { verdict: 'unknown' }, tone: 'bad', icon: '✖', word: '无法识别' },
    { verdict: { verdict: 'forged', reason: '金额与签名不符' }, tone: 'bad', icon: '✖', word: '伪造或被篡改', reason: '原因：金额与签名不符' },
  ]

  for (const c of CASES) {
    it(`shows ${c.verdict.verdict} with its icon, word and tone`, async () => {
      answer = verification(c.verdict)
      const view = await mountView()
      await scan(view)
      expectVerdict(view, c.icon, c.word)
      expect(view.get('[data-testid=verdict]').attributes('data-tone')).toBe(c.tone)
      expect(view.get('[data-testid=verify-result]').classes()).toContain(`result--${c.tone}`)
      if (c.reason) expect(view.get('[data-testid=verdict-reason]').text()).toBe(c.reason)
      else expect(view.find('[data-testid=verdict-reason]').exists()).toBe(false)
    })
  }

  it('says when this counter has no record of the payer', async () => {
    answer = verification({ verdict: 'unrecorded' }, { payer: null })
    const view = await mountView()
    await scan(view)
    expect(view.get('[data-testid=verify-payer]').text()).toBe('本机无记录')
  })

  it('shows the backend’s message for a malformed QR under the field, and no verdict', async () => {
    const view = await mountView()
    await scan(view)
    answer = '二维码缺少字段 n，不是本系统的票据二维码或已损坏'
    await scan(view, 'http://example.invalid/?k=voucher')
    const error = view.get('[data-testid=verify-error]')
    expect(error.text()).toBe('⚠ 二维码缺少字段 n，不是本系统的票据二维码或已损坏')
    expect(view.get('[data-testid=verify-input]').attributes('aria-describedby')).toBe('verify-problem')
    expect(view.find('[data-testid=verify-result]').exists()).toBe(false)
  })

  it('says a refused QR in the screens’ language, the backend’s detail inside', async () => {
    answer = { code: 'invalid_input', message: '二维码不是本系统的查验地址', field: 'text' }
    const view = await mountView('en')
    await scan(view, 'not a document QR')
    expect(view.get('[data-testid=verify-error]').text()).toBe('⚠ The value entered is not valid: 二维码不是本系统的查验地址')
  })

  it('asks for a QR when Enter comes with nothing typed, without calling the backend', async () => {
    const view = await mountView()
    await scan(view, '   ')
    expect(view.get('[data-testid=verify-error]').text()).toBe('⚠ 请先扫描或粘贴票据二维码。')
    expect(tauri.callsOf('verify_document')).toHaveLength(0)
  })

  it('clears the text, the verdict and any message on Esc', async () => {
    const view = await mountView()
    await scan(view)
    const input = view.get('[data-testid=verify-input]')
    press(input.element, 'Escape')
    await flush()
    expect((input.element as HTMLInputElement).value).toBe('')
    expect(view.find('[data-testid=verify-result]').exists()).toBe(false)

    answer = '二维码内容过长（5000 个字符），不是本系统的票据二维码'
    await scan(view, 'x'.repeat(10))
    press(input.element, 'Escape')
    await flush()
    expect(view.find('[data-testid=verify-error]').exists()).toBe(false)
  })

  it('names the verdict in English after the toggle', async () => {
    answer = verification({ verdict: 'forged', reason: '金额与签名不符' })
    const view = await mountView('en')
    await scan(view)
    expectVerdict(view, '✖', 'Forged or tampered with')
    expect(view.get('[data-testid=verdict-reason]').text()).toBe('Reason: 金额与签名不符')
  })
})
