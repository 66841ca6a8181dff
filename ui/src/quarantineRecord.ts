// A quarantined record as the operator sees and corrects it. It arrives as JSON text from a
// department; it is shown re-indented but otherwise exactly as received (a large integer
// id must not come out rounded), with mobile numbers masked as the masking rules require.
// The correction editor starts from that masked text, so a masked number left as it was
// is put back before the record is sent: a correction must never write 138****1234.
import type { JsonObject } from './api'

// 11 digits starting with 1 (optionally after 86), not inside a longer run of digits.
// No lookbehind: WebKitGTK builds older than Safari 16.4 reject it when the script loads.
const PHONE = /(^|\D)((?:86)?1\d{2})\d{4}(\d{4})(?!\d)/g
const MASKED_PHONE = /(^|\D)((?:86)?1\d{2}\*{4}\d{4})(?!\d)/g

/** Mobile numbers as `138****1234`; everything else unchanged. */
export function maskPhones(text: string): string {
  return text.replace(PHONE, '$1$2****$3')
}

/** Masked form → the numbers that mask to it (almost always one). */
export type MaskedPhones = ReadonlyMap<string, ReadonlySet<string>>

export interface ShownRecord {
  /** Re-indented when the record is JSON, else the raw text; masked either way. */
  text: string
  json: boolean
  masked: MaskedPhones
}

// A JSON text's tokens: strings whole (so digits inside them are not numbers), the
// punctuation, and the bare literals (numbers, true, false, null) exactly as written.
const TOKEN = /"(?:[^"\\]|\\.)*"|[{}[\],:]|[^\s{}[\],:"]+/g

/**
 * Valid JSON laid out like `JSON.stringify(value, null, 2)`, but from its tokens: numbers
 * keep their digits (JSON.parse would round 17-digit ids) and duplicate keys both show.
 */
function indentJson(text: string): string {
  const tokens = text.match(TOKEN) ?? []
  const pad = (depth: number): string => '\n' + '  '.repeat(depth)
  let out = ''
  let depth = 0
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? ''
    if (token === '{' || token === '[') {
      const next = tokens[i + 1]
      if (next === '}' || next === ']') {
        out += token + next
        i++
      } else {
        depth++
        out += token + pad(depth)
      }
    } else if (token === '}' || token === ']') {
      depth--
      out += pad(depth) + token
    } else if (token === ',') {
      out += ',' + pad(depth)
    } else if (token === ':') {
      out += ': '
    } else if (token.startsWith('"')) {
      // `\u5f20` escapes read as the characters they stand for.
      out += JSON.stringify(JSON.parse(token))
    } else {
      out += token
    }
  }
  return out
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

export function showRecord(record: string): ShownRecord {
  const json = isJson(record)
  const text = json ? indentJson(record) : record
  const masked = new Map<string, Set<string>>()
  for (const match of text.matchAll(PHONE)) {
    const full = match[0].slice((match[1] ?? '').length)
    const key = maskPhones(full)
    masked.set(key, (masked.get(key) ?? new Set()).add(full))
  }
  return { text: maskPhones(text), json, masked }
}

export type CorrectionProblem =
  | { kind: 'json'; detail: string }
  | { kind: 'notObject' }
  /** A masked number that cannot be put back: typed in, or two numbers mask alike. */
  | { kind: 'masked'; number: string }
  /** A number JavaScript cannot carry exactly to the backend. */
  | { kind: 'precision'; number: string }

function losesPrecision(literal: string): boolean {
  if (/^-?\d+$/.test(literal)) return !Number.isSafeInteger(Number(literal))
  const parts = /^-?(\d+)(?:\.(\d+))?/.exec(literal)
  if (!parts) return false
  // Up to 15 significant digits survive the trip through a double unchanged.
  const digits = `${parts[1] ?? ''}${parts[2] ?? ''}`.replace(/^0+/, '').replace(/0+$/, '')
  return digits.length > 15
}

/**
 * The operator's corrected text as the record to submit, or why it cannot be. Masked
 * numbers are put back first (same length, so a JSON error's position still points at
 * what the operator sees).
 */
export function readCorrection(edited: string, masked: MaskedPhones): { record: JsonObject } | { problem: CorrectionProblem } {
  const unrestorable: string[] = []
  const text = edited.replace(MASKED_PHONE, (match, before: string, shown: string) => {
    const originals = masked.get(shown)
    if (originals?.size === 1) return before + [...originals][0]
    unrestorable.push(shown)
    return match
  })
  // Before parsing: a masked bare number would otherwise read as a mere syntax error.
  const first = unrestorable[0]
  if (first !== undefined) return { problem: { kind: 'masked', number: first } }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return { problem: { kind: 'json', detail: e instanceof Error ? e.message : String(e) } }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: { kind: 'notObject' } }
  for (const token of text.match(TOKEN) ?? []) {
    if (/^-?\d/.test(token) && losesPrecision(token)) return { problem: { kind: 'precision', number: token } }
  }
  return { record: value as JsonObject }
}
