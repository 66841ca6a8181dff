-- 号段: serials of vouchers and invoices handed to counters. A serial lies in one segment
-- of one counter, so two counters never print the same number, and segments are never
-- taken back, so a number is never printed twice.
CREATE TABLE number_segments (
    kind         TEXT    NOT NULL,
    first_serial INTEGER NOT NULL,
    last_serial  INTEGER NOT NULL,
    device_id    TEXT    NOT NULL,
    allocated_at TEXT    NOT NULL,
    PRIMARY KEY (kind, first_serial)
);
CREATE INDEX number_segments_device ON number_segments (device_id, kind);

-- The PDFs of issued and reprinted documents, by their SM3, which the change log carries.
CREATE TABLE document_files (
    pdf_sm3   TEXT PRIMARY KEY,
    number    TEXT NOT NULL,
    bytes     BLOB NOT NULL,
    stored_at TEXT NOT NULL
);

-- Messages to applicants (document issued, permit linked), sent by a channel in the
-- background; `event_key` makes queueing the same event twice a no-op.
CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_key    TEXT    NOT NULL UNIQUE,
    project_code TEXT    NOT NULL,
    recipient    TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    sent_at      TEXT
);
CREATE INDEX notifications_pending ON notifications (state, id);
