// 票据 on a project's detail: each document's state in icon and word, its reasons, and
// 预览 / 打印 / 补打 / 作废 against a fake backend; then 关联施工许可.
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import DocumentsSection from '../src/components/documents/DocumentsSection.vue'
import { createAppI18n } from '../src/i18n'
import type { OutboxEntry, ProjectDetail } from '../src/api'
import type { Locale } from '../src/format'
import { CODE, clearedProject, documentLine, outboxEntry } from './fixtures'
import { flush, press } from './dom'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const CONFLICT = '数据中心收到开具指令时，该项目为「部分到账」，尚未完费。'

let wrapper: VueWrapper | null = null
let refresh: Mock<() => Promise<void>>

function withDocuments(overrides: Partial<ProjectDetail> = {}): ProjectDetail {
  return {
    ...clearedProject(),
    final_check: { checked_by: '窗口01-李强', checked_at: '2026-11-24T02:00:00Z', remark: '', pending: false },
    documents: [
      documentLine('PJ0000000042', { pending: true, reprints: 2 }),
      documentLine('PZ0000001235', { state: 'conflict', conflict: CONFLICT }),
      documentLine('PZ0000001234', { state: 'voided', void_reason: '交款人名称有误' }),
    ],
    ...overrides,
  }
}

function mountSection(detail: ProjectDetail, locale: Locale = 'zh-CN'): VueWrapper {
  wrapper = mount(DocumentsSection, {
    props: { detail, refresh },
    global: { plugins: [createAppI18n(locale)] },
    attachTo: document.body,
  })
  return wrapper
}



/** el-form shows a field's message 100 ms after it is found (its own debounce). */
function validationShown(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 150))
}

function row(section: VueWrapper, number: string) {
  return section.get(`[data-testid=document-row][data-number=${number}]`)
}

beforeEach(() => {
  tauri.reset()
  refresh = vi.fn(() => Promise.resolve())
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  document.body.innerHTML = ''
})

function accepted(action: OutboxEntry['action']): OutboxEntry {
  return outboxEntry('cmd-new', action, { state: 'pending', reject_code: null, reject_reason: null, attempts: 0 })
}

