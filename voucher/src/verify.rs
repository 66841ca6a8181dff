//! Judging a scanned document: the same rules at the hub (`GET /verify`, `yizhan-hub
//! verify`) and at a counter offline with its cached keys and replica.

use serde::Serialize;

use yizhan_core::code::ProjectCode;
use yizhan_core::id::DeviceId;
use yizhan_core::document::{DocumentState, IssuedDocument};

use crate::qr::QrPayload;
use crate::signature::PublicKey;

/// What the verifier knows of the document under the QR's number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded<'a> {
    pub digest: [u8; 32],
    /// The reason, when it was voided.
    pub voided: Option<&'a str>,
    /// Why the hub found the project not cleared when the document arrived.
    pub conflict: Option<&'a str>,
}

impl<'a> Recorded<'a> {
    pub fn of(doc: &'a IssuedDocument) -> Recorded<'a> {
        Recorded {
            digest: doc.document.digest(),
            voided: doc.voiding.as_ref().map(|v| v.reason.as_str()),
            conflict: (doc.state == DocumentState::Conflict).then(|| doc.conflict.as_deref().unwrap_or("")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Signed by a registered counter and on record as issued.
    Valid,
    /// Genuine but no longer valid.
    Voided { reason: String },
    /// Genuine, but issued for a project the hub did not find cleared.
    Conflict { reason: String },
    /// Signed by a registered counter, not yet on record here (issued offline and not
    /// uploaded yet, or this counter's replica has not seen it).
    Unrecorded,
    /// The issuing counter is not registered here.
    Unknown,
    /// The signature or the content does not hold.
    Forged { reason: String },
}

impl Verdict {
    pub fn name_zh(&self) -> &'static str {
        match self {
            Verdict::Valid => "真实有效",
            Verdict::Voided { .. } => "已作废",
            Verdict::Conflict { .. } => "存在冲突",
            Verdict::Unrecorded => "签名有效，尚未登记",
            Verdict::Unknown => "无法识别",
            Verdict::Forged { .. } => "伪造或被篡改",
        }
    }

    pub fn is_genuine(&self) -> bool {
        !matches!(self, Verdict::Unknown | Verdict::Forged { .. })
    }
}

/// A verdict with the fields the QR states, as the verification screens show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Checked {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub verdict_zh: &'static str,
    pub number: String,
    pub project_code: ProjectCode,
    pub total_fen: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub issued_at: time::OffsetDateTime,
    pub device_id: DeviceId,
}

impl Checked {
    /// [`judge`] of `payload`, with its fields.
    pub fn of(payload: QrPayload, key: Option<&PublicKey>, recorded: Option<&Recorded<'_>>) -> Checked {
        let verdict = judge(&payload, key, recorded);
        Checked {
            verdict_zh: verdict.name_zh(),
            verdict,
            number: payload.number.display(),
            project_code: payload.project_code,
            total_fen: payload.total_fen,
            issued_at: payload.issued_at,
            device_id: payload.device_id,
        }
    }
}

/// Judges `payload` given the issuing counter's registered key, if any, and the record
/// under its number, if any.
pub fn judge(payload: &QrPayload, key: Option<&PublicKey>, recorded: Option<&Recorded<'_>>) -> Verdict {
    let Some(key) = key else {
        return Verdict::Unknown;
    };
    if !payload.signed_by(key) {
        return Verdict::Forged { reason: "签名验证失败：号码、金额、时间或终端与签发时不一致".into() };
    }
    let Some(recorded) = recorded else {
        return Verdict::Unrecorded;
    };
    if recorded.digest != payload.digest {
        return Verdict::Forged { reason: "票据内容摘要与登记的票据不一致".into() };
    }
    if let Some(reason) = recorded.voided {
        return Verdict::Voided { reason: reason.to_owned() };
    }
    if let Some(reason) = recorded.conflict {
        return Verdict::Conflict { reason: reason.to_owned() };
    }
    Verdict::Valid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::tests::sample;
    use crate::signature::CounterKey;

    #[test]
    fn the_verdict_follows_key_signature_record_and_status() {
        let key = CounterKey::generate();
        let public = key.public_key();
        let payload = QrPayload::seal(&sample(), &key).unwrap();
        let on_record = Recorded { digest: payload.digest, voided: None, conflict: None };
        assert_eq!(judge(&payload, Some(&public), Some(&on_record)), Verdict::Valid);
        assert_eq!(judge(&payload, None, Some(&on_record)), Verdict::Unknown);
        assert_eq!(judge(&payload, Some(&public), None), Verdict::Unrecorded);
        let voided = Recorded { voided: Some("金额开错"), ..on_record.clone() };
        assert_eq!(judge(&payload, Some(&public), Some(&voided)), Verdict::Voided { reason: "金额开错".into() });
        let conflict = Recorded { conflict: Some("人防费未缴清"), ..on_record.clone() };
        assert!(matches!(judge(&payload, Some(&public), Some(&conflict)), Verdict::Conflict { .. }));
        let other = Recorded { digest: [7; 32], ..on_record.clone() };
        assert!(matches!(judge(&payload, Some(&public), Some(&other)), Verdict::Forged { .. }));
        let stranger = CounterKey::generate().public_key();
        let forged = judge(&payload, Some(&stranger), Some(&on_record));
        assert!(!forged.is_genuine() && forged.name_zh() == "伪造或被篡改");
    }
}
