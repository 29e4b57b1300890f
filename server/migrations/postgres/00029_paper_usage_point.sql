-- +goose Up
-- Each sync pass asks how far the server holds a station's paper records
-- (the newest use and void time of its point): two index probes instead
-- of a scan of every paper record.
CREATE INDEX paper_usage_point_used ON paper_usage (point_code, used_at);
CREATE INDEX paper_usage_point_voided ON paper_usage (point_code, voided_at);

-- +goose Down
DROP INDEX paper_usage_point_voided;
DROP INDEX paper_usage_point_used;
