-- Each row's digest (yizhan_sync::integrity::RowDigest), summed over key ranges when a
-- counter reconciles its replica: kept with the row so a range's checksum is a scan of
-- integers, not a hash of every payload. Filled by the writer; rows written before this
-- migration are filled once at open.
ALTER TABLE state ADD COLUMN digest_hi INTEGER;
ALTER TABLE state ADD COLUMN digest_lo INTEGER;
