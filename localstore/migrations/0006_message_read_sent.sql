-- A read receipt is sent to the centre once: read_sent marks it acknowledged.
ALTER TABLE messages ADD COLUMN read_sent INTEGER NOT NULL DEFAULT 0;
