// Working an alert where it is listed (a project's detail, the queue): what each card says,
// 确认 / 指派 / 备注 / 解除 / 升级 through the dialog, and 重新校验 of a validation alert's record.
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import AlertList from '../src/components/alerts/AlertList.vue'
import { createAppI18n } from '../src/i18n'
import type { AlertView, OutboxEntry } from '../src/api'
import type { Locale } from '../src/format'
import { CODE, alertView, clerk, deliveryReport, outboxEntry, systemAlert } from './fixtures'
import { useSessionStore } from '../src/stores/session'
import { checked, flush } from './dom'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const KEY = `payment-overdue:project/${CODE}`

let wrapper: VueWrapper | null = null
let refresh: Mock<() => Promise<void>>

function mountList(alerts: AlertView[], locale: Locale = 'zh-CN', linkProject = false): VueWrapper {
  wrapper = mount(AlertList, {
    props: { alerts, refresh, linkProject },
    global: { plugins: [createAppI18n(locale)] },
    attachTo: document.body,
  })
  return wrapper
}

function press(element: Element, key: string, init: KeyboardEventInit = {}): KeyboardEvent {
  const event = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init })
  element.dispatchEvent(event)
  return event
}

/** Element Plus shows a form item's message 100 ms after the check failed (it debounces it). */
function card(list: VueWrapper, key = KEY) {
  return list.get(`[data-testid=alert-item][data-key="${key}"]`)
}

function buttons(list: VueWrapper, key = KEY): string[] {
  return card(list, key)
    .findAll('.actions button')
    .map((b) => b.attributes('data-testid') ?? '')
}

async function open(list: VueWrapper, step: string) {
  const button = card(list).get<HTMLButtonElement>(`[data-testid=alert-${step}]`)
  // As from the keyboard: the button has focus when it is pressed.
  button.element.focus()
  await button.trigger('click')
  await flush()
  return list.get('[data-testid=alert-dialog]')
}

function accepted(): OutboxEntry {
  return outboxEntry('cmd-alert', { kind: 'tracking', project_code: CODE, tracked: true }, { state: 'pending', reject_reason: null })
}

