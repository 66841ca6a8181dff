-- Each counter's last report (yizhan_sync::protocol::CounterReport, JSON): where its
-- replica stands, its outbox, its integrity alert and its last reconciliation, for
-- GET /v1/status.
CREATE TABLE counter_reports (
    device_id   TEXT PRIMARY KEY,
    reported_at TEXT NOT NULL,
    report      TEXT NOT NULL
);
