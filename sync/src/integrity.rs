//! Proving that no change was lost, repeated, reordered or altered between the hub's log
//! and a counter's replica (国密: SM3 hashes, SM2 signatures).
//!
//! - **The chain.** Every change in the hub's log carries `chain = SM3(previous chain ||
//!   frame(change))`, the first one chained to [`ChainHash::ZERO`]. Changing, dropping or
//!   moving any change changes every chain value after it.
//! - **Sealed batches.** Each change batch names the chain value it continues from
//!   (`prev_chain`, the value at `after`) and the one it ends at (`chain`, at `upto`),
//!   with its change count, all signed with the hub's SM2 key. The counter keeps the chain
//!   value at its cursor; a batch that does not continue from it (missing, repeated or
//!   reordered) or whose changes do not hash to its `chain` (altered, dropped) or whose
//!   signature fails is refused before anything is applied.
//! - **Scoped feeds.** When a later issue filters a counter's feed to its scope, the seqs it
//!   sees have holes by design. The batch seal then names the chain of that stream: the
//!   same fold, over the stream's changes only (a per-scope chain the hub keeps beside the
//!   global one). The counter's check does not change: it folds what it receives from the
//!   value it holds, and compares with a signed end value.
//! - **The snapshot** header is sealed likewise: its `as_of`, row count and the chain value
//!   at `as_of`, from which the counter's chain continues. The rest of an interrupted
//!   snapshot is sealed with the row it follows, so one part cannot pass for another.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm3::{Digest, Sm3};

use crate::protocol::RowPosition;

/// The SM2 distinguishing identifier the hub signs under.
const DIST_ID: &str = "yizhan-hub";

/// One value of the chain: 32 bytes of SM3, hex on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHash(pub [u8; 32]);

impl ChainHash {
    /// What the first change is chained to.
    pub const ZERO: ChainHash = ChainHash([0; 32]);

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<ChainHash> {
        let mut bytes = [0; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(ChainHash(bytes))
    }

    pub fn from_slice(bytes: &[u8]) -> Option<ChainHash> {
        Some(ChainHash(bytes.try_into().ok()?))
    }

    /// The next value: this one followed by `change`.
    pub fn link(&self, change: &ChangeFrame<'_>) -> ChainHash {
        let mut hasher = Sm3::new();
        hasher.update(self.0);
        change.feed(&mut hasher);
        ChainHash(hasher.finalize().into())
    }
}

impl std::fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChainHash({})", &self.to_hex()[..16])
    }
}

impl Serialize for ChainHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ChainHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ChainHash, D::Error> {
        let text = String::deserialize(d)?;
        ChainHash::from_hex(&text).ok_or_else(|| serde::de::Error::custom("chain hash: 64 hex digits expected"))
    }
}

/// A change as the chain sees it: every field, the payload as its exact JSON text, the
/// commit time as Unix nanoseconds (the same instant however RFC 3339 spelled it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeFrame<'a> {
    pub seq: u64,
    pub entity: &'a str,
    pub key: &'a str,
    pub project_code: &'a str,
    pub version: u64,
    pub op: &'a str,
    pub payload: Option<&'a str>,
    pub origin: &'a str,
    pub committed_at_nanos: i128,
}

impl ChangeFrame<'_> {
    /// Each field length-prefixed, so no two different changes frame alike.
    fn feed(&self, hasher: &mut Sm3) {
        let mut text = |bytes: &[u8]| {
            hasher.update((bytes.len() as u64).to_be_bytes());
            hasher.update(bytes);
        };
        text(self.entity.as_bytes());
        text(self.key.as_bytes());
        text(self.project_code.as_bytes());
        text(self.op.as_bytes());
        match self.payload {
            Some(payload) => text(payload.as_bytes()),
            None => text(b"\xffdeleted"),
        }
        text(self.origin.as_bytes());
        hasher.update(self.seq.to_be_bytes());
        hasher.update(self.version.to_be_bytes());
        hasher.update(self.committed_at_nanos.to_be_bytes());
    }
}

/// One row's contribution to a range checksum (reconciliation): SM3 over its identity,
/// version and exact payload, folded to two 32-bit halves. Summed over a range, with the
/// count, they tell two copies of the range apart without shipping it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RowDigest {
    pub hi: i64,
    pub lo: i64,
}

impl RowDigest {
    pub fn of(entity: &str, key: &str, project_code: &str, version: u64, payload: &str) -> RowDigest {
        let mut hasher = Sm3::new();
        for field in [entity.as_bytes(), key.as_bytes(), project_code.as_bytes(), payload.as_bytes()] {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field);
        }
        hasher.update(version.to_be_bytes());
        let hash: [u8; 32] = hasher.finalize().into();
        let half = |at: usize| i64::from(u32::from_be_bytes(hash[at..at + 4].try_into().expect("4 bytes")));
        RowDigest { hi: half(0), lo: half(4) }
    }
}

