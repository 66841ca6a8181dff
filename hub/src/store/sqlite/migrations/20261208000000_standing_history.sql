-- How each account stood over time: whether it was active and the permissions its grants
-- gave, from `since` until the next record. A command a counter queued offline is judged
-- by the account's standing when the clerk issued it, not when it arrived.
CREATE TABLE standing_history (
    account     TEXT NOT NULL REFERENCES users (account),
    since       TEXT NOT NULL,
    active      INTEGER NOT NULL,
    -- Permission strings as a JSON array.
    permissions TEXT NOT NULL
);
CREATE INDEX standing_history_account ON standing_history (account, since);

-- Accounts made before this record was kept stand as they do now, since their creation.
INSERT INTO standing_history (account, since, active, permissions)
SELECT u.account, u.created_at, u.status = 'active',
       COALESCE((SELECT json_group_array(DISTINCT p.value) FROM grants g JOIN roles r ON r.id = g.role, json_each(r.permissions) p
                 WHERE g.account = u.account), '[]')
FROM users u;
