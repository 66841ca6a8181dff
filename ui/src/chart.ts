// What the alert charts share: stacked bars per day on one scale, in tones that are
// hatched as well as coloured.

export type ChartTone = 'yellow' | 'orange' | 'red' | 'green'

/** One stacked part of every bar, bottom first. */
export interface ChartSeries {
  key: string
  /** Its word, in the legend, the bar's title and the data table. */
  label: string
  tone: ChartTone
}

export interface ChartDay {
  /** YYYY-MM-DD. */
  date: string
  /** By series key. */
  values: Record<string, number>
  /** Written above the bar: a total, a percentage. */
  caption: string
}

/**
 * The top of the value axis: the largest bar rounded up to 1, 2 or 5 × 10ⁿ, so the axis
 * label is a round number; at least 1, so an empty fortnight still has an axis.
 */
export function axisTop(largest: number): number {
  let step = 1
  while (step * 10 <= largest) step *= 10
  for (const multiple of [1, 2, 5]) {
    if (multiple * step >= largest) return multiple * step
  }
  return 10 * step
}

/** `2026-11-24` → `11/24`: the axis has room for month and day only. */
export function shortDate(isoDate: string): string {
  const match = /^\d{4}-(\d{2})-(\d{2})$/.exec(isoDate)
  return match ? `${Number(match[1])}/${Number(match[2])}` : isoDate
}
