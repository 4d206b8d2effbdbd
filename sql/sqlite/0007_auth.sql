-- 0007_auth: why a refresh session ended, and which session replaced it.
-- revoked_reason: 'rotated' (refresh), 'logout', 'reuse' (a rotated token was
-- presented again: every session of the user ends), 'password' (new password
-- or deactivation). Only presenting a 'rotated' token again counts as reuse.
ALTER TABLE sessions ADD COLUMN revoked_reason TEXT;
ALTER TABLE sessions ADD COLUMN replaced_by TEXT;
