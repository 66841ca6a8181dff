//! Where the hub's own keys come from: never from the database they protect, so a copy or
//! backup of the data carries no key (GB/T 39786: keys kept apart from the data). A
//! hardware crypto module implements [`KeyProvider`] the same way the key file does.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use yizhan_sync::integrity::HubSigner;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("无法读写密钥文件 {path}：{source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("密钥文件 {path} 无法使用：{problem}")]
    Unusable { path: PathBuf, problem: String },
    #[error(
        "密钥文件 {path} 中的签名密钥与数据库中旧版保存的不是同一把：请核实哪一把是各窗口已记录的数据中心密钥，移走另一把后再启动"
    )]
    TwoKeys { path: PathBuf },
}

/// Gives the hub its keys.
pub trait KeyProvider: Send + Sync {
    /// The SM2 key that seals batches and snapshots; made on first use. Counters pin its
    /// public key, so it must outlive any database restore.
    fn signing_key(&self) -> Result<HubSigner, KeyError>;

    /// Takes over a signing key an older hub kept elsewhere (in its database), so that
    /// counters which pinned it keep trusting this hub. Refuses a second, different key.
    fn adopt_signing_key(&self, secret: &[u8]) -> Result<(), KeyError>;

    /// The HMAC-SM3 key of the audit trail's chain; made on first use. Whoever can write
    /// the database but not read this key cannot forge a record that verifies.
    fn audit_key(&self) -> Result<AuditKey, KeyError>;
}

/// The audit trail's MAC key: 256 random bits.
#[derive(Clone)]
pub struct AuditKey([u8; 32]);

impl AuditKey {
    pub fn generate() -> AuditKey {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
        AuditKey(key)
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<AuditKey> {
        bytes.try_into().ok().map(AuditKey)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(…)")
    }
}

/// A key file readable only by the service user: the secret scalar in hex on one line.
#[derive(Debug, Clone)]
pub struct KeyFile {
    path: PathBuf,
}

impl KeyFile {
    pub fn at(path: impl Into<PathBuf>) -> KeyFile {
        KeyFile { path: path.into() }
    }

    /// Where a hub keeps its key when the operator names no file: beside its database,
    /// `hub.sqlite3` → `hub.signing-key`.
    pub fn beside(db: &Path) -> KeyFile {
        KeyFile::at(db.with_extension("signing-key"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> KeyError {
        KeyError::Io { path: self.path.clone(), source }
    }

    fn unusable(&self, problem: impl Into<String>) -> KeyError {
        KeyError::Unusable { path: self.path.clone(), problem: problem.into() }
    }

    /// The secret the file holds, or `None` when there is no file yet.
    fn read_secret(&self) -> Result<Option<Vec<u8>>, KeyError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(e)),
        };
        self.check_mode()?;
        hex::decode(text.trim()).map(Some).map_err(|_| self.unusable("内容应为十六进制的密钥"))
    }

    fn read(&self) -> Result<Option<HubSigner>, KeyError> {
        let Some(bytes) = self.read_secret()? else { return Ok(None) };
        HubSigner::from_secret_bytes(&bytes).map(Some).map_err(|e| self.unusable(e.to_string()))
    }

    /// The file the audit trail's MAC key is kept in: beside the signing key, as
    /// `hub.audit-key`, so that neither lives in the database the trail is in.
    fn audit_key_file(&self) -> KeyFile {
        KeyFile::at(self.path.with_extension("audit-key"))
    }

    fn check_mode(&self) -> Result<(), KeyError> {
        check_private(&self.path)
    }

