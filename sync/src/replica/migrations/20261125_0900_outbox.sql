-- Clerk commands issued at this counter, in the order issued, until the hub has answered
-- them: the outbox. A command is written here in the transaction that shows it on screen,
-- and leaves the pending state only with the hub's answer.
CREATE TABLE outbox (
    position      INTEGER PRIMARY KEY AUTOINCREMENT,
    command_id    TEXT    NOT NULL UNIQUE,
    project_code  TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    -- The CommandEnvelope as it is sent, byte for byte on every retry.
    envelope      TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected', 'discarded')),
    -- Failed deliveries the hub answered with an error of its own (not the network).
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    hub_seq       INTEGER,
    reject_code   TEXT,
    reject_reason TEXT,
    answered_at   TEXT,
    -- The rejected command this one redoes.
    redo_of       TEXT
);
CREATE INDEX outbox_state ON outbox (state, position);
CREATE INDEX outbox_project ON outbox (project_code, position);

-- Who this counter is to the hub: made once, when the file is created.
ALTER TABLE meta ADD COLUMN device_id TEXT;
