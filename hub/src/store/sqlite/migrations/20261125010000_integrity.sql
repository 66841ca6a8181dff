-- The SM3 hash chain over the change log (yizhan_sync::integrity): each change's value
-- folds the one before it. Filled by the writer for every new change; a log written
-- before this migration is chained once at open.
ALTER TABLE changes ADD COLUMN chain BLOB;

-- Secrets the hub keeps with its data: the SM2 key that seals every batch it sends.
CREATE TABLE hub_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