describe('DocumentsSection', () => {
  beforeEach(() => {
    tauri.handle('list_printers', () => [{ name: 'HP LaserJet', is_default: true }])
    tauri.handle('document_preview', () => 'data:image/png;base64,iVBORw0KGgo=')
  })

  it('shows each document with its state in icon and word, its total, time, people and marks', () => {
    const section = mountSection(withDocuments())
    const rows = section.findAll('[data-testid=document-row]')
    expect(rows.map((r) => r.attributes('data-state'))).toEqual(['issued', 'conflict', 'voided'])

    const invoice = row(section, 'PJ0000000042')
    expect(invoice.get('[data-testid=document-number]').classes()).toContain('figures')
    expect(invoice.text()).toContain('非税收入票据')
    expect(invoice.get('[data-testid=document-state]').text()).toBe('✔ 已开具')
    expect(invoice.get('[data-testid=pending-badge]').text()).toContain('待上传')
    expect(invoice.get('[data-testid=document-reprints]').text()).toContain('补打 2 次')
    expect(invoice.get('[data-testid=document-total]').text()).toBe('¥100,000.00')
    expect(invoice.text()).toContain('2026年11月24日 10:30:00')
    expect(invoice.text()).toContain('开票人 窗口03-王芳 · 复核人 窗口01-李强')

    const conflict = row(section, 'PZ0000001235')
    expect(conflict.get('[data-testid=document-state]').text()).toBe('⚠ 冲突待处理')
    expect(conflict.get('[data-testid=document-conflict]').text()).toContain(`冲突原因：${CONFLICT}`)
    expect(conflict.find('[data-testid=pending-badge]').exists()).toBe(false)
    expect(conflict.find('[data-testid=document-reprints]').exists()).toBe(false)

    const voided = row(section, 'PZ0000001234')
    expect(voided.get('[data-testid=document-state]').text()).toBe('✖ 已作废')
    expect(voided.get('[data-testid=document-void-reason]').text()).toContain('作废原因：交款人名称有误')
    // Only looked at, never printed again.
    expect(voided.find('[data-testid=document-preview-open]').exists()).toBe(true)
    for (const action of ['document-print', 'document-reprint', 'document-void']) {
      expect(voided.find(`[data-testid=${action}]`).exists()).toBe(false)
      expect(invoice.find(`[data-testid=${action}]`).exists()).toBe(true)
    }
  })

  it('says so when nothing is issued, and offers no permit before a valid document', () => {
    const section = mountSection(clearedProject())
    expect(section.get('[data-testid=documents-none]').text()).toBe('尚未开具票据')
    expect(section.find('[data-testid=documents-print-all]').exists()).toBe(false)
    expect(section.find('[data-testid=permit-input]').exists()).toBe(false)
    expect(section.get('[data-testid=permit-not-yet]').text()).toContain('开具有效的缴费凭证或票据后')
  })

  it('previews a document scaled to fit in a dialog, and says why when it cannot', async () => {
    const section = mountSection(withDocuments())
    await row(section, 'PJ0000000042').get('[data-testid=document-preview-open]').trigger('click')
    await flush()
    expect(tauri.callsOf('document_preview')).toEqual([{ number: 'PJ0000000042', width: 1200 }])
    const dialog = section.get('[data-testid=preview-dialog]')
    expect(dialog.text()).toContain('票据预览：PJ0000000042')
    expect(dialog.get('[data-testid=preview-image]').attributes('src')).toBe('data:image/png;base64,iVBORw0KGgo=')
    await dialog.get('[data-testid=preview-close]').trigger('click')
    expect(section.find('[data-testid=preview-dialog]').exists()).toBe(false)

    tauri.handle('document_preview', () => Promise.reject('本机没有票据 PZ0000001235 的 PDF（可能由其他窗口开具），请在开具窗口补打。'))
    await row(section, 'PZ0000001235').get('[data-testid=document-preview-open]').trigger('click')
    await flush()
    expect(section.find('[data-testid=preview-image]').exists()).toBe(false)
    expect(section.get('[data-testid=preview-error]').text()).toContain('本机没有票据 PZ0000001235 的 PDF')
  })

  it('prints one document, or all the ones not voided, through the print dialog', async () => {
    const section = mountSection(withDocuments())
    await row(section, 'PZ0000001235').get('[data-testid=document-print]').trigger('click')
    await flush()
    expect(section.get('[data-testid=print-numbers]').text()).toBe('共 1 份：PZ0000001235')
    await section.get('[data-testid=print-close]').trigger('click')

    const all = section.get('[data-testid=documents-print-all]')
    expect(all.text()).toContain('全部打印（2 份）')
    await all.trigger('click')
    await flush()
    expect(section.get('[data-testid=print-numbers]').text()).toBe('共 2 份：PJ0000000042、PZ0000001235')
  })

  it('makes a reprint first, then opens the print dialog for it', async () => {
    tauri.handle('reprint_document', (args) =>
      accepted({ kind: 'reprint_document', project_code: args?.projectCode as string, number: args?.number as string, pdf_sm3: '0'.repeat(64) }),
    )
    const section = mountSection(withDocuments())
    await row(section, 'PJ0000000042').get('[data-testid=document-reprint]').trigger('click')
    await flush()
    expect(tauri.callsOf('reprint_document')).toEqual([{ projectCode: CODE, number: 'PJ0000000042' }])
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(section.get('[data-testid=print-numbers]').text()).toBe('共 1 份：PJ0000000042')
  })

  it('shows a refused reprint with its document and opens no dialog', async () => {
    tauri.handle('reprint_document', () => Promise.reject('签名密钥不可用：未找到本机签名密钥。'))
    const section = mountSection(withDocuments())
    await row(section, 'PJ0000000042').get('[data-testid=document-reprint]').trigger('click')
    await flush()
    expect(row(section, 'PJ0000000042').get('[data-testid=command-error]').text()).toBe('⚠ 签名密钥不可用：未找到本机签名密钥。')
    expect(row(section, 'PZ0000001235').find('[data-testid=command-error]').exists()).toBe(false)
    expect(section.find('[data-testid=print-dialog]').exists()).toBe(false)
  })
})

