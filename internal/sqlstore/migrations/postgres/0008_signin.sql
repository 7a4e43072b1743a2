-- Sign in with Microsoft: a flow may start without a signed-in person, and
-- says what it is for.
ALTER TABLE oauth_flows ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE oauth_flows ADD COLUMN purpose TEXT NOT NULL DEFAULT 'link';

CREATE INDEX links_account ON links (tenant_id, object_id);

CREATE TABLE signin_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    value      TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);
