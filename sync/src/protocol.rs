//! The wire protocol between the data centre (hub) and its clients: counters, department
//! connectors and the simulator. Both sides compile these types, so a change here is a
//! change of the contract (documented in docs/api.md).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::{Date, OffsetDateTime};

pub mod device;
pub mod tls;

use crate::integrity::{BatchSeal, ChangeFrame, SnapshotSeal};
use yizhan_core::access::{DataScope, Permission};
use yizhan_core::account::{Account, SecurityPolicy};
use yizhan_core::id::{CommandId, DeviceId};
use yizhan_core::entity::{Area, EntityKind, Exemption};
use yizhan_core::money::Fen;

/// One committed change from the hub's append-only change log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    /// Strictly increasing across the hub's whole log.
    pub seq: u64,
    pub entity: EntityKind,
    pub key: String,
    /// The project the row belongs to, so a counter can index and scope without parsing.
    pub project_code: String,
    /// Per-row version, starting at 1 and bumped by every upsert of that row.
    pub version: u64,
    pub op: Op,
    /// The entity as JSON (`yizhan_core::entity::*`), exactly the bytes the hub stored:
    /// what the chain hashes and the replica keeps. `None` for a delete.
    pub payload: Option<Box<RawValue>>,
    /// Which connector or client produced it, e.g. `ingest:payments`.
    pub origin: String,
    #[serde(with = "time::serde::rfc3339")]
    pub committed_at: OffsetDateTime,
}

impl Change {
    /// The change as the integrity chain hashes it.
    pub fn frame(&self) -> ChangeFrame<'_> {
        ChangeFrame {
            seq: self.seq,
            entity: self.entity.as_str(),
            key: &self.key,
            project_code: &self.project_code,
            version: self.version,
            op: self.op.as_str(),
            payload: self.payload.as_deref().map(RawValue::get),
            origin: &self.origin,
            committed_at_nanos: self.committed_at.unix_timestamp_nanos(),
        }
    }
}

/// Equal when every field is, the payloads byte for byte.
impl PartialEq for Change {
    fn eq(&self, other: &Change) -> bool {
        self.frame() == other.frame()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Upsert,
    Delete,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Upsert => "upsert",
            Op::Delete => "delete",
        }
    }
}

/// Answer of `GET /v1/changes?after=&limit=&wait=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeBatch {
    /// The `after` the client asked for.
    pub after: u64,
    /// The highest seq this batch covers; the client's next `after`. Equal to `after` when
    /// the wait passed with nothing new.
    pub upto: u64,
    /// The hub's newest seq at the time of the answer, for lag.
    pub head: u64,
    /// Proof that the batch continues the counter's chain, whole and unaltered.
    pub seal: BatchSeal,
    pub changes: Vec<Change>,
}

/// First line of the `GET /v1/snapshot` stream (NDJSON, gzip): the state as of `as_of`,
/// its rows in (entity, key) order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotHeader {
    pub as_of: u64,
    /// Number of `SnapshotRow` lines that follow.
    pub rows: u64,
    /// Set on the rest of a snapshot asked for with `?after_entity=&after_key=`: only
    /// rows after this one follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<RowPosition>,
    pub seal: SnapshotSeal,
}

/// A row's place in the snapshot's (entity, key) order: where an interrupted snapshot
/// load resumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowPosition {
    pub entity: EntityKind,
    pub key: String,
}

/// Every following line of the snapshot stream: one current row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotRow {
    pub entity: EntityKind,
    pub key: String,
    pub project_code: String,
    pub version: u64,
    /// The seq of the change that last wrote the row.
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub committed_at: OffsetDateTime,
    pub payload: serde_json::Value,
}

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub head: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub now: OffsetDateTime,
    pub version: String,
    /// The key that seals this hub's batches and snapshots: what an installer pins on
    /// each counter (`YIZHAN_HUB_KEY`).
    pub hub_key: crate::integrity::HubKey,
}

/// `POST /v1/ingest/planning`: a planning approval with its project. The hub upserts the
/// project and the approval and assesses the infrastructure fee from the tariff.
/// Source record id: `planning_permit_no`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct PlanningRecord {
    pub planning_permit_no: String,
    pub project_code: String,
    pub name: String,
    pub builder: String,
    pub uscc: String,
    pub district_code: String,
    #[serde(default)]
    pub contact_phone: Option<String>,
    #[serde(with = "yizhan_core::serde_date")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub approved_on: Date,
    pub residential_area: Area,
    pub non_residential_area: Area,
    pub civil_defence_area: Area,
    /// 减免 of the infrastructure fee, e.g. community elderly-care projects.
    #[serde(default)]
    pub infra_exemption: Option<Exemption>,
}

