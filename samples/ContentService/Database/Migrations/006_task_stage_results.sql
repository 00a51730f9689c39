-- Each LLM stage's result is kept with its task, so a task run again (its instance died and the lease expired, or a
-- later stage failed and it is retried) resumes after its last successful stage instead of calling and paying again.
CREATE TABLE task_stage_results (
    task_id    uuid        NOT NULL REFERENCES content_tasks (id) ON DELETE CASCADE,
    stage      text        NOT NULL,
    provider   text        NOT NULL,
    text       text        NOT NULL,
    score      integer     NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, stage));
