CREATE TABLE uploads (
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target     TEXT   NOT NULL,
    conflict   TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
