//! Masking of personal data for display, logs and exports (DOMAIN.md "Masking").

/// `13812341234` → `138****1234`.
pub fn mask_mobile(mobile: &str) -> String {
    todo!("{mobile}")
}
