//! Where the counter keeps its replica and which hub it follows. Set per PC by the
//! installer through the environment; the defaults suit a counter beside a local hub.

use std::path::PathBuf;

pub const DEFAULT_HUB_URL: &str = "http://127.0.0.1:8640";
/// Who the counter's commands are signed by until clerks log in (the security issue).
pub const DEFAULT_CLERK: &str = "窗口柜员";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub hub_url: String,
    pub data_dir: PathBuf,
    /// The clerk at this counter, recorded on every command.
    pub clerk: String,
    /// The hub's public key (hex, from its `/v1/health`), pinned by the installer: a hub
    /// with another key is refused. Unset, the key of the first snapshot is trusted.
    pub hub_key: Option<String>,
}

impl Settings {
    /// `YIZHAN_HUB_URL`, `YIZHAN_DATA_DIR` and `YIZHAN_CLERK`, falling back to the default
    /// hub, the platform's app data folder and the generic clerk name.
    pub fn from_env(app_data_dir: PathBuf) -> Settings {
        Settings::from_vars(
            std::env::var("YIZHAN_HUB_URL").ok(),
            std::env::var_os("YIZHAN_DATA_DIR").map(PathBuf::from),
            std::env::var("YIZHAN_CLERK").ok(),
            app_data_dir,
        )
        .with_hub_key(std::env::var("YIZHAN_HUB_KEY").ok())
    }

    fn with_hub_key(mut self, hub_key: Option<String>) -> Settings {
        self.hub_key = hub_key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty());
        self
    }

    fn from_vars(hub_url: Option<String>, data_dir: Option<PathBuf>, clerk: Option<String>, app_data_dir: PathBuf) -> Settings {
        let hub_url = hub_url
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_HUB_URL.to_owned());
        let clerk = clerk
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| DEFAULT_CLERK.to_owned());
        Settings { hub_url, data_dir: data_dir.unwrap_or(app_data_dir), clerk, hub_key: None }
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
            Some(" 窗口03-王芳 ".into()),
            "/home/a".into(),
        );
        assert_eq!(s.hub_url, "http://hub.example:8640");
        assert_eq!(s.replica_path(), PathBuf::from("/srv/counter/replica.sqlite3"));
        assert_eq!(s.clerk, "窗口03-王芳");

        let s = Settings::from_vars(Some("".into()), None, Some("  ".into()), "/home/a/yizhan".into());
        assert_eq!(s.hub_url, DEFAULT_HUB_URL);
        assert_eq!(s.clerk, DEFAULT_CLERK);
        assert_eq!(s.replica_path(), PathBuf::from("/home/a/yizhan/replica.sqlite3"));
        assert_eq!(s.clone().with_hub_key(Some("  ".into())).hub_key, None);
        assert_eq!(s.with_hub_key(Some(" 04ab ".into())).hub_key.as_deref(), Some("04ab"));
    }
}
