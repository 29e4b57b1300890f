-- +goose Up
-- 领用证 (console.md): the bill purchase certificates the finance bureau
-- issues, the bill codes each covers; intake documents name one.
CREATE TABLE certificates (
    id           TEXT PRIMARY KEY,
    cert_no      TEXT    NOT NULL UNIQUE,
    name         TEXT    NOT NULL,
    unit         TEXT    NOT NULL DEFAULT '',
    issued_on    TEXT    NOT NULL,              -- yyyy-MM-dd
    valid_to     TEXT    NOT NULL,              -- yyyy-MM-dd
    inspected_on TEXT    NOT NULL DEFAULT '',   -- the last 年检
    legal_no     TEXT    NOT NULL DEFAULT '',
    license_no   TEXT    NOT NULL DEFAULT '',
    address      TEXT    NOT NULL DEFAULT '',
    contact      TEXT    NOT NULL DEFAULT '',
    phone        TEXT    NOT NULL DEFAULT '',
    finance_head TEXT    NOT NULL DEFAULT '',
    handler      TEXT    NOT NULL DEFAULT '',
    codes        TEXT    NOT NULL DEFAULT '',   -- the bill codes covered, comma-separated
    enabled      BIGINT  NOT NULL DEFAULT 1,
    note         TEXT    NOT NULL DEFAULT '',
    updated_at   BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE certificates;
