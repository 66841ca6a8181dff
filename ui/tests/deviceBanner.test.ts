// The device banner: a clock the data centre finds off, in minutes and seconds, ahead or
// behind; a retired PC uploading what it holds; a revoked PC being cleared; nothing for a
// PC in service with a good clock.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import DeviceBanner from '../src/components/shared/DeviceBanner.vue'
import { createAppI18n } from '../src/i18n'
import type { DeviceStanding } from '../src/bindings'
import type { Locale } from '../src/format'

function banner(standing: DeviceStanding, locale: Locale = 'zh-CN') {
  return mount(DeviceBanner, { props: { standing }, global: { plugins: [createAppI18n(locale)] } })
}

describe('DeviceBanner', () => {
  it('says how far the clock is off and which way', () => {
    const ahead = banner({ kind: 'enrolled', clock_skew_seconds: 425 })
    expect(ahead.get('[data-testid=clock-skew-banner]').text()).toContain('快约 7 分钟（425 秒）')
    const behind = banner({ kind: 'enrolled', clock_skew_seconds: -90 }, 'en')
    expect(behind.get('[data-testid=clock-skew-banner]').text()).toContain('about 2 min (90 s) behind')
  })

  it('shows nothing for a PC in service whose clock is within the margin', () => {
    expect(banner({ kind: 'enrolled', clock_skew_seconds: null }).find('[role]').exists()).toBe(false)
  })

  it('tells a retired PC it uploads first and a revoked one it is being cleared', () => {
    expect(banner({ kind: 'retired' }).get('[data-testid=device-retired-banner]').text()).toContain('上传完毕后将清除本机数据')
    expect(banner({ kind: 'wipe' }).get('[data-testid=device-wipe-banner]').text()).toContain('正在清除本机数据')
  })
})
