//! The documents the window hands over when a project is cleared: the payment voucher
//! (缴费凭证) and the non-tax revenue invoice (非税收入票据). What a document says is
//! domain data in `yizhan_core::document`; this crate lays it out, seals and signs it,
//! and checks it again.

pub use yizhan_core::document;
pub mod issue;
pub mod qr;
pub mod signature;
pub mod verify;
pub mod pdf;
pub mod preview;
pub mod print;
