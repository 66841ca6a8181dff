-- Clerk commands the hub has run, by the id the counter gave them: a command re-sent after
-- a lost answer is found here and answered as the first time, never run twice. The row
-- is written in the same transaction as the command's effect.
CREATE TABLE commands (
    command_id   TEXT    PRIMARY KEY,
    device_id    TEXT    NOT NULL,
    clerk        TEXT    NOT NULL,
    project_code TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    issued_at    TEXT    NOT NULL,
    received_at  TEXT    NOT NULL,
    base_seq     INTEGER NOT NULL,
    -- The envelope as the hub read it (canonical JSON): a second command under the same id
    -- must be the same command.
    body         TEXT    NOT NULL,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    seq          INTEGER,
    code         TEXT,
    reason       TEXT
);
CREATE INDEX commands_device ON commands (device_id, received_at);
