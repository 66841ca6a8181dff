//! HTTPS for the hub: the certificate and key it serves with (TLS 1.3 only), and the private
//! certificate authority that issues them (`yizhan-hub ca init`, `ca issue`), which every
//! counter trusts alone. The CA's key signs nothing else; kept offline, it is needed only to
//! issue the next server certificate.
//!
//! rustls has no TLCP (the SM2 cipher suites of GB/T 38636): where 密评 asks for a 国密
//! channel, a certified TLCP gateway terminates it in front of the hub (docs/operations.md).
//! The SM2 signatures on device proofs, commands, documents and batches do not depend on the
//! transport.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};
use yizhan_sync::protocol::tls::{ca_certificate, fingerprint};

use crate::keys::{KeyError, check_private, write_private};

/// How long a CA made by `ca init` is valid.
const CA_VALIDITY: Duration = Duration::days(10 * 365);
/// How long a server certificate made by `ca issue` is valid: renewed every two years.
const SERVER_VALIDITY: Duration = Duration::days(2 * 365);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("无法读取 {path}：{source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} 无法使用：{problem}")]
    Unusable { path: PathBuf, problem: String },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{0} 已存在：不覆盖已有的证书或私钥，请先移走它")]
    Exists(PathBuf),
    #[error("证书名称 {0:?} 无法使用：应为域名（hub.example.gov.cn）或 IP 地址")]
    Name(String),
    #[error("无法生成证书：{0}")]
    Generate(#[from] rcgen::Error),
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source })
}

fn unusable(path: &Path, problem: impl Into<String>) -> TlsError {
    TlsError::Unusable { path: path.to_owned(), problem: problem.into() }
}

/// What the hub serves HTTPS with, and the names its certificate is for.
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
    names: Vec<String>,
}

impl ServerTls {
    /// The certificate chain in `cert` (PEM, the server's first) and its private key in
    /// `key` (PEM, readable by the service user only), for TLS 1.3 and HTTP/1.1.
    pub fn load(cert: &Path, key: &Path) -> Result<ServerTls, TlsError> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(cert)?)
            .collect::<Result<_, _>>()
            .map_err(|_| unusable(cert, "不是 PEM 格式的证书"))?;
        if chain.is_empty() {
            return Err(unusable(cert, "文件中没有证书"));
        }
        let names = certified_names(&chain[0]).map_err(|e| unusable(cert, format!("证书无法解析：{e}")))?;
        check_private(key)?;
        let private = PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|_| unusable(key, "不是 PEM 格式的私钥"))?;
        let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("ring offers TLS 1.3")
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|e| unusable(key, format!("与证书不配套或无法使用：{e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServerTls { config: Arc::new(config), names })
    }

    pub fn config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.config)
    }

    /// The DNS names and IP addresses the certificate is for: what requests may name as
    /// their Host.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

fn certified_names(certificate: &CertificateDer<'_>) -> Result<Vec<String>, String> {
    use x509_parser::extensions::GeneralName;
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate).map_err(|e| e.to_string())?;
    let Some(names) = parsed.subject_alternative_name().map_err(|e| e.to_string())? else {
        return Ok(Vec::new());
    };
    Ok(names
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some((*dns).to_owned()),
            GeneralName::IPAddress(octets) => match octets.len() {
                4 => Some(IpAddr::from(<[u8; 4]>::try_from(*octets).ok()?).to_string()),
                16 => Some(IpAddr::from(<[u8; 16]>::try_from(*octets).ok()?).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect())
}

/// The files of a CA in its folder: `ca.pem` for every counter, `ca.key` for no one.
pub struct CaFiles {
    pub certificate: PathBuf,
    pub key: PathBuf,
}

impl CaFiles {
    pub fn in_dir(dir: &Path) -> CaFiles {
        CaFiles { certificate: dir.join("ca.pem"), key: dir.join("ca.key") }
    }

    /// Makes a CA named `name` (ECDSA P-256, ten years), refusing to replace one: every
    /// counter trusts the certificate, and a new one means enrolling them all again.
    /// Answers the certificate's SHA-256 fingerprint.
    pub fn init(&self, name: &str) -> Result<String, TlsError> {
        for path in [&self.certificate, &self.key] {
            if path.exists() {
                return Err(TlsError::Exists(path.clone()));
            }
        }
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.distinguished_name.push(DnType::OrganizationName, "一站 数据中心");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        (params.not_before, params.not_after) = validity(CA_VALIDITY);
        let certificate = params.self_signed(&key)?;
        write_private(&self.key, key.serialize_pem().as_bytes())?;
        std::fs::write(&self.certificate, certificate.pem()).map_err(|source| TlsError::Read { path: self.certificate.clone(), source })?;
        Ok(fingerprint(certificate.der()))
    }

    /// Issues the hub's server certificate for `names` (DNS names and IP addresses, as the
    /// counters and the public reach it) into `cert` and `key`; the chain in `cert` ends
    /// with the CA's certificate. Answers the CA's fingerprint, as the counters see it.
    pub fn issue(&self, names: &[String], cert: &Path, key: &Path) -> Result<String, TlsError> {
        for path in [cert, key] {
            if path.exists() {
                return Err(TlsError::Exists(path.to_owned()));
            }
        }
        if names.is_empty() {
            return Err(TlsError::Name(String::new()));
        }
        let ca_pem = read(&self.certificate)?;
        let ca_der = ca_certificate(&ca_pem).map_err(|e| unusable(&self.certificate, e.to_string()))?;
        check_private(&self.key)?;
        let ca_key_pem = String::from_utf8(read(&self.key)?).map_err(|_| unusable(&self.key, "不是 PEM 格式的私钥"))?;
        let ca_key = KeyPair::from_pem(&ca_key_pem).map_err(|_| unusable(&self.key, "不是 PEM 格式的私钥"))?;
        let issuer = Issuer::from_ca_cert_der(&ca_der, ca_key).map_err(|e| unusable(&self.certificate, e.to_string()))?;

        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, &names[0]);
        let mut sans: Vec<SanType> = Vec::new();
        for name in names {
            let san = san(name)?;
            if !sans.contains(&san) {
                sans.push(san);
            }
        }
        params.subject_alt_names = sans;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        (params.not_before, params.not_after) = validity(SERVER_VALIDITY);
        let server_key = KeyPair::generate()?;
        let certificate = params.signed_by(&server_key, &issuer)?;
        let chain = format!("{}{}", certificate.pem(), String::from_utf8_lossy(&ca_pem));
        write_private(key, server_key.serialize_pem().as_bytes())?;
        std::fs::write(cert, chain).map_err(|source| TlsError::Read { path: cert.to_owned(), source })?;
        Ok(fingerprint(&ca_der))
    }
}

