//! The departments' keys: a TOML file the operator keeps beside the hub and names with
//! `yizhan-hub serve --push-keys FILE`. One `[[key]]` per key, so a department can hold
//! two while it rotates:
//!
//! ```toml
//! [[key]]
//! department = "renfang"            # 人防办; its pushes are connector push:renfang
//! key_id = "renfang-2026"
//! secret = "…64 or more hex digits…"
//! sources = ["civil-defence"]
//! ```
//!
//! A file with any problem is refused whole at start, with the line and the problem:
//! a hub that half-loaded its keys would refuse a department for a reason nobody sees.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;
use yizhan_sync::protocol::{CivilDefenceNotice, PaymentRecord, TaxClearanceRecord};

use crate::ingest::IngestRecord;

/// The sources a department may push. Planning approvals are not among them: they come
/// from the planning database and its daily export.
pub const PUSH_SOURCES: [&str; 3] = [
    CivilDefenceNotice::SOURCE,
    TaxClearanceRecord::SOURCE,
    PaymentRecord::SOURCE,
];

/// RFC 2104 discourages HMAC keys shorter than the hash's output, 32 bytes for SM3.
pub const MIN_SECRET_BYTES: usize = 32;

/// The secret of docs/api.md's worked example: published, so never a real key.
pub const EXAMPLE_SECRET_HEX: &str =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// Key bytes; `Debug` prints no part of them, so a key never reaches a log by accident.
#[derive(Clone)]
pub(crate) struct Secret(Vec<u8>);

impl Secret {
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One department's key.
#[derive(Debug, Clone)]
pub struct PushKey {
    /// The department's code, in connector names: `push:{department}`.
    pub department: String,
    pub key_id: String,
    pub(crate) secret: Secret,
    sources: Vec<String>,
}

impl PushKey {
    pub fn may_push(&self, source: &str) -> bool {
        self.sources.iter().any(|s| s == source)
    }
}

/// Every key of the file, by key id.
#[derive(Debug, Clone, Default)]
pub struct PushKeys {
    by_id: HashMap<String, PushKey>,
}

/// A problem with the keys file, at a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFileError {
    pub line: usize,
    pub problem: String,
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "第 {} 行：{}", self.line, self.problem)
    }
}

impl std::error::Error for KeyFileError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    #[serde(default)]
    key: Vec<KeyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    department: Spanned<String>,
    key_id: Spanned<String>,
    secret: Spanned<String>,
    sources: Spanned<Vec<Spanned<String>>>,
}

