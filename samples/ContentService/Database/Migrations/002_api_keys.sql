-- API keys issued at run time (sign-in): only the SHA-256 of a key is stored, so a database dump reveals no key.
CREATE TABLE api_keys (
    key_hash   bytea       PRIMARY KEY CHECK (octet_length(key_hash) = 32),
    owner      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NULL
);
