// FeeCard: what a clerk reads off one fee, including the states whose amounts are all 0.
import { describe, expect, it } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import FeeCard from '../src/components/projects/FeeCard.vue'
import { createAppI18n } from '../src/i18n'
import type { Fee } from '../src/api'
import type { Locale } from '../src/format'
import { owedFee, projectDetail, unassessedFee } from './fixtures'

function mountFee(fee: Fee, locale: Locale = 'zh-CN'): VueWrapper {
  return mount(FeeCard, { props: { fee }, global: { plugins: [createAppI18n(locale)] } })
}

/** The paid fill's inline style, or null when there is no fill at all. */
function paidFill(card: VueWrapper): CSSStyleDeclaration | null {
  const fill = card.find('[data-testid=fee-bar] .bar__paid')
  return fill.exists() ? (fill.element as HTMLElement).style : null
}

describe('FeeCard, fee awaiting assessment', () => {
  it('shows 待核定 with the reason, dashes and no bar, never 全额减免', () => {
    const card = mountFee(unassessedFee('civil_defence'))
    const text = card.text()
    expect(text).toContain('○')
    expect(text).toContain('待核定')
    expect(text).toContain('尚未收到核定（人防征收联系单）')
    expect(text).not.toContain('全额减免')
    expect(text).not.toContain('¥0.00')
    expect(text).toContain('—')
    expect(card.find('.progress').exists()).toBe(false)
    expect(card.find('.bar').exists()).toBe(false)
    expect(card.classes()).toContain('fee--unassessed')
  })

  it('keeps the selectors and raw amounts the end-to-end suite reads', () => {
    const card = mountFee(unassessedFee('infra'))
    expect(card.attributes('data-testid')).toBe('fee-row')
    expect(card.attributes('data-kind')).toBe('infra')
    expect(card.get('[data-testid=fee-paid]').attributes('data-fen')).toBe('0')
    expect(card.get('[data-testid=fee-outstanding]').attributes('data-fen')).toBe('0')
    expect(card.text()).toContain('尚未核定')
  })

  it('says so in English too', () => {
    const text = mountFee(unassessedFee('civil_defence'), 'en').text()
    expect(text).toContain('Awaiting assessment')
    expect(text).not.toContain('Fully exempt')
  })
})

describe('FeeCard, fully exempt fee', () => {
  it('shows 全额减免 and the exemption basis', () => {
    const exempt = projectDetail().fees.find((f) => f.fee_kind === 'civil_defence')
    if (!exempt) throw new Error('fixture lost its exempt fee')
    const card = mountFee(exempt)
    expect(card.get('[data-testid=fee-progress-label]').text()).toBe('全额减免')
    expect(card.text()).toContain('2019年第76号公告')
    expect(card.text()).not.toContain('待核定')
  })

  it('does not call an assessed fee of zero without an exemption exempt', () => {
    const card = mountFee(owedFee(0, 0))
    expect(card.text()).not.toContain('全额减免')
    expect(card.get('[data-testid=fee-progress-label]').text()).toBe('无应缴金额')
  })
})

describe('FeeCard, paid-versus-owed bar', () => {
  it('has no fill at all when nothing is paid, even when overdue', () => {
    const card = mountFee(owedFee(25_019_473_00, 0, { overdue: true }))
    expect(card.find('[data-testid=fee-bar]').exists()).toBe(true)
    expect(paidFill(card)).toBeNull()
    expect(card.get('[data-testid=fee-progress-label]').text()).toBe('已缴 0%')
  })

  it('shows a tiny payment as a minimal sliver with a two-decimal label', () => {
    // The real case: ¥12,345 paid of ¥25,019,473, overdue.
    const card = mountFee(owedFee(25_019_473_00, 12_345_00, { overdue: true }))
    const style = paidFill(card)
    expect(style).not.toBeNull()
    expect(parseFloat(style?.width ?? '')).toBeGreaterThan(0)
    expect(parseFloat(style?.width ?? '')).toBeLessThan(0.1)
    expect(style?.minWidth).toBe('4px')
    expect(card.get('[data-testid=fee-progress-label]').text()).toBe('已缴 0.04%')
  })

  it('fills half for half paid', () => {
    const card = mountFee(owedFee(200_00, 100_00))
    expect(paidFill(card)?.width).toBe('50%')
    expect(card.get('[data-testid=fee-progress-label]').text()).toBe('已缴 50%')
  })

  it('leaves an owed sliver until paid in full', () => {
    const nearly = mountFee(owedFee(100_000_00, 100_000_00 - 1))
    expect(paidFill(nearly)?.maxWidth).toBe('calc(100% - 4px)')
    expect(nearly.get('[data-testid=fee-progress-label]').text()).toBe('已缴 99%')
  })

  it('fills the whole bar when paid in full', () => {
    const card = mountFee(owedFee(200_00, 200_00))
    expect(paidFill(card)?.width).toBe('100%')
    expect(paidFill(card)?.maxWidth).toBe('')
    expect(card.get('[data-testid=fee-progress-label]').text()).toBe('已缴 100%')
  })

  it('caps an overpaid fee at 100%', () => {
    const card = mountFee(owedFee(200_00, 300_00))
    expect(paidFill(card)?.width).toBe('100%')
    expect(card.get('[data-testid=fee-progress-label]').text()).toBe('已缴 100%')
  })
})
