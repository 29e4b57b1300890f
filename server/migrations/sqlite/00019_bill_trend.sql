-- +goose Up
-- 票据峰值走势: bills and amounts per UTC hour, per point and kind, with
-- the rollups '*' (every point, every kind) written beside, so that any
-- range's trend, whatever its filter, reads one row per hour.
CREATE TABLE bill_trend (
    hour       INTEGER NOT NULL,
    point_code TEXT    NOT NULL,   -- '*' for every point
    kind       TEXT    NOT NULL,   -- '*' for every kind
    bills      INTEGER NOT NULL,   -- blue bills
    amount     INTEGER NOT NULL,
    reds       INTEGER NOT NULL,   -- red bills
    red_amount INTEGER NOT NULL,   -- their amount (negative)
    PRIMARY KEY (point_code, kind, hour)
) STRICT;
INSERT INTO bill_trend (hour, point_code, kind, bills, amount, reds, red_amount)
SELECT hour, p, k, SUM(b), SUM(a), SUM(r), SUM(ra) FROM (
    SELECT hour, point_code AS p, kind AS k, CASE WHEN red = 0 THEN bills ELSE 0 END AS b, CASE WHEN red = 0 THEN amount ELSE 0 END AS a,
        CASE WHEN red = 1 THEN bills ELSE 0 END AS r, CASE WHEN red = 1 THEN amount ELSE 0 END AS ra FROM bill_stats
    UNION ALL
    SELECT hour, '*', kind, CASE WHEN red = 0 THEN bills ELSE 0 END, CASE WHEN red = 0 THEN amount ELSE 0 END,
        CASE WHEN red = 1 THEN bills ELSE 0 END, CASE WHEN red = 1 THEN amount ELSE 0 END FROM bill_stats
    UNION ALL
    SELECT hour, point_code, '*', CASE WHEN red = 0 THEN bills ELSE 0 END, CASE WHEN red = 0 THEN amount ELSE 0 END,
        CASE WHEN red = 1 THEN bills ELSE 0 END, CASE WHEN red = 1 THEN amount ELSE 0 END FROM bill_stats
    UNION ALL
    SELECT hour, '*', '*', CASE WHEN red = 0 THEN bills ELSE 0 END, CASE WHEN red = 0 THEN amount ELSE 0 END,
        CASE WHEN red = 1 THEN bills ELSE 0 END, CASE WHEN red = 1 THEN amount ELSE 0 END FROM bill_stats
) AS x GROUP BY hour, p, k;

-- +goose Down
DROP TABLE bill_trend;