describe('DocumentsSection, 作废', () => {
  beforeEach(() => {
    tauri.handle('void_document', (args) =>
      accepted({
        kind: 'void_document',
        project_code: args?.projectCode as string,
        number: args?.number as string,
        reason: args?.reason as string,
      }),
    )
  })

  async function openVoid(section: VueWrapper, number = 'PJ0000000042') {
    await row(section, number).get('[data-testid=document-void]').trigger('click')
    await flush()
    return section.get('[data-testid=void-dialog]')
  }

  it('requires a reason, naming the field, then voids with it trimmed on Enter and closes', async () => {
    const section = mountSection(withDocuments())
    const dialog = await openVoid(section)
    expect(dialog.text()).toContain('作废票据：PJ0000000042')
    expect(dialog.text()).toContain('¥100,000.00')
    const reason = dialog.get('[data-testid=void-reason]')
    expect(document.activeElement).toBe(reason.element)

    press(reason.element, 'Enter')
    await flush()
    await validationShown()
    const problem = dialog.get('[data-testid=void-problem]')
    expect(problem.text()).toBe('⚠ 请填写作废原因。')
    expect(problem.attributes('role')).toBe('alert')
    await reason.setValue('   ')
    await dialog.get('[data-testid=void-submit]').trigger('click')
    await flush()
    await validationShown()
    expect(dialog.get('[data-testid=void-problem]').text()).toBe('⚠ 请填写作废原因。')
    expect(tauri.callsOf('void_document')).toHaveLength(0)

    // Counted as the backend counts it: trimmed.
    await reason.setValue('  交款人名称有误  ')
    expect(dialog.get('.el-input__count').text()).toBe('7 / 200')
    await validationShown()
    expect(dialog.find('[data-testid=void-problem]').exists()).toBe(false)
    press(reason.element, 'Enter')
    await flush()
    expect(tauri.callsOf('void_document')).toEqual([{ projectCode: CODE, number: 'PJ0000000042', reason: '交款人名称有误' }])
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(section.find('[data-testid=void-dialog]').exists()).toBe(false)
  })

  it('takes no more than 200 characters, counted by code point, so none over it reaches the backend', async () => {
    const section = mountSection(withDocuments())
    const dialog = await openVoid(section)
    const reason = dialog.get<HTMLInputElement>('[data-testid=void-reason]')
    await reason.setValue('错'.repeat(201))
    expect(reason.element.value).toBe('错'.repeat(200))
    expect(dialog.get('.el-input__count').text()).toBe('200 / 200')
    // A character outside the BMP is one character to the backend, two UTF-16 units here.
    await reason.setValue('𠀀'.repeat(200))
    expect(dialog.get('.el-input__count').text()).toBe('200 / 200')
    await dialog.get('[data-testid=void-submit]').trigger('click')
    await flush()
    expect(tauri.callsOf('void_document')).toEqual([{ projectCode: CODE, number: 'PJ0000000042', reason: '𠀀'.repeat(200) }])
  })

  it('keeps the dialog open with the backend’s refusal, and not for the next document', async () => {
    tauri.handle('void_document', () => Promise.reject('票据 PJ0000000042 已于 2026-11-24 10:40 由 窗口01-李强 作废（重复开具）。'))
    const section = mountSection(withDocuments())
    let dialog = await openVoid(section)
    await dialog.get('[data-testid=void-reason]').setValue('重复')
    await dialog.get('[data-testid=void-submit]').trigger('click')
    await flush()
    expect(dialog.get('[data-testid=void-refusal]').text()).toContain('已于 2026-11-24 10:40 由 窗口01-李强 作废')
    expect(refresh).not.toHaveBeenCalled()

    await dialog.get('[data-testid=void-cancel]').trigger('click')
    dialog = await openVoid(section, 'PZ0000001235')
    expect(dialog.find('[data-testid=void-refusal]').exists()).toBe(false)
  })

  it('cancels on Esc without sending; with a reason typed the first Esc only leaves the field', async () => {
    const section = mountSection(withDocuments())
    let dialog = await openVoid(section)
    press(dialog.get('[data-testid=void-reason]').element, 'Escape')
    await flush()
    expect(section.find('[data-testid=void-dialog]').exists()).toBe(false)

    dialog = await openVoid(section)
    const reason = dialog.get('[data-testid=void-reason]')
    await reason.setValue('重复开具')
    const leave = press(reason.element, 'Escape')
    await flush()
    expect(section.find('[data-testid=void-dialog]').exists()).toBe(true)
    expect(document.activeElement).toBe(dialog.element)
    // Nothing behind the dialog hears its keys.
    expect(leave.cancelBubble).toBe(true)
    press(document.activeElement as Element, 'Escape')
    await flush()
    expect(section.find('[data-testid=void-dialog]').exists()).toBe(false)
    expect(tauri.callsOf('void_document')).toHaveLength(0)
  })

  it('names the field in English when the reason is missing', async () => {
    wrapper?.unmount()
    const section = mountSection(withDocuments(), 'en')
    const dialog = await openVoid(section)
    await dialog.get('[data-testid=void-submit]').trigger('click')
    await flush()
    await validationShown()
    expect(dialog.get('[data-testid=void-problem]').text()).toBe('⚠ Void reason: required.')
  })
})

