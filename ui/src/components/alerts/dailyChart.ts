// What the two alert charts share: a stacked bar per day, in the theme's alert colours.

/** A theme colour a series is drawn in: the alert levels', and green for what went well. */
export type ChartTone = 'yellow' | 'orange' | 'red' | 'green'

const TONE_VARIABLES: Record<ChartTone, string> = {
  yellow: '--alert-yellow-fill',
  orange: '--alert-orange-fill',
  red: '--alert-red-fill',
  green: '--tone-green',
}

/** One stacked part of every bar, bottom first. */
export interface ChartSeries {
  key: string
  /** Its word, in the legend, the tooltip and the data table. */
  label: string
  tone: ChartTone
}

export interface ChartDay {
  /** YYYY-MM-DD. */
  date: string
  /** By series key. */
  values: Record<string, number>
  /** What the day adds up to: a total, a percentage (tooltip and data table). */
  caption: string
}

/**
 * A CSS variable of the theme as it is now, so the charts are drawn in the badges' colours
 * and the stylesheet stays the one place they are set. Undefined without the stylesheet:
 * ECharts then uses its own palette.
 */
export function themeValue(variable: string): string | undefined {
  const value = getComputedStyle(document.documentElement).getPropertyValue(variable).trim()
  return value === '' ? undefined : value
}

export function toneColour(tone: ChartTone): string | undefined {
  return themeValue(TONE_VARIABLES[tone])
}

/** `2026-11-24` → `11/24`: the axis has room for month and day only. */
export function shortDate(isoDate: string): string {
  const match = /^\d{4}-(\d{2})-(\d{2})$/.exec(isoDate)
  return match ? `${Number(match[1])}/${Number(match[2])}` : isoDate
}
