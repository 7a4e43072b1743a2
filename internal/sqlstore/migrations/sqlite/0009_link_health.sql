-- The health of each link, for admins: last successful Graph call, last
-- refresh, last error, and a request to reconnect. Leases let one replica
-- at a time run background jobs.
ALTER TABLE links ADD COLUMN last_graph_at BIGINT;
ALTER TABLE links ADD COLUMN last_refresh_at BIGINT;
ALTER TABLE links ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE links ADD COLUMN last_error_at BIGINT;
ALTER TABLE users ADD COLUMN reconnect_asked_at BIGINT;
CREATE INDEX links_refresh ON links (last_refresh_at);

CREATE TABLE leases (
    name       TEXT   PRIMARY KEY,
    holder     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
