// 窗口办理: 复核, 项目跟踪 and 跟进备注 against a fake backend.
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { nextTick } from 'vue'
import CounterActions from '../src/components/projects/CounterActions.vue'
import { createAppI18n } from '../src/i18n'
import type { OutboxEntry, ProjectDetail } from '../src/api'
import type { Locale } from '../src/format'
import { CODE, clearedProject, outboxEntry, projectDetail } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const REFUSAL = '项目当前为「部分到账」，尚未完费，不能复核。请待费用全部到账并收到完税反馈单后再复核。'

let wrapper: VueWrapper | null = null
let refresh: Mock<() => Promise<void>>

function mountActions(detail: ProjectDetail, locale: Locale = 'zh-CN'): VueWrapper {
  wrapper = mount(CounterActions, {
    props: { detail, refresh },
    global: { plugins: [createAppI18n(locale)] },
    attachTo: document.body,
  })
  return wrapper
}

async function flush(): Promise<void> {
  await tauri.settle()
  await nextTick()
}

function pressOn(el: Element, key: string, init: KeyboardEventInit = {}): KeyboardEvent {
  const event = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init })
  el.dispatchEvent(event)
  return event
}

function accepted(action: OutboxEntry['action']): OutboxEntry {
  return outboxEntry('cmd-new', action, { state: 'pending', reject_code: null, reject_reason: null, attempts: 0 })
}

