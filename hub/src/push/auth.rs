//! How a request proves it comes from a department: an HMAC-SM3 signature over the
//! request for the push API, a short-lived bearer token for Debezium Server (whose HTTP
//! sink cannot sign a request, but can fetch a token with OAuth2 client credentials).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use hmac::{Hmac, Mac};
use sm3::{Digest, Sm3};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yizhan_core::clock::SHANGHAI;

use super::keys::{PushKey, PushKeys};

type HmacSm3 = Hmac<Sm3>;

pub const KEY_HEADER: &str = "X-Yizhan-Key";
pub const TIMESTAMP_HEADER: &str = "X-Yizhan-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Yizhan-Signature";

/// How far a signed timestamp may be from the hub's clock, either way: long enough for a
/// department server whose clock drifts, short enough that a captured request goes stale.
pub const WINDOW_SECONDS: i64 = 300;

/// How long a Debezium token lasts. Debezium fetches the next one at 90 % of this.
pub const TOKEN_SECONDS: i64 = 3600;

/// The first line of what is signed: a push signature and a token are MACs under the same
/// key, and the label keeps one from ever passing for the other.
const SIGNATURE_LABEL: &str = "YIZHAN-HMAC-SM3";
const TOKEN_LABEL: &str = "YIZHAN-TOKEN-SM3";

/// What a push signature covers, one item a line: the label, the timestamp as sent, the
/// method, the path (`/v1/push/{source}`, as the hub serves it) and SM3 of the body in
/// lowercase hex. Hashing the body keeps the string small and the body's bytes exact.
pub fn canonical_string(timestamp: &str, method: &str, path: &str, body: &[u8]) -> String {
    let body_sm3 = hex::encode(Sm3::digest(body));
    format!("{SIGNATURE_LABEL}\n{timestamp}\n{method}\n{path}\n{body_sm3}")
}

/// The `X-Yizhan-Signature` of a request: HMAC-SM3 of its canonical string, in hex.
pub fn sign(secret: &[u8], canonical: &str) -> String {
    hex::encode(mac(secret, canonical).finalize().into_bytes())
}

fn mac(secret: &[u8], text: &str) -> HmacSm3 {
    let mut mac = HmacSm3::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(text.as_bytes());
    mac
}

fn token_text(key_id: &str, expires: i64) -> String {
    format!("{TOKEN_LABEL}\n{key_id}\n{expires}")
}

/// Who may push, and which signed requests were already taken.
#[derive(Debug, Default)]
pub struct Gate {
    keys: PushKeys,
    /// Each signature accepted, with the second its timestamp leaves the window: past
    /// that the window refuses the request anyway, so the entry can go.
    seen: Mutex<HashMap<Vec<u8>, i64>>,
    /// The second this gate opened. `seen` starts empty with every start of the hub, so a
    /// request signed before then cannot be told from a replay of one a previous run took,
    /// and is refused: the department signs again, which it does for every retry anyway.
    opened_at: i64,
}

/// A request whose signature checked out.
#[derive(Debug)]
pub struct Signed<'a> {
    pub key: &'a PushKey,
    pub timestamp: OffsetDateTime,
}

/// A bearer token for the Debezium endpoint.
#[derive(Debug)]
pub struct Token {
    pub access_token: String,
    pub expires_in: i64,
}

impl Gate {
    pub fn new(keys: PushKeys) -> Gate {
        Gate::opened_at(keys, OffsetDateTime::now_utc().unix_timestamp())
    }

    pub(crate) fn opened_at(keys: PushKeys, opened_at: i64) -> Gate {
        Gate {
            keys,
            seen: Mutex::default(),
            opened_at,
        }
    }

