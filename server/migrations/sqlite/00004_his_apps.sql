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
    created_at INTEGER NOT NULL
) STRICT;

-- Noises seen, so that a replayed request is refused within the window.
CREATE TABLE his_noise (
    appid   TEXT   NOT NULL,
    noise   TEXT   NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (appid, noise)
) STRICT;
CREATE INDEX his_noise_seen ON his_noise (seen_at);

-- The signing keys of points of kind server: the server issues for them
-- (HIS calls) exactly as a station would, and verifies what it issued.
CREATE TABLE point_keys (
    point_code  TEXT PRIMARY KEY REFERENCES points (code),
    private_key TEXT NOT NULL
) STRICT;

-- Pre-printed paper given to server points (from the paper stock), and
-- what became of each paper number: printed with an e-bill, voided, or
-- voided blank.
CREATE TABLE point_paper (
    id          TEXT PRIMARY KEY,
    point_code  TEXT    NOT NULL REFERENCES points (code),
    paper_code  TEXT    NOT NULL,
    start_no    INTEGER NOT NULL,
    end_no      INTEGER NOT NULL,
    stock_id    TEXT    NOT NULL REFERENCES stock (id),
    assigned_at INTEGER NOT NULL
) STRICT;
CREATE INDEX point_paper_point ON point_paper (point_code, paper_code, start_no);

CREATE TABLE paper_usage (
    paper_code TEXT    NOT NULL,
    paper_no   INTEGER NOT NULL,
    point_code TEXT    NOT NULL REFERENCES points (code),
    status     TEXT    NOT NULL CHECK (status IN ('printed', 'voided', 'blank_void')),
    bill_id    TEXT REFERENCES bills (id),
    reason     TEXT    NOT NULL DEFAULT '',
    operator   TEXT    NOT NULL DEFAULT '',
    used_at    INTEGER NOT NULL,
    voided_at  INTEGER,
    PRIMARY KEY (paper_code, paper_no)
) STRICT;
CREATE UNIQUE INDEX paper_usage_live ON paper_usage (bill_id) WHERE status = 'printed';

-- +goose Down
DROP TABLE paper_usage;
DROP TABLE point_paper;
DROP TABLE point_keys;
DROP TABLE his_noise;
DROP TABLE his_apps;
