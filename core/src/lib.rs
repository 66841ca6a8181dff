//! yizhan-core: the domain of the one-stop construction-fee window, pure — no IO, no
//! async, no SQL. Everything here is shared by the hub and the counter app.

pub mod access;
pub mod account;
pub mod alert;
pub mod area;
pub mod audit;
pub mod clock;
pub mod code;
pub mod command;
mod decimal;
pub mod district;
pub mod document;
pub mod document_rules;
pub mod entity;
pub mod id;
pub mod mask;
pub mod money;
pub mod password;
pub mod records;
pub mod serde_date;
pub mod status;
pub mod tariff;
mod text_type;
pub mod uscc;
