-- The current state: one row per entity key, the payload being the canonical JSON of the
-- entity, so "is this upsert a change?" is a byte comparison.
CREATE TABLE state (
    entity       TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    project_code TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    committed_at TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    PRIMARY KEY (entity, key)
);
CREATE INDEX state_project_code ON state (project_code);

-- The change log the counters replicate. seq is assigned by the writer as head + 1, so it
-- is dense and strictly increasing.
CREATE TABLE changes (
    seq          INTEGER PRIMARY KEY,
    entity       TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    project_code TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    op           TEXT    NOT NULL CHECK (op IN ('upsert', 'delete')),
    payload      TEXT,
    origin       TEXT    NOT NULL,
    committed_at TEXT    NOT NULL
);

-- Counters trust that a seq they have applied never changes meaning: the log is
-- append-only, enforced by the database itself and not only by this program.
CREATE TRIGGER changes_refuse_update BEFORE UPDATE ON changes
BEGIN
    SELECT RAISE(ABORT, 'changes is append-only: UPDATE refused');
END;

CREATE TRIGGER changes_refuse_delete BEFORE DELETE ON changes
BEGIN
    SELECT RAISE(ABORT, 'changes is append-only: DELETE refused');
END;