describe('an alert card', () => {
  beforeEach(async () => {
    tauri.reset()
    refresh = vi.fn(() => Promise.resolve())
    // The supervisor, who may do every step.
    await useSessionStore().load()
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('shows level, state, deadline in Shanghai time, message, what to do and who it is for', () => {
    const list = mountList([alertView()])
    const item = card(list)
    expect(item.attributes('data-level')).toBe('orange')
    expect(item.attributes('data-state')).toBe('open')
    expect(item.text()).toContain('橙色预警')
    expect(item.get('[data-testid=alert-state]').text()).toBe('● 待响应')
    expect(item.get('[data-testid=alert-sla]').text()).toBe('◷ 未到期限')
    expect(item.get('[data-testid=alert-respond-by]').text()).toBe('响应期限 2026年11月25日 09:00:00')
    expect(item.text()).toContain('发生 2026年11月24日 09:00:00')
    expect(item.get('[data-testid=alert-message]').text()).toBe('城市基础设施配套费逾期未缴：欠缴 ¥60,000.00，缴款期限 2026年4月9日')
    expect(item.get('[data-testid=alert-runbook]').text()).toContain('电话催缴建设单位')
    expect(item.text()).toContain('收费窗口 · 科长')
    expect(buttons(list)).toEqual(['alert-acknowledge', 'alert-assign', 'alert-note', 'alert-resolve', 'alert-escalate'])
    expect(item.find('[data-testid=pending-badge]').exists()).toBe(false)
    expect(item.find('[data-testid=alert-reverify]').exists()).toBe(false)
  })

  it('says 已超时 when the deadline was missed, and shows escalations, answers, notes and 待上传', () => {
    const list = mountList([
      alertView({
        level: 'red',
        state: 'acknowledged',
        sla: 'missed',
        pending: true,
        origin: 'counter',
        responded: { by: '科长-赵敏', at: '2026-11-25T03:00:00Z' },
        assignee: '窗口03-王芳',
        escalations: [{ at: '2026-11-25T01:00:00Z', from: 'orange', to: 'red', cause: 'unanswered' }],
        notes: [{ by: '窗口03-王芳', at: '2026-11-25T04:00:00Z', text: '已电话催缴\n答复月底前缴清' }],
      }),
    ])
    const item = card(list)
    expect(item.attributes('data-level')).toBe('red')
    expect(item.get('[data-testid=alert-sla]').text()).toBe('✖ 已超时')
    expect(item.get('[data-testid=alert-state]').text()).toBe('◐ 已确认')
    expect(item.get('[data-testid=alert-escalation]').text()).toBe('2026年11月25日 09:00:00　橙色预警 → 红色预警（超时未响应）')
    expect(item.get('[data-testid=alert-responded]').text()).toBe('科长-赵敏 于 2026年11月25日 11:00:00 响应')
    expect(item.get('[data-testid=alert-assignee]').text()).toBe('指派给 窗口03-王芳')
    expect(item.get('[data-testid=alert-note] .note__text').element.textContent).toBe('已电话催缴\n答复月底前缴清')
    expect(item.get('[data-testid=pending-badge]').text()).toContain('待上传')
    expect(item.get('[data-testid=alert-origin]').text()).toContain('本机预警')
    // The first answer stands: no second 确认.
    expect(buttons(list)).toEqual(['alert-assign', 'alert-note', 'alert-resolve'])
  })

  it('shows how a resolved alert was resolved, and only takes notes', () => {
    const list = mountList([
      alertView({
        state: 'resolved',
        sla: 'met',
        resolution: { by: null, at: '2026-11-26T02:00:00Z', reason: '欠费已全部到账', condition_cleared: true },
      }),
    ])
    expect(card(list).get('[data-testid=alert-resolution]').text()).toContain('2026年11月26日 10:00:00 情况消除，自动解除')
    expect(card(list).get('[data-testid=alert-resolution]').text()).toContain('原因：欠费已全部到账')
    expect(buttons(list)).toEqual(['alert-note'])
  })

  it('leads to its project only where asked to, on the code or anywhere but its buttons', async () => {
    const inDetail = mountList([alertView()])
    expect(inDetail.find('[data-testid=alert-project]').exists()).toBe(false)
    await card(inDetail).trigger('click')
    expect(inDetail.emitted('open')).toBeUndefined()
    inDetail.unmount()

    const inQueue = mountList([alertView(), systemAlert()], 'zh-CN', true)
    await card(inQueue).get('[data-testid=alert-project]').trigger('click')
    await card(inQueue).get('[data-testid=alert-message]').trigger('click')
    await card(inQueue).get('[data-testid=alert-note]').trigger('click')
    await flush()
    expect(inQueue.emitted('open')).toEqual([[CODE], [CODE]])
    press(document.activeElement as Element, 'Escape')
    await flush()
    expect(inQueue.find('[data-testid=alert-dialog]').exists()).toBe(false)

    const system = card(inQueue, 'connector-down:connector/planning-cdc')
    expect(system.text()).toContain('系统预警')
    await system.get('[data-testid=alert-message]').trigger('click')
    expect(inQueue.emitted('open')).toHaveLength(2)
  })
})

describe('answering an alert', () => {
  beforeEach(async () => {
    tauri.reset()
    refresh = vi.fn(() => Promise.resolve())
    tauri.handle('handle_alert', () => accepted())
    await useSessionStore().load()
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('确认 asks first, with its button focused, then sends the acknowledgement and reads again', async () => {
    const list = mountList([alertView()])
    const dialog = await open(list, 'acknowledge')
    expect(dialog.attributes('data-step')).toBe('acknowledge')
    expect(dialog.text()).toContain('确认预警')
    expect(dialog.text()).toContain('逾期未缴')
    expect(tauri.callsOf('handle_alert')).toHaveLength(0)
    expect(document.activeElement).toBe(dialog.get('[data-testid=alert-dialog-submit]').element)

    await dialog.get('[data-testid=alert-dialog-submit]').trigger('click')
    await flush()
    expect(tauri.callsOf('handle_alert')).toEqual([{ alertKey: KEY, projectCode: CODE, handling: { step: 'acknowledge' } }])
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(list.find('[data-testid=alert-dialog]').exists()).toBe(false)
    // A passing word that it was taken; the card shows 待上传 once read again.
    expect(document.body.querySelector('.el-message--success')?.textContent).toContain('已确认，待上传数据中心')
  })

  it('sends a system alert’s answer with an empty project code', async () => {
    const alert = systemAlert()
    const list = mountList([alert])
    await card(list, alert.key).get('[data-testid=alert-acknowledge]').trigger('click')
    await flush()
    await list.get('[data-testid=alert-dialog-submit]').trigger('click')
    await flush()
    expect(tauri.callsOf('handle_alert')).toEqual([
      { alertKey: 'connector-down:connector/planning-cdc', projectCode: '', handling: { step: 'acknowledge' } },
    ])
  })

  it('指派 offers the people the data centre says handle alerts, and sends the account chosen', async () => {
    tauri.handle('alert_assignees', () => [
      { account: 'clerk01', real_name: '王芳', department: '收费窗口', role_names: ['窗口人员'] },
      { account: 'clerk02', real_name: '陈静', department: '收费窗口', role_names: ['窗口人员'] },
    ])
    const list = mountList([alertView()])
    const dialog = await open(list, 'assign')
    await flush()
    const offered = list.findAllComponents({ name: 'ElOption' }).map((option) => option.props('label'))
    expect(offered).toEqual(['王芳（clerk01）', '陈静（clerk02）'])
    list.getComponent({ name: 'ElSelect' }).vm.$emit('update:modelValue', 'clerk02')
    await dialog.get('[data-testid=alert-dialog-submit]').trigger('click')
    await flush()
    expect(tauri.callsOf('handle_alert')).toEqual([{ alertKey: KEY, projectCode: CODE, handling: { step: 'assign', assignee: 'clerk02' } }])
    expect(list.find('[data-testid=alert-dialog]').exists()).toBe(false)
  })

  it('指派 offline says the people cannot be listed and still takes a typed account', async () => {
    tauri.handle('alert_assignees', () => {
      throw { code: 'offline', message: '无法连接数据中心' }
    })
    const list = mountList([alertView()])
    const dialog = await open(list, 'assign')
    await flush()
    expect(dialog.get('[data-testid=alert-assignees-offline]').text()).toContain('可直接输入对方的账号')
    await dialog.get('[data-testid=alert-dialog-submit]').trigger('click')
    await checked()
    expect(dialog.get('[data-testid=alert-dialog-problem]').text()).toBe('⚠ 请选择指派给谁。')
    list.getComponent({ name: 'ElSelect' }).vm.$emit('update:modelValue', 'clerk01')
    await dialog.get('[data-testid=alert-dialog-submit]').trigger('click')
    await flush()
    expect(tauri.callsOf('handle_alert')[0]).toMatchObject({ handling: { step: 'assign', assignee: 'clerk01' } })
  })

  it('升级 sends the reason; a red alert offers no 升级', async () => {
    const list = mountList([alertView()])
    const dialog = await open(list, 'escalate')
    expect(dialog.get('.el-dialog__title').text()).toBe('升级预警')
    const field = dialog.get('[data-testid=alert-dialog-text]')
    await field.setValue(' 建设单位失联，需分管领导协调 ')
    press(field.element, 'Enter')
    await flush()
    expect(tauri.callsOf('handle_alert')).toEqual([
      { alertKey: KEY, projectCode: CODE, handling: { step: 'escalate', reason: '建设单位失联，需分管领导协调' } },
    ])
    wrapper?.unmount()
    const red = mountList([alertView({ level: 'red' })])
    expect(buttons(red)).not.toContain('alert-escalate')
  })

  it('offers a clerk neither 指派 nor 升级, which are the supervisor’s', async () => {
    tauri.handle('current_person', () => clerk())
    await useSessionStore().load()
    const list = mountList([alertView()])
    expect(buttons(list)).toEqual(['alert-acknowledge', 'alert-note', 'alert-resolve'])
  })

  it('shows who escalated by hand and why', () => {
    const list = mountList([
      alertView({
        level: 'red',
        escalations: [{ at: '2026-11-25T01:00:00Z', from: 'orange', to: 'red', cause: 'by_hand', by: '李建国（chief01）', reason: '建设单位失联' }],
      }),
    ])
    const step = card(list).get('[data-testid=alert-escalation]').text()
    expect(step).toContain('橙色预警 → 红色预警（人工升级）')
    expect(step).toContain('李建国（chief01）：建设单位失联')
  })

  it('备注 keeps Enter for line breaks and sends on Ctrl+Enter', async () => {
    const list = mountList([alertView()])
    const dialog = await open(list, 'note')
    const field = dialog.get('[data-testid=alert-dialog-text]')
    expect(field.element.tagName).toBe('TEXTAREA')
    await field.setValue('已电话催缴\n答复月底前缴清 ')
    press(field.element, 'Enter')
    await flush()
    expect(tauri.callsOf('handle_alert')).toHaveLength(0)
    press(field.element, 'Enter', { ctrlKey: true })
    await flush()
    expect(tauri.callsOf('handle_alert')).toEqual([
      { alertKey: KEY, projectCode: CODE, handling: { step: 'note', text: '已电话催缴\n答复月底前缴清' } },
    ])
  })

  it('解除 refuses an empty or blank reason without calling the backend', async () => {
    const list = mountList([alertView()])
    const dialog = await open(list, 'resolve')
    const field = dialog.get('[data-testid=alert-dialog-text]')
    press(field.element, 'Enter')
    await checked()
    const problem = dialog.get('[data-testid=alert-dialog-problem]')
    expect(problem.text()).toBe('⚠ 请填写解除原因。')
    expect(problem.attributes('role')).toBe('alert')
    await field.setValue('   ')
    await dialog.get('[data-testid=alert-dialog-submit]').trigger('click')
    await checked()
    expect(dialog.get('[data-testid=alert-dialog-problem]').text()).toBe('⚠ 请填写解除原因。')
    expect(tauri.callsOf('handle_alert')).toHaveLength(0)
    expect(list.find('[data-testid=alert-dialog]').exists()).toBe(true)

    // Typed or pasted, the reason stops at the limit, counted as the backend counts it
    // (by character, after trimming).
    expect(dialog.get('.el-input__count').text()).toBe('0 / 200')
    await field.setValue(` ${'审'.repeat(201)}`)
    expect((field.element as HTMLInputElement).value).toBe(` ${'审'.repeat(200)}`)
    expect(dialog.get('.el-input__count').text()).toBe('200 / 200')
    // A longer text that got past the field still does not go out, and the message names the field.
    list.getComponent({ name: 'ElInput' }).vm.$emit('update:modelValue', '审'.repeat(201))
    await flush()
    press(field.element, 'Enter')
    await checked()
    expect(dialog.get('[data-testid=alert-dialog-problem]').text()).toBe('⚠ 解除原因不能超过 200 个字。')
    expect(tauri.callsOf('handle_alert')).toHaveLength(0)

    await field.setValue(' 建设单位已缴清欠费 ')
    press(field.element, 'Enter')
    await flush()
    expect(tauri.callsOf('handle_alert')).toEqual([
      { alertKey: KEY, projectCode: CODE, handling: { step: 'resolve', reason: '建设单位已缴清欠费' } },
    ])
  })

  it('keeps the dialog open with the backend’s Chinese refusal, and reads the alerts again', async () => {
    const refusal = '该预警已于 2026-11-24 10:30 解除，无需再处理。'
    tauri.handle('handle_alert', () => Promise.reject(refusal))
    const list = mountList([alertView()])
    const dialog = await open(list, 'resolve')
    await dialog.get('[data-testid=alert-dialog-text]').setValue('建设单位已缴清欠费')
    await dialog.get('[data-testid=alert-dialog-submit]').trigger('click')
    await flush()
    const shown = list.get('[data-testid=alert-dialog-refusal]')
    expect(shown.text()).toBe(`⚠ ${refusal}`)
    expect(shown.attributes('role')).toBe('alert')
    expect(list.get<HTMLInputElement>('[data-testid=alert-dialog-text]').element.value).toBe('建设单位已缴清欠费')
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(document.body.querySelector('.el-message')).toBeNull()
  })

  it('sends once while the answer is on its way', async () => {
    const answer = tauri.deferred<OutboxEntry>()
    tauri.handle('handle_alert', () => answer.promise)
    const list = mountList([alertView()])
    const dialog = await open(list, 'acknowledge')
    const submit = dialog.get('[data-testid=alert-dialog-submit]')
    await submit.trigger('click')
    await flush()
    expect(submit.text()).toBe('提交中…')
    expect(submit.attributes('disabled')).toBeDefined()
    await submit.trigger('click')
    expect(tauri.callsOf('handle_alert')).toHaveLength(1)
    answer.resolve(accepted())
    await flush()
    expect(list.find('[data-testid=alert-dialog]').exists()).toBe(false)
  })

  it('closes on Esc without sending; with text typed the first Esc only leaves the field', async () => {
    const list = mountList([alertView()])
    let dialog = await open(list, 'resolve')
    press(dialog.get('[data-testid=alert-dialog-text]').element, 'Escape')
    await flush()
    expect(list.find('[data-testid=alert-dialog]').exists()).toBe(false)
    // Back to the button that opened it.
    expect(document.activeElement).toBe(card(list).get('[data-testid=alert-resolve]').element)

    dialog = await open(list, 'resolve')
    const field = dialog.get('[data-testid=alert-dialog-text]')
    await field.setValue('写了一半')
    press(field.element, 'Escape')
    await flush()
    expect(list.find('[data-testid=alert-dialog]').exists()).toBe(true)
    press(document.activeElement as Element, 'Escape')
    await flush()
    expect(list.find('[data-testid=alert-dialog]').exists()).toBe(false)
    expect(tauri.callsOf('handle_alert')).toHaveLength(0)
  })

  it('keeps every key inside, so the app’s own keys do not act under the dialog', async () => {
    const seen: string[] = []
    const spy = (event: KeyboardEvent) => seen.push(event.key)
    window.addEventListener('keydown', spy)
    try {
      const list = mountList([alertView()])
      const dialog = await open(list, 'resolve')
      press(dialog.get('[data-testid=alert-dialog-text]').element, 'F2')
      press(dialog.get('[data-testid=alert-dialog-text]').element, 'Escape')
      await flush()
      expect(list.find('[data-testid=alert-dialog]').exists()).toBe(false)
      expect(seen).toEqual([])
    } finally {
      window.removeEventListener('keydown', spy)
    }
  })

  it('moves focus to the alert when the answer took its button away', async () => {
    const list = mountList([alertView()])
    refresh.mockImplementation(async () => {
      await list.setProps({ alerts: [alertView({ state: 'acknowledged', pending: true })] })
    })
    const dialog = await open(list, 'acknowledge')
    await dialog.get('[data-testid=alert-dialog-submit]').trigger('click')
    await flush()
    expect(card(list).find('[data-testid=alert-acknowledge]').exists()).toBe(false)
    expect(document.activeElement).toBe(card(list).element)
  })
})

describe('重新校验 of a validation alert', () => {
  const validation = () =>
    alertView({
      rule_id: 'validation-failed',
      subject: 'quarantine/42',
      project_code: '',
      department: '数据中心',
      owner_role: 'supervisor',
      message: '人防征收联系单 RF-2026-0031 校验失败：数据中心没有该项目',
      quarantine_id: 42,
    })

  beforeEach(async () => {
    tauri.reset()
    refresh = vi.fn(() => Promise.resolve())
    // The supervisor, who may do every step.
    await useSessionStore().load()
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('sends the record as it was (null) and shows what it did', async () => {
    const report = tauri.deferred<ReturnType<typeof deliveryReport>>()
    tauri.handle('reprocess_quarantined', () => report.promise)
    const alert = validation()
    const list = mountList([alert])
    const button = card(list, alert.key).get('[data-testid=alert-reverify]')
    expect(button.text()).toContain('重新校验')
    await button.trigger('click')
    await flush()
    expect(button.text()).toContain('校验中…')
    expect(card(list, alert.key).get('[data-testid=alert-resolve]').attributes('disabled')).toBeDefined()
    report.resolve(deliveryReport())
    await flush()
    expect(button.text()).toContain('重新校验')
    expect(tauri.callsOf('reprocess_quarantined')).toEqual([{ id: 42, record: null }])
    expect(card(list, alert.key).get('[data-testid=alert-reverified]').text()).toBe(
      '✓ 重新校验完成：新增或变更 1 · 无变化 0 · 隔离 0',
    )
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('shows the hub’s Chinese refusal on the alert', async () => {
    const refusal = '记录仍未通过校验：project_code：数据中心没有项目 2026-320115-70-01-900009'
    tauri.handle('reprocess_quarantined', () => Promise.reject(refusal))
    const alert = validation()
    const list = mountList([alert])
    await card(list, alert.key).get('[data-testid=alert-reverify]').trigger('click')
    await flush()
    expect(card(list, alert.key).get('[data-testid=alert-error]').text()).toBe(`⚠ ${refusal}`)
    expect(card(list, alert.key).find('[data-testid=alert-reverified]').exists()).toBe(false)
  })

  it('is not offered once the alert is resolved', () => {
    const list = mountList([{ ...validation(), state: 'resolved' }])
    expect(list.find('[data-testid=alert-reverify]').exists()).toBe(false)
  })
})

describe('alerts in English', () => {
  beforeEach(async () => {
    tauri.reset()
    refresh = vi.fn(() => Promise.resolve())
    // The supervisor, who may do every step.
    await useSessionStore().load()
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('labels the card and the dialog in English; the rule’s own text stays as written', async () => {
    const list = mountList([alertView({ sla: 'missed' })], 'en')
    const item = card(list)
    expect(item.text()).toContain('Orange alert')
    expect(item.get('[data-testid=alert-state]').text()).toContain('Unanswered')
    expect(item.get('[data-testid=alert-sla]').text()).toContain('Deadline missed')
    expect(item.get('[data-testid=alert-respond-by]').text()).toBe('Respond by 2026-11-25 09:00:00')
    expect(item.get('[data-testid=alert-message]').text()).toContain('逾期未缴')
    expect(item.get('[data-testid=alert-resolve]').text()).toContain('Resolve')
    const dialog = await open(list, 'resolve')
    expect(dialog.get('.el-dialog__title').text()).toBe('Resolve alert')
    await dialog.get('[data-testid=alert-dialog-submit]').trigger('click')
    await checked()
    expect(dialog.get('[data-testid=alert-dialog-problem]').text()).toBe('⚠ Give a reason for resolving.')
    list.getComponent({ name: 'ElInput' }).vm.$emit('update:modelValue', 'x'.repeat(201))
    await dialog.get('[data-testid=alert-dialog-submit]').trigger('click')
    await checked()
    expect(dialog.get('[data-testid=alert-dialog-problem]').text()).toBe('⚠ The reason can be at most 200 characters.')
  })
})
