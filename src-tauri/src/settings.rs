//! Where the counter keeps its replica and which hub it follows. Set per PC by the
//! installer through the environment; the defaults suit a counter beside a local hub.

use std::path::PathBuf;

pub const DEFAULT_HUB_URL: &str = "http://127.0.0.1:8640";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub hub_url: String,
    /// The hub's CA certificate (PEM), the only one trusted for an `https://` hub
    /// (`YIZHAN_HUB_CA`).
    pub hub_ca: Option<PathBuf>,
    pub data_dir: PathBuf,
    /// The hub's public key (hex, from its `/v1/health`), pinned by the installer: a hub
    /// with another key is refused. Unset, the key of the first snapshot is trusted.
    pub hub_key: Option<String>,
    /// The one-time code to enrol this PC with at first start (`YIZHAN_ENROLMENT_CODE`;
    /// the demo passes the one its hub made).
    pub enrolment_code: Option<String>,
}

impl Settings {
    /// `YIZHAN_HUB_URL` and `YIZHAN_DATA_DIR`, falling back to the default hub and the
    /// platform's app data folder. Who works at the counter is whoever signs in.
    pub fn from_env(app_data_dir: PathBuf) -> Settings {
        Settings::from_vars(
            std::env::var("YIZHAN_HUB_URL").ok(),
            std::env::var_os("YIZHAN_DATA_DIR").map(PathBuf::from),
            app_data_dir,
        )
        .with_hub_key(std::env::var("YIZHAN_HUB_KEY").ok())
        .with_hub_ca(std::env::var_os("YIZHAN_HUB_CA").map(PathBuf::from))
        .with_enrolment_code(std::env::var("YIZHAN_ENROLMENT_CODE").ok())
    }

    fn with_enrolment_code(mut self, code: Option<String>) -> Settings {
        self.enrolment_code = code.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        self
    }

    fn with_hub_ca(mut self, hub_ca: Option<PathBuf>) -> Settings {
        self.hub_ca = hub_ca.filter(|p| !p.as_os_str().is_empty());
        self
    }

    fn with_hub_key(mut self, hub_key: Option<String>) -> Settings {
        self.hub_key = hub_key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty());
        self
    }

    fn from_vars(hub_url: Option<String>, data_dir: Option<PathBuf>, app_data_dir: PathBuf) -> Settings {
        let hub_url = hub_url
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_HUB_URL.to_owned());
        Settings { hub_url, hub_ca: None, data_dir: data_dir.unwrap_or(app_data_dir), hub_key: None, enrolment_code: None }
    }

    /// The hub as this PC reaches it: the address, trusted through the configured CA.
    pub fn hub_link(&self) -> Result<yizhan_sync::client::HubLink, String> {
        let ca = match &self.hub_ca {
            Some(path) => Some(std::fs::read(path).map_err(|e| format!("YIZHAN_HUB_CA：无法读取 {}：{e}", path.display()))?),
            None => None,
        };
        yizhan_sync::client::HubLink::new(&self.hub_url, ca.as_deref()).map_err(|e| e.to_string())
    }

    pub fn replica_path(&self) -> PathBuf {
        self.data_dir.join("replica.sqlite3")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_defaults_and_trailing_slashes_are_dropped() {
        let s = Settings::from_vars(
            Some(" http://hub.example:8640/ ".into()),
            Some("/srv/counter".into()),
            "/home/a".into(),
        );
        assert_eq!(s.hub_url, "http://hub.example:8640");
        assert_eq!(s.replica_path(), PathBuf::from("/srv/counter/replica.sqlite3"));

        let s = Settings::from_vars(Some("".into()), None, "/home/a/yizhan".into());
        assert_eq!(s.hub_url, DEFAULT_HUB_URL);
        assert_eq!(s.replica_path(), PathBuf::from("/home/a/yizhan/replica.sqlite3"));
        assert_eq!(s.clone().with_hub_key(Some("  ".into())).hub_key, None);
        assert_eq!(s.with_hub_key(Some(" 04ab ".into())).hub_key.as_deref(), Some("04ab"));
    }

    #[test]
    fn a_hub_elsewhere_is_reached_over_https_through_the_configured_ca_only() {
        let s = Settings::from_vars(Some("http://10.0.0.5:8640".into()), None, "/home/a".into());
        assert!(s.hub_link().unwrap_err().contains("拒绝以明文 HTTP"));
        let s = Settings::from_vars(Some("https://hub.example:8640".into()), None, "/home/a".into());
        assert!(s.hub_link().unwrap_err().contains("CA 证书"));
        let s = s.with_hub_ca(Some("/nonexistent/ca.pem".into()));
        assert!(s.hub_link().unwrap_err().starts_with("YIZHAN_HUB_CA"));
        assert_eq!(Settings::from_vars(None, None, "/home/a".into()).hub_link().unwrap().url(), DEFAULT_HUB_URL);
    }
}