/// `POST /v1/ingest/civil-defence`: a 人防征收联系单. Source record id: `notice_no`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct CivilDefenceNotice {
    pub notice_no: String,
    pub project_code: String,
    pub civil_defence_area: Area,
    pub amount_fen: Fen,
    #[serde(with = "yizhan_core::serde_date")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub issued_on: Date,
    #[serde(with = "yizhan_core::serde_date")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub due_on: Date,
}

/// `POST /v1/ingest/tax`: a 完税反馈单. Source record id: `clearance_no`.
pub type TaxClearanceRecord = yizhan_core::entity::TaxClearance;

/// `POST /v1/ingest/payments`: a 到账 notice. Source record id: `payment_id`.
pub type PaymentRecord = yizhan_core::entity::Payment;

/// Body of every ingest endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestBatch<T> {
    pub records: Vec<T>,
}

/// Answer of a successful ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct IngestReport {
    pub received: usize,
    /// Records that changed state (and appended to the change log).
    pub changed: usize,
    /// Records identical to what the hub already holds: nothing appended.
    pub unchanged: usize,
    pub head: u64,
}

/// Every 4xx/5xx body from the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ApiError {
    /// Stable machine code, e.g. `invalid_record`, `body_too_large`, `malformed_json`.
    pub code: String,
    /// What happened and what to do, in Chinese.
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One problem with one field of one record in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldError {
    /// Index of the record in `records`.
    pub record: usize,
    /// The record's source id when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    pub field: String,
    pub problem: String,
}

/// One clerk command as a counter sends it (`POST /v1/commands`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandEnvelope {
    /// A UUID made by the counter: the hub runs a command once per id, so re-sending after
    /// a lost answer changes nothing and gets the first answer again.
    pub command_id: CommandId,
    pub device_id: DeviceId,
    /// The clerk as the counter named them (`Person::clerk`). The hub records the name its
    /// own account gives for `account`, never this text.
    pub clerk: String,
    /// Who was signed in at the counter when the command was issued. Absent only in
    /// commands queued before counters signed their clerks in; the hub refuses those.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
    /// When the clerk issued it, by the counter's clock.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// The replica's cursor when the clerk issued it: the state the clerk was looking at.
    pub base_seq: u64,
    pub action: yizhan_core::command::ClerkAction,
    /// The counter key's SM2 signature over [`CommandEnvelope::signed_text`], hex: the
    /// counter's word for who issued it, which the hub trusts instead of the body's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl CommandEnvelope {
    /// What the counter signs: who issued the command, where, when, against which state,
    /// and the SM3 of the action exactly as the JSON text sent.
    pub fn signed_text(&self, action_json: &str) -> String {
        use sm3::Digest;
        serde_json::json!([
            "YIZHAN-COMMAND-1",
            self.command_id.as_str(),
            self.device_id.as_str(),
            self.account.as_ref().map(Account::as_str),
            self.clerk,
            self.issued_at.format(&time::format_description::well_known::Rfc3339).expect("a time formats as RFC 3339"),
            self.base_seq,
            hex::encode(sm3::Sm3::digest(action_json.as_bytes())),
        ])
        .to_string()
    }
}

/// Body of `POST /v1/commands`: commands in the order the counter issued them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandBatch<T = CommandEnvelope> {
    pub commands: Vec<T>,
}

/// Answer of `POST /v1/commands`: one result per command, in the order sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResults {
    pub results: Vec<CommandResult>,
    pub head: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResult {
    pub command_id: CommandId,
    #[serde(flatten)]
    pub outcome: CommandOutcome,
    /// The hub had already run this command: this is its first answer again.
    #[serde(default)]
    pub repeated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CommandOutcome {
    /// Applied. `seq` is the change it appended; `None` when the row already said so
    /// (tracking set to the value it had).
    Accepted { seq: Option<u64> },
    /// Not applied, with a stable code and a reason for the clerk.
    Rejected { code: String, reason: String },
}

/// Keys of one entity in `(after, upto]`, in byte order; an absent bound is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRange {
    pub entity: yizhan_core::entity::EntityKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upto: Option<String>,
}

