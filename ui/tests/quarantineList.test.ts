// 隔离区: the state filter, each entry in words with its record masked, and the three ways
// to work an open one: 重新校验, 更正后处理, 放弃.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import QuarantineList from '../src/components/admin/QuarantineList.vue'
import { createAppI18n } from '../src/i18n'
import type { QuarantineEntry, QuarantineState } from '../src/api'
import type { Locale } from '../src/format'
import { deliveryReport, quarantineEntry } from './fixtures'
import { flush } from './dom'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

let entries: QuarantineEntry[] = []
let wrapper: VueWrapper | null = null

function fixtures(): QuarantineEntry[] {
  return [
    quarantineEntry(3),
    quarantineEntry(2, {
      connector: 'civil-defence-push',
      source: 'civil-defence',
      source_id: 'RF-2026-0031',
      location: '推送请求 7f3a',
      record: '{"notice_no":"RF-2026-0031","project_code":"2026-320115-70-01-900009","amount_fen":1200000}',
      problems: [{ record: 0, field: 'project_code', problem: '数据中心没有项目 2026-320115-70-01-900009' }],
    }),
    quarantineEntry(1, {
      connector: 'payments-cdc',
      source: 'payments',
      location: '0/1A2B3C4D',
      state: 'dismissed',
      closed_at: '2026-11-24T01:30:00Z',
      closed_by: '数据中心-王敏',
      close_note: '重复到账通知，已与财政核对',
    }),
    quarantineEntry(0, { source: 'tax', state: 'reprocessed', closed_at: '2026-11-24T01:20:00Z', closed_by: '数据中心-王敏', close_note: '原样重新校验通过' }),
  ]
}

async function mountList(locale: Locale = 'zh-CN'): Promise<VueWrapper> {
  wrapper = mount(QuarantineList, {
    global: { plugins: [createAppI18n(locale)] },
    attachTo: document.body,
  })
  await flush()
  return wrapper
}

function entry(list: VueWrapper, id: number) {
  return list.get(`[data-testid=quarantine-entry][data-id="${id}"]`)
}

function ids(list: VueWrapper): (string | undefined)[] {
  return list.findAll('[data-testid=quarantine-entry]').map((e) => e.attributes('data-id'))
}

/** el-form shows a field's message 100 ms after it is found (its own debounce). */
function validationShown(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 150))
}

function press(element: Element, key: string, init: KeyboardEventInit = {}): KeyboardEvent {
  const event = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init })
  element.dispatchEvent(event)
  return event
}

