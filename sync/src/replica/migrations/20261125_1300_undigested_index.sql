-- The rows without a digest (loaded before the replica kept them, or changed behind its
-- writer's back): found at every open through this, which stays nearly empty, instead of
-- by reading the whole table, which would slow every start of the app.
CREATE INDEX rows_undigested ON rows (entity, key) WHERE digest_hi IS NULL;
