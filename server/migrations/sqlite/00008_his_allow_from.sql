-- +goose Up
-- The addresses a HIS app may call from (IPs and CIDR ranges, comma-separated); empty: anywhere.
ALTER TABLE his_apps ADD COLUMN allow_from TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE his_apps DROP COLUMN allow_from;
