//! Vouchers and invoices at the hub: the counters' signing keys, number segments, the
//! checks a counter's document must pass beyond the domain rules, the PDFs, and
//! verification of a scanned QR or a PDF file.

use sm3::{Digest, Sm3};
use time::OffsetDateTime;
use yizhan_core::command::{ClerkAction, Rejection};
use yizhan_core::clock::shanghai_date;
use yizhan_core::document::{
    CounterKeyRecord, DOCUMENT_SETTINGS_KEY, Document, DocumentNumber, DocumentSettings, IssuedDocument,
};
use yizhan_core::document_rules::{FailedCheck, check_document};
use yizhan_core::id::DeviceId;
use yizhan_core::entity::EntityKind;
use yizhan_sync::protocol::{MAX_SEGMENT_SIZE, Segment, SegmentRequest};
use yizhan_voucher::qr::QrPayload;
use yizhan_voucher::signature::PublicKey;
use yizhan_voucher::verify::{Checked, Recorded};

use crate::audit::{Actor, AuditEvent, Entry};
use crate::error::HubError;
use crate::hub::Hub;
use crate::store::{RowWrite, project_records};

/// Largest PDF accepted for a document: a voucher is tens of KB.
pub const MAX_PDF_BYTES: usize = 2 * 1024 * 1024;

/// The verdict on a document and what the hub holds of it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    #[serde(flatten)]
    pub checked: Checked,
    /// The recorded document, when the hub has it.
    pub document: Option<IssuedDocument>,
}

impl Hub {
    /// Puts `device_id`'s public key on the change log, once, for every counter to check
    /// its documents offline: a different key for a registered counter is refused, since
    /// it would let a stolen id sign as that counter. Done when the PC takes its first
    /// number segment: only PCs that issue documents need their key at other counters.
    pub async fn register_counter_key(&self, device_id: &DeviceId, public_key: &str) -> Result<CounterKeyRecord, HubError> {
        let key = PublicKey::from_hex(public_key).map_err(|e| HubError::InvalidBody(format!("public_key：{e}")))?;
        if let Some(known) = self.counter_key(device_id).await? {
            if known.public_key == key.to_hex() {
                return Ok(known);
            }
            return Err(HubError::KeyConflict(device_id.to_string()));
        }
        let record = CounterKeyRecord {
            device_id: device_id.clone(),
            public_key: key.to_hex(),
            registered_at: OffsetDateTime::now_utc(),
        };
        self.store()
            .write("counter-key", vec![RowWrite::upsert(EntityKind::CounterKey, device_id.to_string(), "", &record)])
            .await?;
        tracing::info!(%device_id, "终端签名公钥已登记");
        Ok(record)
    }

    pub async fn counter_key(&self, device_id: &DeviceId) -> Result<Option<CounterKeyRecord>, HubError> {
        self.stored(EntityKind::CounterKey, device_id.as_str(), "终端公钥").await
    }

    /// The key `device_id` enrolled with, parsed (whatever it stands as now: a retired PC's
    /// uploads are still checked); a key the store holds that does not parse is a corrupt
    /// store.
    pub(crate) async fn counter_public_key(&self, device_id: &DeviceId) -> Result<Option<PublicKey>, HubError> {
        let Some(key) = self.store().device(device_id).await?.and_then(|d| d.public_key) else {
            return Ok(None);
        };
        PublicKey::from_hex(&key)
            .map(Some)
            .map_err(|e| HubError::Store(crate::store::StoreError::Corrupt(format!("终端公钥 {device_id}：{e}"))))
    }

    /// Whether `signature` (hex SM2) over `text` is by `device_id`'s registered key;
    /// `None` when the device registered none.
    pub async fn counter_signed(&self, device_id: &DeviceId, text: String, signature: &str) -> Result<Option<bool>, HubError> {
        let Some(key) = self.counter_public_key(device_id).await? else {
            return Ok(None);
        };
        let signature = signature.to_owned();
        Ok(Some(off_the_workers(move || signed_by(&key, &text, &signature)).await))
    }

