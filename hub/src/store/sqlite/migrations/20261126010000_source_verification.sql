-- Two-way verification: the last comparison of each connector's source with the hub
-- (yizhan_sync::protocol::SourceComparison, JSON), and the bytes of the last file imported,
-- kept so it can be compared again later (older files' bytes are dropped).
ALTER TABLE connectors ADD COLUMN verification TEXT;
ALTER TABLE imported_files ADD COLUMN bytes BLOB;