    /// Checks a signed push to `source` at `now` (Unix seconds) and remembers its
    /// signature, so the same request is refused if it comes again.
    pub fn admit_signed(
        &self,
        headers: &HeaderMap,
        method: &str,
        path: &str,
        body: &[u8],
        source: &str,
        now: i64,
    ) -> Result<Signed<'_>, AuthError> {
        let [key_id, timestamp, signature] =
            [KEY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER].map(|name| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .ok_or(AuthError::Missing(name))
            });
        let (key_id, timestamp, signature) = (key_id?, timestamp?, signature?);
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| AuthError::UnknownKey(key_id.to_owned()))?;
        let seconds = timestamp
            .parse::<i64>()
            .ok()
            .filter(|_| timestamp.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| AuthError::BadTimestamp(timestamp.to_owned()))?;
        let signature = hex::decode(signature).map_err(|_| AuthError::BadSignature)?;
        mac(
            key.secret.bytes(),
            &canonical_string(timestamp, method, path, body),
        )
        .verify_slice(&signature)
        .map_err(|_| AuthError::BadSignature)?;
        if (seconds - now).abs() > WINDOW_SECONDS {
            return Err(AuthError::OutOfWindow {
                timestamp: seconds,
                now,
            });
        }
        if seconds < self.opened_at {
            return Err(AuthError::SignedBeforeStart {
                timestamp: seconds,
                opened_at: self.opened_at,
            });
        }
        allowed(key, source)?;
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.retain(|_, stale_after| *stale_after >= now);
        if seen.insert(signature, seconds + WINDOW_SECONDS).is_some() {
            return Err(AuthError::Replayed);
        }
        Ok(Signed {
            key,
            timestamp: OffsetDateTime::from_unix_timestamp(seconds)
                .map_err(|_| AuthError::BadTimestamp(timestamp.to_owned()))?,
        })
    }

    /// OAuth2 client credentials (RFC 6749 §4.4): the key id as `client_id`, its secret
    /// (hex, as in the keys file) as `client_secret`. The token is a MAC under the key, so
    /// the hub keeps no list of tokens and they outlive a restart of the hub.
    pub fn issue_token(
        &self,
        client_id: &str,
        client_secret: &str,
        now: i64,
    ) -> Result<Token, AuthError> {
        let key = self
            .keys
            .get(client_id)
            .ok_or_else(|| AuthError::UnknownKey(client_id.to_owned()))?;
        let offered = hex::decode(client_secret.trim()).map_err(|_| AuthError::SecretInvalid)?;
        if !bool::from(key.secret.bytes().ct_eq(&offered)) {
            return Err(AuthError::SecretInvalid);
        }
        let expires = now + TOKEN_SECONDS;
        let seal = hex::encode(
            mac(key.secret.bytes(), &token_text(&key.key_id, expires))
                .finalize()
                .into_bytes(),
        );
        Ok(Token {
            access_token: format!("{}.{expires}.{seal}", key.key_id),
            expires_in: TOKEN_SECONDS,
        })
    }

    /// Checks the bearer token of a Debezium delivery to `source`.
    pub fn admit_bearer(
        &self,
        headers: &HeaderMap,
        source: &str,
        now: i64,
    ) -> Result<&PushKey, AuthError> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(AuthError::TokenMissing)?;
        let mut parts = token.split('.');
        let (Some(key_id), Some(expires), Some(seal), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::TokenInvalid);
        };
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| AuthError::UnknownKey(key_id.to_owned()))?;
        let expires_at = expires
            .parse::<i64>()
            .map_err(|_| AuthError::TokenInvalid)?;
        let seal = hex::decode(seal).map_err(|_| AuthError::TokenInvalid)?;
        mac(key.secret.bytes(), &token_text(key_id, expires_at))
            .verify_slice(&seal)
            .map_err(|_| AuthError::TokenInvalid)?;
        if expires_at <= now {
            return Err(AuthError::TokenExpired(expires_at));
        }
        allowed(key, source)?;
        Ok(key)
    }
}

fn allowed(key: &PushKey, source: &str) -> Result<(), AuthError> {
    if key.may_push(source) {
        Ok(())
    } else {
        Err(AuthError::SourceNotAllowed {
            department: key.department.clone(),
            key_id: key.key_id.clone(),
            source_name: source.to_owned(),
        })
    }
}

