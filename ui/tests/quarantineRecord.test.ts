// A quarantined record as shown (re-indented exactly, mobile numbers masked) and as a
// correction is read back (masked numbers restored, JSON checked before anything is sent).
import { describe, expect, it } from 'vitest'
import { maskPhones, readCorrection, showRecord } from '../src/quarantineRecord'

describe('maskPhones', () => {
  it.each([
    ['13812341234', '138****1234'],
    ['联系电话：13812341234。', '联系电话：138****1234。'],
    ['"phone":"19912345678"', '"phone":"199****5678"'],
    ['13812341234,15912345678', '138****1234,159****5678'],
    ['+8613812341234', '+86138****1234'],
  ])('%s → %s', (text, masked) => {
    expect(maskPhones(text)).toBe(masked)
  })

  it.each([
    ['1381234123', 'ten digits'],
    ['138123412345', 'twelve digits'],
    ['23812341234', 'not starting with 1'],
    ['2019-320105-47-01-123456', 'a project code'],
    ['建字第320105202600012号', 'a planning permit number'],
    ['91350100M000100Y43', 'a USCC'],
  ])('leaves %s alone (%s)', (text) => {
    expect(maskPhones(text)).toBe(text)
  })
})

describe('showRecord', () => {
  it('lays JSON out like JSON.stringify(…, 2) with the phone masked', () => {
    const shown = showRecord('{"project_code":"2026-320115-70-01-900003","areas":[1500.5,0],"contact":{"phone":"13812345678"},"tags":[]}')
    expect(shown.json).toBe(true)
    expect(shown.text).toBe(
      [
        '{',
        '  "project_code": "2026-320115-70-01-900003",',
        '  "areas": [',
        '    1500.5,',
        '    0',
        '  ],',
        '  "contact": {',
        '    "phone": "138****5678"',
        '  },',
        '  "tags": []',
        '}',
      ].join('\n'),
    )
  })

  it('keeps every digit of a number JSON.parse would round', () => {
    const shown = showRecord('{"id":12345678901234567890,"amount":1500.50}')
    expect(shown.text).toContain('"id": 12345678901234567890')
    expect(shown.text).toContain('"amount": 1500.50')
  })

  it('reads \\u escapes as characters and keeps braces inside strings as text', () => {
    expect(showRecord('{"name":"\\u5f20\\u4e09","note":"a{b}[c],d:e"}').text).toBe('{\n  "name": "张三",\n  "note": "a{b}[c],d:e"\n}')
  })

  it('shows text that is not JSON as it came, masked', () => {
    const shown = showRecord('第4行: 电话 13812341234, 日期 2026-02-30')
    expect(shown.json).toBe(false)
    expect(shown.text).toBe('第4行: 电话 138****1234, 日期 2026-02-30')
  })
})

describe('readCorrection', () => {
  const original = '{"approved_on":"2026-02-30","contact_phone":"13812345678","mobile":13912345678}'

  it('reads the corrected object with the masked numbers put back, strings and numbers alike', () => {
    const shown = showRecord(original)
    const edited = shown.text.replace('2026-02-30', '2026-02-28')
    expect(edited).toContain('"138****5678"')
    expect(readCorrection(edited, shown.masked)).toEqual({
      record: { approved_on: '2026-02-28', contact_phone: '13812345678', mobile: 13912345678 },
    })
  })

  it('keeps a number the operator typed in full', () => {
    const shown = showRecord(original)
    const edited = shown.text.replace('"138****5678"', '"13700001111"')
    expect(readCorrection(edited, shown.masked)).toMatchObject({ record: { contact_phone: '13700001111' } })
  })

  it('says why the JSON does not parse', () => {
    const shown = showRecord(original)
    const result = readCorrection(shown.text.replace('",\n', '"\n'), shown.masked)
    expect(result).toMatchObject({ problem: { kind: 'json' } })
    expect('problem' in result && result.problem.kind === 'json' && result.problem.detail).toBeTruthy()
  })

  it('wants one object, not an array or a bare value', () => {
    const shown = showRecord(original)
    expect(readCorrection('[1, 2]', shown.masked)).toEqual({ problem: { kind: 'notObject' } })
    expect(readCorrection('null', shown.masked)).toEqual({ problem: { kind: 'notObject' } })
    expect(readCorrection('"x"', shown.masked)).toEqual({ problem: { kind: 'notObject' } })
  })

  it('refuses a masked number it cannot put back rather than write the mask', () => {
    const shown = showRecord(original)
    expect(readCorrection('{"phone":"150****0000"}', shown.masked)).toEqual({
      problem: { kind: 'masked', number: '150****0000' },
    })
    // Two numbers that mask alike: which one was meant cannot be told.
    const twins = showRecord('{"a":"13812340000","b":"13899990000"}')
    expect(readCorrection(twins.text, twins.masked)).toEqual({ problem: { kind: 'masked', number: '138****0000' } })
  })

  it('refuses a number that would not reach the hub with the digits shown', () => {
    const shown = showRecord('{"id":12345678901234567890}')
    expect(readCorrection(shown.text, shown.masked)).toEqual({
      problem: { kind: 'precision', number: '12345678901234567890' },
    })
    expect(readCorrection('{"area":1234567.8901234567}', shown.masked)).toMatchObject({ problem: { kind: 'precision' } })
    expect(readCorrection('{"id":9007199254740991,"area":1500.50,"x":-0.000123}', shown.masked)).toEqual({
      record: { id: 9007199254740991, area: 1500.5, x: -0.000123 },
    })
  })
})
