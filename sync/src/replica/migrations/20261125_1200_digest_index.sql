-- A range's checksum read from an index alone (see the hub's state_range_digest).
CREATE INDEX rows_range_digest ON rows (entity, key, digest_hi, digest_lo);
