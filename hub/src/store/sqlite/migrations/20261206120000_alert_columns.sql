-- What the alert desk asks of alert rows, in columns rather than read out of their JSON on
-- every tick: whether the alert is active, whether it is about something other than a
-- project's fees (evaluated on every tick), when the clock alone next changes it (its
-- response deadline while open below red, as Unix seconds), and its level and department
-- for the counts /metrics shows. The change-log policy fills them on every alert write;
-- rows of other entities leave them NULL.
ALTER TABLE state ADD COLUMN alert_active INTEGER;
ALTER TABLE state ADD COLUMN alert_system INTEGER;
ALTER TABLE state ADD COLUMN alert_escalates_at INTEGER;
ALTER TABLE state ADD COLUMN alert_level TEXT;
ALTER TABLE state ADD COLUMN alert_department TEXT;

UPDATE state SET
    alert_active = json_extract(payload, '$.state') <> 'resolved',
    alert_system = json_extract(payload, '$.subject') NOT LIKE 'project/%',
    alert_escalates_at = CASE WHEN json_extract(payload, '$.state') = 'open' AND json_extract(payload, '$.level') <> 'red'
                              THEN unixepoch(json_extract(payload, '$.respond_by')) END,
    alert_level = json_extract(payload, '$.level'),
    alert_department = json_extract(payload, '$.department')
WHERE entity = 'alert';

CREATE INDEX state_active_alerts ON state (project_code) WHERE entity = 'alert' AND alert_active = 1;
