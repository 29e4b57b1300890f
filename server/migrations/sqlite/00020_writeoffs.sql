-- +goose Up
-- 核销 (console.md): a declaration per period and bill code (and point
-- when asked), for e-bills and paper apart. Its figures are computed from
-- the ledger up to the cut (the moment it was sent); on approval they are
-- frozen and the period is closed: events recorded after the cut go to the
-- next declaration, marked as late (补记).
CREATE TABLE writeoffs (
    id           TEXT PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('einvoice', 'paper')),
    code         TEXT    NOT NULL,
    point_code   TEXT    NOT NULL DEFAULT '',   -- '' for the whole unit
    period_from  INTEGER NOT NULL,                -- [from, to), UTC ms
    period_to    INTEGER NOT NULL,
    state        TEXT    NOT NULL,              -- draft, submitted, approved, returned, reported
    maker        TEXT    NOT NULL,
    checker      TEXT    NOT NULL DEFAULT '',
    opinion      TEXT    NOT NULL DEFAULT '',
    note         TEXT    NOT NULL DEFAULT '',
    figures      TEXT    NOT NULL,              -- JSON WriteOffFigures
    cut_at       INTEGER,                         -- the cut of the figures once sent
    created_at   INTEGER NOT NULL,
    submitted_at INTEGER,
    decided_at   INTEGER,
    CHECK (period_to > period_from)
) STRICT;
CREATE INDEX writeoffs_chain ON writeoffs (kind, code, point_code, period_from);

-- When the server recorded a sheet's use and its void (server clock): the
-- cut of a declaration compares with these, not the station's times.
ALTER TABLE paper_usage ADD COLUMN rec_at INTEGER;
ALTER TABLE paper_usage ADD COLUMN void_rec_at INTEGER;
UPDATE paper_usage SET rec_at = used_at, void_rec_at = CASE WHEN status = 'printed' THEN NULL ELSE COALESCE(voided_at, used_at) END;
CREATE INDEX paper_usage_used ON paper_usage (paper_code, used_at);

-- 空白票据作废 in the store room: a range of paper never given to a point,
-- spoiled, voided by a document approved by a second person.
CREATE TABLE paper_store_voids (
    id          TEXT PRIMARY KEY,
    code        TEXT    NOT NULL,
    start_no    INTEGER NOT NULL,
    end_no      INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    state       TEXT    NOT NULL,               -- draft, submitted, approved, returned
    maker       TEXT    NOT NULL,
    checker     TEXT    NOT NULL DEFAULT '',
    opinion     TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    decided_at  INTEGER,
    CHECK (end_no >= start_no)
) STRICT;
CREATE INDEX paper_store_voids_code ON paper_store_voids (code, start_no);

-- +goose Down
DROP TABLE paper_store_voids;
DROP INDEX paper_usage_used;
ALTER TABLE paper_usage DROP COLUMN void_rec_at;
ALTER TABLE paper_usage DROP COLUMN rec_at;
DROP TABLE writeoffs;
