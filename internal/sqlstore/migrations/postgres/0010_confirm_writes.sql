-- An agent token can ask the person before it sends or deletes: the tool
-- asks through MCP, and each confirmation is spent once (a lease named
-- after it, so a replayed confirmation finds it taken).
ALTER TABLE api_tokens ADD COLUMN confirm_writes BOOLEAN NOT NULL DEFAULT FALSE;
-- The same choice for a connected app, made on the consent page and
-- carried by its authorization code to the grant.
ALTER TABLE oauth_codes ADD COLUMN confirm_writes BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE oauth_grants ADD COLUMN confirm_writes BOOLEAN NOT NULL DEFAULT FALSE;
