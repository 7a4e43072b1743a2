-- One-time links remember the agent token that made them: revoking the token
-- (or unlinking the account) ends them.
ALTER TABLE downloads ADD COLUMN token_id BIGINT;
ALTER TABLE uploads ADD COLUMN token_id BIGINT;
CREATE INDEX downloads_token ON downloads (token_id);
CREATE INDEX uploads_token ON uploads (token_id);
CREATE INDEX downloads_user ON downloads (user_id);
CREATE INDEX uploads_user ON uploads (user_id);