impl KeyRange {
    pub fn whole(entity: yizhan_core::entity::EntityKind) -> KeyRange {
        KeyRange { entity, after: None, upto: None }
    }
}

/// The checksum of a key range: its row count and the sums of its rows'
/// `integrity::RowDigest` halves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeSum {
    pub count: u64,
    pub hi: i64,
    pub lo: i64,
}

/// `POST /v1/reconcile/sums`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeSumsRequest {
    pub ranges: Vec<KeyRange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeSums {
    /// One per range asked, in order.
    pub sums: Vec<RangeSum>,
    pub head: u64,
}

/// `POST /v1/reconcile/rows`: the rows of a range, a page at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeRowsRequest {
    pub range: KeyRange,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RangeRows {
    /// In key order. When there may be more, ask again with `after` = the last key.
    pub rows: Vec<RangeRow>,
    pub more: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RangeRow {
    pub key: String,
    pub project_code: String,
    pub version: u64,
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub committed_at: OffsetDateTime,
    /// Exactly the bytes the hub stores.
    pub payload: Box<RawValue>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OutboxCounts {
    /// 待上传
    pub pending: u64,
    /// 待处理冲突
    pub conflicts: u64,
}

/// What the last reconciliation compared and repaired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReconcileReport {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub at: OffsetDateTime,
    /// Rows the hub holds, all compared by checksum.
    pub rows_compared: u64,
    /// Rows written or removed to match the hub.
    pub rows_repaired: u64,
    /// Key ranges whose checksums were compared.
    pub ranges_compared: u64,
    /// JSON sent to and received from the hub.
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

impl Default for ReconcileReport {
    fn default() -> ReconcileReport {
        ReconcileReport {
            at: OffsetDateTime::UNIX_EPOCH,
            rows_compared: 0,
            rows_repaired: 0,
            ranges_compared: 0,
            bytes_sent: 0,
            bytes_received: 0,
        }
    }
}

/// `POST /v1/counters/report`: how a counter stands, for the data centre's operators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct CounterReport {
    pub device_id: DeviceId,
    pub cursor: u64,
    pub outbox: OutboxCounts,
    /// Issued documents whose PDF the hub does not have yet.
    #[serde(default)]
    pub documents_pending: u64,
    /// The red integrity alert is up.
    pub integrity_alert: bool,
    pub reconcile: Option<ReconcileReport>,
}

/// `GET /v1/status`: the hub's log and every counter's last report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HubStatus {
    pub head: u64,
    /// The log is compacted through this seq (0: nothing compacted).
    pub horizon: u64,
    pub counters: Vec<CounterStanding>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CounterStanding {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub reported_at: OffsetDateTime,
    pub report: CounterReport,
}

/// `GET /v1/connectors`: one department feed as the operators watch it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConnectorStatus {
    pub name: String,
    /// `postgres_cdc`, `legacy_file`, `push`, `debezium`.
    pub kind: String,
    /// Where the connector stands in its source (an LSN, a file's checksum, a last id).
    pub position: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub heartbeat_at: Option<OffsetDateTime>,
    /// Records received, taken (written or found unchanged) and quarantined, since the
    /// connector first ran.
    pub received: u64,
    pub applied: u64,
    pub quarantined: u64,
    /// Commit time at the source of the newest record delivered.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub newest_source_at: Option<OffsetDateTime>,
    /// Seconds from that commit time to now, computed when asked; 0 when the source reports
    /// nothing unsent (`source_lag_bytes` 0). For a pushed feed a quiet department makes it
    /// grow: it says how long ago the newest record was committed, not that one is late.
    pub lag_seconds: Option<i64>,
    /// What the source reports of its own backlog (a replication slot's unconfirmed WAL).
    pub source_lag_bytes: Option<i64>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub last_error_at: Option<OffsetDateTime>,
    /// The last comparison of the source with the hub, where the connector can make one.
    #[serde(default)]
    pub verification: Option<SourceComparison>,
}

/// The most quarantine entries one listing answers (the newest).
pub const QUARANTINE_PAGE: u32 = 500;
/// Longest reason a dismissal may give, in characters after trimming.
pub const MAX_DISMISS_REASON_CHARS: usize = 200;

/// Where a quarantined record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum QuarantineState {
    /// Waiting for an operator.
    Open,
    /// Corrected (or re-checked as it was) and written.
    Reprocessed,
    /// Closed without writing it, with the reason.
    Dismissed,
}

