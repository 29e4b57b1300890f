-- ID and phone numbers leave the stored bills (security.md DC-2): the
-- content keeps them as zeros, the originals are sealed with SM4-GCM in
-- pii under the data key (keys/data.key), and put back on every read.
ALTER TABLE bills ADD COLUMN pii BLOB;

-- Issued bills stay immutable. The one change allowed is sealing a bill
-- once: content masked (same length) and pii set, which this migration's
-- Go step does for the bills stored before it.
DROP TRIGGER bills_no_update;
CREATE TRIGGER bills_no_update BEFORE UPDATE OF seq, id, bill_code, bill_no, check_code, kind, bus_no, payer, card_no,
    patient_no, total, issued_at, payee, red_of, input_hash, prev_hash, hash, signature ON bills
BEGIN SELECT RAISE(ABORT, 'bills are immutable'); END;
CREATE TRIGGER bills_seal_once BEFORE UPDATE OF content, pii ON bills
WHEN OLD.pii IS NOT NULL OR NEW.pii IS NULL OR length(NEW.content) <> length(OLD.content)
BEGIN SELECT RAISE(ABORT, 'bills are immutable'); END;
