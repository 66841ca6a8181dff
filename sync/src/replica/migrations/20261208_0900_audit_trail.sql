-- What happened at this counter, for the audit trail (等保2.0: on each counter, sent up in
-- order): offline sign-ins and their failures, lockouts, the screen locked and unlocked,
-- documents previewed and printed. Written once, never changed; `audit_sent` says how far
-- the hub holds them. A snapshot load leaves both alone.
CREATE TABLE audit_trail (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    local_at TEXT NOT NULL,         -- RFC 3339, UTC
    account TEXT NOT NULL,
    event TEXT NOT NULL,            -- yizhan_core::audit::AuditEvent
    object TEXT NOT NULL,
    failure TEXT,                   -- the reason, for what was refused or failed
    detail TEXT NOT NULL
);

CREATE TRIGGER audit_trail_append_only_update BEFORE UPDATE ON audit_trail
BEGIN
    SELECT RAISE(ABORT, 'audit records are never changed');
END;

CREATE TRIGGER audit_trail_append_only_delete BEFORE DELETE ON audit_trail
BEGIN
    SELECT RAISE(ABORT, 'audit records are never removed');
END;

CREATE TABLE audit_sent (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    through INTEGER NOT NULL
);
