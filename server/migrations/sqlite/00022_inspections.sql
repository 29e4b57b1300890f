-- +goose Up
-- 巡检报告 (console.md 运维): each report's items with 正常/异常, kept;
-- the figures the next report compares with (database size, HIS calls).
CREATE TABLE inspections (
    id          TEXT PRIMARY KEY,
    kind        TEXT    NOT NULL,              -- manual, daily
    actor       TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    items       TEXT    NOT NULL,              -- JSON []InspectItem
    anomalies   INTEGER NOT NULL,
    db_size     INTEGER NOT NULL,
    his_total   INTEGER NOT NULL DEFAULT 0,
    his_failed  INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX inspections_at ON inspections (at);

-- 运维日志: what IT checked or did, by whom and when, linked to a report.
CREATE TABLE maintenance_log (
    id          TEXT PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,              -- check, fix, change, other
    what        TEXT    NOT NULL,
    report_id   TEXT    REFERENCES inspections (id)
) STRICT;
CREATE INDEX maintenance_log_at ON maintenance_log (at);

-- The backups the server made (ebill-server backup), for the report.
CREATE TABLE backup_log (
    at          INTEGER NOT NULL,
    path        TEXT    NOT NULL,
    size        INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE backup_log;
DROP TABLE maintenance_log;
DROP TABLE inspections;
