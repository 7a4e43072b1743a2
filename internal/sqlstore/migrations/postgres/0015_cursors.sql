-- Where a listing goes on: the Graph link behind a cursor, kept here so the
-- cursor an agent holds (and pays for in its context) stays short. The link
-- names mailboxes, drives and search terms, so it is sealed.
CREATE TABLE cursors (
    id         TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    path_enc   TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX cursors_expiry ON cursors (expires_at);
