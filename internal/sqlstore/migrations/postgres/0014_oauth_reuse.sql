-- A redeemed code is kept (marked used, with the grant it made) until an
-- hour past its expiry, so that a second redemption can revoke what the
-- first one gave (RFC 6749 4.1.2). A rotated refresh token names its
-- successor, so that a client's retry after a lost response can be
-- answered once within a short grace instead of revoking the grant.
ALTER TABLE oauth_codes ADD COLUMN used_at BIGINT;
ALTER TABLE oauth_codes ADD COLUMN grant_id BIGINT;
ALTER TABLE oauth_codes ADD COLUMN reused BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE oauth_tokens ADD COLUMN successor TEXT;
ALTER TABLE oauth_tokens ADD COLUMN grace_used BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);
CREATE INDEX oauth_tokens_used ON oauth_tokens (used_at);
