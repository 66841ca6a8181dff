import type {
  AlertTrendDay,
  AlertView,
  ClerkAction,
  ConnectorStatus,
  DeliveryReport,
  DocumentKind,
  DocumentLine,
  Fee,
  FeeKind,
  ImportReport,
  OutboxEntry,
  ProjectDetail,
  ProjectRow,
  QuarantineEntry,
  SigningStatus,
  SyncStatus,
} from '../src/api'
import type { Permission, SignedInPerson } from '../src/session'

export const CODE = '2019-320105-47-01-123456'

export function projectDetail(code = CODE, paidFen = 40_000_00): ProjectDetail {
  return {
    project: {
      project_code: code,
      name: '河西南部安置房项目',
      builder: '南京河西建设发展有限公司',
      uscc: '91350100M000100Y43',
      district_code: '320105',
      district_name: '建邺区',
      contact_phone_masked: '138****1234',
    },
    status: 'partly_paid',
    overdue: true,
    approvals: [
      {
        planning_permit_no: '建字第320105202600012号',
        approved_on: '2026-03-02',
        residential_area: 1_234_567,
        non_residential_area: 50_000,
        civil_defence_area: 12_345,
      },
    ],
    fees: [
      {
        fee_kind: 'infra',
        assessed_fen: 100_000_00,
        exemption_fen: 0,
        exemption_basis: null,
        net_fen: 100_000_00,
        paid_fen: paidFen,
        outstanding_fen: 100_000_00 - paidFen,
        assessed_on: '2026-03-10',
        due_on: '2026-04-09',
        basis: '宁价费〔2019〕第12号（演示费率）',
        overdue: true,
      },
      {
        fee_kind: 'civil_defence',
        assessed_fen: 20_000_00,
        exemption_fen: 20_000_00,
        exemption_basis: '2019年第76号公告',
        net_fen: 0,
        paid_fen: 0,
        outstanding_fen: 0,
        assessed_on: '2026-03-11',
        due_on: '2026-04-10',
        basis: '人防征收联系单 RF-2026-0031',
        overdue: false,
      },
    ],
    payments: [
      {
        payment_id: 'PAY-0001',
        fee_kind: 'infra',
        amount_fen: paidFen,
        channel: '非税支付平台',
        reference: 'FS20260315000123',
        received_at: '2026-03-15T02:03:04Z',
      },
    ],
    tax_clearance: null,
    final_check: null,
    notes: [],
    tracked: false,
    tracked_reason: null,
    tracking_pending: false,
    alerts: [],
    documents: [],
    permit: null,
    timeline: [
      { seq: 10, committed_at: '2026-03-10T01:00:00Z', entity: 'fee_assessment', key: `${code}/infra`, op: 'upsert' },
      { seq: 12, committed_at: '2026-03-15T02:03:05Z', entity: 'payment', key: 'PAY-0001', op: 'upsert' },
    ],
  }
}

export function syncStatus(overrides: Partial<SyncStatus> = {}): SyncStatus {
  return {
    state: 'online',
    hub_url: 'https://hub.example.invalid',
    cursor: 1200,
    hub_head: 1205,
    lag_changes: 5,
    lag_seconds: 2,
    last_success: '2026-11-24T01:30:05Z',
    last_error: null,
    bootstrap: null,
    outbox: { pending: 0, conflicts: 0 },
    integrity: { alert: false, reason: null, detected_at: null, repaired_at: null },
    reconcile: null,
    device: { kind: 'enrolled', clock_skew_seconds: null },
    ...overrides,
  }
}

/** An assessed fee owing `netFen` with `paidFen` received; overrides for the odd field. */
export function owedFee(netFen: number, paidFen: number, overrides: Partial<Fee> = {}): Fee {
  return {
    fee_kind: 'infra',
    assessed_fen: netFen,
    exemption_fen: 0,
    exemption_basis: null,
    net_fen: netFen,
    paid_fen: paidFen,
    outstanding_fen: Math.max(0, netFen - paidFen),
    assessed_on: '2026-03-10',
    due_on: '2026-04-09',
    basis: '宁价费〔2019〕第12号（演示费率）',
    overdue: false,
    ...overrides,
  }
}

/** A fee the project owes but nobody has assessed yet, exactly as get_project sends it. */
export function unassessedFee(feeKind: FeeKind): Fee {
  return {
    fee_kind: feeKind,
    assessed_fen: 0,
    exemption_fen: 0,
    exemption_basis: null,
    net_fen: 0,
    paid_fen: 0,
    outstanding_fen: 0,
    assessed_on: null,
    due_on: null,
    basis: '',
    overdue: false,
  }
}

/** A project whose fees are all paid and whose tax clearance has arrived: 已完费. */
export function clearedProject(code = CODE): ProjectDetail {
  const detail = projectDetail(code, 100_000_00)
  return {
    ...detail,
    status: 'cleared',
    overdue: false,
    fees: detail.fees.map((fee) => ({ ...fee, overdue: false })),
    tax_clearance: { clearance_no: 'WS-2026-000123', tax_office: '国家税务总局南京市建邺区税务局', issued_on: '2026-04-01' },
  }
}

