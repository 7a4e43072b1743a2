-- The admin's rules for MCP clients connecting with OAuth: one row.
CREATE TABLE oauth_settings (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    registration BOOLEAN NOT NULL,
    client_hosts TEXT    NOT NULL,
    updated_at   BIGINT  NOT NULL
);
