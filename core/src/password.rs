//! Password verifiers: PBKDF2 with HMAC-SM3 (GM/T 0091-2020), a salt of each verifier's
//! own, written `pbkdf2-sm3$<iterations>$<salt hex>$<key hex>`. The hub keeps one per
//! user; a counter keeps one per clerk who signed in there, for signing in offline. Both
//! make and check them here only, so a stronger scheme or cost is adopted by changing this
//! module: a verifier of an older cost is replaced at the next sign-in. The caller brings
//! the salt (this crate draws no random numbers).

use sm3::Sm3;
use subtle::ConstantTimeEq;

const SCHEME: &str = "pbkdf2-sm3";
/// Bytes of salt a new verifier should be given.
pub const SALT_BYTES: usize = 16;
const KEY_BYTES: usize = 32;

/// Iterations of a new verifier: calibrated on the hub's reference machine to take at
/// least 100 ms (docs/perf.md §13), long enough that guessing from a stolen
/// database is slow, short enough for a sign-in well under 300 ms.
pub const ITERATIONS: u32 = 350_000;

/// What checking a password found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Right, but the verifier is of an older scheme or a lower cost: store a new one.
    YesRehash,
}

/// A verifier of `password` with `salt` at `iterations`.
pub fn hash_with_salt(password: &str, salt: &[u8; SALT_BYTES], iterations: u32) -> String {
    let key = derive(password, salt, iterations);
    format!("{SCHEME}${iterations}${}${}", hex::encode(salt), hex::encode(key))
}

/// Checks `password` against a stored verifier, in constant time over the derived key.
/// A verifier that cannot be read matches nothing.
pub fn verify(stored: &str, password: &str) -> Verified {
    let Some((iterations, salt, key)) = parse(stored) else {
        return Verified::No;
    };
    let derived = derive(password, &salt, iterations);
    if !bool::from(derived.as_slice().ct_eq(&key)) {
        return Verified::No;
    }
    if iterations < ITERATIONS { Verified::YesRehash } else { Verified::Yes }
}

fn parse(stored: &str) -> Option<(u32, Vec<u8>, Vec<u8>)> {
    let mut parts = stored.split('$');
    if parts.next()? != SCHEME {
        return None;
    }
    let iterations = parts.next()?.parse().ok().filter(|&n| n > 0)?;
    let salt = hex::decode(parts.next()?).ok()?;
    let key = hex::decode(parts.next()?).ok().filter(|k| k.len() == KEY_BYTES)?;
    parts.next().is_none().then_some((iterations, salt, key))
}

fn derive(password: &str, salt: &[u8], iterations: u32) -> [u8; KEY_BYTES] {
    let mut key = [0u8; KEY_BYTES];
    pbkdf2::pbkdf2_hmac::<Sm3>(password.as_bytes(), salt, iterations, &mut key);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verifier_checks_its_password_only_and_salts_each_one() {
        let stored = hash_with_salt("Counter-2026", &[7; SALT_BYTES], 1_000);
        assert!(stored.starts_with("pbkdf2-sm3$1000$0707"), "{stored}");
        assert!(!stored.contains("Counter-2026"));
        assert_eq!(verify(&stored, "Counter-2026"), Verified::YesRehash, "below today's cost");
        assert_eq!(verify(&stored, "counter-2026"), Verified::No);
        assert_ne!(hash_with_salt("Counter-2026", &[8; SALT_BYTES], 1_000), stored, "another salt, another verifier");
        for broken in ["", "bcrypt$1$aa$bb", "pbkdf2-sm3$0$aa$bb", "pbkdf2-sm3$10$zz$00", &format!("{stored}$x")] {
            assert_eq!(verify(broken, "Counter-2026"), Verified::No, "{broken}");
        }
    }

    #[test]
    fn the_derivation_is_pbkdf2_over_hmac_sm3() {
        // PBKDF2's first block by hand: U1 = HMAC(P, S || 1), U2 = HMAC(P, U1), T = U1 ^ U2.
        use hmac::{Hmac, Mac};
        let mac = |data: &[u8]| {
            let mut m = Hmac::<Sm3>::new_from_slice(b"password").unwrap();
            m.update(data);
            m.finalize().into_bytes()
        };
        let u1 = mac(b"salt\x00\x00\x00\x01");
        let u2 = mac(&u1);
        let expected: Vec<u8> = u1.iter().zip(u2.iter()).map(|(a, b)| a ^ b).collect();
        assert_eq!(derive("password", b"salt", 2).to_vec(), expected);
    }
}
