-- +goose Up
-- Stations receive only the desk's accounts (cashiers, exam nurses) of
-- their own point: points lists where an account may work ('' anywhere).
-- Every account is sent again once, so that stations drop the ones they
-- must no longer hold (administrators' hashes among them).
ALTER TABLE users ADD COLUMN points TEXT NOT NULL DEFAULT '';
UPDATE master_seq SET version = version + 1 WHERE id = 1;
UPDATE users SET version = (SELECT version FROM master_seq WHERE id = 1);

-- +goose Down
ALTER TABLE users DROP COLUMN points;
