-- +goose Up
-- The central ledger (PostgreSQL dialect). Times are Unix milliseconds, UTC; money is fen.

CREATE TABLE unit (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    name        TEXT NOT NULL,
    credit_code TEXT NOT NULL DEFAULT ''
);

CREATE TABLE bill_kinds (
    kind      TEXT PRIMARY KEY,
    bill_code TEXT NOT NULL
);

-- Stock received from the finance bureau: e-bill numbers and pre-printed
-- paper ranges. next_no is the allocation pointer (e-bill stock).
CREATE TABLE stock (
    id          TEXT PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('einvoice', 'paper')),
    code        TEXT    NOT NULL,
    start_no    BIGINT NOT NULL,
    end_no      BIGINT NOT NULL,
    next_no     BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    CHECK (start_no >= 1 AND end_no >= start_no AND next_no BETWEEN start_no AND end_no + 1)
);
CREATE INDEX stock_code ON stock (kind, code, start_no);

CREATE TABLE points (
    code        TEXT PRIMARY KEY,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('station', 'server')),
    settings    TEXT    NOT NULL,            -- JSON wire.Settings
    public_key  TEXT,                        -- PEM; NULL until enrolled
    enrolled_at BIGINT,
    revoked_at  BIGINT,
    epoch       BIGINT NOT NULL DEFAULT 0,      -- enrollment count: each enrolled station starts a chain
    chain_seq   BIGINT NOT NULL DEFAULT 0,
    chain_hash  TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT '{}', -- JSON: what the station last reported
    created_at  BIGINT NOT NULL
);

CREATE TABLE enroll_codes (
    code       TEXT PRIMARY KEY,
    point_code TEXT    NOT NULL REFERENCES points (code),
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE TABLE segments (
    id           TEXT PRIMARY KEY,
    point_code   TEXT    NOT NULL REFERENCES points (code),
    epoch        BIGINT NOT NULL,               -- the enrollment it was allocated to
    bill_code    TEXT    NOT NULL,
    start_no     BIGINT NOT NULL,
    end_no       BIGINT NOT NULL,
    stock_id     TEXT    NOT NULL REFERENCES stock (id),
    request_id   TEXT    NOT NULL,
    allocated_at BIGINT NOT NULL,
    UNIQUE (point_code, request_id)
);
CREATE INDEX segments_point ON segments (point_code, bill_code, start_no);
CREATE INDEX segments_code ON segments (bill_code, start_no);

CREATE TABLE bills (
    id          TEXT PRIMARY KEY,
    point_code  TEXT    NOT NULL REFERENCES points (code),
    epoch       BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    bill_code   TEXT    NOT NULL,
    bill_no     BIGINT NOT NULL,
    check_code  TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    bus_no      TEXT,
    payer       TEXT    NOT NULL,
    total       BIGINT NOT NULL,
    issued_at   BIGINT NOT NULL,
    red_of      TEXT,
    content     BYTEA    NOT NULL,
    hash        TEXT    NOT NULL,
    signature   BYTEA    NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (point_code, epoch, seq),
    UNIQUE (bill_code, bill_no)
);
CREATE INDEX bills_issued ON bills (issued_at);
CREATE UNIQUE INDEX bills_red_of ON bills (red_of) WHERE red_of IS NOT NULL;

-- Uploads that collided with what the ledger holds: never overwritten, kept for the administrator.
CREATE TABLE conflicts (
    id          TEXT PRIMARY KEY,
    point_code  TEXT    NOT NULL,
    bill_id     TEXT    NOT NULL,
    seq         BIGINT NOT NULL,
    bill_code   TEXT    NOT NULL,
    bill_no     BIGINT NOT NULL,
    reason      TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    content     BYTEA    NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (point_code, bill_id, hash)
);

-- +goose Down
DROP TABLE conflicts;
DROP TABLE bills;
DROP TABLE segments;
DROP TABLE enroll_codes;
DROP TABLE points;
DROP TABLE stock;
DROP TABLE bill_kinds;
DROP TABLE unit;