/// From an hour ago, for clocks a little behind, for `length`.
fn validity(length: Duration) -> (OffsetDateTime, OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    (now - Duration::hours(1), now + length)
}

fn san(name: &str) -> Result<SanType, TlsError> {
    let name = name.trim();
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    let valid = !name.is_empty()
        && name.split('.').all(|label| !label.is_empty() && label.len() <= 63 && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !valid {
        return Err(TlsError::Name(name.to_owned()));
    }
    Ok(SanType::DnsName(name.to_ascii_lowercase().try_into().map_err(|_| TlsError::Name(name.to_owned()))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_issues_a_server_certificate_the_hub_loads_and_replaces_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CaFiles::in_dir(dir.path());
        let fingerprint = ca.init("一站数据中心 CA").unwrap();
        assert_eq!(fingerprint.len(), 32 * 3 - 1);
        assert!(matches!(ca.init("again"), Err(TlsError::Exists(_))), "an existing CA is kept");

        let (cert, key) = (dir.path().join("hub.pem"), dir.path().join("hub.key"));
        let names = ["hub.example.gov.cn".to_owned(), "10.0.0.5".to_owned(), "10.0.0.5".to_owned()];
        assert_eq!(ca.issue(&names, &cert, &key).unwrap(), fingerprint, "answers the CA the counters trust");
        #[cfg(unix)]
        for private in [&ca.key, &key] {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(private).unwrap().permissions().mode() & 0o777, 0o600, "{}", private.display());
        }
        assert_eq!(ServerTls::load(&cert, &key).unwrap().names(), ["hub.example.gov.cn", "10.0.0.5"], "each name once");
        assert!(matches!(ca.issue(&names, &cert, &key), Err(TlsError::Exists(_))));

        for bad in ["", "hub example", "hub..example", "端口"] {
            let fresh = dir.path().join("other.pem");
            assert!(matches!(ca.issue(&[bad.to_owned()], &fresh, &dir.path().join("other.key")), Err(TlsError::Name(_))), "{bad:?}");
        }
    }

    #[test]
    #[cfg(unix)]
    fn a_key_others_can_read_or_one_not_matching_is_refused_by_name() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let ca = CaFiles::in_dir(dir.path());
        ca.init("CA").unwrap();
        let (cert, key) = (dir.path().join("hub.pem"), dir.path().join("hub.key"));
        ca.issue(&["localhost".to_owned()], &cert, &key).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = ServerTls::load(&cert, &key).err().unwrap().to_string();
        assert!(refused.contains("chmod 600"), "{refused}");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let refused = ServerTls::load(&cert, &ca.key).err().unwrap().to_string();
        assert!(refused.contains("不配套"), "{refused}");
        let refused = ServerTls::load(&key, &key).err().unwrap().to_string();
        assert!(refused.contains("没有证书"), "{refused}");
    }
}
