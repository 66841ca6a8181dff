//! Shared helpers for the cross-process suites in tests/tests.