describe('QuarantineList', () => {
  beforeEach(() => {
    tauri.reset()
    entries = fixtures()
    tauri.handle('list_quarantine', (args) => {
      const state = args?.state as QuarantineState | null
      return entries.filter((e) => state === null || e.state === state)
    })
    tauri.handle('reprocess_quarantined', (args) => {
      entries = entries.map((e) => (e.id === args?.id ? { ...e, state: 'reprocessed' } : e))
      return deliveryReport()
    })
    tauri.handle('dismiss_quarantined', (args) => {
      entries = entries.map((e) => (e.id === args?.id ? { ...e, state: 'dismissed' } : e))
      return null
    })
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('shows the open entries first, with their count, and filters by state', async () => {
    const list = await mountList()
    expect(tauri.callsOf('list_quarantine')).toEqual([{ state: 'open' }])
    expect(ids(list)).toEqual(['3', '2'])
    expect(list.get('[data-testid=quarantine-count]').text()).toBe('共 2 条')
    const pressed = () => list.findAll('[data-testid=quarantine-filter].is-active').map((b) => b.text())
    expect(pressed()).toEqual(['待处理'])

    await list.get('[data-testid=quarantine-filter][data-state=dismissed]').trigger('click')
    await flush()
    expect(tauri.callsOf('list_quarantine').at(-1)).toEqual({ state: 'dismissed' })
    expect(ids(list)).toEqual(['1'])
    expect(pressed()).toEqual(['已放弃'])

    await list.get('[data-testid=quarantine-filter][data-state=all]').trigger('click')
    await flush()
    expect(tauri.callsOf('list_quarantine').at(-1)).toEqual({ state: null })
    expect(ids(list)).toEqual(['3', '2', '1', '0'])
    expect(list.get('[data-testid=quarantine-count]').text()).toBe('共 4 条')
    expect(pressed()).toEqual(['全部'])

    await list.get('[data-testid=quarantine-filter][data-state=reprocessed]').trigger('click')
    await flush()
    expect(ids(list)).toEqual(['0'])
  })

  it('never shows a slow answer for the previous filter under the new one', async () => {
    const slow = tauri.deferred<QuarantineEntry[]>()
    const list = await mountList()
    tauri.handle('list_quarantine', (args) => (args?.state === 'dismissed' ? slow.promise : entries))
    await list.get('[data-testid=quarantine-filter][data-state=dismissed]').trigger('click')
    await flush()
    expect(list.find('[data-testid=quarantine-entry]').exists()).toBe(false)
    await list.get('[data-testid=quarantine-filter][data-state=all]').trigger('click')
    await flush()
    slow.resolve(entries.filter((e) => e.state === 'dismissed'))
    await flush()
    expect(ids(list)).toEqual(['3', '2', '1', '0'])
  })

  it('shows each entry with its source in words, where and when, its problems and its record masked', async () => {
    const list = await mountList()
    const planning = entry(list, 3)
    expect(planning.get('[data-testid=quarantine-source]').text()).toBe('规划审批')
    expect(planning.get('[data-testid=quarantine-location]').text()).toBe('第4行')
    expect(planning.get('[data-testid=quarantine-connector]').text()).toBe('planning-file')
    expect(planning.text()).toContain('2026年11月24日 09:00:00')
    expect(planning.get('[data-testid=quarantine-state]').text()).toBe('⚠ 待处理')
    expect(planning.findAll('[data-testid=quarantine-problem]').map((p) => p.text())).toEqual(['批准日期：日期 2026-02-30 不存在'])
    const record = planning.get('[data-testid=quarantine-record]').text()
    expect(record).toContain('"contact_phone": "138****5678"')
    expect(record).toContain('"approved_on": "2026-02-30"')
    expect(record).not.toContain('13812345678')

    expect(entry(list, 2).get('[data-testid=quarantine-source]').text()).toBe('人防征收联系单')
    expect(entry(list, 2).text()).toContain('RF-2026-0031')
  })

  it('shows who closed a closed entry, when and why, with no actions', async () => {
    const list = await mountList()
    await list.get('[data-testid=quarantine-filter][data-state=all]').trigger('click')
    await flush()
    const dismissed = entry(list, 1)
    expect(dismissed.get('[data-testid=quarantine-source]').text()).toBe('到账通知')
    expect(dismissed.get('[data-testid=quarantine-state]').text()).toBe('✕ 已放弃')
    expect(dismissed.get('[data-testid=quarantine-closed]').text()).toContain('数据中心-王敏 于 2026年11月24日 09:30:00 处理')
    expect(dismissed.get('[data-testid=quarantine-closed]').text()).toContain('说明：重复到账通知，已与财政核对')
    expect(dismissed.find('[data-testid=quarantine-reprocess]').exists()).toBe(false)
    expect(entry(list, 0).get('[data-testid=quarantine-source]').text()).toBe('完税反馈单')
    expect(entry(list, 0).get('[data-testid=quarantine-state]').text()).toBe('✓ 已重新处理')
  })

  it('重新校验 sends the record as it was (null), then shows what it did and reloads', async () => {
    const list = await mountList()
    await entry(list, 2).get('[data-testid=quarantine-reprocess]').trigger('click')
    await flush()
    expect(tauri.callsOf('reprocess_quarantined')).toEqual([{ id: 2, record: null }])
    expect(tauri.callsOf('list_quarantine')).toHaveLength(2)
    expect(ids(list)).toEqual(['3'])
    const outcome = list.get('[data-testid=quarantine-outcome]')
    expect(outcome.attributes('role')).toBe('status')
    expect(outcome.text()).toBe('✓ 推送请求 7f3a（civil-defence-push）已重新处理：新增或变更 1 · 无变化 0 · 隔离 0')
  })

  it('shows a refused 重新校验 with its entry, which stays', async () => {
    const refusal = '记录仍未通过校验：project_code：数据中心没有项目 2026-320115-70-01-900009'
    tauri.handle('reprocess_quarantined', () => Promise.reject(refusal))
    const list = await mountList()
    await entry(list, 2).get('[data-testid=quarantine-reprocess]').trigger('click')
    await flush()
    expect(entry(list, 2).get('[data-testid=quarantine-error]').text()).toBe(`⚠ ${refusal}`)
    expect(list.findAll('[data-testid=quarantine-error]')).toHaveLength(1)
    expect(list.find('[data-testid=quarantine-outcome]').exists()).toBe(false)
  })

  describe('更正后处理', () => {
    async function openEditor(list: VueWrapper, id = 3) {
      // As from the keyboard: the button has focus when it is pressed.
      const button = entry(list, id).get<HTMLButtonElement>('[data-testid=quarantine-correct]')
      button.element.focus()
      await button.trigger('click')
      await flush()
      return list.get('[data-testid=correction-dialog]')
    }

    it('opens on the record as shown, masked, with the field focused', async () => {
      const list = await mountList()
      const dialog = await openEditor(list)
      const text = dialog.get<HTMLTextAreaElement>('[data-testid=correction-text]')
      expect(text.element.value).toContain('"contact_phone": "138****5678"')
      expect(document.activeElement).toBe(text.element)
      expect(list.get('[role=dialog]').attributes('aria-modal')).toBe('true')
    })

    it('refuses text that is not JSON with the parse error, without calling the hub', async () => {
      const list = await mountList()
      const dialog = await openEditor(list)
      await dialog.get('[data-testid=correction-text]').setValue('{"approved_on": "2026-02-28",}')
      await dialog.get('[data-testid=correction-submit]').trigger('click')
      await flush()
      await validationShown()
      const problem = dialog.get('[data-testid=correction-problem]')
      expect(problem.text()).toMatch(/^⚠ JSON 格式有误：.+/)
      expect(problem.attributes('role')).toBe('alert')
      expect(tauri.callsOf('reprocess_quarantined')).toHaveLength(0)

      await dialog.get('[data-testid=correction-text]').setValue('[]')
      await dialog.get('[data-testid=correction-submit]').trigger('click')
      await flush()
      await validationShown()
      expect(dialog.get('[data-testid=correction-problem]').text()).toBe('⚠ 更正后的记录须为一个 JSON 对象。')
      expect(tauri.callsOf('reprocess_quarantined')).toHaveLength(0)
    })

    it('submits the corrected object on Ctrl+Enter with the masked number restored, then closes', async () => {
      const list = await mountList()
      const dialog = await openEditor(list)
      const text = dialog.get<HTMLTextAreaElement>('[data-testid=correction-text]')
      await text.setValue(text.element.value.replace('2026-02-30', '2026-02-28'))
      press(text.element, 'Enter')
      await flush()
      expect(tauri.callsOf('reprocess_quarantined')).toHaveLength(0)
      press(text.element, 'Enter', { ctrlKey: true })
      await flush()
      expect(tauri.callsOf('reprocess_quarantined')).toEqual([
        {
          id: 3,
          record: {
            planning_permit_no: '建字第3201152026900003号',
            project_code: '2026-320115-70-01-900003',
            approved_on: '2026-02-28',
            contact_phone: '13812345678',
          },
        },
      ])
      expect(list.find('[data-testid=correction-dialog]').exists()).toBe(false)
      expect(ids(list)).toEqual(['2'])
      expect(list.get('[data-testid=quarantine-outcome]').text()).toContain('第4行（planning-file）已重新处理')
      // The entry and its button are gone: focus carries on from the list.
      expect(document.activeElement?.id).toBe('quarantine-title')
    })

    it('keeps the editor open with the hub’s refusal', async () => {
      const refusal = '记录仍未通过校验：approved_on：日期 2026-02-29 不存在'
      tauri.handle('reprocess_quarantined', () => Promise.reject(refusal))
      const list = await mountList()
      const dialog = await openEditor(list)
      const text = dialog.get<HTMLTextAreaElement>('[data-testid=correction-text]')
      await text.setValue(text.element.value.replace('2026-02-30', '2026-02-29'))
      await dialog.get('[data-testid=correction-submit]').trigger('click')
      await flush()
      expect(list.get('[data-testid=correction-refusal]').text()).toBe(`⚠ ${refusal}`)
      expect(list.get<HTMLTextAreaElement>('[data-testid=correction-text]').element.value).toContain('2026-02-29')
    })

    it('closes on Esc, and with edits typed the first Esc only leaves the field', async () => {
      const list = await mountList()
      let dialog = await openEditor(list)
      press(dialog.get('[data-testid=correction-text]').element, 'Escape')
      await flush()
      expect(list.find('[data-testid=correction-dialog]').exists()).toBe(false)
      // Back to the button that opened it.
      expect(document.activeElement).toBe(entry(list, 3).get('[data-testid=quarantine-correct]').element)

      dialog = await openEditor(list)
      const text = dialog.get<HTMLTextAreaElement>('[data-testid=correction-text]')
      await text.setValue(`${text.element.value} `)
      press(text.element, 'Escape')
      await flush()
      expect(list.find('[data-testid=correction-dialog]').exists()).toBe(true)
      // Onto the dialog box, so the next Esc still reaches the dialog.
      expect(document.activeElement).toBe(dialog.element)
      press(document.activeElement as Element, 'Escape')
      await flush()
      expect(list.find('[data-testid=correction-dialog]').exists()).toBe(false)
      expect(tauri.callsOf('reprocess_quarantined')).toHaveLength(0)
    })
  })

  describe('放弃', () => {
    async function openReason(list: VueWrapper, id = 3) {
      await entry(list, id).get('[data-testid=quarantine-dismiss]').trigger('click')
      await flush()
      return list.get('[data-testid=dismiss-dialog]')
    }

    it('refuses an empty or blank reason, naming the field, without calling the hub', async () => {
      const list = await mountList()
      const dialog = await openReason(list)
      const reason = dialog.get('[data-testid=dismiss-reason]')
      expect(document.activeElement).toBe(reason.element)
      press(reason.element, 'Enter')
      await flush()
      await validationShown()
      expect(dialog.get('[data-testid=dismiss-problem]').text()).toBe('⚠ 请填写放弃原因。')
      await reason.setValue('   ')
      await dialog.get('[data-testid=dismiss-submit]').trigger('click')
      await flush()
      await validationShown()
      expect(dialog.get('[data-testid=dismiss-problem]').text()).toBe('⚠ 请填写放弃原因。')
      expect(tauri.callsOf('dismiss_quarantined')).toHaveLength(0)
    })

    it('counts the characters as the hub does and takes no more than 200', async () => {
      const list = await mountList()
      const dialog = await openReason(list)
      const reason = dialog.get<HTMLInputElement>('[data-testid=dismiss-reason]')
      await reason.setValue('  规划局确认 ')
      expect(dialog.get('.el-input__count').text()).toBe('5 / 200')
      await reason.setValue('审'.repeat(201))
      expect(reason.element.value).toBe('审'.repeat(200))
      expect(dialog.get('.el-input__count').text()).toBe('200 / 200')
      press(reason.element, 'Enter')
      await flush()
      expect(tauri.callsOf('dismiss_quarantined')).toEqual([{ id: 3, reason: '审'.repeat(200) }])
    })

    it('sends the trimmed reason on Enter, then shows it done and reloads', async () => {
      const list = await mountList()
      const dialog = await openReason(list, 2)
      const reason = dialog.get('[data-testid=dismiss-reason]')
      await reason.setValue(' 人防办确认该联系单已作废 ')
      press(reason.element, 'Enter')
      await flush()
      expect(tauri.callsOf('dismiss_quarantined')).toEqual([{ id: 2, reason: '人防办确认该联系单已作废' }])
      expect(list.find('[data-testid=dismiss-dialog]').exists()).toBe(false)
      expect(ids(list)).toEqual(['3'])
      expect(list.get('[data-testid=quarantine-outcome]').text()).toBe('✓ 推送请求 7f3a（civil-defence-push）已放弃处理')
    })

    it('keeps the dialog open with the hub’s refusal', async () => {
      tauri.handle('dismiss_quarantined', () => Promise.reject('隔离记录 3 已被他人处理。'))
      const list = await mountList()
      const dialog = await openReason(list)
      await dialog.get('[data-testid=dismiss-reason]').setValue('重复报送')
      await dialog.get('[data-testid=dismiss-submit]').trigger('click')
      await flush()
      expect(list.get('[data-testid=dismiss-refusal]').text()).toBe('⚠ 隔离记录 3 已被他人处理。')
    })

    it('keeps Tab inside the dialog and closes on Esc', async () => {
      const list = await mountList()
      const dialog = await openReason(list)
      const submit = dialog.get<HTMLButtonElement>('[data-testid=dismiss-submit]')
      submit.element.focus()
      const tab = press(submit.element, 'Tab')
      expect(tab.defaultPrevented).toBe(true)
      expect(document.activeElement).toBe(dialog.get('[data-testid=dismiss-reason]').element)
      press(dialog.get('[data-testid=dismiss-reason]').element, 'Escape')
      await flush()
      expect(list.find('[data-testid=dismiss-dialog]').exists()).toBe(false)
    })
  })

  it('says it in English', async () => {
    const list = await mountList('en')
    expect(list.get('[data-testid=quarantine-count]').text()).toBe('2 entries')
    expect(entry(list, 3).get('[data-testid=quarantine-source]').text()).toBe('Planning approval')
    expect(entry(list, 2).get('[data-testid=quarantine-source]').text()).toBe('Civil-defence levy notice')
    expect(entry(list, 3).get('[data-testid=quarantine-reprocess]').text()).toContain('Check again')
    expect(entry(list, 3).findAll('[data-testid=quarantine-problem]').map((p) => p.text())).toEqual(['批准日期: 日期 2026-02-30 不存在'])
    expect(list.findAll('[data-testid=quarantine-filter]').map((b) => b.text())).toEqual(['To do', 'Reprocessed', 'Dismissed', 'All'])
    await entry(list, 3).get('[data-testid=quarantine-dismiss]').trigger('click')
    await flush()
    await list.get('[data-testid=dismiss-submit]').trigger('click')
    await flush()
    await validationShown()
    expect(list.get('[data-testid=dismiss-problem]').text()).toBe('⚠ Reason for dismissing: required.')
  })
})