impl QuarantineState {
    pub const ALL: [QuarantineState; 3] = [QuarantineState::Open, QuarantineState::Reprocessed, QuarantineState::Dismissed];

    pub fn as_str(self) -> &'static str {
        match self {
            QuarantineState::Open => "open",
            QuarantineState::Reprocessed => "reprocessed",
            QuarantineState::Dismissed => "dismissed",
        }
    }

    pub fn parse(text: &str) -> Option<QuarantineState> {
        QuarantineState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One record a connector could not take (`GET /v1/quarantine`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QuarantineEntry {
    pub id: u64,
    pub connector: String,
    /// The record type: `planning`, `civil-defence`, `tax`, `payments`.
    pub source: String,
    pub source_id: Option<String>,
    /// Where in the source: `第12行`, an LSN, a request.
    pub location: String,
    /// The record as received (JSON text).
    pub record: String,
    pub problems: Vec<FieldError>,
    /// `open`, `reprocessed` or `dismissed`.
    pub state: QuarantineState,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub received_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub closed_at: Option<OffsetDateTime>,
    pub closed_by: Option<String>,
    pub close_note: Option<String>,
}

/// What a connector's delivery did (a file import, a push, a CDC transaction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeliveryReport {
    pub received: usize,
    /// Records that changed the hub's state (appended to the change log).
    pub changed: usize,
    /// Records identical to what the hub holds: nothing appended.
    pub unchanged: usize,
    /// Records the source deleted that the hub held, now removed.
    pub withdrawn: usize,
    /// Records that failed a check: listed in the quarantine, not written.
    pub quarantined: usize,
    pub head: u64,
    /// Every problem of the quarantined records; `record` is the index of the change in
    /// what was delivered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<FieldError>,
}

/// What importing one legacy export file did (`POST /v1/imports/planning`, the watched
/// folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportReport {
    pub file_name: String,
    /// SM3 of the file's bytes (hex): the same file handed in again is recognised by it.
    pub checksum: String,
    /// How the file was read, e.g. `CSV（GBK 编码）`.
    pub kind: String,
    /// Data rows in the file (blank rows left out).
    pub rows: usize,
    /// The file was imported before: nothing was done this time, this is that report.
    pub already_imported: bool,
    /// `problems` name each quarantined row by its number as Excel shows it (`record`)
    /// and its column as the file heads it (`field`), or the record field the hub checked.
    pub delivery: DeliveryReport,
    /// Rows repeating an earlier row of the file word for word.
    pub repeats: usize,
    /// Column headers that match no field, shown so a misspelt optional column is noticed.
    pub ignored_columns: Vec<String>,
}

/// One line of the `POST /v1/imports/planning` answer (NDJSON): progress while the rows
/// are delivered, then the report or the error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ImportEvent {
    Progress { done: usize, total: usize },
    Report(ImportReport),
    Error(ApiError),
}

/// A connector's source compared with what the hub holds (two-way verification): what the
/// source has that the hub lacks or holds otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SourceComparison {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub checked_at: OffsetDateTime,
    /// What was compared, e.g. the file name of the last import.
    pub source: String,
    /// Rows the source's records make, and how many of them the hub holds identically.
    pub source_rows: u64,
    pub matching: u64,
    /// `entity key` of each row the hub lacks (at most 100 listed).
    pub missing: Vec<String>,
    /// `entity key` of each row the hub holds with other content (at most 100 listed): a
    /// later correction from another route, or data lost or altered at the hub.
    pub differing: Vec<String>,
}

impl SourceComparison {
    /// Every source row held alike, and nothing the hub holds that the source no longer has.
    pub fn agrees(&self) -> bool {
        self.matching == self.source_rows && self.missing.is_empty() && self.differing.is_empty()
    }
}

/// The answer of `POST /v1/document-checks`: the document rules a counter's document, not
/// yet printed, breaks against the hub's records; none when it may be printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct DocumentCheck {
    pub failed_checks: Vec<yizhan_core::document_rules::FailedCheck>,
}

/// `POST /v1/segments`: a counter asks for document serials to issue from offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct SegmentRequest {
    pub device_id: DeviceId,
    pub kind: yizhan_core::document::DocumentKind,
    /// How many serials; the hub caps it at [`MAX_SEGMENT_SIZE`].
    pub size: u64,
}

/// Most serials in one segment: a day's work at a busy counter, so a lost PC wastes few.
pub const MAX_SEGMENT_SIZE: u64 = 1_000;

