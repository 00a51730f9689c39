-- Fine-tuning jobs (the original's fine_tuning_service.py): the request, where the job stands, and how it ended.
CREATE TABLE fine_tuning_jobs (
    id               uuid        PRIMARY KEY,
    status           text        NOT NULL DEFAULT 'pending'
                                 CHECK (status IN ('pending', 'uploading', 'training', 'succeeded', 'failed', 'cancelled')),
    base_model       text        NOT NULL,
    epochs           integer     NOT NULL CHECK (epochs BETWEEN 1 AND 20),
    examples         integer     NOT NULL CHECK (examples > 0),
    progress         integer     NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    training_file_id text        NULL,
    trained_model    text        NULL,
    error_id         text        NULL,
    error_message    text        NULL,
    created_by       text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz NULL
);
CREATE INDEX ix_fine_tuning_jobs_active ON fine_tuning_jobs (created_at) WHERE status IN ('pending', 'uploading', 'training');