/** A clerk command as the outbox holds it; rejected by the hub unless overridden. */
export function outboxEntry(commandId: string, action: ClerkAction, overrides: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    command_id: commandId,
    project_code: action.project_code,
    action,
    clerk: '窗口03-王芳',
    issued_at: '2026-11-24T02:30:00Z',
    state: 'rejected',
    attempts: 1,
    last_error: null,
    reject_code: 'not_cleared',
    reject_reason: '项目当前为「部分到账」，尚未完费，不能复核。请待费用全部到账并收到完税反馈单后再复核。',
    ...overrides,
  }
}

/** A connector that beat at `heartbeat_at` with nothing wrong; overrides for the odd field. */
export function connectorStatus(overrides: Partial<ConnectorStatus> = {}): ConnectorStatus {
  return {
    name: 'planning-cdc',
    kind: 'postgres_cdc',
    position: '0/1A2B3C4D',
    heartbeat_at: '2026-11-24T01:59:30Z',
    received: 1_234_567,
    applied: 1_234_000,
    quarantined: 567,
    newest_source_at: '2026-11-24T01:57:00Z',
    lag_seconds: 12,
    source_lag_bytes: 4096,
    last_error: null,
    last_error_at: null,
    verification: null,
    ...overrides,
  }
}

/** An open quarantined planning record, as list_quarantine sends it. */
export function quarantineEntry(id: number, overrides: Partial<QuarantineEntry> = {}): QuarantineEntry {
  return {
    id,
    connector: 'planning-file',
    source: 'planning',
    source_id: null,
    location: `第${id + 1}行`,
    record: JSON.stringify({
      planning_permit_no: '建字第3201152026900003号',
      project_code: '2026-320115-70-01-900003',
      approved_on: '2026-02-30',
      contact_phone: '13812345678',
    }),
    problems: [{ record: 0, field: '批准日期', problem: '日期 2026-02-30 不存在' }],
    state: 'open',
    received_at: '2026-11-24T01:00:00Z',
    closed_at: null,
    closed_by: null,
    close_note: null,
    ...overrides,
  }
}

export function deliveryReport(overrides: Partial<DeliveryReport> = {}): DeliveryReport {
  return { received: 1, changed: 1, unchanged: 0, withdrawn: 0, quarantined: 0, head: 1207, ...overrides }
}

/** A planning export of 1,204 rows: 2 quarantined, 3 repeats among the unchanged. */
export function importReport(overrides: Partial<ImportReport> = {}): ImportReport {
  return {
    file_name: '规划审批20261124.csv',
    checksum: '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0',
    kind: 'CSV（GBK 编码）',
    rows: 1_204,
    already_imported: false,
    delivery: deliveryReport({
      received: 1_204,
      changed: 1_150,
      unchanged: 52,
      quarantined: 2,
      problems: [
        { record: 4, field: '批准日期', problem: '日期 2026-02-30 不存在' },
        { record: 17, field: '统一社会信用代码', problem: '校验位不符' },
      ],
    }),
    repeats: 3,
    ignored_columns: [],
    ...overrides,
  }
}

/** An open orange overdue alert on CODE, within its deadline; overrides for the odd field. */
export function alertView(overrides: Partial<AlertView> = {}): AlertView {
  const rule_id = overrides.rule_id ?? 'payment-overdue'
  const subject = overrides.subject ?? `project/${overrides.project_code ?? CODE}`
  return {
    key: `${rule_id}:${subject}`,
    rule_id,
    subject,
    project_code: CODE,
    department: '收费窗口',
    owner_role: 'supervisor',
    raised_level: 'orange',
    level: 'orange',
    message: '城市基础设施配套费逾期未缴：欠缴 ¥60,000.00，缴款期限 2026年4月9日',
    runbook: '电话催缴建设单位，并在项目跟进备注中记录答复。',
    quarantine_id: null,
    raised_at: '2026-11-24T01:00:00Z',
    respond_by: '2026-11-25T01:00:00Z',
    state: 'open',
    responded: null,
    assignee: null,
    notes: [],
    escalations: [],
    resolution: null,
    sla: 'pending',
    origin: 'hub',
    pending: false,
    ...overrides,
  }
}

/** A red system alert: the data centre's planning feed is down. */
export function systemAlert(overrides: Partial<AlertView> = {}): AlertView {
  return alertView({
    rule_id: 'connector-down',
    subject: 'connector/planning-cdc',
    project_code: '',
    department: '数据中心',
    owner_role: 'supervisor',
    raised_level: 'red',
    level: 'red',
    message: '接入通道 planning-cdc 已中断 35 分钟',
    runbook: '通知信息中心值班技术人员检查规划库复制槽；窗口改用备用导入文件办理。',
    raised_at: '2026-11-24T02:00:00Z',
    respond_by: '2026-11-24T02:15:00Z',
    ...overrides,
  })
}

