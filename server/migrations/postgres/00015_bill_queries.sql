-- +goose Up
-- 查询统计 (console.md) at millions of bills: the patient number and the
-- main pay channel as columns, indexes that keyset paging walks
-- (issue time, then id), and hourly figures per point, kind and pay
-- channel that the summaries and the peak trend read instead of the bills.
ALTER TABLE bills ADD COLUMN patient_no TEXT NOT NULL DEFAULT '';
ALTER TABLE bills ADD COLUMN pay_channel TEXT NOT NULL DEFAULT '';
CREATE INDEX bills_issued_id ON bills (issued_at, id);
CREATE INDEX bills_point_issued ON bills (point_code, issued_at, id);
CREATE INDEX bills_payer ON bills (payer, issued_at);
CREATE INDEX bills_patient ON bills (patient_no, issued_at);
CREATE INDEX paper_usage_bill ON paper_usage (bill_id);
-- "Which bills reverse this one" (red_of = ?) could use neither partial
-- index of 00011 (each also names the kind): a scan of every bill, per red
-- bill uploaded and per row of a query.
CREATE INDEX bills_red_of_any ON bills (red_of);
DROP INDEX bills_issued;

-- One row per UTC hour (issued_at / 3600000), point, kind, pay channel and
-- colour: bills counts each bill once, under its main (first) channel;
-- amount is the channel's share. Red bills carry negative amounts.
CREATE TABLE bill_stats (
    hour       BIGINT  NOT NULL,
    point_code TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    red        BIGINT  NOT NULL,
    bills      BIGINT  NOT NULL,
    amount     BIGINT  NOT NULL,
    PRIMARY KEY (hour, point_code, kind, channel, red)
);
-- The same by Beijing day ((hour + 8) / 24): a month's summary reads 30
-- rows per point, kind and channel instead of 720.
CREATE TABLE bill_daily (
    day        BIGINT  NOT NULL,
    point_code TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    red        BIGINT  NOT NULL,
    bills      BIGINT  NOT NULL,
    amount     BIGINT  NOT NULL,
    PRIMARY KEY (day, point_code, kind, channel, red)
);
-- Migration 16 (Go) fills them from the bills already held.

-- +goose Down
DROP TABLE bill_daily;
DROP TABLE bill_stats;
DROP INDEX bills_red_of_any;
DROP INDEX paper_usage_bill;
DROP INDEX bills_patient;
DROP INDEX bills_payer;
DROP INDEX bills_point_issued;
DROP INDEX bills_issued_id;
CREATE INDEX bills_issued ON bills (issued_at);
ALTER TABLE bills DROP COLUMN pay_channel;
ALTER TABLE bills DROP COLUMN patient_no;
