-- A user the server's policy requires a second factor of works in the
-- management console; the desk, which asks for none, refuses them.
ALTER TABLE users ADD COLUMN second_factor INTEGER NOT NULL DEFAULT 0;
