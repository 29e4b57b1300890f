-- +goose Up
-- 票源管理 (console.md): stock is received as documents a maker drafts and
-- a different checker approves or returns; paper is distributed to billing
-- points and returned; alert thresholds per code and point; a point can
-- be disabled.
CREATE TABLE stock_docs (
    id           TEXT PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('einvoice', 'paper')),
    code         TEXT    NOT NULL,
    start_no     INTEGER NOT NULL,
    end_no       INTEGER NOT NULL,
    certificate  TEXT    NOT NULL DEFAULT '',
    note         TEXT    NOT NULL DEFAULT '',
    state        TEXT    NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'returned')),
    maker        TEXT    NOT NULL,
    checker      TEXT    NOT NULL DEFAULT '',
    opinion      TEXT    NOT NULL DEFAULT '',
    stock_id     TEXT,
    created_at   INTEGER NOT NULL,
    submitted_at INTEGER NOT NULL DEFAULT 0,
    decided_at   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX stock_docs_state ON stock_docs (state, created_at);
CREATE INDEX stock_docs_code ON stock_docs (kind, code, start_no);

ALTER TABLE point_paper ADD COLUMN returned_at INTEGER;
ALTER TABLE point_paper ADD COLUMN operator TEXT NOT NULL DEFAULT '';
CREATE INDEX point_paper_code ON point_paper (paper_code, start_no);
ALTER TABLE points ADD COLUMN paper_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE points ADD COLUMN disabled_at INTEGER;

CREATE TABLE stock_alerts (
    kind       TEXT    NOT NULL CHECK (kind IN ('einvoice', 'paper')),
    code       TEXT    NOT NULL,
    point_code TEXT    NOT NULL DEFAULT '',   -- '' for the central stock
    min_left   INTEGER NOT NULL,
    min_days   INTEGER NOT NULL,
    alerted_at INTEGER NOT NULL DEFAULT 0,    -- the last message, so one is sent per day at most
    PRIMARY KEY (kind, code, point_code)
) STRICT;

-- Paper uses a station reported and the server refused (上传冲突, 站点状态).
CREATE TABLE paper_conflicts (
    id          TEXT PRIMARY KEY,
    point_code  TEXT    NOT NULL,
    paper_code  TEXT    NOT NULL,
    paper_no    INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    bill_id     TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX paper_conflicts_point ON paper_conflicts (point_code, received_at);

-- Every station learns its point's distributed paper on its next pull.
UPDATE master_seq SET version = version + 1 WHERE id = 1;
UPDATE points SET paper_version = (SELECT version FROM master_seq WHERE id = 1);

-- +goose Down
DROP TABLE paper_conflicts;
DROP TABLE stock_alerts;
ALTER TABLE points DROP COLUMN disabled_at;
ALTER TABLE points DROP COLUMN paper_version;
DROP INDEX point_paper_code;
ALTER TABLE point_paper DROP COLUMN operator;
ALTER TABLE point_paper DROP COLUMN returned_at;
DROP TABLE stock_docs;