/// The answer of `POST /v1/segments`.
pub use yizhan_core::document::Segment;

/// Body of `POST /v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub account: String,
    pub password: String,
    /// The authenticator's code or a recovery code, for whoever must give one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// Who a signed-in person is and what they may do: what the hub answers a sign-in with
/// (beside the token), and what a counter keeps for signing the same person in offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Person {
    pub account: Account,
    pub real_name: String,
    /// Role ids (`clerk`, `supervisor`, …) and, in the same order, their names.
    pub roles: Vec<String>,
    pub role_names: Vec<String>,
    pub permissions: BTreeSet<Permission>,
    /// Where the person's grants hold, together.
    pub scopes: Vec<DataScope>,
    /// Whether this person signs in with a second factor, and so online only.
    pub second_factor: bool,
}

/// Most characters of a real name a command's clerk carries, so that the name and the
/// account fit an id's 64.
const CLERK_NAME_CHARS: usize = 30;

impl Person {
    pub fn may(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// How commands and documents name this person: the real name, for the 复核人 and
    /// 开票人 printed, and the account, which makes it one person's.
    pub fn clerk(&self) -> String {
        clerk_label(&self.real_name, &self.account)
    }
}

/// How commands and documents name a person: `王芳（clerk01）`.
pub fn clerk_label(real_name: &str, account: &Account) -> String {
    let name: String = real_name.chars().take(CLERK_NAME_CHARS).collect();
    format!("{name}（{account}）")
}

/// Answer of `POST /v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIn {
    /// The session's bearer token, shown this once: the hub keeps only its hash.
    pub token: String,
    #[serde(flatten)]
    pub person: Person,
    /// Until the password is changed, the session may do only that (and sign out).
    pub must_change_password: bool,
    /// Until a second factor is bound, the session may do only that (and sign out).
    pub must_enrol_second_factor: bool,
    /// The policy in force: the idle timeout, and how long the counter may let this person
    /// sign in offline.
    pub policy: SecurityPolicy,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Days until the password expires (a change is forced once it has).
    pub password_expires_in_days: i64,
}

/// Most accounts one `POST /v1/counters/sign-ins` asks after: a counter keeps the few
/// people who work at it.
pub const MAX_SIGN_IN_CHECKS: usize = 200;

/// Body of `POST /v1/counters/sign-ins`: the people a counter keeps for offline sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInCheck {
    pub accounts: Vec<String>,
}

/// How one kept person stands at the hub now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInStanding {
    pub account: String,
    /// Who they are and what they may do today; none when the account is gone or disabled,
    /// and the counter forgets them.
    pub person: Option<Person>,
    /// A password changed after the counter kept its verifier makes that verifier stale.
    #[serde(with = "time::serde::rfc3339::option")]
    pub password_changed_at: Option<OffsetDateTime>,
}

/// Answer of `POST /v1/auth/second-factor`: the secret to bind, as a QR code's address
/// and as text to type into an authenticator that cannot scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorEnrolment {
    pub secret: String,
    pub otpauth_url: String,
}

/// Answer of `POST /v1/auth/second-factor/confirm`: one-time recovery codes, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// Most records one `GET /v1/audit` answers; older ones are asked for with `before_id`.
pub const AUDIT_PAGE: u32 = 500;

/// A search of the hub's audit trail (`GET /v1/audit`, `/v1/audit/export`); empty fields
/// do not filter. Times are RFC 3339.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditSearch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// `success` or `failure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The next page: records older than this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_id: Option<u64>,
}

/// One record of the audit trail as the audit administrator reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditEntry {
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub id: u64,
    /// When the hub recorded it (RFC 3339, UTC).
    pub at: String,
    /// The counter's own clock, for what a counter did.
    pub local_at: Option<String>,
    pub user: String,
    pub role: String,
    pub device: String,
    pub address: String,
    pub event: String,
    pub object: String,
    /// `success` or `failure`.
    pub result: String,
    pub reason: String,
    /// Before/after of changed values as JSON, personal fields masked.
    pub detail: String,
}

/// Commands a counter sends per `POST /v1/commands`: one back from days offline drains
/// 1,000 in five requests.
pub const UPLOAD_BATCH: usize = 200;
/// Most records one `POST /v1/counters/audit` carries.
pub const COUNTER_AUDIT_BATCH: usize = 200;
/// Longest object, reason and detail a counter's audit record may carry, in characters.
pub const MAX_AUDIT_OBJECT_CHARS: usize = 200;
pub const MAX_AUDIT_REASON_CHARS: usize = 500;
pub const MAX_AUDIT_DETAIL_CHARS: usize = 4_000;

