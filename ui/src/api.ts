// The only module that talks to the Tauri backend. Types mirror the Rust side's serde
// output (snake_case fields); money is integer fen, areas are integer hundredths of m².
import { invoke } from '@tauri-apps/api/core'
import { listen, type UnlistenFn } from '@tauri-apps/api/event'
import { commandErrorText } from './i18n'

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
  /** 项目跟踪 only. */
  tracked?: boolean
  district?: string
  /** The 可开具 queue: cleared, with no valid voucher or invoice yet. */
  issuable?: boolean
  offset: number
  limit: number
}

export type StatusCounts = Record<Status | 'overdue' | 'tracked' | 'all', number>

/** Why a project is under 项目跟踪: a clerk put it there, or it went overdue (automatic). */
export type TrackedReason = 'clerk' | 'overdue'

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
  tracked: boolean
  tracked_reason: TrackedReason | null
  /** The most serious active alert on the project. */
  alert_level: AlertLevel | null
  /** How far a cleared project has got with its documents; null before the first. */
  stage: ProjectStage | null
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
  | 'final_check'
  | 'follow_up_note'
  | 'tracking'
  | 'alert'
  | 'document'
  | 'permit_link'

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
  /** 复核, once done (or issued at this counter and on its way: `pending`). */
  final_check: FinalCheck | null
  /** 跟进备注, newest first. */
  notes: FollowUpNote[]
  /** 项目跟踪. */
  tracked: boolean
  tracked_reason: TrackedReason | null
  /** The tracking flag shown was set at this counter and is not yet confirmed (待上传). */
  tracking_pending: boolean
  /** The project's alerts: active first, then resolved, newest first. */
  alerts: AlertView[]
  /** Vouchers and invoices, newest first. */
  documents: DocumentLine[]
  /** 关联施工许可, once done. */
  permit: PermitLine | null
  timeline: TimelineEntry[]
}

/**
 * Rows the window writes itself through clerk commands. `pending: true` is 待上传: issued
 * at this counter, not yet confirmed by the data centre.
 */
export interface FinalCheck {
  checked_by: string
  checked_at: string
  remark: string
  pending: boolean
}

export interface FollowUpNote {
  note_id: string
  text: string
  written_by: string
  written_at: string
  pending: boolean
}

/** Longest follow-up note, in characters (the backend refuses longer ones). */
export const MAX_NOTE_CHARS = 500
/** Longest 复核 remark, in characters. */
export const MAX_REMARK_CHARS = 200

/** What a clerk did at the window: the command's content. */
export type ClerkAction =
  | { kind: 'final_check'; project_code: string; remark: string }
  | { kind: 'follow_up_note'; project_code: string; text: string }
  | { kind: 'tracking'; project_code: string; tracked: boolean }
  | { kind: 'handle_alert'; alert_key: string; project_code: string; handling: AlertHandling }
  | { kind: 'issue_document'; project_code: string; document: DocumentContent; signature: string; pdf_sm3: string }
  | { kind: 'void_document'; project_code: string; number: string; reason: string }
  | { kind: 'reprint_document'; project_code: string; number: string; pdf_sm3: string }
  | { kind: 'link_permit'; project_code: string; construction_permit_no: string }

/** pending 待上传 · rejected 待处理冲突 · discarded: let go (or redone under a new id). */
export type OutboxState = 'pending' | 'accepted' | 'rejected' | 'discarded'

/** A clerk command in this counter's outbox. */
export interface OutboxEntry {
  command_id: string
  project_code: string
  action: ClerkAction
  clerk: string
  /** RFC 3339 UTC, by the counter's clock. */
  issued_at: string
  state: OutboxState
  attempts: number
  last_error: string | null
  reject_code: string | null
  /** Why the data centre refused it, in Chinese, ready to show. */
  reject_reason: string | null
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
  /** Clerk commands not yet delivered (待上传) and those the hub refused (待处理冲突). */
  outbox: { pending: number; conflicts: number }
  integrity: IntegrityStatus
  /** The last reconciliation with the data centre; null before the first. */
  reconcile: ReconcileReport | null
}

