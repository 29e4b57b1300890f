-- What became of each paper number is reported to the server after the
-- bills (sync): version grows with every change, synced_version is the
-- last the server acknowledged. Rows from before this migration are
-- pending (version 1), so the server learns the station's whole history.
ALTER TABLE paper_usage ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE paper_usage ADD COLUMN synced_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE paper_usage ADD COLUMN sync_error TEXT NOT NULL DEFAULT '';

CREATE TRIGGER paper_usage_changed AFTER UPDATE OF status, reason, voided_at ON paper_usage
BEGIN
    UPDATE paper_usage SET version = OLD.version + 1, sync_error = ''
    WHERE paper_code = NEW.paper_code AND paper_no = NEW.paper_no;
END;

CREATE INDEX paper_usage_pending ON paper_usage (paper_code, paper_no) WHERE version > synced_version;
CREATE INDEX paper_usage_refused ON paper_usage (paper_code, paper_no) WHERE sync_error != '';
