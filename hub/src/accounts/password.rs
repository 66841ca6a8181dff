//! The hub's side of password verifiers (`yizhan_core::password`): a fresh random salt
//! for each one it makes.

use rand::RngCore;
pub use yizhan_core::password::{ITERATIONS, Verified, verify};
use yizhan_core::password::{SALT_BYTES, hash_with_salt};

/// A verifier of `password` at `iterations`, with a fresh random salt.
pub fn hash_with(password: &str, iterations: u32) -> String {
    let mut salt = [0u8; SALT_BYTES];
    rand::rng().fill_bytes(&mut salt);
    hash_with_salt(password, &salt, iterations)
}

/// A verifier of `password` at today's cost.
pub fn hash(password: &str) -> String {
    hash_with(password, ITERATIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_verifier_has_a_salt_of_its_own() {
        let (a, b) = (hash_with("Counter-2026", 1_000), hash_with("Counter-2026", 1_000));
        assert_ne!(a, b);
        assert_eq!(verify(&a, "Counter-2026"), Verified::YesRehash);
        assert_eq!(verify(&b, "Counter-2026"), Verified::YesRehash);
    }
}
