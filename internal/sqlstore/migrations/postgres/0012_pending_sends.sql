-- send_message with large attachments saves a draft and sends it once the
-- last of its upload links has delivered its file: a pending send counts
-- the files still to come. It ends with its uploads (token, grant or link
-- ended) and after its time.
CREATE TABLE pending_sends (
    id         TEXT    PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_id   BIGINT,
    grant_id   BIGINT,
    label      TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    remaining  INTEGER NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX pending_sends_user ON pending_sends (user_id);
ALTER TABLE uploads ADD COLUMN send_id TEXT NOT NULL DEFAULT '';
