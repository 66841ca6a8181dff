import { describe, expect, it } from 'vitest'
import {
  formatAgo,
  formatArea,
  formatBytes,
  formatCount,
  formatDate,
  formatDateTime,
  formatDuration,
  formatFen,
  formatPaidShare,
  formatShortDateTime,
  msToShanghaiMidnight,
  sharePercent,
} from '../src/format'

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

  it('shows a missing date (fee not yet assessed) as a dash', () => {
    expect(formatDate(null, 'zh-CN')).toBe('—')
    expect(formatDate(null, 'en')).toBe('—')
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

describe('short date-times', () => {
  // 00:30 on 24 November in Shanghai, still the 23rd in UTC.
  const now = Date.parse('2026-11-23T16:30:00Z')

  it('gives only the time for an instant on the same Shanghai day', () => {
    expect(formatShortDateTime('2026-11-23T16:00:00Z', 'zh-CN', now)).toBe('00:00')
    expect(formatShortDateTime('2026-11-24T15:59:59Z', 'en', now)).toBe('23:59')
  })

  it('adds the date on any other day, even the same UTC day', () => {
    expect(formatShortDateTime('2026-11-23T15:59:59Z', 'zh-CN', now)).toBe('2026年11月23日 23:59')
    expect(formatShortDateTime('2026-11-23T15:59:59Z', 'en', now)).toBe('2026-11-23 23:59')
    expect(formatShortDateTime('2025-11-24T01:00:00Z', 'zh-CN', now)).toBe('2025年11月24日 09:00')
  })

  it('counts down to the next midnight in Shanghai, never to zero', () => {
    expect(msToShanghaiMidnight(now)).toBe(23.5 * 60 * 60 * 1000)
    expect(msToShanghaiMidnight(Date.parse('2026-11-24T15:59:59.999Z'))).toBe(1)
    expect(msToShanghaiMidnight(Date.parse('2026-11-24T16:00:00Z'))).toBe(24 * 60 * 60 * 1000)
  })
})

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KB'],
    [2048, '2.0 KB'],
    [1_048_575, '1.0 MB'],
    [5_452_595, '5.2 MB'],
    [3 * 1024 ** 3, '3.0 GB'],
    [1_234 * 1024 ** 3, '1,234.0 GB'],
  ])('%i bytes → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text)
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

describe('formatPaidShare', () => {
  it.each([
    [0, 100, '0'],
    [1, 2_501_947_300, '<0.01'],
    [1_234_500, 2_501_947_300, '0.04'],
    [5, 1000, '0.50'],
    [99, 10000, '0.99'],
    [1, 100, '1'],
    [1999, 2000, '99'],
    [99_999_99, 100_000_00, '99'],
    [100, 100, '100'],
    [300, 200, '100'],
  ])('%i of %i fen → %s', (paid, owed, text) => {
    expect(formatPaidShare(paid, owed)).toBe(text)
  })

  it('is exact where float division would round up to the next step', () => {
    // 57 / 100 in floats is 0.56999…; integer arithmetic gives exactly 57.
    expect(formatPaidShare(57, 100)).toBe('57')
    expect(formatPaidShare(Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER)).toBe('99')
  })
})

describe('formatDuration', () => {
  it.each([
    [0, '0 秒', '0 s'],
    [45, '45 秒', '45 s'],
    [59.9, '59 秒', '59 s'],
    [60, '1 分钟', '1 min'],
    [3599, '59 分钟', '59 min'],
    [3600, '1 小时', '1 h'],
    [3720, '1 小时 2 分钟', '1 h 2 min'],
    [86400, '1 天', '1 d'],
    [90000, '1 天 1 小时', '1 d 1 h'],
    [-5, '0 秒', '0 s'],
  ])('%s s → %s / %s', (seconds, zh, en) => {
    expect(formatDuration(seconds, 'zh-CN')).toBe(zh)
    expect(formatDuration(seconds, 'en')).toBe(en)
  })
})

describe('formatAgo', () => {
  const now = Date.parse('2026-11-24T02:00:00Z')

  it.each([
    ['2026-11-24T01:59:01Z', '刚刚', 'just now'],
    ['2026-11-24T01:57:00Z', '3 分钟前', '3 min ago'],
    ['2026-11-24T01:00:00Z', '1 小时前', '1 h ago'],
    ['2026-11-23T02:00:00Z', '1 天前', '1 d ago'],
    ['2026-11-19T01:00:00Z', '5 天前', '5 d ago'],
  ])('%s → %s / %s', (at, zh, en) => {
    expect(formatAgo(at, now, 'zh-CN')).toBe(zh)
    expect(formatAgo(at, now, 'en')).toBe(en)
  })

  it('counts a time ahead of this PC (the hub clock runs fast) as just now', () => {
    expect(formatAgo('2026-11-24T02:03:00Z', now, 'zh-CN')).toBe('刚刚')
  })

  it('reads fractional seconds as the backend writes them', () => {
    expect(formatAgo('2026-11-24T01:57:00.123456789Z', now, 'zh-CN')).toBe('2 分钟前')
  })

  it('shows text that is not a time as it came', () => {
    expect(formatAgo('not a time', now, 'zh-CN')).toBe('not a time')
  })
})
