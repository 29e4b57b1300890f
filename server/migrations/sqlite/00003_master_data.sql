-- +goose Up
-- Master data that stations keep copies of. Every change takes the next
-- value of master_seq as its version, so a station pulls only what changed.

CREATE TABLE master_seq (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;
INSERT INTO master_seq (id, version) VALUES (1, 0);

CREATE TABLE charge_items (
    code          TEXT PRIMARY KEY,
    name          TEXT    NOT NULL,
    pinyin        TEXT    NOT NULL,           -- initials: qmsp for 青霉素片
    category_code TEXT    NOT NULL,
    unit          TEXT    NOT NULL DEFAULT '',
    spec          TEXT    NOT NULL DEFAULT '',
    price         INTEGER NOT NULL DEFAULT 0, -- Money4
    medical_class TEXT    NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL
) STRICT;
CREATE INDEX charge_items_version ON charge_items (version);

CREATE TABLE pay_channels (
    code     TEXT PRIMARY KEY,
    name     TEXT    NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    version  INTEGER NOT NULL
) STRICT;
INSERT INTO pay_channels (code, name, version) VALUES
    ('01', 'POS', 0), ('02', '现金', 0), ('03', '转账', 0), ('04', '支付宝', 0), ('05', '微信', 0),
    ('06', '支票', 0), ('07', '卡支付', 0), ('08', '银联', 0), ('09', '自助机', 0), ('11', '医保', 0);

CREATE TABLE messages (
    id         TEXT PRIMARY KEY,
    point_code TEXT    NOT NULL DEFAULT '',   -- '' for every point
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
) STRICT;

CREATE INDEX users_version ON users (version);

-- +goose Down
DROP INDEX users_version;
DROP TABLE messages;
DROP TABLE pay_channels;
DROP TABLE charge_items;
DROP TABLE master_seq;