/// The hub's public key, SEC1-encoded, hex on the wire.
#[derive(Clone)]
pub struct HubKey(VerifyingKey);

/// The same key: the same SEC1 bytes.
impl PartialEq for HubKey {
    fn eq(&self, other: &HubKey) -> bool {
        self.0.to_sec1_bytes() == other.0.to_sec1_bytes()
    }
}

impl Eq for HubKey {}

impl HubKey {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_sec1_bytes())
    }

    pub fn from_hex(text: &str) -> Result<HubKey, IntegrityError> {
        let bytes = hex::decode(text.trim()).map_err(|_| IntegrityError::BadKey)?;
        VerifyingKey::from_sec1_bytes(DIST_ID, &bytes)
            .map(HubKey)
            .map_err(|_| IntegrityError::BadKey)
    }

    fn verify(&self, message: &[u8], signature: &str) -> Result<(), IntegrityError> {
        let bytes = hex::decode(signature).map_err(|_| IntegrityError::BadSignature)?;
        let signature = Signature::try_from(bytes.as_slice()).map_err(|_| IntegrityError::BadSignature)?;
        self.0.verify(message, &signature).map_err(|_| IntegrityError::BadSignature)
    }

    /// Checks that `seal` is the hub's, for the batch `(after, upto]`.
    pub fn verify_batch(&self, after: u64, upto: u64, seal: &BatchSeal) -> Result<(), IntegrityError> {
        self.verify(&batch_message(after, upto, seal), &seal.signature)
    }

    pub fn verify_snapshot(
        &self,
        as_of: u64,
        rows: u64,
        after: Option<&RowPosition>,
        seal: &SnapshotSeal,
    ) -> Result<(), IntegrityError> {
        self.verify(&snapshot_message(as_of, rows, after, &seal.chain), &seal.signature)
    }
}

impl std::fmt::Debug for HubKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HubKey({})", &self.to_hex()[..18])
    }
}

impl Serialize for HubKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for HubKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HubKey, D::Error> {
        HubKey::from_hex(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The hub's signing key. Kept by the hub only.
pub struct HubSigner {
    key: SigningKey,
}

impl HubSigner {
    pub fn generate() -> HubSigner {
        let secret = sm2::SecretKey::random(&mut rand_core::OsRng);
        HubSigner::from_secret(&secret)
    }

    /// From the 32-byte secret scalar, as [`HubSigner::secret_bytes`] gave it.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<HubSigner, IntegrityError> {
        let secret = sm2::SecretKey::from_slice(bytes).map_err(|_| IntegrityError::BadKey)?;
        Ok(HubSigner::from_secret(&secret))
    }

    fn from_secret(secret: &sm2::SecretKey) -> HubSigner {
        HubSigner {
            key: SigningKey::new(DIST_ID, secret).expect("the distinguishing id is short enough for SM2"),
        }
    }

    pub fn secret_bytes(&self) -> Vec<u8> {
        self.key.to_bytes().to_vec()
    }

    pub fn public_key(&self) -> HubKey {
        HubKey(self.key.verifying_key().clone())
    }

    fn sign(&self, message: &[u8]) -> String {
        let signature: Signature = self.key.sign(message);
        hex::encode(signature.to_bytes())
    }

    pub fn seal_batch(&self, after: u64, upto: u64, count: u64, prev_chain: ChainHash, chain: ChainHash) -> BatchSeal {
        let mut seal = BatchSeal {
            prev_chain,
            chain,
            count,
            signature: String::new(),
        };
        seal.signature = self.sign(&batch_message(after, upto, &seal));
        seal
    }

    pub fn seal_snapshot(
        &self,
        as_of: u64,
        rows: u64,
        after: Option<&RowPosition>,
        chain: ChainHash,
    ) -> SnapshotSeal {
        SnapshotSeal {
            chain,
            hub_key: self.public_key(),
            signature: self.sign(&snapshot_message(as_of, rows, after, &chain)),
        }
    }
}

/// What a change batch proves about itself; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSeal {
    /// The chain value at `after`: where this batch continues from.
    pub prev_chain: ChainHash,
    /// The chain value at `upto`, after the batch's changes.
    pub chain: ChainHash,
    /// Number of changes in the batch.
    pub count: u64,
    /// SM2 over `after`, `upto`, `count`, `prev_chain`, `chain` (hex).
    pub signature: String,
}

/// What a snapshot proves about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotSeal {
    /// The chain value at `as_of`: the counter's chain continues from it.
    pub chain: ChainHash,
    /// The key that signs this hub's batches.
    pub hub_key: HubKey,
    /// SM2 over `as_of`, `rows`, `chain` (hex).
    pub signature: String,
}

