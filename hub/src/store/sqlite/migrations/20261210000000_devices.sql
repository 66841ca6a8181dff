-- Counter PCs: made by the system administrator with a one-time enrolment code (kept as
-- its SM3), enrolled with the PC's SM2 key, retired or reported lost.
CREATE TABLE devices (
    device_id          TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    scope              TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'active', 'retired', 'lost')),
    public_key         TEXT,
    code_sm3           TEXT UNIQUE,
    code_expires_at    TEXT,
    created_at         TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    enrolled_at        TEXT,
    revoked_at         TEXT,
    revoked_by         TEXT,
    revoke_reason      TEXT,
    last_seen_at       TEXT,
    clock_skew_seconds INTEGER
);

-- The tokens devices' requests carry, by SM3; the signed challenge is never taken twice.
CREATE TABLE device_tokens (
    token_sm3  TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL REFERENCES devices (device_id),
    challenge      TEXT NOT NULL UNIQUE,
    issued_at  TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX device_tokens_expiry ON device_tokens (expires_at);
