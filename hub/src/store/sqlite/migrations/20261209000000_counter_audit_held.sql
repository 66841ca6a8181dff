-- How far the hub holds each counter's own audit trail: the counter's records up to
-- `through` are in audit_log. Kept in the transaction that appends them, so a batch sent
-- again adds nothing.
CREATE TABLE counter_audit_held (
    device_id TEXT PRIMARY KEY,
    through   INTEGER NOT NULL
);
