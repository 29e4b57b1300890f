-- +goose Up
-- The central ledger (SQLite dialect). Times are Unix milliseconds, UTC; money is fen.

CREATE TABLE unit (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    name        TEXT NOT NULL,
    credit_code TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE bill_kinds (
    kind      TEXT PRIMARY KEY,
    bill_code TEXT NOT NULL
) STRICT;

-- Stock received from the finance bureau: e-bill numbers and pre-printed
-- paper ranges. next_no is the allocation pointer (e-bill stock).
CREATE TABLE stock (
    id          TEXT PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('einvoice', 'paper')),
    code        TEXT    NOT NULL,
    start_no    INTEGER NOT NULL,
    end_no      INTEGER NOT NULL,
    next_no     INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    CHECK (start_no >= 1 AND end_no >= start_no AND next_no BETWEEN start_no AND end_no + 1)
) STRICT;
CREATE INDEX stock_code ON stock (kind, code, start_no);

CREATE TABLE points (
    code        TEXT PRIMARY KEY,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('station', 'server')),
    settings    TEXT    NOT NULL,            -- JSON wire.Settings
    public_key  TEXT,                        -- PEM; NULL until enrolled
    enrolled_at INTEGER,
    revoked_at  INTEGER,
    epoch       INTEGER NOT NULL DEFAULT 0,      -- enrollment count: each enrolled station starts a chain
    chain_seq   INTEGER NOT NULL DEFAULT 0,
    chain_hash  TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT '{}', -- JSON: what the station last reported
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE enroll_codes (
    code       TEXT PRIMARY KEY,
    point_code TEXT    NOT NULL REFERENCES points (code),
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

CREATE TABLE segments (
    id           TEXT PRIMARY KEY,
    point_code   TEXT    NOT NULL REFERENCES points (code),
    epoch        INTEGER NOT NULL,               -- the enrollment it was allocated to
    bill_code    TEXT    NOT NULL,
    start_no     INTEGER NOT NULL,
    end_no       INTEGER NOT NULL,
    stock_id     TEXT    NOT NULL REFERENCES stock (id),
    request_id   TEXT    NOT NULL,
    allocated_at INTEGER NOT NULL,
    UNIQUE (point_code, request_id)
) STRICT;
CREATE INDEX segments_point ON segments (point_code, bill_code, start_no);
CREATE INDEX segments_code ON segments (bill_code, start_no);

CREATE TABLE bills (
    id          TEXT PRIMARY KEY,
    point_code  TEXT    NOT NULL REFERENCES points (code),
    epoch       INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    bill_code   TEXT    NOT NULL,
    bill_no     INTEGER NOT NULL,
    check_code  TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    bus_no      TEXT,
    payer       TEXT    NOT NULL,
    total       INTEGER NOT NULL,
    issued_at   INTEGER NOT NULL,
    red_of      TEXT,
    content     BLOB    NOT NULL,
    hash        TEXT    NOT NULL,
    signature   BLOB    NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (point_code, epoch, seq),
    UNIQUE (bill_code, bill_no)
) STRICT;
CREATE INDEX bills_issued ON bills (issued_at);
CREATE UNIQUE INDEX bills_red_of ON bills (red_of) WHERE red_of IS NOT NULL;

-- Uploads that collided with what the ledger holds: never overwritten, kept for the administrator.
CREATE TABLE conflicts (
    id          TEXT PRIMARY KEY,
    point_code  TEXT    NOT NULL,
    bill_id     TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    bill_code   TEXT    NOT NULL,
    bill_no     INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    content     BLOB    NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (point_code, bill_id, hash)
) STRICT;

-- +goose Down
DROP TABLE conflicts;
DROP TABLE bills;
DROP TABLE segments;
DROP TABLE enroll_codes;
DROP TABLE points;
DROP TABLE stock;
DROP TABLE bill_kinds;
DROP TABLE unit;
