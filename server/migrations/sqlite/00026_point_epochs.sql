-- +goose Up
-- The public key of every enrollment of a billing point: a bill is
-- verified with the key of the enrollment (epoch) that signed it, also
-- after the station enrolled again (ebill-server verify). Enrollments from
-- before this table are taken from the points' current keys; older ones
-- from the audit trail when verify needs them.
CREATE TABLE point_epochs (
    point_code  TEXT    NOT NULL REFERENCES points (code),
    epoch       INTEGER NOT NULL,
    public_key  TEXT    NOT NULL,
    enrolled_at INTEGER NOT NULL,
    PRIMARY KEY (point_code, epoch)
) STRICT;
INSERT INTO point_epochs (point_code, epoch, public_key, enrolled_at)
SELECT code, epoch, public_key, COALESCE(enrolled_at, created_at) FROM points WHERE public_key IS NOT NULL AND epoch > 0;

-- +goose Down
DROP TABLE point_epochs;