    /// Sets what every document names and links to, recorded in the change log under
    /// `settings:{by}` so each change is on record and reaches every counter.
    pub async fn set_document_settings(&self, settings: &DocumentSettings, by: &str) -> Result<(), HubError> {
        let origin = format!("settings:{}", by.trim());
        let before = self.document_settings().await?;
        let row = RowWrite::upsert(EntityKind::DocumentSettings, DOCUMENT_SETTINGS_KEY.into(), "", settings);
        let outcome = self.store().write(&origin, vec![row]).await?;
        if outcome.changed() > 0 {
            tracing::info!(by, unit = settings.unit.name, invoice_code = settings.unit.invoice_code, verify_url = settings.verify_url, "票据设置已更改");
            let actor = Actor { user: by.trim().to_owned(), role: "config".into(), ..Actor::default() };
            self.audit(
                Entry::new(&actor, AuditEvent::ConfigChanged, "document_settings")
                    .detail(serde_json::json!({"before": before, "after": settings})),
            )
            .await?;
        }
        Ok(())
    }

    pub async fn document_settings(&self) -> Result<Option<DocumentSettings>, HubError> {
        self.stored(EntityKind::DocumentSettings, DOCUMENT_SETTINGS_KEY, "票据设置").await
    }

    /// The row under `key` as its entity; a row that does not parse is a corrupt store.
    async fn stored<T: serde::de::DeserializeOwned>(&self, entity: EntityKind, key: &str, what: &str) -> Result<Option<T>, HubError> {
        let Some(row) = self.store().get(entity, key).await? else {
            return Ok(None);
        };
        let parsed = serde_json::from_str(&row.payload)
            .map_err(|e| HubError::Store(crate::store::StoreError::Corrupt(format!("{what} {key}：{e}"))))?;
        Ok(Some(parsed))
    }

    /// Hands a registered counter its next segment.
    pub async fn allocate_segment(&self, request: &SegmentRequest) -> Result<Segment, HubError> {
        if !(1..=MAX_SEGMENT_SIZE).contains(&request.size) {
            return Err(HubError::InvalidBody(format!("size：号段大小应为 1–{MAX_SEGMENT_SIZE}，收到 {}", request.size)));
        }
        if self.counter_key(&request.device_id).await?.is_none() {
            let Some(key) = self.store().device(&request.device_id).await?.and_then(|d| d.public_key) else {
                return Err(HubError::InvalidBody(format!("device_id：终端 {} 尚未登记，不能领取号段", request.device_id)));
            };
            self.register_counter_key(&request.device_id, &key).await?;
        }
        let segment = self.store().allocate_segment(request.device_id.as_str(), request.kind, request.size).await?;
        tracing::info!(device_id = %request.device_id, kind = request.kind.as_str(), first = segment.first, last = segment.last, "号段已分配");
        Ok(segment)
    }

    /// What the domain rules cannot check for an issued document: that its counter's
    /// registered key signed it and that its number lies in that counter's segment.
    pub(crate) async fn check_issue(&self, device_id: &DeviceId, key: Option<&PublicKey>, action: &ClerkAction) -> Result<Option<Rejection>, HubError> {
        let ClerkAction::IssueDocument { document, signature, .. } = action else {
            return Ok(None);
        };
        let refuse = |code: &str, reason: String| Ok(Some(Rejection { code: code.into(), reason }));
        let number = document.number.display();
        let Some(key) = key.cloned() else {
            return refuse("unknown_counter", format!("终端 {device_id} 未登记签名公钥，票据 {number} 无法核验。"));
        };
        let signed = match QrPayload::parse_signature(signature) {
            Some(signature) => {
                let payload = QrPayload::of(document, signature);
                off_the_workers(move || payload.signed_by(&key)).await
            }
            None => false,
        };
        if !signed {
            return refuse("bad_signature", format!("票据 {number} 的签名与终端 {device_id} 的公钥不符，未登记。"));
        }
        let owner = self.store().segment_owner(document.number.kind, document.number.serial).await?;
        if owner.as_deref() != Some(device_id.as_str()) {
            return refuse("not_in_segment", format!("票据号码 {number} 不在终端 {device_id} 领取的号段内。"));
        }
        Ok(None)
    }

    /// The document rules on `document` against the hub's records as they stand today.
    pub async fn check_document(&self, document: &Document) -> Result<Vec<FailedCheck>, HubError> {
        let records = project_records(&self.store().project_rows(document.project_code.as_str()).await?)?;
        Ok(check_document(document, &records, shanghai_date(OffsetDateTime::now_utc())))
    }