fn batch_message(after: u64, upto: u64, seal: &BatchSeal) -> Vec<u8> {
    let mut message = b"yizhan-batch-v1".to_vec();
    message.extend_from_slice(&after.to_be_bytes());
    message.extend_from_slice(&upto.to_be_bytes());
    message.extend_from_slice(&seal.count.to_be_bytes());
    message.extend_from_slice(&seal.prev_chain.0);
    message.extend_from_slice(&seal.chain.0);
    message
}

fn snapshot_message(as_of: u64, rows: u64, after: Option<&RowPosition>, chain: &ChainHash) -> Vec<u8> {
    let mut message = b"yizhan-snapshot-v1".to_vec();
    message.extend_from_slice(&as_of.to_be_bytes());
    message.extend_from_slice(&rows.to_be_bytes());
    message.extend_from_slice(&chain.0);
    if let Some(after) = after {
        for part in [after.entity.as_str(), after.key.as_str()] {
            message.extend_from_slice(&(part.len() as u64).to_be_bytes());
            message.extend_from_slice(part.as_bytes());
        }
    }
    message
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityError {
    #[error("数据中心公钥格式错误")]
    BadKey,
    #[error("签名无效：数据不是数据中心签发的，或在途中被改动")]
    BadSignature,
}

#[cfg(test)]
mod tests {
    use super::*;
    use yizhan_core::entity::EntityKind;

    fn frame(seq: u64, payload: Option<&str>) -> ChangeFrame<'_> {
        ChangeFrame {
            seq,
            entity: "payment",
            key: "P1",
            project_code: "2019-320105-47-01-123456",
            version: 1,
            op: if payload.is_some() { "upsert" } else { "delete" },
            payload,
            origin: "ingest:payments",
            committed_at_nanos: 1_764_000_000_000_000_000,
        }
    }

    #[test]
    fn every_field_and_the_order_of_changes_move_the_chain() {
        let a = ChainHash::ZERO.link(&frame(1, Some(r#"{"amount_fen":100}"#)));
        let b = a.link(&frame(2, Some(r#"{"amount_fen":200}"#)));
        assert_ne!(a, ChainHash::ZERO);
        let swapped = ChainHash::ZERO
            .link(&frame(2, Some(r#"{"amount_fen":200}"#)))
            .link(&frame(1, Some(r#"{"amount_fen":100}"#)));
        assert_ne!(b, swapped);
        let altered = ChainHash::ZERO.link(&frame(1, Some(r#"{"amount_fen":101}"#)));
        assert_ne!(a, altered);
        let moved_boundary = ChainHash::ZERO.link(&ChangeFrame { key: "P", project_code: "12019-320105-47-01-123456", ..frame(1, Some(r#"{"amount_fen":100}"#)) });
        assert_ne!(a, moved_boundary, "length prefixes keep field boundaries");
        assert_ne!(ChainHash::ZERO.link(&frame(1, None)), ChainHash::ZERO.link(&frame(1, Some(""))));
        assert_eq!(ChainHash::from_hex(&b.to_hex()), Some(b));
        assert_eq!(ChainHash::from_hex("zz"), None);
    }

    #[test]
    fn a_seal_verifies_only_with_the_hubs_key_and_unchanged_fields() {
        let signer = HubSigner::generate();
        let key = HubKey::from_hex(&signer.public_key().to_hex()).unwrap();
        let chain = ChainHash::ZERO.link(&frame(1, Some("{}")));
        let seal = signer.seal_batch(0, 1, 1, ChainHash::ZERO, chain);
        key.verify_batch(0, 1, &seal).unwrap();
        assert_eq!(key.verify_batch(0, 2, &seal), Err(IntegrityError::BadSignature));
        assert_eq!(key.verify_batch(0, 1, &BatchSeal { count: 2, ..seal.clone() }), Err(IntegrityError::BadSignature));
        let other = HubSigner::generate().public_key();
        assert_eq!(other.verify_batch(0, 1, &seal), Err(IntegrityError::BadSignature));
        let restored = HubSigner::from_secret_bytes(&signer.secret_bytes()).unwrap();
        assert_eq!(restored.public_key(), signer.public_key());

        let snapshot = signer.seal_snapshot(9, 3, None, chain);
        key.verify_snapshot(9, 3, None, &snapshot).unwrap();
        assert!(key.verify_snapshot(9, 4, None, &snapshot).is_err());
        let after = RowPosition { entity: EntityKind::Payment, key: "P-1".into() };
        let rest = signer.seal_snapshot(9, 3, Some(&after), chain);
        key.verify_snapshot(9, 3, Some(&after), &rest).unwrap();
        assert!(key.verify_snapshot(9, 3, None, &rest).is_err(), "a part does not pass for a whole snapshot");
        let elsewhere = RowPosition { entity: EntityKind::Payment, key: "P-2".into() };
        assert!(key.verify_snapshot(9, 3, Some(&elsewhere), &rest).is_err());
        let json = serde_json::to_string(&snapshot).unwrap();
        assert_eq!(serde_json::from_str::<SnapshotSeal>(&json).unwrap(), snapshot);
    }
}
