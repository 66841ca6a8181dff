//! The ETL stage every department record passes, whatever its route (file import, the
//! planning database's stream, a signed push): cleaning what people typed, converting it
//! into the hub's records one way for all routes, and validating each field with a
//! problem that names it. A record with a problem is not written; its route quarantines
//! it with the problem.

pub(crate) mod clean;
pub(crate) mod planning;
pub(crate) mod validate;
