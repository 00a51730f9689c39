-- OAuth sign-in: each `state` handed to the provider, by hash, so a callback can be checked (known, unused, fresh)
-- and consumed exactly once. Rows are pruned a day after they expire.
CREATE TABLE oauth_states (
    state_hash bytea       PRIMARY KEY CHECK (octet_length(state_hash) = 32),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz NULL
);
CREATE INDEX ix_oauth_states_expires ON oauth_states (expires_at);
