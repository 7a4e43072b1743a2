-- Sign in with Microsoft: a flow may start without a signed-in person, and
-- says what it is for. SQLite cannot drop NOT NULL: the table is rebuilt.
CREATE TABLE oauth_flows_new (
    state_hash   TEXT   PRIMARY KEY,
    purpose      TEXT   NOT NULL DEFAULT 'link',
    user_id      BIGINT REFERENCES users (id) ON DELETE CASCADE,
    verifier_enc TEXT   NOT NULL,
    nonce        TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
INSERT INTO oauth_flows_new (state_hash, user_id, verifier_enc, nonce, created_at, expires_at)
    SELECT state_hash, user_id, verifier_enc, nonce, created_at, expires_at FROM oauth_flows;
DROP TABLE oauth_flows;
ALTER TABLE oauth_flows_new RENAME TO oauth_flows;

CREATE INDEX links_account ON links (tenant_id, object_id);

CREATE TABLE signin_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    value      TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);
