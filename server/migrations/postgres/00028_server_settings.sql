-- +goose Up
-- Server-wide settings set by the administrators, by key: for now the
-- lowest station program version the sync API accepts (min_station_version).
CREATE TABLE server_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE server_settings;
