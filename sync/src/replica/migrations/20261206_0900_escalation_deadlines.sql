-- When the clock alone next changes an alert (yizhan_core Alert::escalates_at): its response
-- deadline while it is open below red, NULL otherwise. A sync step reads only the alerts
-- whose time has come through these; the response deadline alone would also find every
-- open red alert past its deadline, which nothing more can change, on every step.
ALTER TABLE local_alerts ADD COLUMN escalates_at INTEGER;
UPDATE local_alerts SET escalates_at = respond_by WHERE level < 2;
DROP INDEX local_alerts_deadline;
CREATE INDEX local_alerts_escalation ON local_alerts (escalates_at) WHERE escalates_at IS NOT NULL;

ALTER TABLE alert_view ADD COLUMN escalates_at INTEGER;
UPDATE alert_view SET escalates_at = respond_by WHERE state = 'open' AND level < 2;
DROP INDEX alert_view_deadline;
CREATE INDEX alert_view_escalation ON alert_view (escalates_at) WHERE escalates_at IS NOT NULL;