describe('DocumentsSection, 关联施工许可', () => {
  beforeEach(() => {
    tauri.handle('link_permit', (args) =>
      accepted({ kind: 'link_permit', project_code: args?.projectCode as string, construction_permit_no: args?.constructionPermitNo as string }),
    )
  })

  it('refuses an empty number and sends the trimmed one on Enter', async () => {
    const section = mountSection(withDocuments())
    const input = section.get('[data-testid=permit-input]')
    await input.setValue('   ')
    press(input.element, 'Enter')
    // The kit shows a field's error 100 ms after it is found, so that it does not flicker.
    await vi.waitFor(() => expect(section.get('[data-testid=permit-problem]').text()).toBe('⚠ 请填写施工许可证号。'))
    expect(input.attributes('aria-invalid')).toBe('true')
    expect(tauri.callsOf('link_permit')).toHaveLength(0)

    await input.setValue('  320105202611240101 ')
    press(input.element, 'Enter')
    await flush()
    expect(tauri.callsOf('link_permit')).toEqual([{ projectCode: CODE, constructionPermitNo: '320105202611240101' }])
    expect(refresh).toHaveBeenCalledTimes(1)
    await vi.waitFor(() => expect(section.find('[data-testid=permit-problem]').exists()).toBe(false))
    expect((input.element as HTMLInputElement).value).toBe('')
  })

  it('refuses a number over 40 characters, and shows a refusal from the backend', async () => {
    const section = mountSection(withDocuments())
    const input = section.get('[data-testid=permit-input]')
    await input.setValue('3'.repeat(41))
    await section.get('[data-testid=permit-submit]').trigger('click')
    await vi.waitFor(() => expect(section.get('[data-testid=permit-problem]').text()).toBe('⚠ 施工许可证号不能超过 40 个字符。'))
    expect(tauri.callsOf('link_permit')).toHaveLength(0)

    tauri.handle('link_permit', () => Promise.reject('该项目还没有有效的缴费凭证或票据，请先开具再关联施工许可。'))
    await input.setValue('320105202611240101')
    await section.get('[data-testid=permit-submit]').trigger('click')
    await flush()
    expect(section.get('[data-testid=command-error][data-for=permit]').text()).toBe(
      '⚠ 该项目还没有有效的缴费凭证或票据，请先开具再关联施工许可。',
    )
    expect((input.element as HTMLInputElement).value).toBe('320105202611240101')
  })

  it('shows a linked permit with who, when and 待上传, and no form', () => {
    const section = mountSection(
      withDocuments({
        permit: { construction_permit_no: '320105202611240101', linked_by: '窗口03-王芳', linked_at: '2026-11-24T03:00:00Z', pending: true },
      }),
    )
    const linked = section.get('[data-testid=permit-linked]')
    expect(linked.text()).toContain('✔')
    expect(linked.text()).toContain('施工许可证号')
    expect(linked.text()).toContain('320105202611240101')
    expect(linked.find('[data-testid=pending-badge]').exists()).toBe(true)
    expect(section.get('[data-testid=permit]').text()).toContain('窗口03-王芳 于 2026年11月24日 11:00:00 关联')
    expect(section.find('[data-testid=permit-input]').exists()).toBe(false)
  })

  it('offers no permit when the only valid-looking documents are voided or in conflict', () => {
    const section = mountSection(
      withDocuments({ documents: [documentLine('PZ0000001235', { state: 'conflict', conflict: CONFLICT }), documentLine('PZ0000001234', { state: 'voided' })] }),
    )
    expect(section.find('[data-testid=permit-input]').exists()).toBe(false)
    expect(section.find('[data-testid=permit-not-yet]').exists()).toBe(true)
  })
})

describe('DocumentsSection in English', () => {
  it('labels states, reasons and buttons in English', () => {
    const section = mountSection(withDocuments(), 'en')
    expect(row(section, 'PJ0000000042').get('[data-testid=document-state]').text()).toBe('✔ Issued')
    expect(row(section, 'PZ0000001235').get('[data-testid=document-state]').text()).toBe('⚠ Conflict to resolve')
    expect(row(section, 'PZ0000001234').get('[data-testid=document-void-reason]').text()).toContain('Void reason: 交款人名称有误')
    expect(row(section, 'PJ0000000042').get('[data-testid=document-reprint]').text()).toContain('Reprint')
    expect(section.text()).not.toContain('已开具')
  })
})
