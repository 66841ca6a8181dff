//! What the QR on a document carries: the hub's verification address with the key fields,
//! the SM3 digest of the whole document and the issuing counter's SM2 signature.
//!
//! The fields travel as a readable query string (`k`, `n`, `p`, `t`, `at`, `d`, `h`, `s`)
//! so a person who scans it sees the number and amount before following the link.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;
use yizhan_core::code::ProjectCode;
use yizhan_core::document::{Document, DocumentNumber};
use yizhan_core::id::DeviceId;
use yizhan_core::money::Fen;

use crate::signature::{CounterKey, PublicKey};

/// Longest QR text accepted for reading; a real one is about 300 characters.
pub const MAX_QR_CHARS: usize = 2_048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrPayload {
    pub number: DocumentNumber,
    pub project_code: ProjectCode,
    pub total_fen: Fen,
    /// Whole seconds, as printed; the document's own instant is in its digest.
    pub issued_at: OffsetDateTime,
    pub device_id: DeviceId,
    pub digest: [u8; 32],
    pub signature: [u8; 64],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("二维码内容过长（{0} 个字符），不是本系统的票据二维码")]
    TooLong(usize),
    #[error("二维码缺少字段 {0}，不是本系统的票据二维码或已损坏")]
    Missing(&'static str),
    #[error("二维码字段 {field} 无法识别：{problem}")]
    Bad { field: &'static str, problem: &'static str },
    #[error("票据合计 {lines} 分与各项之和 {total} 分不符，不能签发")]
    TotalMismatch { total: Fen, lines: Fen },
}

impl QrPayload {
    /// Signs `document` with the counter's key.
    pub fn seal(document: &Document, key: &CounterKey) -> Result<QrPayload, PayloadError> {
        if document.lines_total() != document.total_fen {
            return Err(PayloadError::TotalMismatch { total: document.total_fen, lines: document.lines_total() });
        }
        let mut payload = QrPayload::of(document, [0; 64]);
        payload.signature = key.sign(&payload.signed_message());
        Ok(payload)
    }

    /// The payload of `document` under a signature made before (as the change log keeps it).
    pub fn of(document: &Document, signature: [u8; 64]) -> QrPayload {
        QrPayload {
            number: document.number,
            project_code: document.project_code.clone(),
            total_fen: document.total_fen,
            issued_at: document.issued_at.replace_nanosecond(0).expect("zero nanoseconds is a valid time"),
            device_id: document.device_id.clone(),
            digest: document.digest(),
            signature,
        }
    }

    /// The signature as the change log and the QR carry it (base64url, 86 characters).
    pub fn signature_text(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.signature)
    }

    pub fn parse_signature(text: &str) -> Option<[u8; 64]> {
        decode_fixed::<64>(text)
    }

    /// The bytes the signature covers: every field but the signature, in a fixed order.
    fn signed_message(&self) -> Vec<u8> {
        format!(
            "yizhan-document/1\n{}\n{}\n{}\n{}\n{}\n{}",
            self.number.display(),
            self.project_code,
            self.total_fen,
            self.issued_at.unix_timestamp(),
            self.device_id,
            hex::encode(self.digest)
        )
        .into_bytes()
    }

    pub fn signed_by(&self, key: &PublicKey) -> bool {
        key.verifies(&self.signed_message(), &self.signature)
    }

    /// `{verify_base}?k=…`; `verify_base` is the hub's public `…/verify` address.
    pub fn to_url(&self, verify_base: &str) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("k", self.number.kind.as_str())
            .append_pair("n", &self.number.display())
            .append_pair("p", self.project_code.as_str())
            .append_pair("t", &self.total_fen.to_string())
            .append_pair("at", &self.issued_at.unix_timestamp().to_string())
            .append_pair("d", self.device_id.as_str())
            .append_pair("h", &URL_SAFE_NO_PAD.encode(self.digest))
            .append_pair("s", &self.signature_text())
            .finish();
        format!("{verify_base}?{query}")
    }

    /// Reads a scanned QR: the whole URL, or only its query string.
    pub fn from_url(text: &str) -> Result<QrPayload, PayloadError> {
        let text = text.trim();
        if text.chars().count() > MAX_QR_CHARS {
            return Err(PayloadError::TooLong(text.chars().count()));
        }
        let query = text.split_once('?').map_or(text, |(_, q)| q);
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let field = |name: &'static str| {
            pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).ok_or(PayloadError::Missing(name))
        };
        let bad = |field: &'static str, problem: &'static str| PayloadError::Bad { field, problem };
        let number = DocumentNumber::parse(field("n")?).ok_or(bad("n", "票据号码格式不正确"))?;
        if field("k")? != number.kind.as_str() {
            return Err(bad("k", "票据种类与号码不符"));
        }
        let total_fen = field("t")?.parse::<Fen>().map_err(|_| bad("t", "金额应为整数（分）"))?;
        let issued_at = field("at")?
            .parse::<i64>()
            .ok()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .ok_or(bad("at", "开具时间不正确"))?;
        let digest = decode_fixed::<32>(field("h")?).ok_or(bad("h", "摘要应为 32 字节"))?;
        let signature = decode_fixed::<64>(field("s")?).ok_or(bad("s", "签名应为 64 字节"))?;
        Ok(QrPayload {
            number,
            project_code: field("p")?.parse().map_err(|_| bad("p", "项目代码格式不正确"))?,
            total_fen,
            issued_at,
            device_id: field("d")?.parse().map_err(|_| bad("d", "开具终端编号不正确"))?,
            digest,
            signature,
        })
    }
}

