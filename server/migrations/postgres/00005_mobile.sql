-- +goose Up
-- The card number of each bill (the patient's medical or insurance card),
-- for the kiosk and the patients' mobile API; and the one-time codes and
-- sessions of the mobile API.
ALTER TABLE bills ADD COLUMN card_no TEXT;
-- Bills stored before this migration get theirs from their signed content.
UPDATE bills SET card_no = NULLIF(TRIM(convert_from(content, 'UTF8')::jsonb -> 'settlement' ->> 'cardNo'), '')
WHERE card_no IS NULL;
CREATE INDEX bills_card ON bills (card_no, issued_at);

CREATE TABLE mobile_codes (
    card_no    TEXT PRIMARY KEY,
    name       TEXT    NOT NULL,
    code_hash  TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL,
    attempts   BIGINT  NOT NULL DEFAULT 0,
    sent_at    BIGINT  NOT NULL
);

CREATE TABLE mobile_sessions (
    token_hash TEXT PRIMARY KEY,
    card_no    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE mobile_sessions;
DROP TABLE mobile_codes;
DROP INDEX bills_card;
ALTER TABLE bills DROP COLUMN card_no;
