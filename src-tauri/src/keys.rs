//! The counter's SM2 device key in the OS credential store (Secret Service on Linux,
//! Credential Manager on Windows, Keychain on macOS): made on first run, never written to
//! disk by the app, registered when the PC enrols; it proves the PC to the hub and signs
//! its commands and documents.

use yizhan_voucher::signature::CounterKey;

const SERVICE: &str = "yizhan-counter";
const ACCOUNT: &str = "document-signing-key";

/// The key kept for this counter, made and kept on first use.
pub fn load_or_create() -> Result<CounterKey, String> {
    let entry = keyring::Entry::new(SERVICE, ACCOUNT).map_err(unavailable)?;
    match entry.get_password() {
        Ok(secret) => CounterKey::from_secret_hex(&secret).map_err(|e| format!("系统密钥环中的本终端签名密钥已损坏：{e}。请联系数据中心重新登记终端。")),
        Err(keyring::Error::NoEntry) => {
            let key = CounterKey::generate();
            entry.set_password(&key.secret_hex()).map_err(unavailable)?;
            tracing::info!(public_key = key.public_key().to_hex(), "本终端签名密钥已生成并存入系统密钥环");
            Ok(key)
        }
        Err(e) => Err(unavailable(e)),
    }
}

/// Removes the key: for a PC the data centre revoked, which must not sign again.
pub fn forget() -> Result<(), String> {
    let entry = keyring::Entry::new(SERVICE, ACCOUNT).map_err(unavailable)?;
    match entry.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(unavailable(e)),
    }
}

fn unavailable(e: keyring::Error) -> String {
    format!("无法使用系统密钥环保存本终端的签名密钥：{e}。开具票据需要它，请确认已登录桌面会话且密钥环已解锁。")
}
