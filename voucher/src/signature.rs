//! Each counter's SM2 key pair (GM/T 0003): the counter signs what it issues, the hub
//! and the other counters check with the public key the hub registered.

use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::rand_core::OsRng;
use sm2::SecretKey;

/// The distinguishing identifier hashed into every signature (GM/T 0009's default user
/// id); all counters and the hub must agree on it, so it is fixed here.
const DIST_ID: &str = "1234567812345678";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("终端私钥格式不正确：应为 64 位十六进制数字")]
    BadSecret,
    #[error("终端公钥格式不正确：应为 130 位十六进制数字（04 开头的未压缩 SM2 公钥）")]
    BadPublic,
}

/// The private half, kept in the OS keyring of the counter PC.
#[derive(Clone)]
pub struct CounterKey(SigningKey);

impl std::fmt::Debug for CounterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CounterKey").field(&self.public_key().to_hex()).finish()
    }
}

impl CounterKey {
    pub fn generate() -> CounterKey {
        let secret = SecretKey::random(&mut OsRng);
        CounterKey(SigningKey::new(DIST_ID, &secret).expect("the fixed distinguishing id is short enough"))
    }

    /// For the keyring: the secret scalar in hex.
    pub fn secret_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    pub fn from_secret_hex(text: &str) -> Result<CounterKey, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::BadSecret)?;
        SigningKey::from_slice(DIST_ID, &bytes).map(CounterKey).map_err(|_| KeyError::BadSecret)
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().clone())
    }

    /// SM2 signature (r ‖ s) of `message`; deterministic (RFC 6979 nonces).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let signature: Signature = self.0.sign(message);
        signature.to_bytes()
    }
}

/// The public half, registered at the hub and cached by every counter.
#[derive(Debug, Clone)]
pub struct PublicKey(VerifyingKey);

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_sec1_bytes() == other.0.to_sec1_bytes()
    }
}

impl Eq for PublicKey {}

impl PublicKey {
    /// Uncompressed SEC1 point in hex (`04…`, 130 digits), as the hub stores it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_sec1_bytes())
    }

    pub fn from_hex(text: &str) -> Result<PublicKey, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::BadPublic)?;
        VerifyingKey::from_sec1_bytes(DIST_ID, &bytes).map(PublicKey).map_err(|_| KeyError::BadPublic)
    }

    pub fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        Signature::from_slice(signature).is_ok_and(|s| self.0.verify(message, &s).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_survives_the_keyring_and_its_signatures_verify_only_unchanged() {
        let key = CounterKey::generate();
        let stored = CounterKey::from_secret_hex(&key.secret_hex()).unwrap();
        assert_eq!(stored.public_key(), key.public_key());
        let public = PublicKey::from_hex(&key.public_key().to_hex()).unwrap();
        let signature = stored.sign(b"PZ0000001234");
        assert!(public.verifies(b"PZ0000001234", &signature));
        assert!(!public.verifies(b"PZ0000001235", &signature));
        let mut flipped = signature;
        flipped[10] ^= 1;
        assert!(!public.verifies(b"PZ0000001234", &flipped));
        assert!(!CounterKey::generate().public_key().verifies(b"PZ0000001234", &signature), "another counter's key");
    }

    #[test]
    fn malformed_keys_are_refused_with_the_reason() {
        assert_eq!(CounterKey::from_secret_hex("xyz").unwrap_err(), KeyError::BadSecret);
        assert_eq!(CounterKey::from_secret_hex(&"00".repeat(32)).unwrap_err(), KeyError::BadSecret, "zero is no key");
        assert_eq!(PublicKey::from_hex(&"04".repeat(65)).unwrap_err(), KeyError::BadPublic, "not a point on the curve");
        assert!(PublicKey::from_hex("").unwrap_err().to_string().contains("公钥"));
    }
}
