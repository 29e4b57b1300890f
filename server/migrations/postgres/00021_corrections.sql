-- +goose Up
-- 数据修正 (console.md): a request to correct a bill, master data or a
-- paper record, approved by another person and then carried out by the
-- system; bills are never edited — a wrong bill becomes a red bill and a
-- reissued one. before and after are kept.
CREATE TABLE corrections (
    id          TEXT PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('bill', 'item', 'paper')),
    target      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    evidence    TEXT    NOT NULL DEFAULT '',
    proposal    TEXT    NOT NULL,              -- JSON: the proposed change
    state       TEXT    NOT NULL,              -- submitted, returned, done
    maker       TEXT    NOT NULL,
    checker     TEXT    NOT NULL DEFAULT '',
    opinion     TEXT    NOT NULL DEFAULT '',
    before_data TEXT    NOT NULL DEFAULT '',   -- JSON, once carried out
    after_data  TEXT    NOT NULL DEFAULT '',
    result      TEXT    NOT NULL DEFAULT '',   -- what was done, as people read it
    created_at  BIGINT NOT NULL,
    decided_at  BIGINT
);
CREATE INDEX corrections_created ON corrections (created_at);

-- +goose Down
DROP TABLE corrections;