    fn write_secret(&self, secret: &[u8]) -> Result<(), KeyError> {
        write_private(&self.path, format!("{}\n", hex::encode(secret)).as_bytes())?;
        tracing::info!(file = %self.path.display(), "密钥已写入密钥文件");
        Ok(())
    }
}

/// A key others can read is no longer the hub's alone: refuse it rather than use it, and
/// say how to put it right.
#[cfg(unix)]
pub(crate) fn check_private(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path).map_err(|source| KeyError::Io { path: path.to_owned(), source })?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(KeyError::Unusable {
            path: path.to_owned(),
            problem: format!("其他用户也能读写（权限 {:o}），请执行 chmod 600 {} 并确认属主为服务用户", mode & 0o777, path.display()),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn check_private(_: &Path) -> Result<(), KeyError> {
    Ok(())
}

/// Writes a secret to a new file of mode 0600 beside the final one, syncs it and moves it
/// into place, so a crash leaves either no file or a whole one.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> Result<(), KeyError> {
    let io = |source| KeyError::Io { path: path.to_owned(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io)?;
    }
    let mut fresh = path.to_owned().into_os_string();
    fresh.push(".new");
    let fresh = PathBuf::from(fresh);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&fresh).map_err(io)?;
    file.write_all(contents).map_err(io)?;
    file.sync_all().map_err(io)?;
    fs::rename(&fresh, path).map_err(io)
}

impl KeyProvider for KeyFile {
    fn signing_key(&self) -> Result<HubSigner, KeyError> {
        if let Some(signer) = self.read()? {
            return Ok(signer);
        }
        let signer = HubSigner::generate();
        self.write_secret(&signer.secret_bytes())?;
        Ok(signer)
    }

    fn audit_key(&self) -> Result<AuditKey, KeyError> {
        let file = self.audit_key_file();
        if let Some(bytes) = file.read_secret()? {
            return AuditKey::from_bytes(&bytes).ok_or_else(|| file.unusable("审计密钥应为 32 字节"));
        }
        let key = AuditKey::generate();
        file.write_secret(key.bytes())?;
        Ok(key)
    }

    fn adopt_signing_key(&self, secret: &[u8]) -> Result<(), KeyError> {
        let old = HubSigner::from_secret_bytes(secret).map_err(|e| self.unusable(format!("数据库中旧版保存的签名密钥无法读取：{e}")))?;
        match self.read()? {
            Some(kept) if kept.secret_bytes() == old.secret_bytes() => Ok(()),
            Some(_) => Err(KeyError::TwoKeys { path: self.path.clone() }),
            None => self.write_secret(&old.secret_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let file = KeyFile::beside(&dir.path().join("hub.sqlite3"));
        assert_eq!(file.path(), dir.path().join("hub.signing-key"));
        let made = file.signing_key().unwrap();
        assert_eq!(file.signing_key().unwrap().public_key(), made.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(file.path()).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(!dir.path().join("hub.signing-key.new").exists());
        let audit = file.audit_key().unwrap();
        assert_eq!(file.audit_key().unwrap().bytes(), audit.bytes());
        assert!(dir.path().join("hub.audit-key").exists());
    }

    #[test]
    fn an_older_key_is_adopted_once_and_a_different_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = KeyFile::at(dir.path().join("keys/hub.signing-key"));
        let old = HubSigner::generate();
        file.adopt_signing_key(&old.secret_bytes()).unwrap();
        file.adopt_signing_key(&old.secret_bytes()).unwrap();
        assert_eq!(file.signing_key().unwrap().public_key(), old.public_key());
        let other = HubSigner::generate();
        assert!(matches!(file.adopt_signing_key(&other.secret_bytes()), Err(KeyError::TwoKeys { .. })));
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = KeyFile::at(dir.path().join("hub.signing-key"));
        file.signing_key().unwrap();
        fs::set_permissions(file.path(), fs::Permissions::from_mode(0o644)).unwrap();
        let err = file.signing_key().err().expect("refused").to_string();
        assert!(err.contains("chmod 600"), "{err}");
        fs::write(file.path(), "not hex\n").unwrap();
        fs::set_permissions(file.path(), fs::Permissions::from_mode(0o600)).unwrap();
        assert!(file.signing_key().err().expect("refused").to_string().contains("十六进制"));
    }
}