/// One record of a counter's own audit trail: what happened at the window, numbered in
/// the order it happened there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterAuditRecord {
    /// 1, 2, 3, … per counter, never reused: the hub takes them in this order, once each.
    pub seq: u64,
    /// The counter's clock when it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub local_at: OffsetDateTime,
    /// Who was at the counter ("" before anyone signed in); for a failed sign-in, the
    /// account typed.
    pub account: String,
    pub event: yizhan_core::audit::AuditEvent,
    pub object: String,
    /// `Err(reason)` for what was refused or failed.
    pub result: Result<(), String>,
    /// Before/after or other particulars as JSON text ("" for none), personal fields masked.
    pub detail: String,
}

/// Body of `POST /v1/counters/audit`: the next records of one counter's audit trail,
/// signed by the counter's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterAuditBatch {
    pub device_id: DeviceId,
    pub records: Vec<CounterAuditRecord>,
    /// The counter key's SM2 signature over [`CounterAuditBatch::signed_text`], hex.
    pub signature: String,
}

impl CounterAuditBatch {
    /// What the counter signs: the device and every record, as this type serialises them.
    pub fn signed_text(device_id: &DeviceId, records: &[CounterAuditRecord]) -> String {
        serde_json::json!(["YIZHAN-COUNTER-AUDIT-1", device_id.as_str(), records]).to_string()
    }
}

/// Answer of `POST /v1/counters/audit`: the hub holds this counter's records up to `through`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterAuditAccepted {
    pub through: u64,
}

/// One person an alert may be assigned to (`GET /v1/alerts/assignees`): an active account
/// holding `alert:handle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AlertAssignee {
    pub account: String,
    pub real_name: String,
    pub department: String,
    /// The names of the person's roles, for telling two 王芳 apart.
    pub role_names: Vec<String>,
}

/// Whether an account may sign in at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }

    pub fn parse(text: &str) -> Option<UserStatus> {
        [UserStatus::Active, UserStatus::Disabled].into_iter().find(|s| s.as_str() == text)
    }
}

/// Body of `POST /v1/admin/users`: the account starts with no role, and a one-time password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub account: String,
    pub real_name: String,
    pub department: String,
}

/// A role held by a person, where it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GrantRecord {
    pub account: Account,
    pub role: String,
    pub scope: DataScope,
    pub granted_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub granted_at: OffsetDateTime,
}

/// An account as administrators see it (`GET /v1/admin/users`): never its verifier or
/// second-factor secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UserView {
    pub account: Account,
    pub real_name: String,
    pub department: String,
    pub status: UserStatus,
    /// Set while sign-in is refused after too many failures.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub locked_until: Option<OffsetDateTime>,
    pub second_factor: bool,
    pub must_change_password: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub password_changed_at: OffsetDateTime,
    pub grants: Vec<GrantRecord>,
}

/// An account just made or reset, with the one-time password shown this once: the hub
/// keeps only its verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OneTimePassword {
    pub account: Account,
    pub password: String,
}

/// Body of `POST /v1/admin/users/{account}/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub status: UserStatus,
}

/// Body of `PUT /v1/admin/users/{account}/grants/{role}`: where the role holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    #[serde(default)]
    pub scope: DataScope,
}

/// A role: the built-in ones keep their id and duty, their permissions may change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RoleRecord {
    pub id: String,
    pub name: String,
    pub permissions: BTreeSet<Permission>,
    pub builtin: bool,
}

/// Body of `PUT /v1/admin/roles/{id}`: the permissions must all belong to one duty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    pub name: String,
    pub permissions: BTreeSet<Permission>,
}

/// A session as the hub keeps it (`GET /v1/admin/sessions`): the token's hash, never the
/// token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionRecord {
    /// SM3 of the token, hex: also how an administrator names a session to end it.
    pub id: String,
    pub account: Account,
    pub address: String,
    pub device: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub last_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub ended_at: Option<OffsetDateTime>,
    /// logout, idle, expired, forced, password_changed, disabled.
    pub end_reason: Option<String>,
    /// True until the second factor has been given (a session that only may do that).
    pub awaiting_second_factor: bool,
}
