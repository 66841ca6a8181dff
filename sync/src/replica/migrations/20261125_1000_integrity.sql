-- Where the replica stands in the hub's hash chain (the value at the cursor, hex), and the
-- key the hub seals its batches with, as the snapshot brought it (hex SEC1).
ALTER TABLE meta ADD COLUMN chain TEXT;
ALTER TABLE meta ADD COLUMN hub_key TEXT;
