-- A send or deletion that waits for the person's yes on graphgate's own
-- page, for MCP clients that cannot ask them. key names what is approved
-- (tool, person, token or grant, exact arguments), so the agent's retry
-- finds it; the summary the person reads is sealed.
CREATE TABLE approvals (
    id           TEXT   PRIMARY KEY,
    approval_key TEXT   NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_id     BIGINT,
    grant_id     BIGINT,
    label        TEXT   NOT NULL,
    tool         TEXT   NOT NULL,
    summary_enc  TEXT   NOT NULL,
    state        TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX approvals_user ON approvals (user_id);
