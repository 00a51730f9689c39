-- Images to delete from the CMS, written in the same transaction as the change that made them unreferenced
-- (content deleted, image replaced, task cancelled after its upload): a CMS outage delays the delete, never loses it.
CREATE TABLE cms_pending_deletes (
    image_id        text        PRIMARY KEY,
    reason          text        NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text        NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_cms_pending_deletes_due ON cms_pending_deletes (next_attempt_at);