/**
 * The red data-integrity alert. `alert`: what the data centre sent failed its integrity
 * check (SM3 hash chain / SM2 signature), applying stopped and the replica is being
 * repaired from a fresh snapshot; the data on screen is the last that passed the check.
 * Kept on record after the repair (`repaired_at`, alert back to false).
 */
export interface IntegrityStatus {
  alert: boolean
  /** What failed, in Chinese, ready to show. */
  reason: string | null
  /** RFC 3339 UTC. */
  detected_at: string | null
  /** RFC 3339 UTC, set when the repair finished. */
  repaired_at: string | null
}

/**
 * What the last reconciliation did: the counter compares its replica with the data centre
 * by key-range checksums and rewrites the rows that differ. It runs after every reconnect
 * and every 6 hours.
 */
export interface ReconcileReport {
  /** RFC 3339 UTC: when it finished. */
  at: string
  /** Rows compared by checksum: the whole replica. */
  rows_compared: number
  /** Rows written or removed to match the data centre. */
  rows_repaired: number
  ranges_compared: number
  bytes_sent: number
  bytes_received: number
}

// 预警 (DOMAIN.md "Alerts"). An alert is a replicated row like a payment: raised by the
// data centre's rules (or, offline, by this counter's own evaluation of the same rules) and
// answered through clerk commands.

/** 黄 · 橙 · 红. */
export type AlertLevel = 'yellow' | 'orange' | 'red'

/** Most serious first: the order counts, filters and legends read in. */
export const ALERT_LEVELS: readonly AlertLevel[] = ['red', 'orange', 'yellow']

/** open: nobody has answered, the response deadline runs · acknowledged: someone took it, it no longer escalates. */
export type AlertState = 'open' | 'acknowledged' | 'resolved'

/** The response deadline: not yet due · answered in time · passed unanswered or answered late. */
export type Sla = 'pending' | 'met' | 'missed'

export const SLAS: readonly Sla[] = ['pending', 'met', 'missed']

/** Who an alert is for. */
export type OwnerRole = 'clerk' | 'supervisor' | 'technician'

export const OWNER_ROLES: readonly OwnerRole[] = ['clerk', 'supervisor', 'technician']

/** Who did something to an alert, and when (RFC 3339 UTC). */
export interface AlertHandled {
  by: string
  at: string
}

export interface AlertView {
  /** `${rule_id}:${subject}`. */
  key: string
  rule_id: string
  /** project/…, connector/…, quarantine/…, counter/… */
  subject: string
  /** '' for a system alert. */
  project_code: string
  /** e.g. 收费窗口, 人防办, 数据中心. */
  department: string
  owner_role: OwnerRole
  raised_level: AlertLevel
  /** After escalation. */
  level: AlertLevel
  /** From the rule, in Chinese, ready to show. */
  message: string
  /** What to do, from the rule; '' when it says nothing. */
  runbook: string
  /** A validation alert about this quarantined record: 重新校验 applies. */
  quarantine_id: number | null
  /** RFC 3339 UTC. */
  raised_at: string
  /** RFC 3339 UTC: the response deadline. */
  respond_by: string
  state: AlertState
  /** The first answer: it stands. */
  responded: AlertHandled | null
  assignee: string | null
  notes: (AlertHandled & { text: string })[]
  escalations: { at: string; from: AlertLevel; to: AlertLevel; cause: 'unanswered' | 'worsened' }[]
  /** `by` null: resolved by the rules, the condition having cleared. */
  resolution: { by: string | null; at: string; reason: string; condition_cleared: boolean } | null
  sla: Sla
  /** counter: raised by this counter's own evaluation while offline, not yet confirmed by the hub. */
  origin: 'hub' | 'counter'
  /** An answer from this counter is on its way to the hub (待上传). */
  pending: boolean
}

export type AlertStateFilter = 'active' | 'resolved' | 'all'

