-- Issued keys get a stable id (listed, rotated and revoked by it; the hash changes on rotation), the time they were
-- last used, revocation, and rotation: the previous secret's hash stays valid until previous_valid_until (the grace
-- period). refresh_hash is the SHA-256 of the OAuth refresh token a signed-in key is renewed with. Hashes only.
ALTER TABLE api_keys
    ADD COLUMN id                   uuid        NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN last_used_at         timestamptz NULL,
    ADD COLUMN revoked_at           timestamptz NULL,
    ADD COLUMN rotated_at           timestamptz NULL,
    ADD COLUMN previous_hash        bytea       NULL CHECK (octet_length(previous_hash) = 32),
    ADD COLUMN previous_valid_until timestamptz NULL,
    ADD COLUMN refresh_hash         bytea       NULL CHECK (octet_length(refresh_hash) = 32);
CREATE UNIQUE INDEX ux_api_keys_id ON api_keys (id);
CREATE UNIQUE INDEX ux_api_keys_previous_hash ON api_keys (previous_hash) WHERE previous_hash IS NOT NULL;
CREATE UNIQUE INDEX ux_api_keys_refresh_hash ON api_keys (refresh_hash) WHERE refresh_hash IS NOT NULL;

-- The audit log of key use, bounded by aggregation: one row per key, minute, method, route template and status,
-- counting requests (task ids in paths would make a row per request). Rows older than the retention are pruned.
CREATE TABLE api_key_usage (
    key_id text        NOT NULL,
    minute timestamptz NOT NULL,
    method text        NOT NULL,
    path   text        NOT NULL,
    status integer     NOT NULL,
    count  bigint      NOT NULL,
    PRIMARY KEY (key_id, minute, method, path, status)
);
CREATE INDEX ix_api_key_usage_minute ON api_key_usage (minute);