fn decode_fixed<const N: usize>(text: &str) -> Option<[u8; N]> {
    URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

/// `text` as a QR code in SVG, for a screen: an authenticator's enrolment address.
pub fn svg(text: &str) -> Result<String, qrcode::types::QrError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(220, 220).quiet_zone(true).build())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use time::macros::datetime;

    /// The specimen issued by a counter whose id needs escaping, at a time with a fraction
    /// of a second (the QR carries whole seconds).
    pub(crate) fn sample() -> Document {
        Document { device_id: "窗口 03".parse().unwrap(), issued_at: datetime!(2026-11-24 02:30:05.250 UTC), ..Document::specimen() }
    }

    const BASE: &str = "http://127.0.0.1:8750/verify";

    #[test]
    fn a_sealed_payload_travels_through_its_url_and_still_verifies() {
        let key = CounterKey::generate();
        let payload = QrPayload::seal(&sample(), &key).unwrap();
        let url = payload.to_url(BASE);
        assert!(url.starts_with("http://127.0.0.1:8750/verify?k=voucher&n=PZ0000001234&"), "{url}");
        assert!(url.len() < 400, "fits a QR a phone reads from paper: {} chars", url.len());
        let back = QrPayload::from_url(&url).unwrap();
        assert_eq!(back, payload);
        assert!(back.signed_by(&key.public_key()));
        assert_eq!(back.issued_at, datetime!(2026-11-24 02:30:05 UTC));
        let query_only = url.split_once('?').unwrap().1;
        assert_eq!(QrPayload::from_url(query_only).unwrap(), payload);
    }

    #[test]
    fn changing_any_signed_field_or_one_signature_bit_breaks_the_signature() {
        let key = CounterKey::generate();
        let payload = QrPayload::seal(&sample(), &key).unwrap();
        let mut tampered = Vec::new();
        let mut p = payload.clone();
        p.total_fen += 100;
        tampered.push(("amount", p));
        let mut p = payload.clone();
        p.number.serial += 1;
        tampered.push(("number", p));
        let mut p = payload.clone();
        p.digest[0] ^= 0x01;
        tampered.push(("digest", p));
        let mut p = payload.clone();
        p.signature[63] ^= 0x80;
        tampered.push(("signature", p));
        let mut p = payload.clone();
        p.device_id = "窗口 04".parse().unwrap();
        tampered.push(("device", p));
        for (what, p) in tampered {
            let reread = QrPayload::from_url(&p.to_url(BASE)).unwrap();
            assert!(!reread.signed_by(&key.public_key()), "a changed {what} must not verify");
        }
    }

    #[test]
    fn a_document_whose_lines_disagree_with_its_total_is_not_signed() {
        let mut doc = sample();
        doc.total_fen += 1;
        let err = QrPayload::seal(&doc, &CounterKey::generate()).unwrap_err();
        assert!(err.to_string().contains("不符"), "{err}");
    }

    #[test]
    fn malformed_and_hostile_qr_text_is_refused_with_the_field_named() {
        let url = QrPayload::seal(&sample(), &CounterKey::generate()).unwrap().to_url(BASE);
        let cases = [
            (url.replace("n=PZ0000001234", "n=PZ12"), "n"),
            (url.replace("k=voucher", "k=invoice"), "k"),
            (url.replace("&t=", "&t=1e9&x="), "t"),
            (url.replace("&at=", "&at=99999999999999999&x="), "at"),
            (url.replace("&h=", "&h=AAAA&x="), "h"),
            (url.replace("&s=", "&s=%00%01&x="), "s"),
        ];
        for (text, field) in cases {
            match QrPayload::from_url(&text) {
                Err(PayloadError::Bad { field: f, .. }) => assert_eq!(f, field, "{text}"),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert_eq!(QrPayload::from_url("https://example.com/"), Err(PayloadError::Missing("n")));
        assert_eq!(QrPayload::from_url("").unwrap_err(), PayloadError::Missing("n"));
        let huge = format!("{url}&pad={}", "A".repeat(MAX_QR_CHARS));
        assert!(matches!(QrPayload::from_url(&huge), Err(PayloadError::TooLong(_))));
    }

    #[test]
    fn an_enrolment_address_becomes_an_svg_qr_code() {
        let image = svg("otpauth://totp/Yizhan:clerk01?secret=JBSWY3DPEHPK3PXP&issuer=Yizhan").unwrap();
        assert!(image.starts_with("<?xml") && image.contains("<svg") && image.contains("<path"), "{image}");
        assert!(svg(&"x".repeat(5000)).is_err(), "too long for a QR code");
    }
}
