// The document commands as the Rust side declares them: camelCase argument names that
// Tauri maps onto its snake_case parameters, and the print run's progress channel.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import {
  documentNumber,
  documentPreview,
  issueDocument,
  linkPermit,
  listPrinters,
  printDocuments,
  projectStage,
  reprintDocument,
  signingStatus,
  verifyDocument,
  voidDocument,
  type PrintProgress,
} from '../src/api'
import { CODE, documentLine, issuedEntry } from './fixtures'
import * as tauri from './fakeTauri'

vi.mock('@tauri-apps/api/core', async () => {
  const fake = await import('./fakeTauri')
  return { invoke: fake.invoke, Channel: fake.Channel }
})
vi.mock('@tauri-apps/api/event', async () => ({ listen: (await import('./fakeTauri')).listen }))

const QR = 'http://hub.example.invalid/verify?k=voucher&n=PZ0000001234&p=2019-320105-47-01-123456'

describe('document commands', () => {
  beforeEach(() => {
    tauri.reset()
    for (const cmd of ['issue_document', 'void_document', 'reprint_document', 'link_permit']) {
      tauri.handle(cmd, () => issuedEntry(CODE, 'voucher', 1234))
    }
    tauri.handle('document_preview', () => 'data:image/png;base64,iVBORw0KGgo=')
    tauri.handle('list_printers', () => [{ name: 'HP LaserJet', is_default: true }])
    tauri.handle('print_documents', () => [])
    tauri.handle('verify_document', () => ({ verdict: 'unknown' }))
    tauri.handle('signing_status', () => ({ ready: true, problem: null, serials_left: [] }))
  })

  it('send the arguments under the names the backend reads', async () => {
    await issueDocument(CODE, 'invoice')
    await voidDocument(CODE, 'PZ0000001234', '交款人名称有误')
    await reprintDocument(CODE, 'PZ0000001234')
    await linkPermit(CODE, '320105202611240101')
    expect(await documentPreview('PJ0000000042', 1200)).toBe('data:image/png;base64,iVBORw0KGgo=')
    await listPrinters()
    await printDocuments(['PZ0000001234', 'PJ0000000042'], 'HP LaserJet', () => {})
    await verifyDocument(QR)
    await signingStatus()

    expect(tauri.calls.map((c) => [c.cmd, c.args])).toEqual([
      ['issue_document', { projectCode: CODE, kind: 'invoice' }],
      ['void_document', { projectCode: CODE, number: 'PZ0000001234', reason: '交款人名称有误' }],
      ['reprint_document', { projectCode: CODE, number: 'PZ0000001234' }],
      ['link_permit', { projectCode: CODE, constructionPermitNo: '320105202611240101' }],
      ['document_preview', { number: 'PJ0000000042', width: 1200 }],
      ['list_printers', undefined],
      ['print_documents', { numbers: ['PZ0000001234', 'PJ0000000042'], printer: 'HP LaserJet', progress: expect.any(tauri.Channel) }],
      ['verify_document', { text: QR }],
      ['signing_status', undefined],
    ])
  })

  it('hands each progress message of the print run to the caller', async () => {
    const first = { done: 1, total: 2, number: 'PZ0000001234', error: null }
    const second = { done: 2, total: 2, number: 'PJ0000000042', error: '缺纸' }
    tauri.handle('print_documents', (args) => {
      const { progress } = args as { progress: tauri.Channel<PrintProgress> }
      progress.send(first)
      progress.send(second)
      return [first, second]
    })
    const seen: PrintProgress[] = []
    expect(await printDocuments(['PZ0000001234', 'PJ0000000042'], 'HP LaserJet', (p) => seen.push(p))).toEqual([first, second])
    expect(seen).toEqual([first, second])
  })
})

describe('documentNumber', () => {
  it('writes the kind’s letters and ten digits, as the document is printed', () => {
    expect(documentNumber({ kind: 'voucher', serial: 1234 })).toBe('PZ0000001234')
    expect(documentNumber({ kind: 'invoice', serial: 42 })).toBe('PJ0000000042')
    expect(documentNumber({ kind: 'invoice', serial: 9_876_543_210 })).toBe('PJ9876543210')
  })
})

describe('projectStage', () => {
  it('is linked with a permit, issued with any document not voided, else nothing', () => {
    expect(projectStage({ documents: [], permit: null })).toBeNull()
    expect(projectStage({ documents: [documentLine('PZ1', { state: 'voided' })], permit: null })).toBeNull()
    expect(projectStage({ documents: [documentLine('PZ1', { state: 'conflict' })], permit: null })).toBe('issued')
    expect(
      projectStage({
        documents: [documentLine()],
        permit: { construction_permit_no: '320105202611240101', linked_by: '窗口03-王芳', linked_at: '2026-11-24T03:00:00Z', pending: false },
      }),
    ).toBe('linked')
  })
})
