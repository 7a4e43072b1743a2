-- graphgate as the OAuth 2.1 authorization server of its MCP endpoint.
CREATE TABLE oauth_clients (
    client_id     TEXT   PRIMARY KEY,
    name          TEXT   NOT NULL,
    logo_uri      TEXT   NOT NULL DEFAULT '',
    client_uri    TEXT   NOT NULL DEFAULT '',
    redirect_uris TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT
);

CREATE TABLE oauth_grants (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id     TEXT   NOT NULL,
    client_name   TEXT   NOT NULL,
    redirect_host TEXT   NOT NULL,
    scopes        TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    expires_at    BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX oauth_grants_user ON oauth_grants (user_id);

CREATE TABLE oauth_codes (
    hash             TEXT   PRIMARY KEY,
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id        TEXT   NOT NULL,
    client_name      TEXT   NOT NULL,
    redirect_uri     TEXT   NOT NULL,
    challenge        TEXT   NOT NULL,
    resource         TEXT   NOT NULL,
    scopes           TEXT   NOT NULL,
    grant_expires_at BIGINT,
    expires_at       BIGINT NOT NULL
);

CREATE TABLE oauth_tokens (
    hash       TEXT    PRIMARY KEY,
    grant_id   BIGINT  NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    refresh    BOOLEAN NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT,
    used_at    BIGINT
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);

ALTER TABLE downloads ADD COLUMN grant_id BIGINT;
ALTER TABLE uploads ADD COLUMN grant_id BIGINT;
