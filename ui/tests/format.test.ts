import { describe, expect, it } from 'vitest'
import { formatArea, formatCount, formatDate, formatDateTime, formatFen, sharePercent } from '../src/format'

describe('formatFen', () => {
  it.each([
    [0, '¥0.00'],
    [5, '¥0.05'],
    [100, '¥1.00'],
    [123456789, '¥1,234,567.89'],
    [100000000, '¥1,000,000.00'],
    [-5, '-¥0.05'],
    [-123456789, '-¥1,234,567.89'],
  ])('%i fen → %s', (fen, text) => {
    expect(formatFen(fen)).toBe(text)
  })

  it('is exact at the top of the safe integer range, where floats lose cents', () => {
    expect(formatFen(Number.MAX_SAFE_INTEGER)).toBe('¥90,071,992,547,409.91')
  })

  it('refuses fractional fen rather than showing a rounded amount', () => {
    expect(() => formatFen(1.5)).toThrow(RangeError)
  })
})

describe('formatArea', () => {
  it.each([
    [0, '0.00 m²'],
    [7, '0.07 m²'],
    [1234567, '12,345.67 m²'],
    [100, '1.00 m²'],
  ])('%i hundredths → %s', (area, text) => {
    expect(formatArea(area)).toBe(text)
  })
})

describe('formatCount', () => {
  it('groups thousands', () => {
    expect(formatCount(100000)).toBe('100,000')
    expect(formatCount(999)).toBe('999')
  })
})

describe('dates', () => {
  it('writes calendar dates as given, without a time-zone shift', () => {
    expect(formatDate('2026-11-24', 'zh-CN')).toBe('2026年11月24日')
    expect(formatDate('2026-01-05', 'zh-CN')).toBe('2026年1月5日')
    expect(formatDate('2026-01-05', 'en')).toBe('2026-01-05')
  })

  it('shows instants in Asia/Shanghai across the UTC midnight boundary', () => {
    // 16:00 UTC is midnight in Shanghai (UTC+8): the date flips there, not at UTC midnight.
    expect(formatDateTime('2026-11-23T15:59:59Z', 'zh-CN')).toBe('2026年11月23日 23:59:59')
    expect(formatDateTime('2026-11-23T16:00:00Z', 'zh-CN')).toBe('2026年11月24日 00:00:00')
    expect(formatDateTime('2026-11-24T01:30:05Z', 'zh-CN')).toBe('2026年11月24日 09:30:05')
    expect(formatDateTime('2026-12-31T16:30:00Z', 'en')).toBe('2027-01-01 00:30:00')
  })

  it('honours an offset in the RFC 3339 text', () => {
    expect(formatDateTime('2026-11-24T09:30:05+08:00', 'zh-CN')).toBe('2026年11月24日 09:30:05')
  })
})

describe('sharePercent', () => {
  it('clamps to 0–100 and treats an empty whole as empty or full', () => {
    expect(sharePercent(50, 200)).toBe(25)
    expect(sharePercent(300, 200)).toBe(100)
    expect(sharePercent(0, 0)).toBe(0)
    expect(sharePercent(5, 0)).toBe(100)
  })
})
