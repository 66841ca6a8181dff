import { afterEach, describe, expect, it } from 'vitest'
import { errorMessage } from '../src/api'
import { createAppI18n } from '../src/i18n'

const notCleared = {
  code: 'not_cleared',
  message: '项目当前为「待缴费」，尚未完费，不能复核。请待费用全部到账并收到完税反馈单后再复核。',
}

describe('a failed command shown to the clerk', () => {
  afterEach(() => {
    createAppI18n('zh-CN')
  })

  it('keeps the backend’s Chinese where it says more than a code could', () => {
    createAppI18n('zh-CN')
    expect(errorMessage(notCleared)).toBe(notCleared.message)
  })

  it('speaks English in the English UI, quoting the backend only where it names the fault', () => {
    createAppI18n('en')
    expect(errorMessage(notCleared)).toBe(
      'The project is not cleared (all fees paid or exempt and the tax clearance received), so this cannot be done yet.',
    )
    const typed = { code: 'invalid_input', message: '项目代码不能为空', field: 'project_code' }
    expect(errorMessage(typed)).toBe('The value entered is not valid: 项目代码不能为空')
  })

  it('uses the screens’ own text for a code whose backend message is technical', () => {
    createAppI18n('zh-CN')
    const offline = { code: 'offline', message: '无法连接数据中心（http://10.0.0.5:8640）：error sending request' }
    expect(errorMessage(offline)).toBe('无法连接数据中心，请检查网络。本机数据仍可查看，办理记录会在联网后自动上传。')
  })

  it('falls back to the backend’s message for a code the screens do not know, and takes plain strings as they are', () => {
    createAppI18n('en')
    expect(errorMessage({ code: 'invalid_body', message: '请求体结构不正确：size' })).toBe('请求体结构不正确：size')
    expect(errorMessage('command yizhan not found')).toBe('command yizhan not found')
    expect(errorMessage(new Error('boom'))).toBe('boom')
  })
})
