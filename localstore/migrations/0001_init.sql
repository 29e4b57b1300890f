-- The station's store: identity, number stock, bills and their outbox,
-- paper stock and usage, and the master data the server will send.
-- Times are Unix milliseconds, UTC. Money is integer fen (Money4 where noted).

CREATE TABLE station (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    place_code       TEXT    NOT NULL,
    place_name       TEXT    NOT NULL DEFAULT '',
    unit_name        TEXT    NOT NULL DEFAULT '',
    unit_credit_code TEXT    NOT NULL DEFAULT '',
    server_url       TEXT    NOT NULL DEFAULT '',
    server_fingerprint TEXT  NOT NULL DEFAULT '',   -- pinned TLS certificate (self-signed server)
    private_key      TEXT    NOT NULL,
    public_key       TEXT    NOT NULL,
    chain_seq        INTEGER NOT NULL DEFAULT 0,   -- seq of the last bill
    chain_hash       TEXT    NOT NULL,             -- hex SM3 of the last bill's content
    unsynced_count   INTEGER NOT NULL DEFAULT 0,   -- outbox rows not acknowledged
    unsynced_amount  INTEGER NOT NULL DEFAULT 0,   -- their absolute totals
    oldest_unsynced  INTEGER,                      -- created_at of the oldest of them
    config_version   INTEGER NOT NULL DEFAULT 0,   -- bumped when settings or bill kinds change
    created_at       INTEGER NOT NULL
) STRICT;

-- Settings sent by the server (or defaults); value is JSON.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT    NOT NULL,
    source     TEXT    NOT NULL DEFAULT 'default',
    updated_at INTEGER NOT NULL
) STRICT;

-- Which bill code each kind of bill is issued under at this point.
CREATE TABLE bill_kinds (
    kind      TEXT PRIMARY KEY,
    bill_code TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    version   INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Number segments allocated to this point. How far a segment is used is
-- not stored: it is the highest bill number in it (one index probe), so the
-- numbers used and the bills stored cannot disagree. `full` is set once, by
-- the bill that takes a segment's last number, so that issuing only probes
-- segments with room however many full ones a year leaves behind.
CREATE TABLE segments (
    id        TEXT PRIMARY KEY,
    bill_code TEXT    NOT NULL,
    start_no  INTEGER NOT NULL,
    end_no    INTEGER NOT NULL,
    source    TEXT    NOT NULL,              -- 'server' | 'demo'
    added_at  INTEGER NOT NULL,
    full      INTEGER NOT NULL DEFAULT 0,
    CHECK (start_no >= 1 AND end_no >= start_no)
) STRICT;
CREATE INDEX segments_code ON segments (bill_code, start_no);
CREATE INDEX segments_open ON segments (bill_code, start_no) WHERE full = 0;

CREATE TABLE bills (
    seq         INTEGER PRIMARY KEY,          -- position in this point's chain (the rowid)
    id          TEXT    NOT NULL UNIQUE,      -- UUID v7
    bill_code   TEXT    NOT NULL,
    bill_no     INTEGER NOT NULL,
    check_code  TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    bus_no      TEXT,                         -- NULL on red bills
    payer       TEXT    NOT NULL,
    card_no     TEXT    NOT NULL DEFAULT '',
    patient_no  TEXT    NOT NULL DEFAULT '',
    total       INTEGER NOT NULL,
    issued_at   INTEGER NOT NULL,
    payee       TEXT    NOT NULL,
    red_of      TEXT REFERENCES bills (id),   -- the original, on a red bill
    input_hash  BLOB,                         -- SM3 of the canonical settlement (BusNo idempotency)
    content     BLOB    NOT NULL,             -- canonical bill; what is hashed and signed
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    signature   BLOB    NOT NULL,
    UNIQUE (bill_code, bill_no)
) STRICT;
CREATE UNIQUE INDEX bills_bus_no ON bills (bus_no) WHERE bus_no IS NOT NULL;
CREATE UNIQUE INDEX bills_red_of ON bills (red_of) WHERE red_of IS NOT NULL;
CREATE INDEX bills_issued_at ON bills (issued_at);
CREATE INDEX bills_patient ON bills (patient_no);

-- Issued bills are immutable: corrections are red bills.
CREATE TRIGGER bills_no_update BEFORE UPDATE ON bills
BEGIN SELECT RAISE(ABORT, 'bills are immutable'); END;
CREATE TRIGGER bills_no_delete BEFORE DELETE ON bills
BEGIN SELECT RAISE(ABORT, 'bills are immutable'); END;

-- The queue of bills not yet acknowledged by the server, in chain order.
-- An acknowledged bill leaves the queue for acks; a bill the server
-- refused stays, marked rejected, for the administrator.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY REFERENCES bills (seq),
    created_at INTEGER NOT NULL,
    state      TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'rejected')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT ''
) STRICT;

