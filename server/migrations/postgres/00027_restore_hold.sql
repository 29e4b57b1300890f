-- +goose Up
-- After a restore from an older backup (ebill-server restore), the server
-- may not know segments it allocated after the backup: it allocates no new
-- segment until every station point has reported what it holds (POST
-- /api/v1/held), learning the segments it lost. report is the point's
-- last report (JSON), for restore-status.
CREATE TABLE restore_hold (
    point_code  TEXT    PRIMARY KEY REFERENCES points (code),
    restored_at BIGINT NOT NULL,
    reported_at BIGINT,
    released_by TEXT    NOT NULL DEFAULT '',
    report      TEXT    NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE restore_hold;