export interface AlertQuery {
  /** Any of these; none: every level. */
  levels?: AlertLevel[]
  department?: string
  owner_role?: OwnerRole
  /** Default active (open or acknowledged). */
  state?: AlertStateFilter
  sla?: Sla
  /** Raised at least this long ago. */
  min_age_minutes?: number
  project_code?: string
  /** Only alerts about no project: what the emergency banner shows. */
  system_only?: boolean
  offset: number
  /** At most MAX_ALERT_PAGE. */
  limit: number
}

/** The most alerts one list_alerts call returns. */
export const MAX_ALERT_PAGE = 500

export interface AlertPage {
  /** Alerts matching the query. */
  total: number
  /** Active alerts per level over the whole queue, ignoring the filters. */
  counts: Record<AlertLevel, number>
  /** Every department that has an alert, for the department filter. */
  departments: string[]
  /** Most serious first, then oldest first. */
  alerts: AlertView[]
}

export type AlertHandling =
  | { step: 'acknowledge' }
  | { step: 'assign'; assignee: string }
  | { step: 'note'; text: string }
  | { step: 'resolve'; reason: string }

export type AlertStep = AlertHandling['step']

/** Longest 指派 name, in characters (the backend counts after trimming). */
export const MAX_ASSIGNEE_CHARS = 64
/** Longest 解除 reason, in characters. */
export const MAX_RESOLVE_REASON_CHARS = 200

export interface AlertTrendDay {
  /** YYYY-MM-DD, Asia/Shanghai. */
  date: string
  /** Open at the end of that day. */
  open: Record<AlertLevel, number>
  raised: number
  /** Response-time compliance for that day, as the backend counts it: answered in time, and missed. */
  answered_in_time: number
  missed: number
}

export interface AlertTrend {
  /** Oldest first. */
  days: AlertTrendDay[]
}

// 票据 (DOMAIN.md "Documents"): the vouchers and invoices the window issues for a cleared
// project. Issuing, voiding, reprinting and linking the construction permit are clerk
// commands like the others (待上传 until the data centre confirms them); previews, printing
// and verification work on what this counter holds, without the network.

/** voucher 缴费凭证 · invoice 非税收入票据. */
export type DocumentKind = 'voucher' | 'invoice'

export const DOCUMENT_KINDS: readonly DocumentKind[] = ['voucher', 'invoice']

/** conflict: issued here, but the data centre did not find the project cleared; a supervisor sorts it out. */
export type DocumentState = 'issued' | 'conflict' | 'voided'

/** 已开具 · 已关联施工许可. */
export type ProjectStage = 'issued' | 'linked'

export interface DocumentLine {
  /** `PZ0000001234` (voucher) / `PJ0000000042` (invoice). */
  number: string
  kind: DocumentKind
  state: DocumentState
  total_fen: number
  /** RFC 3339 UTC. */
  issued_at: string
  issuer: string
  checker: string
  /** Why the data centre found the project not cleared, in Chinese. */
  conflict: string | null
  void_reason: string | null
  reprints: number
  /** Issued, voided or reprinted here and on its way to the data centre (待上传). */
  pending: boolean
}

export interface PermitLine {
  construction_permit_no: string
  linked_by: string
  /** RFC 3339 UTC. */
  linked_at: string
  pending: boolean
}

/** The part of a signed document that the screens read (the command carries all of it). */
export interface DocumentContent {
  number: { kind: DocumentKind; serial: number }
  project_code: string
  project_name: string
  payer: string
  total_fen: number
  issued_at: string
  issuer: string
  checker: string
  device_id: string
}

/** Serials are printed as ten digits after the kind's letters, as the backend writes the number. */
const SERIAL_DIGITS = 10
const NUMBER_PREFIX: Record<DocumentKind, string> = { voucher: 'PZ', invoice: 'PJ' }

/** `{ kind: 'voucher', serial: 1234 }` → `PZ0000001234`, the number as printed and listed. */
export function documentNumber(number: DocumentContent['number']): string {
  return `${NUMBER_PREFIX[number.kind]}${String(number.serial).padStart(SERIAL_DIGITS, '0')}`
}

