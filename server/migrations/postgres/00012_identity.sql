-- +goose Up
-- Identification and sessions of security.md §1–2: password age and
-- one-time passwords, history, failures counted per login (known or not),
-- second factor, sessions with idle and absolute limits, API tokens.
ALTER TABLE users ADD COLUMN password_changed_at BIGINT  NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN must_change BIGINT  NOT NULL DEFAULT 1; -- a password an administrator set
ALTER TABLE users ADD COLUMN last_login_at BIGINT  NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_secret BYTEA;                       -- SM4-GCM sealed
ALTER TABLE users ADD COLUMN totp_last_step BIGINT  NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX users_login_ci ON users (lower(login));

CREATE TABLE password_history (
    login      TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    changed_at BIGINT  NOT NULL
);
CREATE INDEX password_history_login ON password_history (login, changed_at);

-- Sign-in failures by lower-cased login, for logins that exist and that do
-- not alike, so that locking reveals nothing.
CREATE TABLE login_failures (
    login        TEXT PRIMARY KEY,
    failures     BIGINT  NOT NULL,
    last_at      BIGINT  NOT NULL,
    locked_until BIGINT  NOT NULL
);

CREATE TABLE backup_codes (
    login   TEXT    NOT NULL,
    hash    TEXT    NOT NULL,
    used_at BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX backup_codes_login ON backup_codes (login);

-- stage: what the session may do yet — mfa (a code is due), password (a
-- change is due), enroll (a second factor must be set up), full.
ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full';
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT  NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN remote TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN pending_totp BYTEA;                  -- a second factor being set up, sealed
CREATE INDEX sessions_login ON sessions (login);

-- Named, revocable tokens for scripts and scheduled jobs, issued by the
-- security administrator for a person or a service account.
CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    login      TEXT    NOT NULL REFERENCES users (login),
    name       TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL,
    created_by TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    revoked_at BIGINT  NOT NULL DEFAULT 0
);

-- The figures of the security policy, set by the security administrator.
CREATE TABLE security_policy (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    body    TEXT    NOT NULL
);

-- +goose Down
DROP TABLE security_policy;
DROP TABLE api_tokens;
DROP INDEX sessions_login;
ALTER TABLE sessions DROP COLUMN pending_totp;
ALTER TABLE sessions DROP COLUMN remote;
ALTER TABLE sessions DROP COLUMN last_seen_at;
ALTER TABLE sessions DROP COLUMN stage;
DROP TABLE backup_codes;
DROP TABLE login_failures;
DROP TABLE password_history;
DROP INDEX users_login_ci;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN totp_secret;
ALTER TABLE users DROP COLUMN last_login_at;
ALTER TABLE users DROP COLUMN must_change;
ALTER TABLE users DROP COLUMN password_changed_at;
