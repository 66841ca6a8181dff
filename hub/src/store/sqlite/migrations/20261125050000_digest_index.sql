-- A range's checksum read from an index alone: without it every row of the range is
-- fetched from the table by its key, at random, to read two integers.
CREATE INDEX state_range_digest ON state (entity, key, digest_hi, digest_lo);