    /// Keeps the PDF of a document or one of its reprints; the file must be the one
    /// whose SM3 the change log recorded.
    pub async fn store_document_file(&self, number: &str, bytes: Vec<u8>) -> Result<String, HubError> {
        if bytes.len() > MAX_PDF_BYTES {
            return Err(HubError::BodyTooLarge { limit_mib: MAX_PDF_BYTES >> 20 });
        }
        let doc = self.issued_document(number).await?.ok_or_else(|| HubError::UnknownDocument(number.to_owned()))?;
        let sm3 = hex::encode(Sm3::digest(&bytes));
        if sm3 != doc.pdf_sm3 && !doc.reprints.iter().any(|r| r.pdf_sm3 == sm3) {
            return Err(HubError::FileMismatch(number.to_owned()));
        }
        self.store().put_document_file(number, &sm3, bytes).await?;
        Ok(sm3)
    }

    pub async fn issued_document(&self, number: &str) -> Result<Option<IssuedDocument>, HubError> {
        self.stored(EntityKind::Document, number, "票据").await
    }

    /// Judges a scanned QR (the URL or its query string).
    pub async fn verify_qr(&self, text: &str) -> Result<Verification, HubError> {
        let payload = QrPayload::from_url(text).map_err(|e| HubError::BadQuery(e.to_string()))?;
        let key = match self.counter_key(&payload.device_id).await? {
            Some(k) => PublicKey::from_hex(&k.public_key).ok(),
            None => None,
        };
        let document = self.issued_document(&payload.number.display()).await?;
        let recorded = document.as_ref().map(Recorded::of);
        let checked = Checked::of(payload, key.as_ref(), recorded.as_ref());
        Ok(Verification { checked, document })
    }

    /// Judges a PDF file: its QR, and whether the file is byte for byte one the hub
    /// recorded (the original or a reprint).
    pub async fn verify_pdf(&self, pdf: &[u8]) -> Result<(Verification, FileMatch), HubError> {
        let url = yizhan_voucher::pdf::qr_url_in(pdf)
            .ok_or_else(|| HubError::UnreadableFile("文件中找不到本系统票据的验真二维码".into()))?;
        let verification = self.verify_qr(&url).await?;
        let sm3 = hex::encode(Sm3::digest(pdf));
        let matched = match &verification.document {
            None => FileMatch::NotRecorded,
            Some(d) if d.pdf_sm3 == sm3 => FileMatch::Original,
            Some(d) if d.reprints.iter().any(|r| r.pdf_sm3 == sm3) => FileMatch::Reprint,
            Some(_) => FileMatch::Different,
        };
        Ok((verification, matched))
    }
}

/// How a PDF file compares with the files recorded for its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileMatch {
    Original,
    Reprint,
    /// The QR is genuine but the file is not one the hub recorded: edited after issue.
    Different,
    NotRecorded,
}

impl FileMatch {
    pub fn name_zh(self) -> &'static str {
        match self {
            FileMatch::Original => "文件与开具时的原件一致",
            FileMatch::Reprint => "文件与登记的补打件一致",
            FileMatch::Different => "文件与登记的原件不同，可能被修改过",
            FileMatch::NotRecorded => "数据中心没有该票据的文件记录",
        }
    }
}

/// Whether `number` is a document number at all, for the routes.
pub fn parse_number(number: &str) -> Result<DocumentNumber, HubError> {
    DocumentNumber::parse(number).ok_or_else(|| HubError::BadQuery(format!("票据号码 {number} 格式不正确，应如 PZ0000001234")))
}

/// Whether `signature` (hex SM2, r‖s) over `text` is by `key`: most of a millisecond of
/// arithmetic, for a blocking thread.
pub(crate) fn signed_by(key: &PublicKey, text: &str, signature: &str) -> bool {
    hex::decode(signature)
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        .is_some_and(|signature| key.verifies(text.as_bytes(), &signature))
}

/// A signature check on the blocking pool, so that it does not stall an async worker.
pub(crate) async fn off_the_workers(check: impl FnOnce() -> bool + Send + 'static) -> bool {
    tokio::task::spawn_blocking(check).await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}
