-- +goose Up
-- A write-off declaration reads one code's bills of its period (by issue
-- time) and the late ones (by when the server received them).
CREATE INDEX bills_code_issued ON bills (bill_code, issued_at);
CREATE INDEX bills_received ON bills (received_at);

-- +goose Down
DROP INDEX bills_received;
DROP INDEX bills_code_issued;