impl PushKeys {
    pub fn load(path: &Path) -> anyhow::Result<PushKeys> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("无法读取部门密钥文件 {}：{e}", path.display()))?;
        PushKeys::parse(&text).map_err(|e| anyhow::anyhow!("部门密钥文件 {} {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<PushKeys, KeyFileError> {
        let at = |span: Range<usize>, problem: String| KeyFileError {
            line: text[..span.start.min(text.len())].matches('\n').count() + 1,
            problem,
        };
        let file: KeyFile = toml::from_str(text).map_err(|e| {
            at(
                e.span().unwrap_or(0..0),
                format!("不是有效的密钥文件（{}）", e.message().trim()),
            )
        })?;
        if file.key.is_empty() {
            return Err(at(
                0..0,
                "文件中没有任何 [[key]]：至少要有一个部门的密钥".to_owned(),
            ));
        }
        let mut keys = PushKeys::default();
        let mut lines = HashMap::new();
        for entry in file.key {
            let department = entry.department.get_ref();
            if !is_code(department, |c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
            }) || !department.starts_with(|c: char| c.is_ascii_lowercase())
            {
                return Err(at(
                    entry.department.span(),
                    format!(
                        "department {department:?} 应为小写字母开头、由小写字母、数字和 - 组成的代号，如 renfang（人防办）"
                    ),
                ));
            }
            let key_id = entry.key_id.get_ref();
            // The id travels in a header, in OAuth2 Basic credentials (where `:` ends it)
            // and in tokens (where `.` does).
            if !is_code(key_id, |c| {
                c.is_ascii_alphanumeric() || c == '-' || c == '_'
            }) {
                return Err(at(
                    entry.key_id.span(),
                    format!("key_id {key_id:?} 只能由字母、数字、- 和 _ 组成（1 至 64 个字符）"),
                ));
            }
            let line = at(entry.key_id.span(), String::new()).line;
            if let Some(first) = lines.insert(key_id.clone(), line) {
                return Err(at(
                    entry.key_id.span(),
                    format!("key_id {key_id} 与第 {first} 行的密钥重复"),
                ));
            }
            let secret = read_secret(entry.secret.get_ref())
                .map_err(|problem| at(entry.secret.span(), problem))?;
            let mut sources = Vec::new();
            for source in entry.sources.get_ref() {
                if !PUSH_SOURCES.contains(&source.get_ref().as_str()) {
                    return Err(at(
                        source.span(),
                        format!(
                            "sources 中的 {:?} 不是可推送的数据源，应为 {} 之一",
                            source.get_ref(),
                            PUSH_SOURCES.join("、")
                        ),
                    ));
                }
                sources.push(source.get_ref().clone());
            }
            if sources.is_empty() {
                return Err(at(
                    entry.sources.span(),
                    "sources 为空：该密钥不能推送任何数据".to_owned(),
                ));
            }
            keys.by_id.insert(
                key_id.clone(),
                PushKey {
                    department: department.clone(),
                    key_id: key_id.clone(),
                    secret,
                    sources,
                },
            );
        }
        Ok(keys)
    }

    pub fn get(&self, key_id: &str) -> Option<&PushKey> {
        self.by_id.get(key_id)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

fn is_code(text: &str, allowed: impl Fn(char) -> bool) -> bool {
    (1..=64).contains(&text.len()) && text.chars().all(allowed)
}

fn read_secret(hex_text: &str) -> Result<Secret, String> {
    let bytes = hex::decode(hex_text).map_err(|_| {
        "secret 应为十六进制字符串（0-9、a-f，偶数个字符）；可用 `openssl rand -hex 32` 生成"
            .to_owned()
    })?;
    if bytes.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "secret 只有 {} 字节，至少需要 {MIN_SECRET_BYTES} 字节（{} 个十六进制字符）",
            bytes.len(),
            MIN_SECRET_BYTES * 2
        ));
    }
    if hex_text.eq_ignore_ascii_case(EXAMPLE_SECRET_HEX) {
        return Err(
            "secret 是接口文档示例中公开的密钥，不能使用：请用 `openssl rand -hex 32` 生成新密钥"
                .to_owned(),
        );
    }
    Ok(Secret(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "8f3c2a9d4b7e1f6a0c5d8e2b9a4f7c1d3e6b0a8f5c2d9e4b7a1f0c6d3e8b5a2f";

    fn file(entry: &str) -> String {
        format!("# 部门密钥\n[[key]]\n{entry}\n")
    }

    fn good() -> String {
        file(&format!(
            "department = \"renfang\"\nkey_id = \"renfang-2026\"\nsecret = \"{SECRET}\"\nsources = [\"civil-defence\"]"
        ))
    }

    #[test]
    fn a_good_file_gives_each_key_its_department_and_sources() {
        let keys = PushKeys::parse(&good()).unwrap();
        let key = keys.get("renfang-2026").unwrap();
        assert_eq!(key.department, "renfang");
        assert!(key.may_push("civil-defence"));
        assert!(!key.may_push("payments"));
        assert_eq!(key.secret.bytes().len(), 32);
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let keys = PushKeys::parse(&good()).unwrap();
        let shown = format!("{keys:?}");
        assert!(!shown.contains(&SECRET[..16]), "{shown}");
        assert!(shown.contains("Secret(***)"), "{shown}");
    }

    #[test]
    fn each_problem_is_named_with_its_line() {
        let cases = [
            (good().replace(SECRET, &SECRET[..40]), 5, "至少需要 32 字节"),
            (
                good().replace(SECRET, &SECRET.replace('f', "g")),
                5,
                "十六进制",
            ),
            (good().replace(SECRET, EXAMPLE_SECRET_HEX), 5, "示例"),
            (
                good().replace("civil-defence", "planning"),
                6,
                "不是可推送的数据源",
            ),
            (
                good().replace("[\"civil-defence\"]", "[]"),
                6,
                "sources 为空",
            ),
            (good().replace("\"renfang\"", "\"人防办\""), 3, "department"),
            (good().replace("renfang-2026", "renfang:2026"), 4, "key_id"),
            (good().replace("department", "dept"), 3, "dept"),
            (
                good().replace("sources = ", "sources == "),
                6,
                "不是有效的密钥文件",
            ),
            ("# 还没有密钥\n".to_owned(), 1, "没有任何 [[key]]"),
            (
                format!("{}{}", good(), good().replace("# 部门密钥\n", "")),
                9,
                "与第 4 行的密钥重复",
            ),
        ];
        for (text, line, problem) in cases {
            let error = PushKeys::parse(&text).unwrap_err();
            assert_eq!(error.line, line, "{text}\n{error}");
            assert!(error.problem.contains(problem), "{text}\n{error}");
        }
    }
}