/** One day of the alert trend. */
export function trendDay(date: string, open: AlertTrendDay['open'], answeredInTime = 0, missed = 0): AlertTrendDay {
  return { date, open, raised: open.red + open.orange + open.yellow, answered_in_time: answeredInTime, missed }
}

/** A row of the project list: cleared, nothing issued yet (what the 可开具 queue holds). */
export function projectRow(n: number, overrides: Partial<ProjectRow> = {}): ProjectRow {
  return {
    project_code: `2019-320105-47-01-${String(n).padStart(6, '0')}`,
    name: `项目${n}`,
    builder: '南京某建设有限公司',
    uscc: '91350100M000100Y43',
    district_code: '320105',
    district_name: '建邺区',
    status: 'cleared',
    overdue: false,
    assessed_fen: 100_000_00,
    paid_fen: 100_000_00,
    outstanding_fen: 0,
    tracked: false,
    tracked_reason: null,
    alert_level: null,
    stage: null,
    ...overrides,
  }
}

/** A valid voucher on record, confirmed by the data centre; overrides for the odd field. */
export function documentLine(number = 'PZ0000001234', overrides: Partial<DocumentLine> = {}): DocumentLine {
  return {
    number,
    kind: number.startsWith('PJ') ? 'invoice' : 'voucher',
    state: 'issued',
    total_fen: 100_000_00,
    issued_at: '2026-11-24T02:30:00Z',
    issuer: '窗口03-王芳',
    checker: '窗口01-李强',
    conflict: null,
    void_reason: null,
    reprints: 0,
    pending: false,
    ...overrides,
  }
}

/** A counter that can sign, with plenty of serials of both kinds. */
export function signingStatus(overrides: Partial<SigningStatus> = {}): SigningStatus {
  return {
    ready: true,
    problem: null,
    serials_left: [
      { kind: 'voucher', left: 480 },
      { kind: 'invoice', left: 950 },
    ],
    ...overrides,
  }
}

/** What issue_document answers: the signed document queued for the data centre (待上传). */
export function issuedEntry(projectCode: string, kind: DocumentKind, serial: number): OutboxEntry {
  return outboxEntry(
    'cmd-issue',
    {
      kind: 'issue_document',
      project_code: projectCode,
      document: {
        number: { kind, serial },
        unit: { name: '南京市城乡建设委员会', invoice_code: '32010126' },
        project_code: projectCode,
        project_name: '河西南部安置房项目',
        payer: '南京河西建设发展有限公司',
        payer_uscc: '91320105MA1XXXXXX0',
        lines: [{ item_code: '103040', item_name: '城市基础设施配套费', basis: '住宅 12,000.00 m² × ¥210.00/m²', amount_fen: 100_000_00 }],
        total_fen: 100_000_00,
        issued_at: '2026-11-24T02:30:00Z',
        issuer: '窗口03-王芳',
        checker: '窗口01-李强',
        device_id: 'counter-03',
        planning_permit_nos: ['建字第320105202600123号'],
        construction_permit_no: '',
      },
      signature: 'A'.repeat(86),
      pdf_sm3: '0'.repeat(64),
    },
    { state: 'pending', reject_code: null, reject_reason: null, attempts: 0 },
  )
}

/** What the supervisor's roles grant: every business permission, none of the three administrators'. */
export const BUSINESS_PERMISSIONS: Permission[] = [
  'project:read',
  'final_check:record',
  'document:issue',
  'document:print',
  'document:void',
  'alert:handle',
  'alert:assign',
  'alert:escalate',
  'quarantine:correct',
  'connector:operate',
]

/** What a window clerk may do: no 数据接入, no 预警 queue. */
/** The built-in 窗口人员 role's default grant (core/src/access.rs). */
export const CLERK_PERMISSIONS: Permission[] = ['project:read', 'final_check:record', 'document:issue', 'document:print', 'alert:handle']

/** Signed in and ready to work; the fake backend's `current_person` by default. */
export function signedInPerson(overrides: Partial<SignedInPerson> = {}): SignedInPerson {
  return {
    account: 'lq0101',
    real_name: '李强',
    roles: ['supervisor'],
    role_names: ['科长'],
    permissions: BUSINESS_PERMISSIONS,
    locked: false,
    must_change_password: false,
    must_enrol_second_factor: false,
    idle_minutes: 10,
    offline: false,
    password_expires_in_days: 60,
    ...overrides,
  }
}

/** A window clerk, as the sign-in screens and the navigation see one. */
export function clerk(overrides: Partial<SignedInPerson> = {}): SignedInPerson {
  return signedInPerson({
    account: 'wf0103',
    real_name: '王芳',
    roles: ['clerk'],
    role_names: ['窗口人员'],
    permissions: CLERK_PERMISSIONS,
    ...overrides,
  })
}
