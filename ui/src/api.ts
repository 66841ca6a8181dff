// The screens' one door to the backend. The types, the commands and the events are
// generated from the Rust types (bindings.ts, src-tauri/src/contract.rs), so a change on
// the Rust side fails the type check here instead of a counter at runtime. This module
// names them as the screens speak (snake_case fields; money in integer fen, areas in
// integer hundredths of m²) and adds what is the screens' own.
import { Channel, invoke } from '@tauri-apps/api/core'
import type { UnlistenFn } from '@tauri-apps/api/event'
import {
  commands,
  events,
  OWNER_ROLES,
  PERMISSION_DUTIES,
  type AlertView_Serialize as AlertView,
  type Approval_Serialize as Approval,
  type CommandError_Serialize as CommandError,
  type DocumentKind,
  type DocumentNumber,
  type Fee_Serialize as Fee,
  type FeeStatus,
  type Handled_Serialize as Handled,
  type ImportProgress,
  type ImportReport_Serialize as ImportReport,
  type NoteLine_Serialize as NoteLine,
  type FinalCheckLine_Serialize as FinalCheckLine,
  type PaymentLine_Serialize as PaymentLine,
  type PrintProgress_Serialize as PrintProgress,
  type PrintProgress_Deserialize,
  type ProjectDetail_Serialize as ProjectDetail,
  type ProjectQuery_Deserialize,
  type ProjectStage,
  type ReplicaChanged,
  type Sla,
  type StateFilter,
  type SyncStatus_Serialize as SyncStatus,
  type TaxClearanceLine_Serialize as TaxClearanceLine,
  type Value,
  type Verdict,
  type AlertHandling,
  type AlertQuery_Deserialize,
} from './bindings'
import { commandErrorText } from './i18n'

// What the backend sends: the serialise-side shape of each type (bindings.ts also has the
// shape it would read, where an absent Option is allowed).
export type {
  AlertAssignee,
  AlertHandling,
  AlertLevel,
  AlertPage_Serialize as AlertPage,
  AlertState,
  AlertTrend_Serialize as AlertTrend,
  AlertTrendDay_Serialize as AlertTrendDay,
  AlertView_Serialize as AlertView,
  AuditEntry_Serialize as AuditEntry,
  AuditSearch_Deserialize as AuditSearch,
  ClerkAction_Serialize as ClerkAction,
  CommandError_Serialize as CommandError,
  ConnectorStatus_Serialize as ConnectorStatus,
  DeliveryReport_Serialize as DeliveryReport,
  District,
  DocumentKind,
  DocumentLine_Serialize as DocumentLine,
  DocumentState,
  Fee_Serialize as Fee,
  FeeKind,
  FieldError_Serialize as FieldError,
  ImportProgress,
  ImportReport_Serialize as ImportReport,
  IntegrityStatus_Serialize as IntegrityStatus,
  OfflineVerification_Serialize as OfflineVerification,
  OutboxEntry_Serialize as OutboxEntry,
  OutboxState,
  PermitLine_Serialize as PermitLine,
  Printer,
  PrintProgress_Serialize as PrintProgress,
  ProjectDetail_Serialize as ProjectDetail,
  ProjectPage_Serialize as ProjectPage,
  ProjectRow_Serialize as ProjectRow,
  ProjectStage,
  QuarantineEntry_Serialize as QuarantineEntry,
  QuarantineState,
  ReconcileReport_Serialize as ReconcileReport,
  ReplicaChanged,
  SerialsLeft,
  SigningStatus_Serialize as SigningStatus,
  Sla,
  StatusCounts,
  SyncState,
  SyncStatus_Serialize as SyncStatus,
  TimelineEntry_Serialize as TimelineEntry,
  TrackedReason,
  Verdict,
} from './bindings'
export {
  DOCUMENT_KINDS,
  MAX_ALERT_PAGE,
  MAX_ASSIGNEE_CHARS,
  MAX_DISMISS_REASON_CHARS,
  MAX_NOTE_CHARS,
  MAX_PERMIT_CHARS,
  MAX_REMARK_CHARS,
  MAX_RESOLVE_REASON_CHARS,
  MAX_VOID_REASON_CHARS,
  OWNER_ROLES,
  QUARANTINE_PAGE,
  AUDIT_PAGE,
  AUDIT_EVENTS,
} from './bindings'

/** A project's fee status (待核定 … 已完费). */
export type Status = FeeStatus
/** The query of the project list; a field left out does not filter. */
export type ProjectQuery = ProjectQuery_Deserialize
export type PlanningApproval = Approval
export type Payment = PaymentLine
export type TaxClearance = TaxClearanceLine
/** 复核, once done (`pending`: issued at this counter, not yet confirmed). */
export type FinalCheck = FinalCheckLine
export type FollowUpNote = NoteLine
/** Who did something to an alert, and when (RFC 3339 UTC). */
export type AlertHandled = Handled
export type AlertStateFilter = StateFilter
export type AlertQuery = AlertQuery_Deserialize
export type AlertStep = AlertHandling['step']
/** Who an alert is for. */
export type OwnerRole = (typeof OWNER_ROLES)[number]
export type VerdictName = Verdict['verdict']
/** A JSON object as the hub reads a corrected record. */
export type JsonObject = { [key in string]: Value }

/** The order the screens list the statuses in: the way a project goes. */
export const STATUSES: readonly Status[] = [
  'awaiting_assessment',
  'due',
  'partly_paid',
  'awaiting_tax_clearance',
  'cleared',
]

