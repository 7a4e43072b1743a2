-- What an MCP client on a revision before 2026-07-28 declared when it
-- connected (the MCP Apps extension), by the access it uses: "t:" and a
-- token id, or "g:" and an OAuth grant id. Such a client says it once, in
-- its initialize request; a stateless server reads it on later requests.
CREATE TABLE mcp_clients (
    access  TEXT    PRIMARY KEY,
    user_id BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    apps    BOOLEAN NOT NULL,
    seen_at BIGINT  NOT NULL
);
