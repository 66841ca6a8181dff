-- Each row's digest, summed over key ranges when the replica is reconciled with the hub
-- (yizhan_sync::integrity::RowDigest). Rows loaded before this migration are filled at open.
ALTER TABLE rows ADD COLUMN digest_hi INTEGER;
ALTER TABLE rows ADD COLUMN digest_lo INTEGER;

-- A row changed in place, not through the replica's writer (which replaces whole rows
-- with their digests), loses its digest: its range then no longer sums as the hub's
-- does, and reconciliation finds and repairs it.
CREATE TRIGGER rows_digest_stale AFTER UPDATE OF entity, key, project_code, version, payload ON rows
WHEN NEW.digest_hi IS OLD.digest_hi AND NEW.digest_lo IS OLD.digest_lo
BEGIN
    UPDATE rows SET digest_hi = NULL, digest_lo = NULL WHERE rowid = NEW.rowid;
END;
