-- +goose Up
-- The auditor's queries select by time (audit_query.go).
CREATE INDEX audit_at ON audit (at);

-- +goose Down
DROP INDEX audit_at;
