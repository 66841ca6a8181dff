-- A snapshot being loaded: its rows go to a staging table (made beside `rows` when the load
-- starts) and are committed part by part, so a load that is cut off resumes after the last
-- row kept instead of starting over, and the rows the clerk sees stay whole until the
-- entire snapshot is in. `as_of` and `chain` are the first part's: the replica continues
-- from there, and replaying the log from that seq brings the later parts' rows (already
-- newer) no further.
CREATE TABLE snapshot_load (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    hub_url     TEXT    NOT NULL,
    hub_key     TEXT    NOT NULL,
    as_of       INTEGER NOT NULL,
    chain       TEXT    NOT NULL,
    received    INTEGER NOT NULL,
    last_entity TEXT,
    last_key    TEXT,
    started_at  TEXT    NOT NULL
);
