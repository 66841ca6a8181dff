//! The certificate authority of a hub's HTTPS: read from PEM and named by its SHA-256
//! fingerprint, which `yizhan-hub ca init` prints and the counter's first-run screen shows,
//! so the person enrolling a PC can compare the two before trusting it.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use sha2::{Digest, Sha256};

/// Why a CA certificate file cannot be trusted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CaError {
    #[error("CA 证书文件无法读取：不是 PEM 格式的证书（应以 -----BEGIN CERTIFICATE----- 开头）")]
    NotPem,
    #[error("CA 证书文件中有 {0} 张证书：请只放数据中心的根证书一张")]
    NotOne(usize),
}

/// The one certificate in a PEM file, as DER.
pub fn ca_certificate(pem: &[u8]) -> Result<CertificateDer<'static>, CaError> {
    let certificates: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(pem).collect::<Result<_, _>>().map_err(|_| CaError::NotPem)?;
    match <[_; 1]>::try_from(certificates) {
        Ok([one]) => Ok(one),
        Err(many) if many.is_empty() => Err(CaError::NotPem),
        Err(many) => Err(CaError::NotOne(many.len())),
    }
}

/// `AB:CD:…`: the SHA-256 of the certificate's DER in upper-case hex pairs, as `openssl x509
/// -fingerprint -sha256` and browsers print it.
pub fn fingerprint(certificate: &CertificateDer<'_>) -> String {
    Sha256::digest(certificate.as_ref()).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_is_not_one_pem_certificate_is_refused_by_what_is_wrong() {
        assert_eq!(ca_certificate(b"hello").unwrap_err(), CaError::NotPem);
        assert_eq!(ca_certificate(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").unwrap_err(), CaError::NotPem);
        let one = "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
        assert_eq!(ca_certificate(format!("{one}{one}").as_bytes()).unwrap_err(), CaError::NotOne(2));
        let der = ca_certificate(one.as_bytes()).unwrap();
        assert_eq!(der.as_ref(), &[0, 1, 2]);
        // SHA-256 of 00 01 02.
        assert_eq!(fingerprint(&der), "AE:4B:32:80:E5:6E:2F:AF:83:F4:14:A6:E3:DA:BE:9D:5F:BE:18:97:65:44:C0:5F:ED:12:1A:CC:B8:5B:53:FC");
    }
}
