-- +goose Up
-- The hospital's registered seal (票据专用章) as a PNG, printed on its bills,
-- and the master-data version it changed at (stations pull it once).
ALTER TABLE unit ADD COLUMN seal BLOB;
ALTER TABLE unit ADD COLUMN seal_version INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE unit DROP COLUMN seal_version;
ALTER TABLE unit DROP COLUMN seal;
