-- +goose Up
-- The bills of a HIS app's batch issue (batchInvoiceEBill…): one row per
-- settlement of the batch, its outcome (1 issued, 2 failed) and the bill
-- or the reason, for getBatchInvoiceEBill.
CREATE TABLE his_batch_items (
    app_id     TEXT    NOT NULL,
    batch_no   TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    bus_no     TEXT    NOT NULL,
    status     INTEGER NOT NULL,
    err_msg    TEXT    NOT NULL DEFAULT '',
    bill_code  TEXT    NOT NULL DEFAULT '',
    bill_no    BIGINT  NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (app_id, batch_no, seq)
);

-- +goose Down
DROP TABLE his_batch_items;