/// `Authorization: Basic base64(client_id:client_secret)`, how Debezium sends its
/// credentials by default (`client_auth_method=client_secret_basic`). `None` when the
/// request has no Basic credentials.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let (scheme, encoded) = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn shown(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.to_offset(SHANGHAI).format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// Why a department's request was refused. Nothing of it is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("缺少请求头 {0}")]
    Missing(&'static str),
    #[error("数据中心没有编号为 {0:?} 的部门密钥")]
    UnknownKey(String),
    #[error("签名不正确")]
    BadSignature,
    #[error("请求头 {TIMESTAMP_HEADER} 应为 Unix 时间（秒，十进制整数），收到 {0:?}")]
    BadTimestamp(String),
    #[error(
        "签名时间 {} 与数据中心时间 {} 相差 {} 秒，超过了 ±{WINDOW_SECONDS} 秒",
        shown(*timestamp), shown(*now), (timestamp - now).abs()
    )]
    OutOfWindow { timestamp: i64, now: i64 },
    #[error(
        "签名时间 {} 早于数据中心本次启动（{}）：启动前签名的请求无法确认不是重放",
        shown(*timestamp), shown(*opened_at)
    )]
    SignedBeforeStart { timestamp: i64, opened_at: i64 },
    #[error("该请求（同一签名）已经收到过")]
    Replayed,
    #[error("部门 {department} 的密钥 {key_id} 无权推送 {source_name}")]
    SourceNotAllowed {
        department: String,
        key_id: String,
        // Not `source`: thiserror would take it for the error's cause.
        source_name: String,
    },
    #[error("缺少令牌（Authorization: Bearer …）")]
    TokenMissing,
    #[error("令牌无效")]
    TokenInvalid,
    #[error("令牌已于 {} 过期", shown(*.0))]
    TokenExpired(i64),
    #[error("缺少客户端凭据 client_id 与 client_secret")]
    CredentialsMissing,
    #[error("client_secret 不正确")]
    SecretInvalid,
    #[error("grant_type 应为 client_credentials，收到 {0:?}")]
    UnsupportedGrant(String),
}