-- A bill joins the upload queue and moves the chain head and the unsynced
-- counters in the statement that stores it: no code path can store a bill
-- without the rest.
CREATE TRIGGER bills_enqueue AFTER INSERT ON bills
BEGIN
    INSERT INTO outbox (seq, created_at) VALUES (NEW.seq, NEW.issued_at);
    UPDATE station SET chain_seq = NEW.seq, chain_hash = NEW.hash,
        unsynced_count = unsynced_count + 1, unsynced_amount = unsynced_amount + ABS(NEW.total),
        oldest_unsynced = COALESCE(oldest_unsynced, NEW.issued_at);
END;

-- Bills the server acknowledged.
CREATE TABLE acks (
    seq      INTEGER PRIMARY KEY REFERENCES bills (seq),
    acked_at INTEGER NOT NULL
) STRICT;

-- Pre-printed paper ranges received by this point; next_no is the paper
-- number the software believes is next in the printer.
CREATE TABLE paper_ranges (
    id         TEXT PRIMARY KEY,
    paper_code TEXT    NOT NULL,
    start_no   INTEGER NOT NULL,
    end_no     INTEGER NOT NULL,
    next_no    INTEGER NOT NULL,
    added_at   INTEGER NOT NULL,
    CHECK (start_no >= 1 AND end_no >= start_no AND next_no BETWEEN start_no AND end_no + 1)
) STRICT;
CREATE INDEX paper_ranges_code ON paper_ranges (paper_code, start_no);

-- Every paper number consumed: printed with a bill, voided after printing,
-- or voided blank.
CREATE TABLE paper_usage (
    paper_code TEXT    NOT NULL,
    paper_no   INTEGER NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('printed', 'voided', 'blank_void')),
    bill_id    TEXT REFERENCES bills (id),
    reason     TEXT    NOT NULL DEFAULT '',
    operator   TEXT    NOT NULL DEFAULT '',
    used_at    INTEGER NOT NULL,
    voided_at  INTEGER,
    PRIMARY KEY (paper_code, paper_no),
    CHECK ((status = 'blank_void') = (bill_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX paper_live ON paper_usage (bill_id) WHERE status = 'printed';

-- Master data pulled from the server (empty until the first sync).
CREATE TABLE charge_items (
    code          TEXT PRIMARY KEY,
    name          TEXT    NOT NULL,
    pinyin        TEXT    NOT NULL DEFAULT '',  -- initials, e.g. qmsp for 青霉素片
    category_code TEXT    NOT NULL,
    unit          TEXT    NOT NULL DEFAULT '',
    spec          TEXT    NOT NULL DEFAULT '',
    price         INTEGER NOT NULL DEFAULT 0,   -- Money4
    medical_class TEXT    NOT NULL DEFAULT '',  -- 甲/乙/丙
    disabled      INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX charge_items_pinyin ON charge_items (pinyin);

CREATE TABLE pay_channels (
    code     TEXT PRIMARY KEY,
    name     TEXT    NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    version  INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE users (
    login         TEXT PRIMARY KEY,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    roles         TEXT    NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE messages (
    id         TEXT PRIMARY KEY,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    read_at    INTEGER,
    version    INTEGER NOT NULL
) STRICT;

CREATE TABLE master_versions (
    name    TEXT PRIMARY KEY,
    version INTEGER NOT NULL
) STRICT;
