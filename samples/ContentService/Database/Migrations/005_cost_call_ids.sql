-- Each recorded cost carries the id of the call it paid for, so recording it again (a retried insert whose commit
-- acknowledgement was lost) never counts the call twice.
ALTER TABLE task_costs ADD COLUMN call_id uuid NULL;
CREATE UNIQUE INDEX ux_task_costs_call ON task_costs (call_id);
