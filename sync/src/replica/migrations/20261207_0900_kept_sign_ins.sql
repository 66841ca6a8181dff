-- People who signed in online at this counter, kept so that the same person can unlock
-- the screen, and sign in here offline within the policy's window: a verifier made here
-- from the password they typed (never the hub's), who they are and what they may do as
-- the hub last said, and the failed attempts made here.
CREATE TABLE kept_sign_ins (
    account TEXT PRIMARY KEY,
    person TEXT NOT NULL,           -- protocol::Person, JSON
    policy TEXT NOT NULL,           -- the SecurityPolicy in force at that sign-in, JSON
    verifier TEXT NOT NULL,         -- yizhan_core::password
    online_at INTEGER NOT NULL,     -- last online sign-in here, unix seconds UTC
    failures INTEGER NOT NULL DEFAULT 0,
    first_failure_at INTEGER,       -- start of the failures' lockout window
    locked_until INTEGER
);
