-- Tasks carry the request (topic, style, length, complexity), their progress, an idempotency key scoped to the
-- caller, and the executor's lease; content carries its image in the CMS and a deletion state for CMS outages.
ALTER TABLE content_tasks RENAME COLUMN prompt TO topic;
ALTER TABLE content_tasks DROP COLUMN kind;
ALTER TABLE content_tasks
    ADD COLUMN style            text        NOT NULL DEFAULT 'neutral',
    ADD COLUMN target_length    integer     NOT NULL DEFAULT 300 CHECK (target_length > 0),
    ADD COLUMN complexity       text        NOT NULL DEFAULT 'low' CHECK (complexity IN ('low', 'medium', 'high')),
    ADD COLUMN stage            text        NOT NULL DEFAULT 'queued',
    ADD COLUMN progress         integer     NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    ADD COLUMN created_by       text        NOT NULL DEFAULT '',
    ADD COLUMN idempotency_key  text        NULL,
    ADD COLUMN request_hash     bytea       NULL,
    ADD COLUMN available_at     timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN lease_owner      text        NULL,
    ADD COLUMN lease_expires_at timestamptz NULL,
    ADD COLUMN content_id       uuid        NULL;
CREATE UNIQUE INDEX ux_content_tasks_idempotency ON content_tasks (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX ix_content_tasks_claim ON content_tasks (available_at, created_at) WHERE status = 'pending';
CREATE INDEX ix_content_tasks_lease ON content_tasks (lease_expires_at) WHERE status = 'running';
CREATE INDEX ix_content_tasks_created ON content_tasks (created_at DESC, id DESC);

ALTER TABLE content
    ADD COLUMN title          text    NOT NULL DEFAULT '',
    ADD COLUMN quality_score  integer NULL CHECK (quality_score BETWEEN 0 AND 10),
    ADD COLUMN refined        boolean NOT NULL DEFAULT false,
    ADD COLUMN image_id       text    NULL,
    ADD COLUMN state          text    NOT NULL DEFAULT 'published' CHECK (state IN ('published', 'deleting')),
    ADD COLUMN updated_at     timestamptz NOT NULL DEFAULT now();
DROP INDEX ix_content_task;
CREATE UNIQUE INDEX ux_content_task ON content (task_id);
CREATE INDEX ix_content_created ON content (created_at DESC, id DESC);

ALTER TABLE task_costs
    ADD COLUMN stage text NOT NULL DEFAULT 'generate';
CREATE INDEX ix_task_costs_task ON task_costs (task_id);
