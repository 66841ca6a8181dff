// The only module that talks to the Tauri backend. Types mirror the Rust side's serde
// output (snake_case fields); money is integer fen, areas are integer hundredths of m².
import { invoke } from '@tauri-apps/api/core'
import { listen, type UnlistenFn } from '@tauri-apps/api/event'

export type Status =
  | 'awaiting_assessment'
  | 'due'
  | 'partly_paid'
  | 'awaiting_tax_clearance'
  | 'cleared'

export const STATUSES: readonly Status[] = [
  'awaiting_assessment',
  'due',
  'partly_paid',
  'awaiting_tax_clearance',
  'cleared',
]

export interface ProjectQuery {
  search?: string
  status?: Status
  overdue?: boolean
  district?: string
  offset: number
  limit: number
}

export type StatusCounts = Record<Status | 'overdue' | 'all', number>

export interface ProjectRow {
  project_code: string
  name: string
  builder: string
  uscc: string
  district_code: string
  district_name: string
  status: Status
  overdue: boolean
  assessed_fen: number
  paid_fen: number
  outstanding_fen: number
}

export interface ProjectPage {
  /** Rows matching the whole query. */
  total: number
  /** For search + district only, so each chip shows what choosing it would give. */
  counts: StatusCounts
  rows: ProjectRow[]
}

export type FeeKind = 'infra' | 'civil_defence'

export interface PlanningApproval {
  planning_permit_no: string
  approved_on: string
  residential_area: number
  non_residential_area: number
  civil_defence_area: number
}

/**
 * One fee the project owes. A fee can be owed before anyone has assessed it (the approval
 * has a civil-defence area but 人防 has not sent its notice yet): then `assessed_on` and
 * `due_on` are null, `basis` is empty and every amount is 0. Those zeros mean "unknown",
 * not "nothing to pay"; `isAssessed` is the test to use.
 */
export interface Fee {
  fee_kind: FeeKind
  assessed_fen: number
  exemption_fen: number
  exemption_basis: string | null
  net_fen: number
  paid_fen: number
  outstanding_fen: number
  assessed_on: string | null
  due_on: string | null
  basis: string
  overdue: boolean
}

export function isAssessed(fee: Fee): boolean {
  return fee.assessed_on !== null
}

export interface Payment {
  payment_id: string
  fee_kind: FeeKind
  amount_fen: number
  channel: string
  reference: string
  received_at: string
}

export interface TaxClearance {
  clearance_no: string
  tax_office: string
  issued_on: string
}

export type TimelineEntity =
  | 'project'
  | 'planning_approval'
  | 'fee_assessment'
  | 'payment'
  | 'tax_clearance'

export interface TimelineEntry {
  seq: number
  committed_at: string
  entity: TimelineEntity
  key: string
  op: 'upsert' | 'delete'
}

export interface ProjectDetail {
  project: {
    project_code: string
    name: string
    builder: string
    uscc: string
    district_code: string
    district_name: string
    contact_phone_masked?: string | null
  }
  status: Status
  overdue: boolean
  approvals: PlanningApproval[]
  fees: Fee[]
  payments: Payment[]
  tax_clearance: TaxClearance | null
  timeline: TimelineEntry[]
}

export type SyncState = 'online' | 'offline' | 'syncing' | 'bootstrapping'

export interface SyncStatus {
  state: SyncState
  hub_url: string
  cursor: number
  hub_head: number | null
  lag_changes: number | null
  lag_seconds: number | null
  last_success: string | null
  last_error: string | null
  bootstrap: { received: number; total: number } | null
}

export interface District {
  code: string
  name: string
}

export interface ReplicaChanged {
  cursor: number
  /** Empty means "too many to list": treat every project as changed. */
  project_codes: string[]
}

/** Backend commands reject with a ready-to-show Chinese string; anything else is a bug. */
export function errorMessage(error: unknown): string {
  if (typeof error === 'string') return error
  if (error instanceof Error) return error.message
  return String(error)
}

/** Outside the desktop shell there is no IPC bridge: invoke would throw on first use. */
export function inDesktopShell(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window
}

export function listProjects(query: ProjectQuery): Promise<ProjectPage> {
  return invoke<ProjectPage>('list_projects', { query })
}

export function getProject(projectCode: string): Promise<ProjectDetail> {
  return invoke<ProjectDetail>('get_project', { projectCode })
}

export function syncStatus(): Promise<SyncStatus> {
  return invoke<SyncStatus>('sync_status')
}

export function districts(): Promise<District[]> {
  return invoke<District[]>('districts')
}

export function onSyncStatus(handler: (status: SyncStatus) => void): Promise<UnlistenFn> {
  return listen<SyncStatus>('sync-status', (event) => handler(event.payload))
}

export function onReplicaChanged(handler: (change: ReplicaChanged) => void): Promise<UnlistenFn> {
  return listen<ReplicaChanged>('replica-changed', (event) => handler(event.payload))
}
