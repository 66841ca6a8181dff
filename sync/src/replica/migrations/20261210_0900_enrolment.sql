-- What the hub said when this PC enrolled (device id, name, scope, the hub key pinned, the
-- clock margin), as JSON; NULL until it has.
ALTER TABLE meta ADD COLUMN enrolment TEXT;
