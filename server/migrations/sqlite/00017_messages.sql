-- +goose Up
-- 消息中心 (console.md): a message goes to everyone, one billing point or
-- one role; stations report which messages their desk has read; automatic
-- messages (stock, rejected uploads, silent stations, the certificate)
-- carry a key so that each is sent once a day.
ALTER TABLE messages ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN author TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN auto_key TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_created ON messages (created_at);
CREATE INDEX messages_auto ON messages (auto_key);

CREATE TABLE message_reads (
    message_id TEXT    NOT NULL,
    point_code TEXT    NOT NULL,
    read_at    INTEGER NOT NULL,
    PRIMARY KEY (message_id, point_code)
) STRICT;

-- +goose Down
DROP TABLE message_reads;
DROP INDEX messages_auto;
DROP INDEX messages_created;
ALTER TABLE messages DROP COLUMN auto_key;
ALTER TABLE messages DROP COLUMN author;
ALTER TABLE messages DROP COLUMN role;
