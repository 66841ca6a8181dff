-- What the project list shows, derived from rows by yizhan_core::status::standing.

CREATE TABLE project_view (
    project_code    TEXT    PRIMARY KEY,
    name            TEXT    NOT NULL,
    builder         TEXT    NOT NULL,
    uscc            TEXT    NOT NULL,
    district_code   TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    overdue         INTEGER NOT NULL,
    assessed_fen    INTEGER NOT NULL,
    paid_fen        INTEGER NOT NULL,
    outstanding_fen INTEGER NOT NULL
);
-- The list's order (overdue first, then by code); the status counts without a search,
-- over all projects or one district, read from an index instead of the table; a USCC typed
-- or scanned whole is looked up.
CREATE INDEX project_view_order ON project_view (overdue DESC, project_code);
CREATE INDEX project_view_status ON project_view (status, overdue);
CREATE INDEX project_view_district ON project_view (district_code, status, overdue);
CREATE INDEX project_view_uscc ON project_view (uscc);

-- The civil date the views were computed for ("overdue" depends on it). NULL makes the
-- next open rebuild every view, so a replica that already holds rows gets its views here.
ALTER TABLE meta ADD COLUMN view_date TEXT;
