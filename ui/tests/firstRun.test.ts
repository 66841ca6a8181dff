// 登记本终端 as the person setting a PC up meets it: the address offered by the installer,
// the CA certificate whose fingerprint shows at once, the code typed and Enter, and each
// refusal said under the field it concerns.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import FirstRunView from '../src/components/session/FirstRunView.vue'
import { createAppI18n } from '../src/i18n'
import type { CommandError } from '../src/api'
import type { Locale } from '../src/format'
import { flush, press } from './dom'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
const FINGERPRINT = 'AE:4B:32:80'

let wrapper: VueWrapper | null = null
let enrolAnswer: CommandError | { device_id: string; name: string } = { device_id: 'jn-window-03', name: '江宁区 3 号窗口' }

async function mountView(hubUrl: string, locale: Locale = 'zh-CN'): Promise<VueWrapper> {
  wrapper = mount(FirstRunView, { props: { hubUrl }, global: { plugins: [createAppI18n(locale)] }, attachTo: document.body })
  await flush()
  return wrapper
}

function field(view: VueWrapper, name: string) {
  return view.get(`[data-testid=first-run-${name}]`)
}

function isMarked(view: VueWrapper, name: string): boolean {
  return field(view, name).element.closest('.el-form-item')?.classList.contains('is-error') ?? false
}

async function typeCodeAndEnter(view: VueWrapper, code: string): Promise<void> {
  const input = field(view, 'code')
  await input.setValue(code)
  press(input.element, 'Enter')
  await flush()
}

describe('FirstRunView', () => {
  beforeEach(() => {
    tauri.reset()
    enrolAnswer = { device_id: 'jn-window-03', name: '江宁区 3 号窗口' }
    tauri.handle('inspect_hub_ca', (args) => {
      const pem = String(args?.pem ?? '')
      return pem.startsWith('-----BEGIN CERTIFICATE-----')
        ? FINGERPRINT
        : Promise.reject({ code: 'invalid_input', message: 'CA 证书文件无法读取：不是 PEM 格式的证书', field: 'hub_ca' })
    })
    tauri.handle('enrol_counter', () => ('code' in enrolAnswer ? Promise.reject(enrolAnswer) : enrolAnswer))
  })
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
    localStorage.clear()
  })

  it('offers the installer’s address, shows the CA’s fingerprint and enrols on Enter in the code', async () => {
    const view = await mountView('https://hub.example.gov.cn:8640')
    expect((field(view, 'hub-url').element as HTMLInputElement).value).toBe('https://hub.example.gov.cn:8640')
    expect(document.activeElement).toBe(field(view, 'code').element)

    await field(view, 'hub-ca').setValue(PEM)
    await flush()
    expect(field(view, 'fingerprint').text()).toContain(FINGERPRINT)

    await typeCodeAndEnter(view, ' ABCD-EFGH-JKMN ')
    expect(tauri.callsOf('enrol_counter')).toEqual([{ hubUrl: 'https://hub.example.gov.cn:8640', hubCa: PEM, code: 'ABCD-EFGH-JKMN' }])
    expect(field(view, 'enrolled').text()).toContain('江宁区 3 号窗口（jn-window-03）')
    expect(view.emitted('enrolled')).toHaveLength(1)
    expect(field(view, 'submit').attributes('disabled')).toBeDefined()
  })

  it('says what is wrong under the field it concerns, in the toggle’s language', async () => {
    const view = await mountView('')
    expect(document.activeElement).toBe(field(view, 'hub-url').element)
    await typeCodeAndEnter(view, 'ABCD')
    expect(field(view, 'error').text()).toContain('请输入数据中心地址')
    expect(tauri.callsOf('enrol_counter')).toHaveLength(0)

    await field(view, 'hub-url').setValue('http://10.0.0.5:8640')
    enrolAnswer = { code: 'invalid_input', message: '拒绝以明文 HTTP 连接数据中心 10.0.0.5', field: 'hub_url' }
    await typeCodeAndEnter(view, 'ABCD')
    expect(field(view, 'error').text()).toContain('明文 HTTP')
    expect(isMarked(view, 'hub-url')).toBe(true)

    await field(view, 'hub-ca').setValue('not a certificate')
    await flush()
    expect(isMarked(view, 'hub-ca')).toBe(true)
    expect(view.find('[data-testid=first-run-fingerprint]').exists()).toBe(false)

    wrapper?.unmount()
    const english = await mountView('https://hub.example.gov.cn:8640', 'en')
    enrolAnswer = { code: 'enrolment_code_used', message: '登记码已被使用', field: 'code' }
    await typeCodeAndEnter(english, 'ABCD-EFGH-JKMN')
    expect(field(english, 'error').text()).toContain('has been used already')
    expect(isMarked(english, 'code')).toBe(true)
    expect(document.activeElement).toBe(field(english, 'code').element)
  })

  it('needs no certificate for a hub on this PC', async () => {
    const view = await mountView('http://127.0.0.1:8640')
    expect(view.text()).toContain('连接本机的数据中心无需证书')
    await typeCodeAndEnter(view, 'ABCD-EFGH-JKMN')
    expect(tauri.callsOf('enrol_counter')).toEqual([{ hubUrl: 'http://127.0.0.1:8640', hubCa: null, code: 'ABCD-EFGH-JKMN' }])
  })
})
