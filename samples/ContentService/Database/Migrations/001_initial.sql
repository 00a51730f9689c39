-- Content-generation tasks, the content they produce, and what each provider call cost.
CREATE TABLE content_tasks (
    id            uuid        PRIMARY KEY,
    kind          text        NOT NULL,
    prompt        text        NOT NULL,
    status        text        NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    attempts      integer     NOT NULL DEFAULT 0,
    error_id      text        NULL,
    error_message text        NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz NULL,
    completed_at  timestamptz NULL
);
CREATE INDEX ix_content_tasks_status_created ON content_tasks (status, created_at);

CREATE TABLE content (
    id         uuid        PRIMARY KEY,
    task_id    uuid        NOT NULL REFERENCES content_tasks (id) ON DELETE CASCADE,
    body       text        NOT NULL,
    provider   text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_content_task ON content (task_id);

CREATE TABLE task_costs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id    uuid          NOT NULL REFERENCES content_tasks (id) ON DELETE CASCADE,
    provider   text          NOT NULL,
    tokens     integer       NOT NULL CHECK (tokens >= 0),
    cost_usd   numeric(12,6) NOT NULL CHECK (cost_usd >= 0),
    created_at timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX ix_task_costs_created ON task_costs (created_at);
