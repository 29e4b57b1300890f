-- +goose Up
-- Deposit vouchers (预交金电子凭证) are refunded in parts: one voucher may
-- have several red vouchers, their sum at most the deposit. Every other
-- bill is still reversed once, in full.
DROP INDEX bills_red_of;
CREATE UNIQUE INDEX bills_red_of ON bills (red_of) WHERE red_of IS NOT NULL AND kind <> 'deposit';
CREATE INDEX bills_refund_of ON bills (red_of) WHERE red_of IS NOT NULL AND kind = 'deposit';

-- receiveArreasFeedBack: the day HIS said a bill issued in arrears
-- (isArrears 0, 不可流通) may circulate, and which app said it.
CREATE TABLE bill_feedback (
    bill_id       TEXT    PRIMARY KEY REFERENCES bills (id),
    feedback_date TEXT    NOT NULL,
    app_id        TEXT    NOT NULL,
    received_at   INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE bill_feedback;
DROP INDEX bills_refund_of;
DROP INDEX bills_red_of;
CREATE UNIQUE INDEX bills_red_of ON bills (red_of) WHERE red_of IS NOT NULL;
