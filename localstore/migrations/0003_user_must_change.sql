-- A user whose password an administrator set (or that expired) must change
-- it at the server before signing in here offline.
ALTER TABLE users ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;
