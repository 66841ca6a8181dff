-- The changes and rows still waiting for their chain value or digest (written before the
-- hub kept them): found at every open through these, which stay empty, instead of by
-- reading the whole log and state.
CREATE INDEX changes_unchained ON changes (seq) WHERE chain IS NULL;
CREATE INDEX state_undigested ON state (entity, key) WHERE digest_hi IS NULL;
