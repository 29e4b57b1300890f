-- +goose Up
-- Daily reports to the health commission (卫健委): what was sent, where, when.
CREATE TABLE health_reports (
    report_date TEXT PRIMARY KEY,          -- yyyy-MM-dd, Beijing
    url         TEXT    NOT NULL,
    attempts    INTEGER  NOT NULL DEFAULT 0,
    sent_at     INTEGER,
    last_error  TEXT    NOT NULL DEFAULT ''
) STRICT;

-- +goose Down
DROP TABLE health_reports;
