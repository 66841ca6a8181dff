-- Alerts this counter's own evaluation raised (the hub's arrive as `alert` rows): what the
-- clerk sees while the hub is unreachable. Active (open) alerts only; the hub keeps the
-- history. Level, deadline (Unix seconds) and message beside the JSON let an evaluation
-- that changes nothing skip reading it.
CREATE TABLE local_alerts (
    key          TEXT    PRIMARY KEY,
    project_code TEXT    NOT NULL,
    level        INTEGER NOT NULL,
    respond_by   INTEGER NOT NULL,
    message      TEXT    NOT NULL,
    payload      TEXT    NOT NULL
);
CREATE INDEX local_alerts_project ON local_alerts (project_code);
CREATE INDEX local_alerts_deadline ON local_alerts (respond_by);

-- What the deadline rules read of each project, so every project can be evaluated from
-- the view alone: each fee's due date (Julian day) and what is outstanding on it.
ALTER TABLE project_view ADD COLUMN infra_due INTEGER;
ALTER TABLE project_view ADD COLUMN infra_outstanding_fen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE project_view ADD COLUMN civil_defence_due INTEGER;
ALTER TABLE project_view ADD COLUMN civil_defence_outstanding_fen INTEGER NOT NULL DEFAULT 0;
-- 项目跟踪: 'clerk' (a clerk turned it on), 'overdue' (entered on its own), or NULL.
ALTER TABLE project_view ADD COLUMN tracking TEXT;
CREATE INDEX project_view_tracking ON project_view (tracking, overdue DESC, project_code) WHERE tracking IS NOT NULL;
-- The list's counts group by tracking too: keep them read from an index, not the table.
DROP INDEX project_view_status;
DROP INDEX project_view_district;
CREATE INDEX project_view_status ON project_view (status, overdue, tracking);
CREATE INDEX project_view_district ON project_view (district_code, status, overdue, tracking);
-- The projects the deadline rules can fire on, read whole from the index.
CREATE INDEX project_view_dues ON project_view
    (project_code, infra_due, infra_outstanding_fen, civil_defence_due, civil_defence_outstanding_fen)
    WHERE infra_due IS NOT NULL OR civil_defence_due IS NOT NULL;

-- What the alert screens show, one row per rule and subject: the hub's alert, or this
-- counter's own while the hub's word is not here yet, kept in step by every write (like
-- project_view), so the queue is filtered, counted and ordered by SQL. Instants are Unix
-- seconds; level is 0 yellow, 1 orange, 2 red.
CREATE TABLE alert_view (
    key          TEXT    PRIMARY KEY,
    project_code TEXT    NOT NULL,
    origin       TEXT    NOT NULL,
    level        INTEGER NOT NULL,
    state        TEXT    NOT NULL,
    department   TEXT    NOT NULL,
    owner_role   TEXT    NOT NULL,
    raised_at    INTEGER NOT NULL,
    respond_by   INTEGER NOT NULL,
    -- The first answer, or the resolution: when the deadline stopped mattering.
    answered_at  INTEGER,
    resolved_at  INTEGER,
    -- Escalated for want of an answer, or answered after its deadline.
    missed       INTEGER NOT NULL,
    payload      TEXT    NOT NULL
);
-- The queue's order (alert_queue.rs), so a page is read in order instead of sorted.
CREATE INDEX alert_view_queue ON alert_view (state = 'resolved', level DESC, state = 'open' DESC, raised_at, key);
CREATE INDEX alert_view_levels ON alert_view (state, level);
CREATE INDEX alert_view_department ON alert_view (department);
CREATE INDEX alert_view_project ON alert_view (project_code, state);
CREATE INDEX alert_view_deadline ON alert_view (respond_by) WHERE state = 'open';

-- Rebuild every view at the next open, filling the new columns and table.
UPDATE meta SET view_date = NULL;
