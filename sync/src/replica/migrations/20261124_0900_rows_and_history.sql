-- The replicated state: one row per hub row, as the hub last wrote it, and the cursor.

-- Exactly one row. cursor is NULL until the first snapshot has been loaded.
CREATE TABLE meta (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    cursor          INTEGER,
    snapshot_as_of  INTEGER,
    hub_url         TEXT,
    bootstrapped_at TEXT
);
INSERT INTO meta (id) VALUES (1);

CREATE TABLE rows (
    entity       TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    project_code TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    committed_at TEXT    NOT NULL,
    payload      TEXT    NOT NULL
);
-- The key as a unique index rather than a PRIMARY KEY: a snapshot load drops it and builds
-- it once over sorted keys, instead of inserting millions of keys in arbitrary order.
CREATE UNIQUE INDEX rows_key ON rows (entity, key);
CREATE INDEX rows_project ON rows (project_code);

-- What happened to each project, for its timeline: every applied change, and the
-- snapshot's entry of a row once that row changes (until then the row itself is its entry).
CREATE TABLE history (
    seq          INTEGER NOT NULL,
    committed_at TEXT    NOT NULL,
    entity       TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    project_code TEXT    NOT NULL,
    op           TEXT    NOT NULL
);
CREATE INDEX history_project ON history (project_code, seq);