describe('CounterActions, 复核', () => {
  beforeEach(() => {
    tauri.reset()
    refresh = vi.fn(() => Promise.resolve())
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  it('is disabled with the reason while the project is not cleared', async () => {
    const actions = mountActions(projectDetail())
    const button = actions.get('[data-testid=final-check-button]')
    expect(button.attributes('disabled')).toBeDefined()
    expect(actions.get('[data-testid=final-check-hint]').text()).toContain('未完费，不能复核')
    await button.trigger('click')
    await flush()
    expect(tauri.callsOf('record_final_check')).toHaveLength(0)
  })

  it('records the final check of a cleared project with the trimmed remark, then refreshes', async () => {
    tauri.handle('record_final_check', (args) =>
      accepted({ kind: 'final_check', project_code: args?.projectCode as string, remark: args?.remark as string }),
    )
    const actions = mountActions(clearedProject())
    expect(actions.find('[data-testid=final-check-hint]').exists()).toBe(false)
    const button = actions.get('[data-testid=final-check-button]')
    expect(button.attributes('disabled')).toBeUndefined()

    await actions.get('[data-testid=final-check-remark]').setValue('  资料齐全，同意办结  ')
    await button.trigger('click')
    await flush()

    expect(tauri.callsOf('record_final_check')).toEqual([{ projectCode: CODE, remark: '资料齐全，同意办结' }])
    expect(refresh).toHaveBeenCalledTimes(1)
    expect((actions.get('[data-testid=final-check-remark]').element as HTMLInputElement).value).toBe('')
    expect(actions.find('[data-testid=command-error]').exists()).toBe(false)
  })

  it('records it with Enter in the remark field, once while it is on its way', async () => {
    const answer = tauri.deferred<OutboxEntry>()
    tauri.handle('record_final_check', () => answer.promise)
    const actions = mountActions(clearedProject())
    const remark = actions.get('[data-testid=final-check-remark]')
    pressOn(remark.element, 'Enter')
    await flush()
    pressOn(remark.element, 'Enter')
    await actions.get('[data-testid=final-check-button]').trigger('click')
    await flush()
    expect(actions.get('[data-testid=final-check-button]').attributes('disabled')).toBeDefined()
    expect(tauri.callsOf('record_final_check')).toEqual([{ projectCode: CODE, remark: '' }])
    answer.resolve(accepted({ kind: 'final_check', project_code: CODE, remark: '' }))
    await flush()
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('shows the refusal verbatim next to the button and lets the clerk try again', async () => {
    tauri.handle('record_final_check', () => Promise.reject(REFUSAL))
    const actions = mountActions(clearedProject())
    await actions.get('[data-testid=final-check-button]').trigger('click')
    await flush()

    const error = actions.get('[data-testid=command-error]')
    expect(error.attributes('data-for')).toBe('final-check')
    expect(error.text()).toBe(`⚠ ${REFUSAL}`)
    expect(refresh).not.toHaveBeenCalled()
    expect(actions.get('[data-testid=final-check-button]').attributes('disabled')).toBeUndefined()
  })

  it('shows a final check on its way as 待上传 and a confirmed one without', async () => {
    const pending = mountActions({
      ...clearedProject(),
      final_check: { checked_by: '窗口03-王芳', checked_at: '2026-11-24T02:30:00Z', remark: '资料齐全', pending: true },
    })
    const done = pending.get('[data-testid=final-check-done]')
    expect(done.attributes('data-pending')).toBe('true')
    expect(done.text()).toContain('已复核 · 窗口03-王芳 · 2026年11月24日 10:30:00')
    expect(done.get('[data-testid=pending-badge]').text()).toContain('待上传')
    expect(pending.text()).toContain('复核意见：资料齐全')
    expect(pending.find('[data-testid=final-check-button]').exists()).toBe(false)
    pending.unmount()

    const confirmed = mountActions({
      ...clearedProject(),
      final_check: { checked_by: '窗口01-李强', checked_at: '2026-11-23T08:00:00Z', remark: '', pending: false },
    })
    const line = confirmed.get('[data-testid=final-check-done]')
    expect(line.attributes('data-pending')).toBe('false')
    expect(line.text()).toContain('已复核 · 窗口01-李强 · 2026年11月23日 16:00:00')
    expect(line.find('[data-testid=pending-badge]').exists()).toBe(false)
  })
})

describe('CounterActions, 项目跟踪', () => {
  beforeEach(() => {
    tauri.reset()
    refresh = vi.fn(() => Promise.resolve())
    tauri.handle('set_tracking', (args) =>
      accepted({ kind: 'tracking', project_code: args?.projectCode as string, tracked: args?.tracked as boolean }),
    )
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  it('turns tracking on when off', async () => {
    const actions = mountActions(projectDetail())
    const toggle = actions.get('[data-testid=tracking-toggle]')
    expect(toggle.get('input[role=switch]').attributes('aria-checked')).toBe('false')
    expect(toggle.attributes('data-tracked')).toBe('false')
    expect(actions.get('[data-testid=tracking-state]').text()).toBe('项目跟踪：关')
    await toggle.trigger('click')
    await flush()
    expect(tauri.callsOf('set_tracking')).toEqual([{ projectCode: CODE, tracked: true }])
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('turns tracking off when on, and shows a flag on its way as 待上传', async () => {
    const actions = mountActions({ ...projectDetail(), tracked: true, tracking_pending: true })
    const toggle = actions.get('[data-testid=tracking-toggle]')
    expect(toggle.get('input[role=switch]').attributes('aria-checked')).toBe('true')
    expect(toggle.attributes('data-pending')).toBe('true')
    expect(actions.get('[data-testid=tracking-state]').text()).toBe('项目跟踪：开')
    expect(actions.find('[data-testid=pending-badge]').exists()).toBe(true)
    await toggle.trigger('click')
    await flush()
    expect(tauri.callsOf('set_tracking')).toEqual([{ projectCode: CODE, tracked: false }])
  })

  it('is one switch named 项目跟踪, sending once while it is on its way', async () => {
    const answer = tauri.deferred<OutboxEntry>()
    tauri.handle('set_tracking', () => answer.promise)
    const actions = mountActions(projectDetail())
    const toggle = actions.get('[data-testid=tracking-toggle]')
    expect(toggle.get('input[role=switch]').attributes('aria-label')).toBe('项目跟踪')
    await toggle.trigger('click')
    await flush()
    expect(tauri.callsOf('set_tracking')).toEqual([{ projectCode: CODE, tracked: true }])
    await toggle.trigger('click')
    await flush()
    expect(tauri.callsOf('set_tracking')).toEqual([{ projectCode: CODE, tracked: true }])
    expect(actions.get('[data-testid=tracking-toggle]').classes()).toContain('is-disabled')
    answer.resolve(accepted({ kind: 'tracking', project_code: CODE, tracked: true }))
    await flush()
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('shows a refusal next to the toggle', async () => {
    tauri.handle('set_tracking', () => Promise.reject('本机副本尚未初始化完成，请稍后再试。'))
    const actions = mountActions(projectDetail())
    await actions.get('[data-testid=tracking-toggle]').trigger('click')
    await flush()
    const error = actions.get('[data-testid=command-error]')
    expect(error.attributes('data-for')).toBe('tracking')
    expect(error.text()).toBe('⚠ 本机副本尚未初始化完成，请稍后再试。')
  })
})

describe('CounterActions, 跟进备注', () => {
  beforeEach(() => {
    tauri.reset()
    refresh = vi.fn(() => Promise.resolve())
    tauri.handle('add_follow_up_note', (args) =>
      accepted({ kind: 'follow_up_note', project_code: args?.projectCode as string, text: args?.text as string }),
    )
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  it('counts what is typed and sends the trimmed text with Ctrl+Enter', async () => {
    const actions = mountActions(projectDetail())
    const input = actions.get('[data-testid=note-input]')
    expect(input.attributes('maxlength')).toBe('500')
    // The kit's word count (show-word-limit) under the field.
    expect(actions.get('.el-input__count').text()).toBe('0 / 500')

    await input.setValue('  已电话催缴\n建设单位答复本周内缴清  ')
    expect(actions.get('.el-input__count').text()).toBe('21 / 500')

    // A plain Enter is a line break, not a submission.
    pressOn(input.element, 'Enter')
    await flush()
    expect(tauri.callsOf('add_follow_up_note')).toHaveLength(0)

    const event = pressOn(input.element, 'Enter', { ctrlKey: true })
    await flush()
    expect(event.defaultPrevented).toBe(true)
    expect(tauri.callsOf('add_follow_up_note')).toEqual([{ projectCode: CODE, text: '已电话催缴\n建设单位答复本周内缴清' }])
    expect(refresh).toHaveBeenCalledTimes(1)
    expect((input.element as HTMLTextAreaElement).value).toBe('')
    expect(actions.get('.el-input__count').text()).toBe('0 / 500')
  })

  it('cannot submit an empty note, nor one twice while it is sending', async () => {
    const answer = tauri.deferred<OutboxEntry>()
    tauri.handle('add_follow_up_note', () => answer.promise)
    const actions = mountActions(projectDetail())
    const submit = actions.get('[data-testid=note-submit]')
    expect(submit.attributes('disabled')).toBeDefined()
    await actions.get('[data-testid=note-input]').setValue('   \n  ')
    expect(submit.attributes('disabled')).toBeDefined()
    pressOn(actions.get('[data-testid=note-input]').element, 'Enter', { ctrlKey: true })
    await flush()
    expect(tauri.callsOf('add_follow_up_note')).toHaveLength(0)

    await actions.get('[data-testid=note-input]').setValue('已催缴')
    expect(submit.attributes('disabled')).toBeUndefined()
    await submit.trigger('click')
    await flush()
    expect(submit.attributes('disabled')).toBeDefined()
    pressOn(actions.get('[data-testid=note-input]').element, 'Enter', { ctrlKey: true })
    await flush()
    expect(tauri.callsOf('add_follow_up_note')).toHaveLength(1)
    answer.resolve(accepted({ kind: 'follow_up_note', project_code: CODE, text: '已催缴' }))
    await flush()
    expect(submit.attributes('disabled')).toBeDefined() // cleared, so empty again
  })

  it('names the field and the problem when a note cannot be sent, and sends nothing', async () => {
    const actions = mountActions(projectDetail())
    const input = actions.get('[data-testid=note-input]')
    await input.setValue('  \n ')
    pressOn(input.element, 'Enter', { ctrlKey: true })
    // The kit shows a field's error 100 ms after it is found, so that it does not flicker.
    await vi.waitFor(() => expect(actions.get('[data-testid=note-problem]').text()).toBe('⚠ 请填写跟进备注。'))
    expect(actions.get('[data-testid=note-problem]').attributes('role')).toBe('alert')

    // More than the limit can only arrive by script (the field stops typing at 500); it is
    // still refused before the backend, counted by code point as the backend counts.
    await input.setValue('𠀀'.repeat(501))
    pressOn(input.element, 'Enter', { ctrlKey: true })
    await vi.waitFor(() => expect(actions.get('[data-testid=note-problem]').text()).toBe('⚠ 跟进备注不能超过 500 个字符。'))
    expect(tauri.callsOf('add_follow_up_note')).toHaveLength(0)

    await input.setValue('已催缴')
    pressOn(input.element, 'Enter', { ctrlKey: true })
    await flush()
    expect(tauri.callsOf('add_follow_up_note')).toEqual([{ projectCode: CODE, text: '已催缴' }])
    await vi.waitFor(() => expect(actions.find('[data-testid=note-problem]').exists()).toBe(false))
  })

  it('keeps the text and shows the refusal when the note is refused', async () => {
    tauri.handle('add_follow_up_note', () => Promise.reject('跟进备注（text）含有不可见的控制字符，请重新输入。'))
    const actions = mountActions(projectDetail())
    await actions.get('[data-testid=note-input]').setValue('催缴')
    await actions.get('[data-testid=note-submit]').trigger('click')
    await flush()
    expect(actions.get('[data-testid=command-error]').text()).toBe('⚠ 跟进备注（text）含有不可见的控制字符，请重新输入。')
    expect(actions.get('[data-testid=command-error]').attributes('data-for')).toBe('note')
    expect((actions.get('[data-testid=note-input]').element as HTMLTextAreaElement).value).toBe('催缴')
  })

  it('lists notes newest first with author, time, line breaks and 待上传', () => {
    const actions = mountActions({
      ...projectDetail(),
      notes: [
        { note_id: 'n2', text: '第一行\n第二行', written_by: '窗口03-王芳', written_at: '2026-11-24T02:30:00Z', pending: true },
        { note_id: 'n1', text: '建设单位来电', written_by: '窗口01-李强', written_at: '2026-11-20T01:00:00Z', pending: false },
      ],
    })
    const rows = actions.findAll('[data-testid=note-row]')
    expect(rows.map((r) => r.attributes('data-note-id'))).toEqual(['n2', 'n1'])
    expect(rows.map((r) => r.attributes('data-pending'))).toEqual(['true', 'false'])
    expect(rows[0]?.text()).toContain('窗口03-王芳')
    expect(rows[0]?.text()).toContain('2026年11月24日 10:30:00')
    expect(rows[0]?.get('.note__text').element.textContent).toBe('第一行\n第二行')
    expect(rows[0]?.find('[data-testid=pending-badge]').exists()).toBe(true)
    expect(rows[1]?.find('[data-testid=pending-badge]').exists()).toBe(false)
  })

  it('keeps a half-typed note on Esc and lets Esc through from an empty field', async () => {
    const onWindow = vi.fn()
    window.addEventListener('keydown', onWindow)
    try {
      const actions = mountActions(projectDetail())
      const input = actions.get('[data-testid=note-input]')
      pressOn(input.element, 'Escape')
      expect(onWindow).toHaveBeenCalledTimes(1)
      await input.setValue('写了一半')
      pressOn(input.element, 'Escape')
      expect(onWindow).toHaveBeenCalledTimes(1)
      expect((input.element as HTMLTextAreaElement).value).toBe('写了一半')
    } finally {
      window.removeEventListener('keydown', onWindow)
    }
  })
})

describe('CounterActions in English', () => {
  beforeEach(() => {
    tauri.reset()
    refresh = vi.fn(() => Promise.resolve())
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  it('labels the section in English', () => {
    const actions = mountActions(
      {
        ...projectDetail(),
        tracked: true,
        notes: [{ note_id: 'n1', text: '催缴', written_by: '窗口03-王芳', written_at: '2026-11-24T02:30:00Z', pending: true }],
      },
      'en',
    )
    const text = actions.text()
    expect(text).toContain('Counter actions')
    expect(actions.get('[data-testid=final-check-button]').text()).toContain('Final check')
    expect(actions.get('[data-testid=final-check-hint]').text()).toContain('Not cleared')
    expect(actions.get('[data-testid=tracking-state]').text()).toBe('Tracking: on')
    expect(actions.get('[data-testid=note-submit]').text()).toBe('Add note')
    expect(actions.get('[data-testid=pending-badge]').text()).toContain('To upload')
    expect(text).not.toContain('窗口办理')
    expect(text).not.toContain('待上传')
  })

  it('names the note field in English when it is empty', async () => {
    const actions = mountActions(projectDetail(), 'en')
    pressOn(actions.get('[data-testid=note-input]').element, 'Enter', { ctrlKey: true })
    await vi.waitFor(() => expect(actions.get('[data-testid=note-problem]').text()).toBe('⚠ Enter the follow-up note.'))
  })
})
