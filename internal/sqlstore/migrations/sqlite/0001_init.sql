CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'user')),
    password_hash TEXT    NOT NULL,
    onboarded_at  BIGINT,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE m365_config (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    client_id         TEXT    NOT NULL,
    client_secret_enc TEXT    NOT NULL,
    secret_hint       TEXT    NOT NULL,
    secret_set_at     BIGINT  NOT NULL,
    secret_expires_at BIGINT,
    redirect_uri      TEXT    NOT NULL,
    enabled           BOOLEAN NOT NULL,
    attention         TEXT    NOT NULL DEFAULT '',
    attention_at      BIGINT,
    updated_at        BIGINT  NOT NULL
);

CREATE TABLE links (
    user_id           BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tenant_id         TEXT    NOT NULL,
    object_id         TEXT    NOT NULL,
    username          TEXT    NOT NULL,
    display_name      TEXT    NOT NULL,
    personal          BOOLEAN NOT NULL,
    refresh_token_enc TEXT    NOT NULL,
    access_token_enc  TEXT,
    access_expires_at BIGINT,
    reason            TEXT    NOT NULL DEFAULT '',
    linked_at         BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('admin', 'agent')),
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    read_only    BOOLEAN NOT NULL,
    toolsets     TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          BIGINT NOT NULL,
    actor_id    BIGINT,
    actor_email TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    target      TEXT   NOT NULL,
    details     TEXT   NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
