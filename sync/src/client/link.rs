//! The hub as this PC reaches it: its address and the one certificate authority it trusts
//! for it. HTTPS (TLS 1.3 only) to a hub, trusting that CA and no other, the system's
//! included; plain HTTP only to this PC itself, for development and the demo.

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use reqwest::{Certificate, Url};

use super::SyncError;
use crate::protocol::tls::{CaError, ca_certificate, fingerprint};
use crate::replica::HubAddress;

#[derive(Clone, Debug)]
pub struct HubLink {
    url: String,
    /// `None` for a hub on loopback reached in plain HTTP.
    ca: Option<TrustedCa>,
}

#[derive(Clone, Debug)]
struct TrustedCa {
    certificate: Certificate,
    fingerprint: String,
    pem: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LinkError {
    #[error("数据中心地址无法识别：{0}（应如 https://hub.example.gov.cn:8640）")]
    Url(String),
    #[error("数据中心地址须以 https:// 开头：{0}")]
    Scheme(String),
    #[error("拒绝以明文 HTTP 连接数据中心 {0}：只有本机（127.0.0.1、localhost）可以不加密，请改用 https:// 地址")]
    PlainHttp(String),
    #[error("以 https:// 连接数据中心需要它的 CA 证书：请选择系统管理员提供的 CA 证书文件")]
    NoCa,
    #[error(transparent)]
    Ca(#[from] CaError),
}

impl LinkError {
    /// The setting at fault, for a form to say it there.
    pub fn field(&self) -> &'static str {
        match self {
            LinkError::Url(_) | LinkError::Scheme(_) | LinkError::PlainHttp(_) => "hub_url",
            LinkError::NoCa | LinkError::Ca(_) => "hub_ca",
        }
    }
}

impl HubLink {
    /// The hub at `url`, trusted through the CA certificate `ca_pem` (one PEM certificate):
    /// required for `https://`, refused is `http://` to anything but this PC.
    pub fn new(url: &str, ca_pem: Option<&[u8]>) -> Result<HubLink, LinkError> {
        let url = url.trim().trim_end_matches('/');
        let parsed = Url::parse(url).map_err(|_| LinkError::Url(url.to_owned()))?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(LinkError::Scheme(url.to_owned()));
        }
        let host = parsed.host_str().ok_or_else(|| LinkError::Url(url.to_owned()))?;
        let ca = ca_pem
            .map(|pem| -> Result<_, LinkError> {
                let der = ca_certificate(pem)?;
                let certificate = Certificate::from_der(&der).map_err(|_| CaError::NotPem)?;
                let pem = String::from_utf8(pem.to_vec()).map_err(|_| CaError::NotPem)?;
                Ok(TrustedCa { certificate, fingerprint: fingerprint(&der), pem })
            })
            .transpose()?;
        match parsed.scheme() {
            "https" if ca.is_none() => Err(LinkError::NoCa),
            "https" => Ok(HubLink { url: url.to_owned(), ca }),
            "http" if is_loopback(host) => Ok(HubLink { url: url.to_owned(), ca: None }),
            _ => Err(LinkError::PlainHttp(host.to_owned())),
        }
    }

    /// The hub's base address, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The SHA-256 fingerprint of the CA this PC trusts for the hub.
    pub fn ca_fingerprint(&self) -> Option<&str> {
        self.ca.as_ref().map(|ca| ca.fingerprint.as_str())
    }

    /// The link as the replica keeps it.
    pub fn address(&self) -> HubAddress {
        HubAddress { url: self.url.clone(), ca_pem: self.ca.as_ref().map(|ca| ca.pem.clone()) }
    }

    /// The link the replica kept, held to the same rules as when it was set.
    pub fn from_address(address: &HubAddress) -> Result<HubLink, LinkError> {
        HubLink::new(&address.url, address.ca_pem.as_deref().map(str::as_bytes))
    }

    /// An HTTP client for this hub: over HTTPS it accepts TLS 1.3 only, a certificate from
    /// the configured CA only, and no redirect to plain HTTP.
    pub(crate) fn http(&self, builder: reqwest::ClientBuilder) -> Result<reqwest::Client, SyncError> {
        let builder = builder.connect_timeout(Duration::from_secs(10));
        let builder = match &self.ca {
            Some(ca) => builder
                .tls_built_in_root_certs(false)
                .add_root_certificate(ca.certificate.clone())
                .min_tls_version(reqwest::tls::Version::TLS_1_3)
                .https_only(true),
            None => builder,
        };
        builder.build().map_err(|source| SyncError::Network { url: self.url.clone(), source })
    }
}

/// A hub on this PC, in plain HTTP: `http://127.0.0.1:8640`.
impl FromStr for HubLink {
    type Err = LinkError;

    fn from_str(url: &str) -> Result<HubLink, LinkError> {
        HubLink::new(url, None)
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_reaches_only_this_pc() {
        for url in ["http://127.0.0.1:8640", "http://localhost:8640/", "http://[::1]:8640", "http://127.0.0.9"] {
            assert_eq!(url.parse::<HubLink>().map(|l| l.url().to_owned()), Ok(url.trim_end_matches('/').to_owned()));
        }
        for (url, host) in [("http://10.0.0.5:8640", "10.0.0.5"), ("http://hub.example", "hub.example"), ("http://127.0.0.1.example", "127.0.0.1.example")] {
            assert_eq!(url.parse::<HubLink>().unwrap_err(), LinkError::PlainHttp(host.to_owned()), "{url}");
        }
    }

    #[test]
    fn https_needs_the_ca_and_nothing_else_is_spoken() {
        assert_eq!("https://hub.example".parse::<HubLink>().unwrap_err(), LinkError::NoCa);
        assert_eq!(HubLink::new("https://hub.example", Some(b"not a certificate")).unwrap_err(), LinkError::Ca(CaError::NotPem));
        assert_eq!("ftp://hub.example".parse::<HubLink>().unwrap_err(), LinkError::Scheme("ftp://hub.example".into()));
        assert_eq!("hub.example:8640".parse::<HubLink>().unwrap_err(), LinkError::Scheme("hub.example:8640".into()));
        assert_eq!("".parse::<HubLink>().unwrap_err(), LinkError::Url(String::new()));
        assert_eq!(LinkError::NoCa.field(), "hub_ca");
        assert_eq!(LinkError::PlainHttp("h".into()).field(), "hub_url");
    }
}