/** Where the project stands with its documents, as the backend works out `ProjectRow.stage`. */
export function projectStage(detail: Pick<ProjectDetail, 'documents' | 'permit'>): ProjectStage | null {
  if (detail.permit) return 'linked'
  return detail.documents.some((d) => d.state !== 'voided') ? 'issued' : null
}

/** Longest 作废 reason, in characters (the backend counts after trimming). */
export const MAX_VOID_REASON_CHARS = 200
/** Longest construction permit number, in characters. */
export const MAX_PERMIT_CHARS = 40

export interface Printer {
  name: string
  is_default: boolean
}

/** One document of a print run: `done` of `total` so far; `error` says why this one did not print (the run goes on). */
export interface PrintProgress {
  done: number
  total: number
  number: string
  error: string | null
}

export type Verdict =
  | { verdict: 'valid' }
  | { verdict: 'voided'; reason: string }
  | { verdict: 'conflict'; reason: string }
  | { verdict: 'unrecorded' }
  | { verdict: 'unknown' }
  | { verdict: 'forged'; reason: string }

export type VerdictName = Verdict['verdict']

/** What a scanned QR says, judged against the keys and documents this counter holds. */
export type OfflineVerification = Verdict & {
  /** The verdict in Chinese, as the backend names it. */
  verdict_zh: string
  number: string
  project_code: string
  total_fen: number
  /** RFC 3339 UTC. */
  issued_at: string
  device_id: string
  /** Null when this counter has no record of the document. */
  payer: string | null
}

export interface SerialsLeft {
  kind: DocumentKind
  left: number
}

export interface SigningStatus {
  /** Documents can be issued here. */
  ready: boolean
  /** Why not, in Chinese. */
  problem: string | null
  serials_left: SerialsLeft[]
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

/**
 * How a command fails (src-tauri/src/error.rs): a stable `code`, the backend's Chinese
 * `message`, and the argument at fault. Tauri itself rejects with a plain string (a
 * command it cannot call), so both reach the screens.
 */
export interface CommandError {
  code: string
  message: string
  field?: string
}

export function isCommandError(error: unknown): error is CommandError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as CommandError).code === 'string' &&
    typeof (error as CommandError).message === 'string'
  )
}

