-- +goose Up
-- Callers of the Bosssoft-compatible medical API (HIS, exam system,
-- kiosks): each with its secret, the billing points it may act for, and the
-- order of the fields in its signature string.
CREATE TABLE his_apps (
    appid      TEXT PRIMARY KEY,
    secret     TEXT    NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    points     TEXT    NOT NULL,              -- comma-separated point codes
    sign_order TEXT    NOT NULL,              -- e.g. appid,data,noise,key,version
    disabled   INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL
);

-- Noises seen, so that a replayed request is refused within the window.
CREATE TABLE his_noise (
    appid   TEXT   NOT NULL,
    noise   TEXT   NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (appid, noise)
);
CREATE INDEX his_noise_seen ON his_noise (seen_at);

-- The signing keys of points of kind server: the server issues for them
-- (HIS calls) exactly as a station would, and verifies what it issued.
CREATE TABLE point_keys (
    point_code  TEXT PRIMARY KEY REFERENCES points (code),
    private_key TEXT NOT NULL
);

-- +goose Down
DROP TABLE point_keys;
DROP TABLE his_noise;
DROP TABLE his_apps;
