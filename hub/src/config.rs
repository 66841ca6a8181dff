//! How one hub is set up: where its database is, which tariff assesses fees and the due
//! date rule.

use std::path::{Path, PathBuf};

use yizhan_core::tariff::Tariff;

use crate::store::StoreUrl;

/// Days from assessment to the due date when the operator sets none.
pub const DEFAULT_DUE_DAYS: u32 = 30;
/// Largest ingest body accepted; connectors split larger pushes into batches.
pub const BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;
/// Largest legacy export file accepted: the reader's 200,000-row limit fits well inside.
pub const IMPORT_LIMIT_BYTES: usize = 48 * 1024 * 1024;
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8640";

#[derive(Debug, Clone)]
pub struct HubConfig {
    pub store: StoreUrl,
    /// The file the hub's signing key is kept in, apart from the database.
    pub key_file: PathBuf,
    pub tariff: Tariff,
    /// The infrastructure fee is due this many days after the approval it is assessed on.
    pub due_days: u32,
}

impl HubConfig {
    /// The SQLite file `db` with the demo tariff, the default due rule and the key file
    /// beside the database.
    pub fn new(db: impl Into<PathBuf>) -> HubConfig {
        let db = db.into();
        HubConfig {
            key_file: crate::keys::KeyFile::beside(&db).path().to_owned(),
            store: StoreUrl::Sqlite(db),
            tariff: Tariff::demo(),
            due_days: DEFAULT_DUE_DAYS,
        }
    }
}

pub fn load_tariff(path: &Path) -> anyhow::Result<Tariff> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("无法读取收费标准文件 {}：{e}", path.display()))?;
    Tariff::from_toml(&text).map_err(|e| anyhow::anyhow!("{}：{e}", path.display()))
}

impl crate::hub::Hub {
    /// Puts a configuration made outside the hub (a file or a flag read at start) on record
    /// as `object` when it differs from the one the last start recorded: a changed tariff
    /// file or connector between two starts is a configuration change like any other.
    /// `config` must hold no secret: it is kept in the audit record as it is.
    pub async fn note_configuration(&self, object: &str, config: serde_json::Value) -> Result<(), crate::store::StoreError> {
        use crate::audit::{Actor, AuditEvent, Entry};
        use crate::store::AuditQuery;
        use sm3::Digest;

        let digest = hex::encode(sm3::Sm3::digest(config.to_string().as_bytes()));
        let query = AuditQuery {
            event: Some(AuditEvent::ConfigChanged.as_str().to_owned()),
            object: Some(object.to_owned()),
            limit: 1,
            ..AuditQuery::default()
        };
        let before = self.store().search_audit(&query).await?.pop().and_then(|r| {
            serde_json::from_str::<serde_json::Value>(&r.detail).ok()?.get("sm3_after")?.as_str().map(str::to_owned)
        });
        if before.as_deref() == Some(digest.as_str()) {
            return Ok(());
        }
        let actor = Actor { user: "yizhan-hub serve".into(), role: "operator".into(), ..Actor::default() };
        let entry = Entry::new(&actor, AuditEvent::ConfigChanged, object).detail(serde_json::json!({
            "sm3_before": before,
            "sm3_after": digest,
            "config": config,
        }));
        self.audit(entry).await
    }

    /// [`Hub::note_configuration`] of the fee rules this hub assesses by.
    pub async fn note_assessment_rules(&self) -> Result<(), crate::store::StoreError> {
        let rules = self.rules();
        self.note_configuration(ASSESSMENT_RULES, serde_json::json!({ "tariff": rules.tariff, "due_days": rules.due_days }))
            .await
    }
}

/// The audit trail's name for the tariff and due days the hub assesses by.
const ASSESSMENT_RULES: &str = "assessment_rules";
