-- Compaction: the log below the horizon has been removed. One row: the highest seq removed
-- and its chain value, from which the log (and every batch after the horizon) continues.
-- A counter whose cursor is below the horizon is told so and loads a snapshot.
CREATE TABLE log_horizon (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    through INTEGER NOT NULL,
    chain   BLOB    NOT NULL
);