impl AuthError {
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::SourceNotAllowed { .. } => StatusCode::FORBIDDEN,
            AuthError::UnsupportedGrant(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing(_) => "signature_missing",
            AuthError::UnknownKey(_) => "unknown_key",
            AuthError::BadSignature => "signature_invalid",
            AuthError::BadTimestamp(_)
            | AuthError::OutOfWindow { .. }
            | AuthError::SignedBeforeStart { .. } => "timestamp_out_of_window",
            AuthError::Replayed => "replayed",
            AuthError::SourceNotAllowed { .. } => "source_not_allowed",
            AuthError::TokenMissing => "token_missing",
            AuthError::TokenInvalid => "token_invalid",
            AuthError::TokenExpired(_) => "token_expired",
            AuthError::CredentialsMissing => "credentials_missing",
            AuthError::SecretInvalid => "client_secret_invalid",
            AuthError::UnsupportedGrant(_) => "unsupported_grant_type",
        }
    }

    /// What the department does about it.
    pub fn advice(&self) -> &'static str {
        match self {
            AuthError::Missing(_) => {
                "推送请求须带 X-Yizhan-Key、X-Yizhan-Timestamp、X-Yizhan-Signature 三个请求头，见接口文档“部门推送接口”一节。"
            }
            AuthError::UnknownKey(_) => {
                "请核对密钥编号；新密钥须由数据中心管理员写入密钥文件并重启数据中心后生效。"
            }
            AuthError::BadSignature => {
                "请按接口文档的规范串重新计算签名：核对密钥、方法、路径，并确认签名后请求体未被改动（编码、换行、空格）。"
            }
            AuthError::BadTimestamp(_)
            | AuthError::OutOfWindow { .. }
            | AuthError::SignedBeforeStart { .. } => {
                "请校准服务器时钟（NTP），每次发送（包括重发）都用当前时间重新签名。"
            }
            AuthError::Replayed => {
                "重发请用当前时间重新签名；数据中心按记录编号去重，重发不会重复写入。"
            }
            AuthError::SourceNotAllowed { .. } => {
                "该密钥不能推送这类数据；如确需推送，请联系数据中心管理员为密钥增加数据源。"
            }
            AuthError::TokenMissing | AuthError::TokenInvalid | AuthError::TokenExpired(_) => {
                "请用部门密钥向 /v1/push/debezium/token 申请新令牌（Debezium：authentication.type=oauth2）。"
            }
            AuthError::CredentialsMissing | AuthError::SecretInvalid => {
                "client_id 填密钥编号，client_secret 填密钥（十六进制），以 HTTP Basic 或表单字段发送。"
            }
            AuthError::UnsupportedGrant(_) => {
                "本接口只支持 OAuth2 客户端凭据方式：grant_type=client_credentials。"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    /// docs/api.md's worked example. The SM3 and the HMAC-SM3 were computed by another
    /// implementation (Python's `hashlib`/`hmac` over OpenSSL's SM3), not by this code.
    const EXAMPLE_BODY: &str = r#"{"schema":"yizhan.push.v1","records":[{"notice_no":"RF-2025-0042","project_code":"2025-320115-70-01-000001","civil_defence_area":12345,"amount_fen":32097000,"issued_on":"2025-07-01","due_on":"2025-07-31"}]}"#;
    const EXAMPLE_BODY_SM3: &str =
        "08009dc1c33ce7c9da42bd95a7e6c74be726de4fb6e1bbb096988bb1fc6e6b1e";
    const EXAMPLE_SIGNATURE: &str =
        "591ebfa55affecb25ef912771ad10e435a2ed634114194e4e396ff0ff2e1d2e5";

    /// The example key, bytes 00 01 … 1f (`keys::EXAMPLE_SECRET_HEX`).
    fn example_secret() -> Vec<u8> {
        hex::decode(crate::push::keys::EXAMPLE_SECRET_HEX).unwrap()
    }

    #[test]
    fn the_canonical_string_is_the_documented_five_lines() {
        let canonical = canonical_string(
            "1795488000",
            "POST",
            "/v1/push/civil-defence",
            EXAMPLE_BODY.as_bytes(),
        );
        assert_eq!(
            canonical,
            format!(
                "YIZHAN-HMAC-SM3\n1795488000\nPOST\n/v1/push/civil-defence\n{EXAMPLE_BODY_SM3}"
            )
        );
    }

    #[test]
    fn the_signature_matches_an_independent_hmac_sm3() {
        let canonical = canonical_string(
            "1795488000",
            "POST",
            "/v1/push/civil-defence",
            EXAMPLE_BODY.as_bytes(),
        );
        assert_eq!(sign(&example_secret(), &canonical), EXAMPLE_SIGNATURE);
    }

    const SECRET: &str = "8f3c2a9d4b7e1f6a0c5d8e2b9a4f7c1d3e6b0a8f5c2d9e4b7a1f0c6d3e8b5a2f";
    const NOW: i64 = 1_795_488_000;

    fn gate(opened_at: i64) -> Gate {
        let keys = PushKeys::parse(&format!(
            "[[key]]\ndepartment = \"swj\"\nkey_id = \"swj-1\"\nsecret = \"{SECRET}\"\nsources = [\"tax\"]\n"
        ))
        .unwrap();
        Gate::opened_at(keys, opened_at)
    }

    fn signed(timestamp: i64, body: &str) -> HeaderMap {
        let canonical = canonical_string(
            &timestamp.to_string(),
            "POST",
            "/v1/push/tax",
            body.as_bytes(),
        );
        let mut headers = HeaderMap::new();
        headers.insert(KEY_HEADER, HeaderValue::from_static("swj-1"));
        headers.insert(
            TIMESTAMP_HEADER,
            HeaderValue::from_str(&timestamp.to_string()).unwrap(),
        );
        headers.insert(
            SIGNATURE_HEADER,
            HeaderValue::from_str(&sign(&hex::decode(SECRET).unwrap(), &canonical)).unwrap(),
        );
        headers
    }

    fn admit(gate: &Gate, headers: &HeaderMap, body: &str, now: i64) -> Result<String, AuthError> {
        gate.admit_signed(headers, "POST", "/v1/push/tax", body.as_bytes(), "tax", now)
            .map(|signed| signed.key.department.clone())
    }

    #[test]
    fn a_signed_request_is_taken_once_within_the_window() {
        let gate = gate(NOW - 1000);
        let headers = signed(NOW - 10, "{}");
        assert_eq!(admit(&gate, &headers, "{}", NOW), Ok("swj".to_owned()));
        assert_eq!(
            admit(&gate, &headers, "{}", NOW + 1),
            Err(AuthError::Replayed)
        );
        // Signed again a second later, the same body is a new request.
        assert!(admit(&gate, &signed(NOW - 9, "{}"), "{}", NOW + 1).is_ok());
    }

    #[test]
    fn the_window_is_three_hundred_seconds_either_way() {
        let gate = gate(NOW - 1000);
        for skew in [-300, 300] {
            assert!(
                admit(&gate, &signed(NOW + skew, "{}"), "{}", NOW).is_ok(),
                "{skew}"
            );
        }
        for skew in [-301, 301] {
            let refused = admit(&gate, &signed(NOW + skew, "{}"), "{}", NOW).unwrap_err();
            assert_eq!(
                refused.code(),
                "timestamp_out_of_window",
                "{skew}: {refused}"
            );
            assert!(refused.to_string().contains("相差 301 秒"), "{refused}");
        }
    }

    #[test]
    fn a_request_signed_before_the_gate_opened_is_refused() {
        let refused = admit(&gate(NOW), &signed(NOW - 1, "{}"), "{}", NOW).unwrap_err();
        assert!(
            matches!(refused, AuthError::SignedBeforeStart { .. }),
            "{refused}"
        );
        assert!(
            refused.to_string().contains("早于数据中心本次启动"),
            "{refused}"
        );
    }

    #[test]
    fn stale_signatures_leave_the_replay_cache() {
        let gate = gate(NOW - 1000);
        admit(&gate, &signed(NOW, "{}"), "{}", NOW).unwrap();
        admit(&gate, &signed(NOW + 301, "{}"), "{}", NOW + 301).unwrap();
        assert_eq!(gate.seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn every_other_refusal_has_its_code() {
        let gate = gate(NOW - 1000);
        let good = signed(NOW, "{}");
        let without = |name: &str| {
            let mut headers = good.clone();
            headers.remove(name);
            headers
        };
        let with = |name: &'static str, value: &'static str| {
            let mut headers = good.clone();
            headers.insert(name, HeaderValue::from_static(value));
            headers
        };
        let cases = [
            (without(SIGNATURE_HEADER), "{}", "signature_missing"),
            (without(KEY_HEADER), "{}", "signature_missing"),
            (with(KEY_HEADER, "swj-2"), "{}", "unknown_key"),
            (good.clone(), "{ }", "signature_invalid"),
            (with(SIGNATURE_HEADER, "not hex"), "{}", "signature_invalid"),
            (
                with(TIMESTAMP_HEADER, "+1795488000"),
                "{}",
                "timestamp_out_of_window",
            ),
        ];
        for (headers, body, code) in cases {
            assert_eq!(
                admit(&gate, &headers, body, NOW).unwrap_err().code(),
                code,
                "{headers:?}"
            );
        }
        let refused = gate
            .admit_signed(&good, "POST", "/v1/push/tax", b"{}", "payments", NOW)
            .unwrap_err();
        assert_eq!(
            (refused.code(), refused.status()),
            ("source_not_allowed", StatusCode::FORBIDDEN)
        );
    }

    #[test]
    fn a_token_from_the_keys_secret_admits_until_it_expires() {
        let gate = gate(NOW);
        assert_eq!(
            gate.issue_token("swj-1", "00", NOW).unwrap_err(),
            AuthError::SecretInvalid
        );
        assert_eq!(
            gate.issue_token("swj-9", SECRET, NOW).unwrap_err().code(),
            "unknown_key"
        );
        let token = gate.issue_token("swj-1", SECRET, NOW).unwrap();
        assert_eq!(token.expires_in, TOKEN_SECONDS);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {}", token.access_token)).unwrap(),
        );
        assert_eq!(
            gate.admit_bearer(&headers, "tax", NOW + 10)
                .unwrap()
                .department,
            "swj"
        );
        assert_eq!(
            gate.admit_bearer(&headers, "tax", NOW + TOKEN_SECONDS)
                .unwrap_err()
                .code(),
            "token_expired"
        );
        assert_eq!(
            gate.admit_bearer(&headers, "payments", NOW)
                .unwrap_err()
                .code(),
            "source_not_allowed"
        );
        let forged = token.access_token.replace(
            &format!(".{}.", NOW + TOKEN_SECONDS),
            &format!(".{}.", NOW + 99_999),
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {forged}")).unwrap(),
        );
        assert_eq!(
            gate.admit_bearer(&headers, "tax", NOW).unwrap_err(),
            AuthError::TokenInvalid
        );
        assert_eq!(
            gate.admit_bearer(&HeaderMap::new(), "tax", NOW)
                .unwrap_err(),
            AuthError::TokenMissing
        );
    }

    #[test]
    fn basic_credentials_are_read_as_debezium_sends_them() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("swj-1:{SECRET}"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some(("swj-1".to_owned(), SECRET.to_owned()))
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_credentials(&headers), None);
    }
}
