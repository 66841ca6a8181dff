-- People: accounts, roles, grants, sign-in failures, sessions and the security policy.
CREATE TABLE users (
    account              TEXT PRIMARY KEY,
    real_name            TEXT NOT NULL,
    department           TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    password_hash        TEXT NOT NULL,
    password_changed_at  TEXT NOT NULL,
    must_change_password INTEGER NOT NULL,
    locked_until         TEXT,
    totp_secret          TEXT,
    totp_pending         TEXT,
    totp_last_step       INTEGER,
    -- SM3 of each unused recovery code, as a JSON array.
    recovery_codes       TEXT NOT NULL DEFAULT '[]',
    created_at           TEXT NOT NULL,
    created_by           TEXT NOT NULL
);

-- Earlier password hashes, for "not one of the last N".
CREATE TABLE password_history (
    account    TEXT NOT NULL REFERENCES users (account),
    hash       TEXT NOT NULL,
    retired_at TEXT NOT NULL
);
CREATE INDEX password_history_account ON password_history (account, retired_at);

CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    -- Permission strings as a JSON array.
    permissions TEXT NOT NULL,
    builtin     INTEGER NOT NULL
);

CREATE TABLE grants (
    account    TEXT NOT NULL REFERENCES users (account),
    role       TEXT NOT NULL REFERENCES roles (id),
    -- The data scope as JSON: {"kind":"all"} or {"kind":"districts","districts":[…]}.
    scope      TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    PRIMARY KEY (account, role)
);

CREATE TABLE login_failures (
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX login_failures_account ON login_failures (account, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

-- A session by the SM3 of its token: the token itself is never stored.
CREATE TABLE sessions (
    id                     TEXT PRIMARY KEY,
    account                TEXT NOT NULL REFERENCES users (account),
    address                TEXT NOT NULL,
    device                 TEXT,
    created_at             TEXT NOT NULL,
    last_seen              TEXT NOT NULL,
    ended_at               TEXT,
    end_reason             TEXT,
    awaiting_second_factor INTEGER NOT NULL
);
CREATE INDEX sessions_open ON sessions (ended_at, account);

CREATE TABLE security_policy (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    policy TEXT NOT NULL
);

-- The audit trail: each record's MAC (HMAC-SM3 under a key kept outside this file) covers
-- the record and the MAC before it, so a changed, removed or inserted record breaks the
-- chain at that record.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    local_at TEXT,
    user     TEXT NOT NULL,
    role     TEXT NOT NULL,
    device   TEXT NOT NULL,
    address  TEXT NOT NULL,
    event    TEXT NOT NULL,
    object   TEXT NOT NULL,
    result   TEXT NOT NULL,
    reason   TEXT NOT NULL,
    detail   TEXT NOT NULL,
    mac      TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user ON audit_log (user, id);
CREATE INDEX audit_log_event ON audit_log (event, id);

-- Where verification starts after a prune: the last record removed, sealed.
CREATE TABLE audit_checkpoints (
    through_id  INTEGER PRIMARY KEY,
    through_mac TEXT NOT NULL,
    through_at  TEXT NOT NULL,
    seal        TEXT NOT NULL
);

CREATE TRIGGER audit_log_refuse_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;

-- Only a prune removes records: those a checkpoint covers, and at least 180 days old.
CREATE TRIGGER audit_log_refuse_delete BEFORE DELETE ON audit_log
WHEN OLD.id > (SELECT COALESCE(MAX(through_id), 0) FROM audit_checkpoints)
  OR OLD.at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-180 days')
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: only records older than 180 days behind a checkpoint may be pruned');
END;

CREATE TRIGGER audit_checkpoints_refuse_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_checkpoints_refuse_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE refused');
END;
