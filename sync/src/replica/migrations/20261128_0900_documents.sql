-- 号段 this counter holds: serials `first_serial..=last_serial` of a kind, `next_serial`
-- the next one to print. A serial is taken in the transaction that queues its document,
-- so a crash either leaves it untaken or leaves the document queued: never printed twice.
CREATE TABLE number_segments (
    kind         TEXT    NOT NULL,
    first_serial INTEGER NOT NULL,
    last_serial  INTEGER NOT NULL,
    next_serial  INTEGER NOT NULL,
    received_at  TEXT    NOT NULL,
    PRIMARY KEY (kind, first_serial)
);

-- PDFs issued or reprinted here, by SM3, until the hub has them (and kept after, for
-- preview and reprint without the network).
CREATE TABLE document_files (
    pdf_sm3     TEXT PRIMARY KEY,
    number      TEXT NOT NULL,
    command_id  TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    uploaded_at TEXT,
    upload_error TEXT
);
CREATE INDEX document_files_number ON document_files (number, created_at);

-- Whether the hub has this counter's public key.
ALTER TABLE meta ADD COLUMN key_registered TEXT;

-- Where the project stands after clearance: NULL, 'issued' (a valid document is on
-- record) or 'linked' (its construction permit is linked too). The 可开具 queue is the
-- cleared projects with none.
ALTER TABLE project_view ADD COLUMN stage TEXT;
CREATE INDEX project_view_stage ON project_view (status, stage);
