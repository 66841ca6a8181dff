-- The departments' feeds: each connector's place in its source (an LSN, a file's checksum,
-- a last id), committed in the transaction that writes what it delivered, so a restart
-- resumes where the log stands; its tallies, heartbeat, last error and source lag.
CREATE TABLE connectors (
    name             TEXT    PRIMARY KEY,
    kind             TEXT    NOT NULL,
    position         TEXT,
    heartbeat_at     TEXT,
    received         INTEGER NOT NULL DEFAULT 0,
    applied          INTEGER NOT NULL DEFAULT 0,
    quarantined      INTEGER NOT NULL DEFAULT 0,
    -- Commit time at the source of the newest record delivered: lag = now - this.
    newest_source_at TEXT,
    -- What the source says of its own backlog, e.g. a replication slot's unconfirmed bytes.
    source_lag_bytes INTEGER,
    last_error       TEXT,
    last_error_at    TEXT
);

-- Records a connector received and could not take: never dropped, listed with where they
-- came from and every problem, until corrected and re-processed or dismissed with a reason.
-- The digest (of connector, location and record) keeps a re-delivered bad record listed once.
CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    connector   TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    source_id   TEXT,
    location    TEXT    NOT NULL,
    record      TEXT    NOT NULL,
    problems    TEXT    NOT NULL,
    digest      TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'reprocessed', 'dismissed')),
    received_at TEXT    NOT NULL,
    closed_at   TEXT,
    closed_by   TEXT,
    close_note  TEXT,
    UNIQUE (connector, digest)
);
CREATE INDEX quarantine_open ON quarantine (state, id);

-- Files already imported whole, by SM3 of their bytes: the same export handed in again
-- changes nothing and says so.
CREATE TABLE imported_files (
    checksum    TEXT    PRIMARY KEY,
    connector   TEXT    NOT NULL,
    file_name   TEXT    NOT NULL,
    imported_at TEXT    NOT NULL,
    report      TEXT    NOT NULL
);
