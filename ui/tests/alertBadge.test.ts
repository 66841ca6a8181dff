// 预警 levels are never told by colour alone: each has its own icon and its word.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import AlertBadge from '../src/components/alerts/AlertBadge.vue'
import { createAppI18n } from '../src/i18n'
import type { AlertLevel } from '../src/api'
import type { Locale } from '../src/format'

function badge(level: AlertLevel, locale: Locale = 'zh-CN', compact = false) {
  return mount(AlertBadge, { props: { level, compact }, global: { plugins: [createAppI18n(locale)] } })
}

function icon(level: AlertLevel): string {
  return badge(level).get('[aria-hidden=true]').text()
}

describe('AlertBadge', () => {
  it.each([
    ['yellow', '⚠', '黄色预警', 'Yellow alert'],
    ['orange', '⊘', '橙色预警', 'Orange alert'],
    ['red', '☢', '红色预警', 'Red alert'],
  ] as const)('shows %s as its icon and its word', (level, symbol, zh, en) => {
    const zhBadge = badge(level)
    expect(zhBadge.attributes('data-level')).toBe(level)
    expect(zhBadge.text()).toBe(`${symbol}${zh}`)
    expect(zhBadge.get('[aria-hidden=true]').text()).toBe(symbol)
    expect(badge(level, 'en').text()).toContain(en)
    // The compact one in the list rows still says it in words.
    expect(badge(level, 'zh-CN', true).text()).toContain(zh)
    expect(badge(level, 'zh-CN', true).text()).toContain(symbol)
  })

  it('gives every level a different icon', () => {
    expect(new Set([icon('yellow'), icon('orange'), icon('red')]).size).toBe(3)
  })
})
