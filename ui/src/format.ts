// Display formatting. Money and areas arrive as integers (fen, hundredths of m²) and are
// formatted by string manipulation so that no value ever passes through a binary fraction.

export type Locale = 'zh-CN' | 'en'

const TIME_ZONE = 'Asia/Shanghai'

function assertSafeInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${what} must be a safe integer, got ${value}`)
  }
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** Integer hundredths as `1,234.56` (the sign goes in front, handled by callers). */
function hundredths(value: number): string {
  const digits = String(Math.abs(value)).padStart(3, '0')
  return `${groupThousands(digits.slice(0, -2))}.${digits.slice(-2)}`
}

/** 123456789 → `¥1,234,567.89`; -5 → `-¥0.05`. */
export function formatFen(fen: number): string {
  assertSafeInteger(fen, 'fen')
  return `${fen < 0 ? '-' : ''}¥${hundredths(fen)}`
}

/** Hundredths of m²: 1234567 → `12,345.67 m²`. */
export function formatArea(hundredthsOfM2: number): string {
  assertSafeInteger(hundredthsOfM2, 'area')
  return `${hundredthsOfM2 < 0 ? '-' : ''}${hundredths(hundredthsOfM2)} m²`
}

export function formatCount(n: number): string {
  return groupThousands(String(n))
}

function civilDate(year: string, month: string, day: string, locale: Locale): string {
  return locale === 'zh-CN'
    ? `${year}年${Number(month)}月${Number(day)}日`
    : `${year}-${month}-${day}`
}

/** Shown where a value does not exist yet (not assessed, no date), never a made-up 0. */
export const NO_VALUE = '—'

/**
 * A calendar date from the backend (`YYYY-MM-DD`, already a civil date in China):
 * formatted as written, never through Date, which would shift it by the viewer's zone.
 * Null (no date yet, e.g. a fee awaiting assessment) shows as a dash.
 */
export function formatDate(isoDate: string | null, locale: Locale): string {
  if (isoDate === null) return NO_VALUE
  if (!/^\d{4}-\d{2}-\d{2}$/.test(isoDate)) return isoDate
  return civilDate(isoDate.slice(0, 4), isoDate.slice(5, 7), isoDate.slice(8, 10), locale)
}

// Parts, not a locale pattern: ICU versions differ between WebView2 and WebKitGTK in
// spacing and separators, and the counter should look the same on both.
const shanghaiParts = new Intl.DateTimeFormat('en-US', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
})

function partsInShanghai(instant: Date): Record<string, string> {
  const parts: Record<string, string> = {}
  for (const part of shanghaiParts.formatToParts(instant)) parts[part.type] = part.value
  return parts
}

/** RFC 3339 instant (UTC) → `2026年11月24日 09:30:05` in Asia/Shanghai. */
export function formatDateTime(rfc3339: string, locale: Locale): string {
  const instant = new Date(rfc3339)
  if (Number.isNaN(instant.getTime())) return rfc3339
  const p = partsInShanghai(instant)
  const date = civilDate(p.year ?? '', p.month ?? '', p.day ?? '', locale)
  return `${date} ${p.hour}:${p.minute}:${p.second}`
}

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * RFC 3339 instant → `09:30` in Asia/Shanghai when it falls on the same Shanghai day as
 * `now` (ms since the epoch), else with its date too: `2026年11月24日 09:30`. For compact
 * places such as the status bar; `formatDateTime` is the full form.
 */
export function formatShortDateTime(rfc3339: string, locale: Locale, now: number): string {
  const instant = new Date(rfc3339)
  if (Number.isNaN(instant.getTime())) return rfc3339
  const p = partsInShanghai(instant)
  const time = `${p.hour}:${p.minute}`
  const today = partsInShanghai(new Date(now))
  if (p.year === today.year && p.month === today.month && p.day === today.day) return time
  return `${civilDate(p.year ?? '', p.month ?? '', p.day ?? '', locale)} ${time}`
}

/** Milliseconds from `now` (ms since the epoch) to the next midnight in Asia/Shanghai: 1 ms to 24 h. */
export function msToShanghaiMidnight(now: number): number {
  const instant = new Date(now)
  const p = partsInShanghai(instant)
  const sinceMidnight =
    ((Number(p.hour) * 60 + Number(p.minute)) * 60 + Number(p.second)) * 1000 + instant.getUTCMilliseconds()
  return DAY_MS - sinceMidnight
}

const TIME_UNITS = {
  'zh-CN': { s: '秒', min: '分钟', h: '小时', d: '天' },
  en: { s: 's', min: 'min', h: 'h', d: 'd' },
} as const

type TimeUnit = keyof (typeof TIME_UNITS)['en']

function amount(n: number, unit: TimeUnit, locale: Locale): string {
  return `${n} ${TIME_UNITS[locale][unit]}`
}

/**
 * A stretch of time in words, to its two largest units and rounded down (a lag to act
 * on, not a figure to check): 45 → `45 秒`, 3720 → `1 小时 2 分钟`, 90000 → `1 天 1 小时`.
 */
export function formatDuration(seconds: number, locale: Locale): string {
  const s = Math.max(0, Math.floor(seconds))
  const pair = (big: number, bigUnit: TimeUnit, small: number, smallUnit: TimeUnit): string =>
    small > 0 ? `${amount(big, bigUnit, locale)} ${amount(small, smallUnit, locale)}` : amount(big, bigUnit, locale)
  if (s < 60) return amount(s, 's', locale)
  if (s < 3600) return amount(Math.floor(s / 60), 'min', locale)
  if (s < 86400) return pair(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'min')
  return pair(Math.floor(s / 86400), 'd', Math.floor((s % 86400) / 3600), 'h')
}

/**
 * How long ago an RFC 3339 instant was, as of `now` (ms since the epoch), in its largest
 * unit: `刚刚` under a minute, then `3 分钟前`, `2 小时前`, `5 天前`. An instant ahead of
 * `now` (the hub's clock against this PC's) counts as just now.
 */
export function formatAgo(rfc3339: string, now: number, locale: Locale): string {
  const at = Date.parse(rfc3339)
  if (Number.isNaN(at)) return rfc3339
  const s = Math.max(0, Math.floor((now - at) / 1000))
  if (s < 60) return locale === 'zh-CN' ? '刚刚' : 'just now'
  const text =
    s < 3600
      ? amount(Math.floor(s / 60), 'min', locale)
      : s < 86400
        ? amount(Math.floor(s / 3600), 'h', locale)
        : amount(Math.floor(s / 86400), 'd', locale)
  return locale === 'zh-CN' ? `${text}前` : `${text} ago`
}

const BYTE_UNITS = ['KB', 'MB', 'GB'] as const

/**
 * Bytes sent or received, for people (1 KB = 1024 B): 512 → `512 B`, 2048 → `2.0 KB`,
 * 5452595 → `5.2 MB`. One decimal: a size to get a feel for, not a figure to check.
 */
export function formatBytes(bytes: number): string {
  assertSafeInteger(bytes, 'bytes')
  if (bytes < 1024) return `${bytes} B`
  let unit = 0
  let value = bytes / 1024
  // Move up once the rounded figure would read 1024.0 (1048575 B is 1.0 MB, not 1024.0 KB).
  while (unit < BYTE_UNITS.length - 1 && Number(value.toFixed(1)) >= 1024) {
    value /= 1024
    unit += 1
  }
  return `${groupThousands(value.toFixed(1))} ${BYTE_UNITS[unit]}`
}

/**
 * Share of `part` in `whole` as a CSS percentage for progress bars: a picture, not a
 * figure anyone reads, so float precision is irrelevant here. Clamped to 0–100.
 */
export function sharePercent(part: number, whole: number): number {
  if (whole <= 0) return part > 0 ? 100 : 0
  return Math.min(100, Math.max(0, (part / whole) * 100))
}

/**
 * Paid share of the amount owed, as the number in 「已缴 {pct}%」: two decimals below 1%
 * (a first instalment on a large fee is often a fraction of a percent), whole percent
 * above. Always rounded down, so "100" means paid in full and a real payment is never
 * overstated; a payment too small for two decimals shows as "<0.01", never as "0.00".
 * Exact integer arithmetic: fen amounts can be large enough for float division to land
 * on the wrong side of a boundary.
 */
export function formatPaidShare(paidFen: number, owedFen: number): string {
  assertSafeInteger(paidFen, 'paid fen')
  assertSafeInteger(owedFen, 'owed fen')
  if (paidFen <= 0) return '0'
  if (paidFen >= owedFen) return '100'
  // Hundredths of a percent (basis points), rounded down; below 10000 here.
  const bp = Number((BigInt(paidFen) * 10000n) / BigInt(owedFen))
  if (bp >= 100) return String(Math.floor(bp / 100))
  if (bp === 0) return '<0.01'
  return `0.${String(bp).padStart(2, '0')}`
}

/** Work reported step by step, in whole percent rounded down: 100% only once every step is done. */
export function donePercent(progress: { done: number; total: number }): number {
  return Math.floor(sharePercent(progress.done, progress.total))
}
