-- An agent token can ask the person before it sends or deletes: the tool
-- asks through MCP, and each confirmation is spent once (a lease named
-- after it, so a replayed confirmation finds it taken).
ALTER TABLE api_tokens ADD COLUMN confirm_writes BOOLEAN NOT NULL DEFAULT FALSE;