/** Most serious first: the order counts, filters and legends read in. */
export const ALERT_LEVELS = ['red', 'orange', 'yellow'] as const satisfies readonly AlertView['level'][]

export const SLAS: readonly Sla[] = ['pending', 'met', 'missed']

/**
 * A fee can be owed before anyone has assessed it (the approval has a civil-defence area
 * but 人防 has not sent its notice yet): then its amounts are 0 for "unknown", not for
 * "nothing to pay". This is the test to use.
 */
export function isAssessed(fee: Fee): boolean {
  return fee.assessed_on !== null
}

/** Serials are printed as ten digits after the kind's letters, as the backend writes the number. */
const SERIAL_DIGITS = 10
const NUMBER_PREFIX: Record<DocumentKind, string> = { voucher: 'PZ', invoice: 'PJ' }

/** `{ kind: 'voucher', serial: 1234 }` → `PZ0000001234`, the number as printed and listed. */
export function documentNumber(number: DocumentNumber): string {
  return `${NUMBER_PREFIX[number.kind]}${String(number.serial).padStart(SERIAL_DIGITS, '0')}`
}

/** Where the project stands with its documents, as the backend works out `ProjectRow.stage`. */
export function projectStage(detail: Pick<ProjectDetail, 'documents' | 'permit'>): ProjectStage | null {
  if (detail.permit) return 'linked'
  return detail.documents.some((d) => d.state !== 'voided') ? 'issued' : null
}

/**
 * A failed command rejects with its `CommandError`; Tauri itself rejects with a plain
 * string (a command it cannot call), so both reach the screens.
 */
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

export const {
  listProjects,
  getProject,
  syncStatus,
  districts,
  recordFinalCheck,
  addFollowUpNote,
  setTracking,
  listConflicts,
  redoConflict,
  listAlerts,
  alertTrend,
  handleAlert,
  alertAssignees,
  issueDocument,
  voidDocument,
  reprintDocument,
  linkPermit,
  documentPreview,
  listPrinters,
  verifyDocument,
  signingStatus,
  listConnectors,
  listQuarantine,
  reprocessQuarantined,
  searchAudit,
  exportAudit,
} = commands

// The account screens (用户, 角色与权限, 安全策略, 在线会话): each checked at the hub again.
export type {
  DataScope,
  GrantRecord_Serialize as GrantRecord,
  NewUser,
  OneTimePassword,
  RoleBody,
  RoleRecord,
  SecurityPolicy_Serialize as SecurityPolicy,
  SessionRecord_Serialize as SessionRecord,
  UserStatus,
  UserView_Serialize as UserView,
} from './bindings'
export { PERMISSION_DUTIES, POLICY_BOUNDS } from './bindings'
// 终端: the counter PCs (系统管理员).
export type {
  DeviceListing_Serialize as DeviceListing,
  DeviceState,
  EnrolmentCode_Serialize as EnrolmentCode,
  NewDevice,
  Revocation,
} from './bindings'
export const { listDevices, newDevice, revokeDevice } = commands
/** The duties level 3 keeps apart (business, and system, security and audit administration). */
export type Duty = (typeof PERMISSION_DUTIES)[number][1]
export const {
  listUsers,
  createUser,
  setUserStatus,
  resetPassword,
  unlockUser,
  grantRole,
  revokeRole,
  listRoles,
  putRole,
  securityPolicy,
  setSecurityPolicy,
  listSessions,
  endSession,
} = commands

/** 放弃: lets a refused command go. */
export async function discardConflict(commandId: string): Promise<void> {
  await commands.discardConflict(commandId)
}

/** 放弃: closes the entry without writing it; the reason goes on record. */
export async function dismissQuarantined(id: number, reason: string): Promise<void> {
  await commands.dismissQuarantined(id, reason)
}

/** Prints each document in order, telling `onProgress` after every one; the same reports come back at the end. */
export function printDocuments(
  numbers: string[],
  printer: string,
  onProgress: (progress: PrintProgress) => void,
): Promise<PrintProgress[]> {
  const progress = new Channel<PrintProgress_Deserialize>()
  // The channel's type is the shape Rust could read, where an absent Option is allowed.
  progress.onmessage = (report) => onProgress({ ...report, error: report.error ?? null })
  return commands.printDocuments(numbers, printer, progress)
}

// An event's generated payload type admits both serde shapes; the shell only ever sends the
// serialised one, with every field written.
export function onSyncStatus(handler: (status: SyncStatus) => void): Promise<UnlistenFn> {
  return events.syncStatus.listen((event) => handler(event.payload as SyncStatus))
}

/** No project codes means "too many to list": treat every project as changed. */
export function onReplicaChanged(handler: (change: ReplicaChanged) => void): Promise<UnlistenFn> {
  return events.replicaChanged.listen((event) => handler(event.payload))
}

/**
 * Uploads a planning export (CSV or XLSX) as the raw IPC body: no JSON encoding of a file
 * that may run to megabytes. The generator cannot describe a raw body, so this one call is
 * written here; its answer's type is generated. Header values are ASCII, so the name is
 * percent-encoded.
 */
export function importPlanningFile(fileName: string, bytes: Uint8Array): Promise<ImportReport> {
  return invoke<ImportReport>('import_planning_file', bytes, {
    headers: { 'x-file-name': encodeURIComponent(fileName) },
  })
}

export function onImportProgress(handler: (progress: ImportProgress) => void): Promise<UnlistenFn> {
  return events.importProgress.listen((event) => handler(event.payload))
}