/** The text to show for a failed command, in the screens' language. */
export function errorMessage(error: unknown): string {
  if (isCommandError(error)) return commandErrorText(error.code, error.message)
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

/** 复核 of a project whose status is `cleared`. */
export function recordFinalCheck(projectCode: string, remark: string): Promise<OutboxEntry> {
  return invoke<OutboxEntry>('record_final_check', { projectCode, remark })
}

/** 跟进备注, 1–500 characters. */
export function addFollowUpNote(projectCode: string, text: string): Promise<OutboxEntry> {
  return invoke<OutboxEntry>('add_follow_up_note', { projectCode, text })
}

/** 项目跟踪 on or off. */
export function setTracking(projectCode: string, tracked: boolean): Promise<OutboxEntry> {
  return invoke<OutboxEntry>('set_tracking', { projectCode, tracked })
}

/** 待处理冲突: commands the hub refused, newest first. */
export function listConflicts(): Promise<OutboxEntry[]> {
  return invoke<OutboxEntry[]>('list_conflicts')
}

/** 放弃: lets a refused command go. */
export async function discardConflict(commandId: string): Promise<void> {
  await invoke<null>('discard_conflict', { commandId })
}

/** 重做: issues a refused command again under a new id; may itself be refused. */
export function redoConflict(commandId: string): Promise<OutboxEntry> {
  return invoke<OutboxEntry>('redo_conflict', { commandId })
}

/** One page of the alert queue; `counts` and `departments` cover the whole queue, whatever the filters. */
export function listAlerts(query: AlertQuery): Promise<AlertPage> {
  return invoke<AlertPage>('list_alerts', { query })
}

/** The last `days` days, oldest first. */
export function alertTrend(days: number): Promise<AlertTrend> {
  return invoke<AlertTrend>('alert_trend', { days })
}

/**
 * An answer to an alert, queued for the data centre like the other clerk commands: it
 * shows at once with `pending` (待上传). `projectCode` is the alert's, '' for a system alert.
 */
export function handleAlert(alertKey: string, projectCode: string, handling: AlertHandling): Promise<OutboxEntry> {
  return invoke<OutboxEntry>('handle_alert', { alertKey, projectCode, handling })
}

/** 开具: the next number of `kind`, signed, laid out and kept here with its PDF, queued for the data centre. */
export function issueDocument(projectCode: string, kind: DocumentKind): Promise<OutboxEntry> {
  return invoke<OutboxEntry>('issue_document', { projectCode, kind })
}

/** 作废 with the reason (1–200 characters). */
export function voidDocument(projectCode: string, number: string, reason: string): Promise<OutboxEntry> {
  return invoke<OutboxEntry>('void_document', { projectCode, number, reason })
}

/** 补打: makes a copy marked as a reprint, with the original QR; print it afterwards. */
export function reprintDocument(projectCode: string, number: string): Promise<OutboxEntry> {
  return invoke<OutboxEntry>('reprint_document', { projectCode, number })
}

/** 关联施工许可. */
export function linkPermit(projectCode: string, constructionPermitNo: string): Promise<OutboxEntry> {
  return invoke<OutboxEntry>('link_permit', { projectCode, constructionPermitNo })
}

/** Page 1 of the newest PDF of `number` kept here, as a `data:image/png;base64,…` URL `width` pixels wide (200–3000). */
export function documentPreview(number: string, width: number): Promise<string> {
  return invoke<string>('document_preview', { number, width })
}

export function listPrinters(): Promise<Printer[]> {
  return invoke<Printer[]>('list_printers')
}

/** Prints each document in order; `print-progress` follows every one, and the same reports come back at the end. */
export function printDocuments(numbers: string[], printer: string): Promise<PrintProgress[]> {
  return invoke<PrintProgress[]>('print_documents', { numbers, printer })
}

/** `text`: a scanned or pasted QR (the verification URL). Rejects with why it is not one of ours. */
export function verifyDocument(text: string): Promise<OfflineVerification> {
  return invoke<OfflineVerification>('verify_document', { text })
}

export function signingStatus(): Promise<SigningStatus> {
  return invoke<SigningStatus>('signing_status')
}

export function onSyncStatus(handler: (status: SyncStatus) => void): Promise<UnlistenFn> {
  return listen<SyncStatus>('sync-status', (event) => handler(event.payload))
}

export function onReplicaChanged(handler: (change: ReplicaChanged) => void): Promise<UnlistenFn> {
  return listen<ReplicaChanged>('replica-changed', (event) => handler(event.payload))
}

export function onPrintProgress(handler: (progress: PrintProgress) => void): Promise<UnlistenFn> {
  return listen<PrintProgress>('print-progress', (event) => handler(event.payload))
}

// 数据接入 (the admin area): the data centre's connectors, its quarantine and the upload of
// a planning export. These commands go to the hub directly, so they fail while it is
// unreachable; the errors are the hub's Chinese messages, ready to show.

/** One department feed at the data centre, as the operators watch it. */
export interface ConnectorStatus {
  name: string
  /** `postgres_cdc`, `legacy_file`, `push` or `debezium`; a newer hub may report others. */
  kind: string
  /** Where the connector stands in its source: an LSN, a file's checksum, a last id. */
  position: string | null
  /** RFC 3339 UTC. */
  heartbeat_at: string | null
  /** Since the connector first ran. `applied` = written or found unchanged. */
  received: number
  applied: number
  quarantined: number
  /** RFC 3339 UTC: commit time at the source of the newest record delivered. */
  newest_source_at: string | null
  /** Seconds behind the source, while it has newer changes to send. */
  lag_seconds: number | null
  /** The source's own backlog, e.g. a replication slot's unconfirmed WAL. */
  source_lag_bytes: number | null
  last_error: string | null
  /** RFC 3339 UTC. */
  last_error_at: string | null
}

/** One problem with one field of one record. */
export interface FieldError {
  /** In an import report: the row number as Excel shows it. Elsewhere: an index into the delivery. */
  record: number
  source_id?: string
  /** A column header as the file heads it, or a record field name. */
  field: string
  /** In Chinese, ready to show. */
  problem: string
}

export type QuarantineState = 'open' | 'reprocessed' | 'dismissed'

/** The most entries list_quarantine returns (the newest). */
export const QUARANTINE_LIMIT = 500

/** A record a connector could not take. */
export interface QuarantineEntry {
  id: number
  connector: string
  /** `planning`, `civil-defence`, `tax` or `payments`. */
  source: string
  source_id: string | null
  /** Where in the source: `第12行`, an LSN, a request. */
  location: string
  /** The record as received: JSON text, not guaranteed to parse. */
  record: string
  problems: FieldError[]
  state: QuarantineState
  /** RFC 3339 UTC. */
  received_at: string
  closed_at: string | null
  closed_by: string | null
  close_note: string | null
}

/** What one delivery did: a file import, a push, a reprocessed record. */
export interface DeliveryReport {
  received: number
  /** Records that changed the hub's state. */
  changed: number
  /** Records identical to what the hub holds. */
  unchanged: number
  withdrawn: number
  quarantined: number
  head: number
  problems?: FieldError[]
}

/** What importing one planning export did. */
export interface ImportReport {
  file_name: string
  /** SM3 of the file's bytes (hex): the same file handed in again is recognised by it. */
  checksum: string
  /** How the file was read, e.g. `CSV（GBK 编码）`. */
  kind: string
  /** Data rows in the file. */
  rows: number
  /** Imported before: nothing was done this time, and this is that earlier report. */
  already_imported: boolean
  /** `unchanged` already counts the repeats. */
  delivery: DeliveryReport
  /** Rows repeating an earlier row of the file word for word. */
  repeats: number
  /** Column headers that match no field (a misspelt optional column shows here). */
  ignored_columns: string[]
}

/** Rows delivered so far out of the rows in the file; the first is `{ done: 0, total }`. */
export interface ImportProgress {
  done: number
  total: number
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

/** Longest reason for 放弃, in characters (the hub counts after trimming). */
export const MAX_DISMISS_REASON_CHARS = 200

export function listConnectors(): Promise<ConnectorStatus[]> {
  return invoke<ConnectorStatus[]>('list_connectors')
}

/** Entries in `state` (all when null), newest first, at most QUARANTINE_LIMIT. */
export function listQuarantine(state: QuarantineState | null): Promise<QuarantineEntry[]> {
  return invoke<QuarantineEntry[]>('list_quarantine', { state })
}

/**
 * 重新校验 (`record` null: the record as it was, e.g. once its project has arrived) or
 * 更正后处理 (`record`: the corrected record). A record that still fails is refused, not
 * quarantined again.
 */
export function reprocessQuarantined(id: number, record: JsonObject | null): Promise<DeliveryReport> {
  return invoke<DeliveryReport>('reprocess_quarantined', { id, record })
}

/** 放弃: closes the entry without writing it; the reason (1–200 characters) goes on record. */
export async function dismissQuarantined(id: number, reason: string): Promise<void> {
  await invoke<null>('dismiss_quarantined', { id, reason })
}

/**
 * Uploads a planning export (CSV or XLSX) as the raw IPC body: no JSON encoding of a
 * file that may run to megabytes. Header values are ASCII, so the name is percent-encoded.
 */
export function importPlanningFile(fileName: string, bytes: Uint8Array): Promise<ImportReport> {
  return invoke<ImportReport>('import_planning_file', bytes, {
    headers: { 'x-file-name': encodeURIComponent(fileName) },
  })
}

export function onImportProgress(handler: (progress: ImportProgress) => void): Promise<UnlistenFn> {
  return listen<ImportProgress>('import-progress', (event) => handler(event.payload))
}
